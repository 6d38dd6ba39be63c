"""the plug ports of hubs attached to OVN routers (docs/ovn.md)

Revision ID: b8e4f1c3a7d5
Revises: 9d4c6a1e2b37
Create Date: 2026-12-02

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'b8e4f1c3a7d5'
down_revision = '9d4c6a1e2b37'


def upgrade():
    # Additive: a new table that servers of the previous version never read (they attach no hub
    # to an OVN router the OVN way); nothing to adopt.
    op.create_table(
        'wireguard_ovn_plugs',
        sa.Column('hub_id', sa.String(36),
                  sa.ForeignKey('ports.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('port_id', sa.String(36),
                  sa.ForeignKey('ports.id', ondelete='CASCADE'),
                  nullable=False),
        sa.UniqueConstraint('port_id', name='uniq_wireguard_ovn_plugs0port_id'),
    )
