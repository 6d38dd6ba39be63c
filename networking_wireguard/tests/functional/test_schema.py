# The schema made by neutron-db-manage upgrade heads matches the driver's models.

import os

import pytest
import sqlalchemy as sa

from networking_wireguard.db import models


@pytest.fixture(scope='module')
def inspector(neutron_url):
    url = os.environ.get('NWG_NEUTRON_DB_URL')
    if not url:
        pytest.fail('NWG_NEUTRON_DB_URL is not set', pytrace=False)
    engine = sa.create_engine(url)
    yield sa.inspect(engine)
    engine.dispose()


@pytest.mark.parametrize('model', [models.WireGuardPort, models.WireGuardPeering,
                                   models.WireGuardOvnPlug])
def test_table_matches_model(inspector, model):
    table = model.__table__
    columns = {c['name']: c for c in inspector.get_columns(table.name)}
    assert set(columns) == {c.name for c in table.columns}
    for column in table.columns:
        assert columns[column.name]['nullable'] == column.nullable, column.name
    assert set(inspector.get_pk_constraint(table.name)['constrained_columns']) == {
        c.name for c in table.primary_key}
    assert {tuple(i['column_names']) for i in inspector.get_indexes(table.name)} >= {
        tuple(c.name for c in i.columns) for i in table.indexes}
    uniques = {tuple(u['column_names']) for u in inspector.get_unique_constraints(table.name)}
    assert uniques == {tuple(c.name for c in u.columns) for u in table.constraints
                       if isinstance(u, sa.UniqueConstraint)}
    fks = inspector.get_foreign_keys(table.name)
    assert {(fk['constrained_columns'][0], fk['referred_table'],
             fk['options'].get('ondelete')) for fk in fks} == {
        (fk.parent.name, 'ports', 'CASCADE') for fk in table.foreign_keys}
