# Fixtures of the ovn layer (issue #15): the ML2/OVN neutron-server and the OVS/OVN of
# scripts/lib/ovn.sh (their addresses come from ovn_env), the real agent on wireguard-go with the
# integration bridge, and spoke devices in namespaces (tests/e2e/harness.py's pieces). Without the stack
# the tests skip loudly; under scripts/test (NWG_TEST_REQUIRE_ALL=1) they fail instead.

import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))

from tests.e2e import harness  # noqa: E402
from tests.e2e.conftest import Unavailable, find_stack, unavailable  # noqa: E402

# An underlay of this layer's own (TEST-NET-1): an e2e run beside it (198.51.100.0/24 on a bridge in the
# same root namespace) cannot collide with it.
harness.UNDERLAY_PREFIX = '192.0.2'


class Ovn(object):
    """The OVS/OVN that ovn_env names: its NB, the agent host's ovsdb and integration bridge."""

    def __init__(self):
        self.host = os.environ.get('NWG_OVN_HOST')
        self.ovsdb = os.environ.get('NWG_OVSDB')
        self.nb = os.environ.get('NWG_OVN_NB')
        self.bridge = os.environ.get('NWG_OVN_BRIDGE', 'br-int')
        if not (self.host and self.ovsdb and self.nb):
            raise Unavailable('no OVS/OVN: run under scripts/lib/ovn.sh ovn_env')
        for tool in ('ovs-vsctl', 'ovn-nbctl'):
            if not shutil.which(tool):
                raise Unavailable('%s is needed (openvswitch-switch, ovn-central)' % tool)

    def nbctl(self, *args):
        return harness.run('ovn-nbctl', '--db=' + self.nb, '--timeout=30', *args).stdout.strip()

    def vsctl(self, *args):
        return harness.run('ovs-vsctl', '--db=' + self.ovsdb, '--timeout=10', *args).stdout.strip()

    def lsp(self, port_id):
        """The logical switch port Neutron made for port_id: {'up': ..., 'type': ...} or None."""
        found = self.nbctl('--bare', '--columns=up,type', 'find', 'Logical_Switch_Port', 'name=' + port_id)
        if not found:
            return None
        up, type_ = (found.split('\n') + ['', ''])[:2]
        return {'up': up.strip() == 'true', 'type': type_.strip()}

    def routes(self, router_id):
        """The router's static routes in NB: [(prefix, nexthop)]."""
        uuids = self.nbctl('--bare', '--columns=static_routes', 'find', 'Logical_Router',
                           'name=neutron-' + router_id).split()
        result = []
        for uuid in uuids:
            prefix = self.nbctl('get', 'Logical_Router_Static_Route', uuid, 'ip_prefix').strip('"')
            nexthop = self.nbctl('get', 'Logical_Router_Static_Route', uuid, 'nexthop').strip('"')
            result.append((prefix, nexthop))
        return sorted(result)

    def bridge_ports(self):
        return self.vsctl('list-ports', self.bridge).split()

    def plug(self, netns, port, root, inner, mtu):
        """A namespace plugged as OVN's metadata agent plugs its own: a veth whose root end is in the
        integration bridge with the port's ID; the namespace end has the port's MAC."""
        harness.run('ip', 'netns', 'add', netns)
        harness.run('ip', '-n', netns, 'link', 'set', 'lo', 'up')
        harness.run('ip', 'link', 'add', root, 'mtu', str(mtu), 'type', 'veth', 'peer', 'name', inner,
                    'netns', netns)
        harness.run('ip', '-n', netns, 'link', 'set', inner, 'address', port['mac_address'],
                    'mtu', str(mtu), 'up')
        harness.run('ip', 'link', 'set', root, 'up')
        self.vsctl('--', '--may-exist', 'add-port', self.bridge, root, '--', 'set', 'Interface', root,
                   'external_ids:iface-id=' + port['id'], 'external_ids:attached-mac=' + port['mac_address'],
                   'external_ids:iface-status=active')

    def unplug(self, root):
        harness.run('ovs-vsctl', '--db=' + self.ovsdb, '--timeout=10', '--if-exists', 'del-port',
                    self.bridge, root, check=False)
        harness.run('ip', 'link', 'del', root, check=False)


@pytest.fixture(scope='session')
def ovn_stack():
    try:
        stack = find_stack()
        stack['ovn'] = Ovn()
    except Unavailable as exc:
        unavailable(str(exc))
    agents = stack['api'].list('agent', agent_type='OVN Controller agent', host=stack['ovn'].host)
    if not (agents and agents[0]['alive']):
        unavailable('no live OVN Controller agent on %s: is this the ML2/OVN server?' % stack['ovn'].host)
    return stack


