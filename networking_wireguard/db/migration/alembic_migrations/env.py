# Alembic environment of the networking-wireguard subproject. neutron-db-manage runs it with its own
# config (config.neutron_config); the subproject keeps its own version table so that it upgrades
# independently of Neutron's branches.

from alembic import context
from neutron.db.migration.alembic_migrations import external
from neutron.db.migration import autogen
from neutron.db.migration.connection import DBConnection
from neutron_lib.db import model_base
from oslo_config import cfg
import sqlalchemy as sa
from sqlalchemy import event

from networking_wireguard.db import models  # noqa: F401 (registers the tables for autogenerate)

VERSION_TABLE = 'alembic_version_wireguard'
MYSQL_ENGINE = None

config = context.config
neutron_config = config.neutron_config
target_metadata = model_base.BASEV2.metadata


def set_mysql_engine():
    try:
        mysql_engine = neutron_config.command.mysql_engine
    except cfg.NoSuchOptError:
        mysql_engine = None
    global MYSQL_ENGINE
    MYSQL_ENGINE = (mysql_engine or
                    model_base.BASEV2.__table_args__['mysql_engine'])


def include_object(object_, name, type_, reflected, compare_to):
    # Autogenerate compares only this subproject's tables.
    if type_ == 'table':
        return name.startswith('wireguard_') and name not in external.TABLES
    return True


@event.listens_for(sa.Table, 'after_parent_attach')
def set_storage_engine(target, parent):
    if MYSQL_ENGINE:
        target.kwargs['mysql_engine'] = MYSQL_ENGINE


def run_migrations_offline():
    set_mysql_engine()
    kwargs = {'include_object': include_object,
              'version_table': VERSION_TABLE}
    if neutron_config.database.connection:
        kwargs['url'] = neutron_config.database.connection
    else:
        kwargs['dialect_name'] = neutron_config.database.engine
    context.configure(**kwargs)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    set_mysql_engine()
    connection = config.attributes.get('connection')
    with DBConnection(neutron_config.database.connection, connection) as conn:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            include_object=include_object,
            version_table=VERSION_TABLE,
            process_revision_directives=autogen.process_revision_directives)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
