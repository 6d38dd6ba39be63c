# Issue #11 on the real stack: a project member (alice, through Keystone, Neutron's default
# policies) creates a hub, which waits without an agent and is scheduled when one reports; creates
# spokes with only a public key; brings spoke devices up with `wg-quick up` on exactly the file
# that `openstack wireguard spoke config` gives and pings the hub and the other spoke through the
# tunnel; rotates a key; hubs spread over two agents; the hub of an agent dead for long moves and
# the fetched configuration follows. Another project's member (bob) and alice herself are refused
# everything the policies forbid, which changes nothing. The steps share one world and run in order.

import calendar
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from tests.e2e import harness
from tests.selfservice import conftest
from tests.selfservice.conftest import cli

WAIT = 40  # seconds: anything an agent does after a notification or a heartbeat
PORTS_A, PORTS_B = '52600:52649', '52650:52699'
CIDR, CIDR2 = '10.64.0.0/24', '10.65.0.0/24'
# The network nodes' uplink: an underlay of our own (RFC 2544's benchmarking range), so that no
# bridge another test left behind with e2e's 198.51.100.0/24 can take our packets.
UNDERLAY = '198.18.64'


class Uplink(harness.Underlay):
    def __init__(self, tok):
        self.bridge = 'nwgb' + tok
        self.address = UNDERLAY + '.1'
        mac = '02:01:%s:%s:%s:01' % (tok[0:2], tok[2:4], tok[4:6])  # fixed: see harness.Underlay
        harness.run('ip', 'link', 'add', self.bridge, 'address', mac, 'type', 'bridge')
        harness.run('ip', 'addr', 'add', self.address + '/24', 'dev', self.bridge)
        harness.run('ip', 'link', 'set', self.bridge, 'up')


