# The contract migration a376af683ca4 adopts WireGuard ports made before the driver's tables (the
# original implementation) or before their new columns (the previous version of this package), on
# a MariaDB database of its own: Neutron's schema, this subproject at its previous heads, ports
# inserted the old way, then `neutron-db-manage --subproject networking-wireguard upgrade heads`.

import importlib.util
import json
import os
import shlex
import subprocess
import uuid

from alembic import migration
from alembic import operations
import pytest
import sqlalchemy as sa

from networking_wireguard.db.migration import alembic_migrations
from networking_wireguard.tests.functional import clients

PREVIOUS_HEADS = ('7c3f4a2b1d90', 'e1a5b9c2d7f3')
WG_TABLES = ('wireguard_ovn_plugs', 'wireguard_peer_removals', 'wireguard_peerings',
             'wireguard_ports', 'alembic_version_wireguard')


def _db_manage(url, *args):
    cmd = (['neutron-db-manage'] + shlex.split(os.environ['NWG_NEUTRON_CONF']) +
           ['--database-connection', url, '--subproject', 'networking-wireguard'] +
           list(args))
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout + out.stderr


@pytest.fixture
def old_db(neutron_url):
    """A database with Neutron's schema and this subproject at its previous heads."""
    for var in ('NWG_NEUTRON_RUN', 'NWG_NEUTRON_DB_URL', 'NWG_NEUTRON_CONF'):
        if not os.environ.get(var):
            pytest.fail('%s is not set' % var, pytrace=False)
    sock = os.path.join(os.environ['NWG_NEUTRON_RUN'], 'mysqlrun', 'mysqld.sock')
    name = 'nwg_adopt_' + uuid.uuid4().hex[:8]

    def root(sql, database=None, stdin=None):
        cmd = ['mariadb', '-S', sock, '-uroot'] + ([database] if database else [])
        if sql:
            cmd += ['-e', sql]
        subprocess.run(cmd, input=stdin, check=True, capture_output=True, timeout=120)

    root("CREATE DATABASE %s CHARACTER SET utf8mb4; GRANT ALL ON %s.* TO "
         "'neutron'@'127.0.0.1'" % (name, name))
    try:
        schema = subprocess.run(['mariadb-dump', '-S', sock, '-uroot', '--no-data',
                                 '--skip-dump-date', 'neutron'],
                                check=True, capture_output=True, timeout=120).stdout
        root(None, name, stdin=schema)
        root('DROP TABLE %s' % ', '.join(WG_TABLES), name)
        url = os.environ['NWG_NEUTRON_DB_URL'].replace('/neutron?', '/%s?' % name)
        for revision in PREVIOUS_HEADS:
            _db_manage(url, 'upgrade', revision)
        engine = sa.create_engine(url)
        yield engine, url
        engine.dispose()
    finally:
        root('DROP DATABASE IF EXISTS %s' % name)


def _id():
    return str(uuid.uuid4())


class OldPorts(object):
    """Rows as the original implementation (or the previous version) left them."""

    def __init__(self, conn):
        self.conn = conn
        self.network = _id()
        self.macs = 0

    def port(self, owner, profile=None, host='', vif_type='unbound'):
        port_id = _id()
        attr = self.conn.execute(sa.text(
            "INSERT INTO standardattributes (resource_type, revision_number) "
            "VALUES ('ports', 1)")).lastrowid
        self.macs += 1
        self.conn.execute(sa.text(
            "INSERT INTO ports (project_id, id, name, network_id, mac_address, "
            "admin_state_up, status, device_id, device_owner, standard_attr_id) VALUES "
            "('p', :id, '', :net, :mac, 1, 'DOWN', '', :owner, :attr)"),
            dict(id=port_id, net=self.network, mac='fa:16:3e:00:00:%02x' % self.macs,
                 owner=owner, attr=attr))
        self.conn.execute(sa.text(
            "INSERT INTO ml2_port_bindings (port_id, host, vif_type, vnic_type, profile, "
            "vif_details, status) VALUES (:id, :host, :vif, 'normal', :profile, '', "
            "'ACTIVE')"),
            dict(id=port_id, host=host, vif=vif_type,
                 profile=json.dumps(profile) if profile is not None else ''))
        return port_id


def _snapshot(conn):
    return (sorted(tuple(r) for r in conn.execute(sa.text(
                'SELECT port_id, role, host, public_key, endpoint FROM wireguard_ports'))),
            sorted(tuple(r) for r in conn.execute(sa.text(
                'SELECT spoke_id, hub_id, public_key FROM wireguard_peerings'))),
            sorted(tuple(r) for r in conn.execute(sa.text(
                'SELECT port_id, profile FROM ml2_port_bindings'))))


