"""spoke liveness in wireguard_peerings (update_spoke_status)

Revision ID: 8d3c5e7f9a12
Revises: 5b2e8d41c7a9
Create Date: 2026-12-22

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '8d3c5e7f9a12'
down_revision = '5b2e8d41c7a9'


def upgrade():
    # Additive: servers of the previous version never write them (their agents report nothing),
    # so the defaults say "not connected, nothing known".
    op.add_column('wireguard_peerings',
                  sa.Column('active', sa.Boolean(), nullable=False,
                            server_default=sa.sql.false()))
    op.add_column('wireguard_peerings',
                  sa.Column('latest_handshake', sa.DateTime(), nullable=True))
    op.add_column('wireguard_peerings',
                  sa.Column('endpoint', sa.String(260), nullable=True))
    op.add_column('wireguard_peerings',
                  sa.Column('rx_bytes', sa.BigInteger(), nullable=False,
                            server_default='0'))
    op.add_column('wireguard_peerings',
                  sa.Column('tx_bytes', sa.BigInteger(), nullable=False,
                            server_default='0'))
    op.add_column('wireguard_peerings',
                  sa.Column('reported_at', sa.DateTime(), nullable=True))
