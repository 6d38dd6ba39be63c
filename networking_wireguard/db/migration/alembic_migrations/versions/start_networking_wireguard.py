"""start networking-wireguard chain

Revision ID: start_networking_wireguard
Revises: None
Create Date: 2024-11-26

"""

# revision identifiers, used by Alembic.
revision = 'start_networking_wireguard'
down_revision = None


def upgrade():
    pass