def test_adopts_ports_made_before_the_tables(old_db):
    engine, url = old_db
    k = {name: clients.new_key() for name in ('h1', 'h2', 'h3', 's1', 's2', 's5')}
    with engine.begin() as conn:
        conn.execute(sa.text('SET FOREIGN_KEY_CHECKS=0'))  # no networks row: not needed here
        old = OldPorts(conn)
        hub = 'channel:wireguard:hub'
        spoke = 'channel:wireguard:spoke'
        # the original implementation: no rows of ours
        h1 = old.port(hub, {'public_key': k['h1'], 'endpoint': '203.0.113.1:51820'},
                      host='net-1', vif_type='wireguard')
        # a hub it attached to a router: Zed rewrote device_owner, the binding tells
        h2 = old.port('network:router_interface', {'public_key': k['h2']}, host='net-2',
                      vif_type='wireguard')
        router_port = old.port('network:router_interface', {}, host='net-2', vif_type='ovs')
        plain = old.port('compute:nova', {'public_key': k['s1']}, host='cmp')
        gone = _id()
        s1 = old.port(spoke, {'public_key': k['s1'], 'peers': [h1, h2],
                              'endpoint': '198.51.100.5:51820'})
        s2 = old.port(spoke, {'public_key': k['s2'], 'peers': [h1, gone, router_port, h1]})
        s3 = old.port(spoke, {'public_key': k['s1'], 'peers': [h1]})  # s1's key on h1
        s4 = old.port(spoke, {'public_key': 'AAAA', 'peers': [h2]})
        # the previous version of this package: rows without the new columns
        h3 = old.port(hub, {'public_key': k['h3'], 'endpoint': '203.0.113.3:51821'},
                      host='net-3', vif_type='wireguard')
        s5 = old.port(spoke, {'public_key': k['s5'], 'peers': [h3]})
        conn.execute(sa.text(
            "INSERT INTO wireguard_ports (port_id, role, host, public_key) VALUES "
            "(:h3, 'hub', 'net-3', :k3), (:s5, 'spoke', NULL, :k5)"),
            dict(h3=h3, s5=s5, k3=k['h3'], k5=k['s5']))
        conn.execute(sa.text("INSERT INTO wireguard_peerings (spoke_id, hub_id) VALUES "
                             "(:s5, :h3)"), dict(s5=s5, h3=h3))

    out = _db_manage(url, 'upgrade', 'heads')
    assert 'a376af683ca4' in out

    with engine.connect() as conn:
        ports, peerings, bindings = _snapshot(conn)
        assert ports == sorted([
            (h1, 'hub', 'net-1', k['h1'], '203.0.113.1:51820'),
            (h2, 'hub', 'net-2', k['h2'], None),
            (h3, 'hub', 'net-3', k['h3'], '203.0.113.3:51821'),
            (s1, 'spoke', None, k['s1'], None),
            (s2, 'spoke', None, k['s2'], None),
            (s3, 'spoke', None, k['s1'], None),
            (s4, 'spoke', None, None, None),
            (s5, 'spoke', None, k['s5'], None)])
        assert plain not in [p[0] for p in ports] and router_port not in [p[0] for p in ports]
        # s3 came after s1 (by port ID order) on h1 or before: one of them keeps no key copy
        first, second = sorted([s1, s3])
        assert peerings == sorted([
            (s1, h2, k['s1']), (s2, h1, k['s2']), (s4, h2, None), (s5, h3, k['s5']),
            (first, h1, k['s1']), (second, h1, None)])
        profiles = {port_id: json.loads(profile) if profile else {}
                    for port_id, profile in bindings}
        # peers that are not hubs are gone from the profile, the rest is as it was
        assert profiles[s2] == {'public_key': k['s2'], 'peers': [h1]}
        assert profiles[s1]['peers'] == [h1, h2]
        assert profiles[s1]['endpoint'] == '198.51.100.5:51820'

        before = _snapshot(conn)
    # running the data migration again (through alembic's API) changes nothing
    with engine.begin() as conn:
        with operations.Operations.context(migration.MigrationContext.configure(conn)):
            _contract_migration().upgrade()
    with engine.connect() as conn:
        assert _snapshot(conn) == before


def _contract_migration():
    path = os.path.join(os.path.dirname(alembic_migrations.__file__), 'versions', 'zed',
                        'contract', 'a376af683ca4_adopt_existing_wireguard_ports.py')
    spec = importlib.util.spec_from_file_location('nwg_a376af683ca4', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