class OvnWorld(object):
    """One project on the ML2/OVN cloud: the agent on the chassis host (with the integration bridge),
    an underlay for the spokes, and whatever the steps add (router, networks, VM, hub, spokes)."""

    def __init__(self, stack, ports):
        self.api = stack['api']
        self.ovn = stack['ovn']
        self.tok = harness.token()
        self.project = 'ovn' + self.tok
        self.workdir = tempfile.mkdtemp(prefix='nwg-ovn-')
        self.underlay = harness.Underlay(self.tok)
        # The agent's host is the chassis's hostname: ML2/OVN binds the plug port there, and the OVN
        # controller there claims it when the agent plugs it.
        self.agent = harness.AgentProcess(stack['agent'], self.workdir, self.ovn.host, stack['transport_url'],
                                          self.underlay.address, ports)
        with open(self.agent.config, 'a') as f:
            f.write('[ovs]\nintegration_bridge = %s\novsdb_connection = %s\n' % (self.ovn.bridge,
                                                                               self.ovn.ovsdb))
        self.spokes = []
        self.networks = []
        self.routers = []
        self.plugged = []  # (netns, root veth) we plugged into the bridge
        self.hubs = []
        WORLDS.append(self)

    def add_spoke(self):
        spoke = harness.Spoke(self.underlay, self.tok, len(self.spokes) + 1, self.workdir)
        self.spokes.append(spoke)
        return spoke

    def network(self, name, cidr, **subnet):
        net = self.api.create('network', name='ovn-%s-%s' % (name, self.tok), project_id=self.project)
        self.networks.append(net['id'])
        sub = self.api.create('subnet', network_id=net['id'], ip_version=4, cidr=cidr,
                              project_id=self.project, **subnet)
        return net, sub

    def close(self):
        if self in WORLDS:
            WORLDS.remove(self)
        exit_code = self.agent.stop()
        for router in self.routers:
            for route in self.api.show('router', router, expected=None).get('routes') or []:
                self.api.request('PUT', '/routers/%s/remove_extraroutes' % router,
                                 {'router': {'routes': [route]}})
            for port in self.api.list('port', device_id=router):
                self.api.request('PUT', '/routers/%s/remove_router_interface' % router,
                                 {'port_id': port['id']})
            self.api.request('DELETE', '/routers/%s' % router)
        for net in self.networks:
            for port in self.api.list('port', network_id=net):
                self.api.request('DELETE', '/ports/%s' % port['id'])
            self.api.request('DELETE', '/networks/%s' % net)
        for netns, root in self.plugged:
            self.ovn.unplug(root)
            harness.run('ip', 'netns', 'del', netns, check=False)
        for spoke in self.spokes:
            spoke.close()
        # Whatever the agent did not get to remove (a failed test): the hubs' namespaces, devices, plugs.
        for hub in self.hubs:
            harness.run('ip', 'netns', 'del', 'wghub-' + hub, check=False)
            harness.run('ip', 'netns', 'del', 'tun-' + self.project, check=False)
            harness.run('ip', 'link', 'del', 'wg-' + hub[:11], check=False)
        for root in self.ovn.bridge_ports():
            if root.startswith('wgo-'):
                self.ovn.unplug(root)
        self.underlay.close()
        logs = os.path.join(os.environ.get('NWG_RUN', tempfile.gettempdir()), 'log')
        os.makedirs(logs, exist_ok=True)
        if os.path.exists(self.agent.log_path):
            shutil.copy(self.agent.log_path, os.path.join(logs, 'ovn-agent-%s.log' % self.tok))
        shutil.rmtree(self.workdir, ignore_errors=True)
        assert exit_code in (0, None), 'the agent exited with %s on SIGTERM (its log: %s)' % (
            exit_code, 'ovn-agent-%s.log' % self.tok)


WORLDS = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing step shows the end of the agent's log, and what OVN NB and OVS hold."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when == 'call':
        # The worlds of the module the tests import (pytest may have loaded this file under another
        # module name, with a WORLDS of its own).
        from tests.ovn import conftest
        for world in conftest.WORLDS:
            for tool, db in (('ovn-nbctl', world.ovn.nb), ('ovs-vsctl', world.ovn.ovsdb)):
                res = harness.run(tool, '--db=' + db, '--timeout=10', 'show', check=False)
                report.sections.append((tool + ' show', res.stdout + res.stderr))
            try:
                with open(world.agent.log_path, errors='replace') as f:
                    tail = f.readlines()[-80:]
            except OSError:
                continue
            report.sections.append(('agent log (last 80 lines of %s)' % world.agent.log_path,
                                    ''.join(tail)))
