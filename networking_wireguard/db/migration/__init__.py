# Alembic subproject "networking-wireguard" of neutron-db-manage (entry point
# neutron.db.alembic_migrations); its scripts live in alembic_migrations/.
