"""hub scheduling (scheduled, availability_zone_hints) and spoke keepalive in wireguard_ports

Revision ID: 5b2e8d41c7a9
Revises: 3f31b15966de
Create Date: 2026-12-20

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '5b2e8d41c7a9'
down_revision = '3f31b15966de'


def upgrade():
    # Additive: servers of the previous version leave them at their defaults (a hub they create
    # names its host, so it is not scheduled; a spoke without a keepalive gets the default).
    op.add_column('wireguard_ports',
                  sa.Column('scheduled', sa.Boolean(), nullable=False,
                            server_default=sa.sql.false()))
    op.add_column('wireguard_ports',
                  sa.Column('availability_zone_hints', sa.String(255),
                            nullable=True))
    op.add_column('wireguard_ports',
                  sa.Column('persistent_keepalive', sa.Integer(),
                            nullable=True))
