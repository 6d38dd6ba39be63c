"""hub endpoint in wireguard_ports; spoke keys in wireguard_peerings, unique per hub

Revision ID: 3f31b15966de
Revises: 7c3f4a2b1d90
Create Date: 2026-12-14

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '3f31b15966de'
down_revision = '7c3f4a2b1d90'


def upgrade():
    # The hub's endpoint as its agent reports it (until now in ml2_port_bindings.profile).
    op.add_column('wireguard_ports',
                  sa.Column('endpoint', sa.String(260), nullable=True))
    # A copy of the spoke's key per peering, so that the database refuses two spokes of one hub
    # with the same key. Nullable: rows of servers still running the previous version, and rows
    # the contract migration cannot fill, have none (NULLs never collide).
    op.add_column('wireguard_peerings',
                  sa.Column('public_key', sa.String(44), nullable=True))
    op.create_unique_constraint('uniq_wireguard_peerings0hub_id0public_key',
                                'wireguard_peerings', ['hub_id', 'public_key'])
