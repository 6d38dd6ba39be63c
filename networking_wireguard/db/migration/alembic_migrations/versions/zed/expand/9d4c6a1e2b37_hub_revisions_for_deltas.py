"""hub revisions, peering revisions and peer removals: what get_hubs 1.6's deltas read

Revision ID: 9d4c6a1e2b37
Revises: 5b2e8d41c7a9
Create Date: 2026-12-20

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '9d4c6a1e2b37'
down_revision = '8d3c5e7f9a12'


def upgrade():
    # Additive: servers of the previous version never bump them; their changes reach agents that
    # hold a revision through the agents' deep syncs (and the first full answer of this version).
    op.add_column('wireguard_ports',
                  sa.Column('revision', sa.BigInteger(), nullable=False,
                            server_default='0'))
    op.add_column('wireguard_ports',
                  sa.Column('history_start', sa.BigInteger(), nullable=False,
                            server_default='0'))
    op.add_column('wireguard_peerings',
                  sa.Column('revision', sa.BigInteger(), nullable=False,
                            server_default='0'))
    op.create_index('ix_wireguard_peerings_hub_id_revision', 'wireguard_peerings',
                    ['hub_id', 'revision'])
    op.create_table(
        'wireguard_peer_removals',
        sa.Column('hub_id', sa.String(36),
                  sa.ForeignKey('ports.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('spoke_id', sa.String(36), primary_key=True),
        sa.Column('revision', sa.BigInteger(), nullable=False),
    )
    op.create_index('ix_wireguard_peer_removals_hub_id_revision',
                    'wireguard_peer_removals', ['hub_id', 'revision'])