class Device(object):
    """A spoke device: its own namespace on the underlay, configured only by `wg-quick up FILE`."""

    def __init__(self, world, index):
        self.netns = 'nwgk%s%d' % (world.tok, index)
        self.veth = 'nwgx%s%d' % (world.tok, index)
        self.ifname = 'nwgq%s%d' % (world.tok, index)  # wg-quick names it after the file
        self.dir = os.path.join(world.workdir, self.ifname)
        os.makedirs(self.dir, mode=0o700)
        self.conf = os.path.join(self.dir, self.ifname + '.conf')
        self.key_file = self.new_key()
        self.up_now = False
        harness.run('ip', 'netns', 'add', self.netns)
        harness.run('ip', '-n', self.netns, 'link', 'set', 'lo', 'up')
        harness.run('ip', 'link', 'add', self.veth, 'type', 'veth', 'peer', 'name', 'u0',
                    'netns', self.netns)
        harness.run('ip', 'link', 'set', self.veth, 'master', world.underlay.bridge, 'up')
        self.underlay_ip = '%s.%d' % (UNDERLAY, 20 + index)
        harness.run('ip', '-n', self.netns, 'addr', 'add', self.underlay_ip + '/24', 'dev', 'u0')
        harness.run('ip', '-n', self.netns, 'link', 'set', 'u0', 'up')

    def new_key(self):
        path = os.path.join(self.dir, 'private-%s.key' % harness.token())
        old = os.umask(0o077)
        try:
            with open(path, 'w') as f:
                f.write(harness.run('wg', 'genkey').stdout)
        finally:
            os.umask(old)
        return path

    @property
    def public_key(self):
        with open(self.key_file) as f:
            return harness.run_input(['wg', 'pubkey'], f.read()).strip()

    def quick(self, action):
        env = {k: v for k, v in os.environ.items() if not k.startswith('WG_')}
        env['WG_QUICK_USERSPACE_IMPLEMENTATION'] = 'wireguard-go'
        res = subprocess.run(('ip', 'netns', 'exec', self.netns, 'wg-quick', action, self.conf),
                             env=env, capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, 'wg-quick %s %s: %s' % (action, self.conf, res.stderr)

    def up(self, config_text):
        """wg-quick up on exactly this file (the previous one first taken down)."""
        if self.up_now:
            self.quick('down')
            self.up_now = False
        old = os.umask(0o077)
        try:
            with open(self.conf, 'w') as f:
                f.write(config_text)
        finally:
            os.umask(old)
        self.quick('up')
        self.up_now = True

    def close(self):
        if self.up_now:
            harness.run('ip', 'netns', 'exec', self.netns, 'wg-quick', 'down', self.conf,
                        check=False)
        harness.run('ip', 'netns', 'del', self.netns, check=False)
        harness.run('ip', 'link', 'del', self.veth, check=False)


class World(object):

    def __init__(self, stack):
        self.stack = stack
        self.admin, self.alice, self.bob = (stack['clouds'][n] for n in ('admin', 'alice', 'bob'))
        self.tok = harness.token()
        self.workdir = tempfile.mkdtemp(prefix='nwg-ss-')
        self.underlay = Uplink(self.tok)
        self.agents = {}
        self.devices = {}
        self.networks = []
        self.hubs = []
        self.project = self.alice.current_project_id

    def agent(self, name, ports):
        workdir = os.path.join(self.workdir, 'agent-' + name)
        os.makedirs(workdir)
        agent = harness.AgentProcess(self.stack['agent'], workdir,
                                     'ss-%s-%s' % (name, self.tok),
                                     self.stack['transport_url'], self.underlay.address, ports)
        agent.start()
        self.agents[name] = agent
        conftest.AGENTS.append(agent)
        return agent

    def device(self, name):
        self.devices[name] = Device(self, len(self.devices) + 1)
        return self.devices[name]

    def network(self, name, cidr):
        net = self.alice.network.create_network(name='%s-%s' % (name, self.tok))
        subnet = self.alice.network.create_subnet(network_id=net.id, ip_version=4,
                                                  cidr=cidr, name=net.name)
        self.networks.append(net.id)
        return net, subnet

    def close(self):
        for device in self.devices.values():
            device.close()
        exits = {name: agent.stop() for name, agent in self.agents.items()}
        for agent in self.agents.values():
            conftest.AGENTS.remove(agent)
            logs = os.path.join(os.environ.get('NWG_RUN', tempfile.gettempdir()), 'log')
            os.makedirs(logs, exist_ok=True)
            if os.path.exists(agent.log_path):
                shutil.copy(agent.log_path, os.path.join(logs, 'selfservice-%s.log' % agent.host))
        for net_id in self.networks:
            for port in self.admin.network.ports(network_id=net_id):
                self.admin.network.delete_port(port, ignore_missing=True)
            self.admin.network.delete_network(net_id, ignore_missing=True)
        for agent in self.agents.values():
            for row in self.admin.network.agents(host=agent.host):
                self.admin.network.delete_agent(row, ignore_missing=True)
        # the devices of hubs whose agent was stopped (agents leave tunnels up when they stop)
        for hub_id in self.hubs:
            harness.run('ip', '-n', 'tun-' + self.project, 'link', 'del', 'wg-' + hub_id[:11],
                        check=False)
        harness.run('ip', 'netns', 'del', 'tun-' + self.project, check=False)
        self.underlay.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
        assert all(code in (0, None) for code in exits.values()), exits


def wireguard_agents(cloud):
    return list(cloud.network.agents(agent_type='wireguard agent'))


@pytest.fixture(scope='module')
def world(stack):
    w = World(stack)
    # No other WireGuard agent may take our hubs: wait until those of earlier runs and layers are
    # dead for this server (its agent_down_time), then remove them (the noauth server still
    # counts them alive for longer).
    deadline = time.monotonic() + stack['agent_down_time'] + 20
    while any(a.is_alive for a in wireguard_agents(w.admin)):
        assert time.monotonic() < deadline, 'another WireGuard agent keeps reporting: %s' % [
            a.host for a in wireguard_agents(w.admin) if a.is_alive]
        time.sleep(1)
    for agent in wireguard_agents(w.admin):
        w.admin.network.delete_agent(agent)
    try:
        yield w
    finally:
        w.close()


def raw(cloud, method, path, **body):
    """(status, JSON answer) of a request through openstacksdk's network proxy."""
    res = getattr(cloud.network, method)(path, json=body or None)
    try:
        data = res.json()
    except ValueError:
        data = None
    return res.status_code, data


def hub_json(world, hub_id, cloud='alice'):
    return cli(cloud, 'wireguard', 'hub', 'show', hub_id, '-f', 'json')


def hub_api(world, hub_id, cloud=None):
    return raw(cloud or world.alice, 'get', '/wireguard_hubs/' + hub_id)[1]['wireguard_hub']


def wait_hub(world, hub_id, what, predicate):
    return harness.wait_until(lambda: (lambda h: predicate(h) and h)(hub_api(world, hub_id)),
                              WAIT, what, interval=0.5)


def hub_peers(world, hub_id):
    _, peers = harness.wg_dump('wg-' + hub_id[:11], netns='tun-' + world.project)
    return peers


def fetch_config(device, spoke):
    """The device's file exactly as `openstack wireguard spoke config` writes it."""
    return cli('alice', 'wireguard', 'spoke', 'config', spoke, '--private-key-file',
               device.key_file)


def ip_of(port):
    return port['fixed_ips'][0]['ip_address']


def test_hub_waits_for_an_agent_then_is_scheduled(world):
    world.net, world.subnet = world.network('ss-tun', CIDR)
    hub = cli('alice', 'wireguard', 'hub', 'create', '--network', world.net.id, 'hub1',
              '-f', 'json')
    world.hub1 = hub['id']
    world.hubs.append(world.hub1)
    assert hub['status'] == 'WAITING_FOR_AGENT', hub
    assert 'host' not in hub  # a member never sees (nor sets) where it runs
    admin_view = hub_api(world, world.hub1, world.admin)
    assert admin_view['host'] is None
    world.agent('a', PORTS_A)
    hub = wait_hub(world, world.hub1, 'hub1 to be scheduled and up',
                   lambda h: h['status'] == 'ACTIVE' and h['public_key'] and h['endpoint'])
    assert hub_api(world, world.hub1, world.admin)['host'] == world.agents['a'].host
    device, _ = harness.wg_dump('wg-' + world.hub1[:11], netns='tun-' + world.project)
    assert (hub['public_key'], hub['endpoint']) == (
        device['public_key'], '%s.1:%d' % (UNDERLAY, device['listen_port']))
    world.hub1_key = hub['public_key']


def test_spokes_from_their_configuration_ping_the_hub_and_each_other(world):
    one, two = world.device('one'), world.device('two')
    # only a public key: the project's one hub is chosen
    s1 = cli('alice', 'wireguard', 'spoke', 'create', '--public-key', one.public_key, 'one',
             '-f', 'json')
    assert s1['hub_ids'] == [world.hub1] and s1['persistent_keepalive'] == 25, s1
    # the key read from the device's private key file (which is not sent)
    s2 = cli('alice', 'wireguard', 'spoke', 'create', '--private-key-file', two.key_file,
             '--network', world.net.id, 'two', '-f', 'json')
    assert s2['public_key'] == two.public_key
    world.s1, world.s2 = s1, s2
    harness.wait_until(lambda: {one.public_key, two.public_key} <= set(hub_peers(world, world.hub1)),
                       WAIT, 'both spokes to be peers of hub1')
    text = fetch_config(one, 'one')
    assert 'PrivateKey = __PRIVATE_KEY__' not in text
    assert 'Address = %s/24' % ip_of(s1) in text
    assert 'PublicKey = %s' % world.hub1_key in text and 'AllowedIPs = %s' % CIDR in text
    one.up(text)
    two.up(fetch_config(two, 'two'))
    hub_ip = ip_of(hub_api(world, world.hub1))
    world.hub1_ip = hub_ip
    for device in (one, two):
        assert harness.wait_until(lambda: harness.ping(device.netns, hub_ip), WAIT,
                                  '%s to ping the hub' % device.ifname)
    assert harness.ping(one.netns, ip_of(s2)), 'spoke one cannot reach spoke two'
    # what a device or a script polls: the same configuration over the REST API, JSON
    status, body = raw(world.alice, 'get', '/wireguard_spokes/%s/config' % s1['id'])
    config = body['wireguard_config']
    assert (status, config['ready'], config['interface']['addresses']) == (
        200, True, ['%s/24' % ip_of(s1)])
    assert 'PrivateKey = __PRIVATE_KEY__' in config['wg_quick']
    spoke = cli('alice', 'wireguard', 'spoke', 'show', 'one', '-f', 'json')
    assert spoke['status'] == 'ACTIVE'


def test_the_owner_reads_whether_its_devices_are_connected(world):
    """Spoke liveness (issue #12): the agent reads the hub's peers every peer_read_interval (15 s)
    and reports the spokes; their owner reads the connection without admin rights."""
    one, two = world.devices['one'], world.devices['two']

    def connected(spoke_id):
        status, body = raw(world.alice, 'get', '/wireguard_spokes/' + spoke_id)
        spoke = body['wireguard_spoke']
        return (status == 200 and spoke['connection_status'] == 'ACTIVE' and
                spoke['rx_bytes'] > 0 and spoke['tx_bytes'] > 0 and spoke)
    for device, spoke_id in ((one, world.s1['id']), (two, world.s2['id'])):
        spoke = harness.wait_until(lambda: connected(spoke_id), WAIT + 20,
                                   '%s to be connected in the API' % device.ifname, interval=1)
        _, peers = harness.wg_dump('wg-' + world.hub1[:11], netns='tun-' + world.project)
        hub_side = peers[device.public_key]
        # what the hub sees of the device: its address on the uplink, its latest handshake
        assert spoke['last_endpoint'] == hub_side['endpoint'], (spoke, hub_side)
        assert spoke['last_endpoint'].startswith(device.underlay_ip + ':'), spoke
        handshake = calendar.timegm(time.strptime(spoke['latest_handshake_at'],
                                                  '%Y-%m-%dT%H:%M:%SZ'))
        # (the hub may have handshaken again since the report: every 2 minutes)
        assert 0 < handshake <= hub_side['latest_handshake'] + 1, (spoke, hub_side)
        assert time.time() - handshake < 180
        assert spoke['connection_updated_at'] and spoke['status'] == 'ACTIVE'
    # the same in the CLI, and in the list
    shown = cli('alice', 'wireguard', 'spoke', 'show', 'one', '-f', 'json')
    assert (shown['connection_status'], shown['last_endpoint']) == ('ACTIVE', spoke_endpoint(world, one))
    listed = cli('alice', 'wireguard', 'spoke', 'list', '--long', '-f', 'json')
    assert {s['name']: s['connection_status'] for s in listed} == {'one': 'ACTIVE', 'two': 'ACTIVE'}
    # the port's status is the liveness too (the admin's view); the hub's did not move
    assert world.admin.network.get_port(world.s1['id']).status == 'ACTIVE'
    assert hub_api(world, world.hub1)['status'] == 'ACTIVE'
    # another project's member sees none of it
    assert raw(world.bob, 'get', '/wireguard_spokes/' + world.s1['id'])[0] == 404
    assert world.s1['id'] not in {s['id'] for s in raw(world.bob, 'get', '/wireguard_spokes')[1][
        'wireguard_spokes']}


def spoke_endpoint(world, device):
    return hub_peers(world, world.hub1)[device.public_key]['endpoint']


def snapshot(world):
    ports = {p.id: (p.revision_number, p.binding_profile, p.binding_host_id, p.name)
             for net in world.networks for p in world.admin.network.ports(network_id=net)}
    return ports, sorted(hub_peers(world, world.hub1))


def test_forbidden_actions_change_nothing(world):
    alice, bob = world.alice, world.bob
    before = snapshot(world)
    hub, spoke = world.hub1, world.s1['id']
    hub_port = '/ports/' + hub
    refusals = [
        # another project's member: nothing of alice's exists for him
        (bob, 'get', '/wireguard_hubs/' + hub, {}, 404),
        (bob, 'get', '/wireguard_spokes/' + spoke, {}, 404),
        (bob, 'get', '/wireguard_spokes/%s/config' % spoke, {}, 404),
        (bob, 'get', hub_port, {}, 404),
        (bob, 'put', '/wireguard_spokes/' + spoke,
         {'wireguard_spoke': {'public_key': world.devices['two'].public_key}}, 404),
        (bob, 'delete', '/wireguard_hubs/' + hub, {}, 404),
        (bob, 'delete', '/wireguard_spokes/' + spoke, {}, 404),
        (bob, 'post', '/wireguard_spokes', {'wireguard_spoke': {
            'public_key': harness.run_input(['wg', 'pubkey'], harness.run('wg', 'genkey').stdout
                                            ).strip(), 'hub_ids': [hub]}}, 404),
        (bob, 'post', '/wireguard_hubs', {'wireguard_hub': {'network_id': world.net.id}}, 404),
        # alice: never a host or root_device, through the WireGuard API or the ports
        (alice, 'post', '/wireguard_hubs', {'wireguard_hub': {
            'network_id': world.net.id, 'host': world.agents['a'].host}}, 403),
        (alice, 'post', '/wireguard_hubs', {'wireguard_hub': {
            'network_id': world.net.id, 'root_device': True}}, 403),
        (alice, 'put', '/wireguard_hubs/' + hub, {'wireguard_hub': {'host': 'elsewhere'}}, 403),
        (alice, 'put', '/wireguard_hubs/' + hub, {'wireguard_hub': {'root_device': True}}, 403),
        (alice, 'put', hub_port, {'port': {'binding:profile': {'root_device': True}}}, 403),
        (alice, 'put', hub_port, {'port': {'binding:host_id': 'elsewhere'}}, 403),
        (alice, 'post', '/ports', {'port': {
            'network_id': world.net.id, 'device_owner': 'channel:wireguard:spoke',
            'binding:profile': {'public_key': world.devices['one'].public_key,
                                'peers': [hub]}}}, 403),
    ]
    for cloud, method, path, body, expected in refusals:
        status, answer = raw(cloud, method, path, **body)
        assert status == expected, (method, path, status, answer)
    assert hub not in [h.id for h in bob.network.get('/wireguard_hubs').json()['wireguard_hubs']]
    assert 'host' not in hub_api(world, hub)
    assert snapshot(world) == before
    assert harness.ping(world.devices['one'].netns, world.hub1_ip)
    # through the CLI: a clear error, exit status 1
    res = cli('bob', 'wireguard', 'spoke', 'config', spoke, expect_ok=False)
    assert res.returncode == 1 and 'No WireGuard spoke %s could be found' % spoke in res.stderr, (
        res.stderr)


def test_key_rotation_keeps_the_tunnel_with_the_new_key_only(world):
    one = world.devices['one']
    old_key = one.public_key
    one.key_file = one.new_key()
    spoke = cli('alice', 'wireguard', 'spoke', 'set', 'one', '--private-key-file', one.key_file)
    assert spoke == ''
    spoke = cli('alice', 'wireguard', 'spoke', 'show', 'one', '-f', 'json')
    assert spoke['public_key'] == one.public_key != old_key
    assert spoke['fixed_ips'] == world.s1['fixed_ips']  # the address stays
    harness.wait_until(lambda: (lambda p: one.public_key in p and old_key not in p)(
        hub_peers(world, world.hub1)), WAIT, 'the hub to swap the old key for the new one')
    peers = hub_peers(world, world.hub1)
    assert peers[one.public_key]['allowed_ips'] == ['%s/32' % ip_of(world.s1)]
    one.up(fetch_config(one, 'one'))
    assert harness.wait_until(lambda: harness.ping(one.netns, world.hub1_ip), WAIT,
                              'the rotated spoke to ping the hub')
    assert harness.ping(one.netns, ip_of(world.s2))


def test_hubs_spread_over_two_agents(world):
    b = world.agent('b', PORTS_B)
    harness.wait_until(lambda: any(a.host == b.host and a.is_alive
                                   for a in wireguard_agents(world.admin)),
                       WAIT, 'agent b to be alive')
    net2, _ = world.network('ss-tun2', CIDR2)
    hub2 = cli('alice', 'wireguard', 'hub', 'create', '--network', net2.id, 'hub2', '-f', 'json')
    world.hub2 = hub2['id']
    world.hubs.append(world.hub2)
    wait_hub(world, world.hub2, 'hub2 to be up', lambda h: h['status'] == 'ACTIVE')
    hosts = {h: hub_api(world, h, world.admin)['host'] for h in (world.hub1, world.hub2)}
    assert hosts == {world.hub1: world.agents['a'].host, world.hub2: b.host}
    # with two hubs, a spoke must say which (or where): a clear 400
    three = world.device('three')
    res = cli('alice', 'wireguard', 'spoke', 'create', '--public-key', three.public_key, 'three',
              expect_ok=False)
    assert res.returncode == 1 and 'several WireGuard hubs' in res.stderr, res.stderr
    s3 = cli('alice', 'wireguard', 'spoke', 'create', '--public-key', three.public_key,
             '--network', 'ss-tun2-' + world.tok, 'three', '-f', 'json')
    assert s3['hub_ids'] == [world.hub2]


def test_hub_of_a_dead_agent_moves_and_the_configuration_follows(world):
    a, b = world.agents['a'], world.agents['b']
    one = world.devices['one']
    assert a.stop() == 0
    # the node is gone with its devices
    harness.run('ip', '-n', 'tun-' + world.project, 'link', 'del', 'wg-' + world.hub1[:11])
    wait = world.stack['agent_down_time'] + world.stack['reschedule_after'] + WAIT
    hub = harness.wait_until(
        lambda: (lambda h: h['status'] == 'ACTIVE' and h['public_key'] not in (
            None, world.hub1_key) and h)(hub_api(world, world.hub1)),
        wait, 'hub1 to be rescheduled to agent b with a new key', interval=1)
    assert hub_api(world, world.hub1, world.admin)['host'] == b.host
    text = fetch_config(one, 'one')
    assert 'PublicKey = %s' % hub['public_key'] in text
    assert 'Endpoint = %s' % hub['endpoint'] in text
    one.up(text)
    assert harness.wait_until(lambda: harness.ping(one.netns, world.hub1_ip), WAIT,
                              'spoke one to ping hub1 on its new node')
