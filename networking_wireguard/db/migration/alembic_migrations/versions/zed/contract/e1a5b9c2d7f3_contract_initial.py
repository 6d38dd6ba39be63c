"""contract branch of networking-wireguard: nothing to remove yet

Revision ID: e1a5b9c2d7f3
Revises: start_networking_wireguard
Create Date: 2024-11-26

"""

from neutron.db.migration import cli

# revision identifiers, used by Alembic.
revision = 'e1a5b9c2d7f3'
down_revision = 'start_networking_wireguard'
branch_labels = (cli.CONTRACT_BRANCH,)


def upgrade():
    pass
