"""WireGuard port roles and spoke -> hub peerings

Revision ID: 7c3f4a2b1d90
Revises: start_networking_wireguard
Create Date: 2024-11-26

"""

from alembic import op
from neutron.db.migration import cli
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '7c3f4a2b1d90'
down_revision = 'start_networking_wireguard'
branch_labels = (cli.EXPAND_BRANCH,)


def upgrade():
    op.create_table(
        'wireguard_ports',
        sa.Column('port_id', sa.String(36),
                  sa.ForeignKey('ports.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('role', sa.Enum('hub', 'spoke', name='wireguard_port_roles'),
                  nullable=False),
        sa.Column('host', sa.String(255), nullable=True, index=True),
        sa.Column('public_key', sa.String(44), nullable=True, index=True))
    op.create_table(
        'wireguard_peerings',
        sa.Column('spoke_id', sa.String(36),
                  sa.ForeignKey('ports.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('hub_id', sa.String(36),
                  sa.ForeignKey('ports.id', ondelete='CASCADE'),
                  primary_key=True, index=True))
