# The product's main job on a real stack, step by step (the steps share one world and run in order):
# a hub realized by the agent on wireguard-go, two spokes pinging it and each other through it, and
# what operators rely on: bad input changing nothing, restarts and crashes changing no identity,
# outages leaving tunnels alone, deletions cleaning up.

import os
import stat
import time

import pytest

from tests.e2e import harness
from tests.e2e.conftest import World

CIDR = '10.60.0.0/24'
WAIT = 30  # seconds: a generous bound for anything the agent does after a notification


@pytest.fixture(scope='module')
def world(stack):
    w = World(stack, ports='52300:52349', cidr=CIDR)
    w.agent.start()
    yield w
    w.close()


def hub_port(world):
    return world.api.show('port', world.hubs[0])


def hub_dev(world):
    return 'wg-' + world.hubs[0][:11]


def fixed_ip(port):
    return port['fixed_ips'][0]['ip_address']


def test_agent_registers(world):
    def alive():
        agents = world.api.list('agent', host=world.agent.host, agent_type='wireguard agent')
        return agents and agents[0]['alive'] and agents[0]
    agent = harness.wait_until(alive, WAIT, 'the agent to be alive in GET /v2.0/agents')
    assert agent['binary'] == 'neutron-wireguard-agent'
    assert agent['configurations']['backend'] == 'userspace'


def test_hub_becomes_active_with_key_and_endpoint(world):
    hub = world.create_hub()
    assert hub['binding:vif_type'] == 'wireguard'

    def active():
        port = hub_port(world)
        profile = port['binding:profile']
        return port['status'] == 'ACTIVE' and profile.get('public_key') and profile.get('endpoint') and port
    port = harness.wait_until(active, WAIT, 'the hub to be ACTIVE with its key and endpoint')
    device, peers = harness.wg_dump(hub_dev(world), netns=world.tun_ns)
    assert port['binding:profile']['public_key'] == device['public_key']
    assert port['binding:profile']['endpoint'] == '198.51.100.1:%d' % device['listen_port']
    assert 52300 <= device['listen_port'] <= 52349
    assert peers == {}
    # The device lives in the project namespace with the hub's fixed IP, up.
    addr = harness.run('ip', '-n', world.tun_ns, '-o', '-4', 'addr', 'show', hub_dev(world)).stdout
    assert '%s/24' % fixed_ip(port) in addr
    link = harness.run('ip', '-n', world.tun_ns, 'link', 'show', hub_dev(world)).stdout
    assert 'state UP' in link or ',UP' in link
    # An MTU that fits both the tenant network and the underlay (1500 - 60 for WireGuard over IPv4).
    assert 'mtu %d ' % min(world.network['mtu'], 1500 - 60) in link
    # The key stays on this node: a 0600 file in a 0700 directory, never in the log.
    state = os.path.join(world.agent.state_path, world.hubs[0] + '.conf')
    assert stat.S_IMODE(os.stat(world.agent.state_path).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    with open(state) as f:
        private = [l.split('=', 1)[1].strip() for l in f if l.startswith('PrivateKey')][0]
    assert private not in world.agent.log()


def test_spokes_ping_the_hub_and_each_other(world):
    port = hub_port(world)
    first, second = world.add_spoke(), world.add_spoke()
    # The first spoke tells Neutron its endpoint; the second is behind NAT (the hub learns it).
    p1 = world.create_spoke_port(first, [world.hubs[0]], endpoint=first.endpoint)
    p2 = world.create_spoke_port(second, [world.hubs[0]])

    def peers_present():
        _, peers = harness.wg_dump(hub_dev(world), netns=world.tun_ns)
        return first.public_key in peers and second.public_key in peers and peers
    peers = harness.wait_until(peers_present, WAIT, 'both spokes to be peers of the hub')
    assert peers[first.public_key]['allowed_ips'] == ['%s/32' % fixed_ip(p1)]
    assert peers[first.public_key]['endpoint'] == first.endpoint
    assert peers[second.public_key]['allowed_ips'] == ['%s/32' % fixed_ip(p2)]
    profile = port['binding:profile']
    for spoke, sport in ((first, p1), (second, p2)):
        spoke.configure(profile['public_key'], profile['endpoint'], fixed_ip(sport), CIDR)
    assert harness.wait_until(lambda: harness.ping(first.netns, fixed_ip(port)), WAIT,
                              'spoke 1 to ping the hub')
    assert harness.wait_until(lambda: harness.ping(second.netns, fixed_ip(port)), WAIT,
                              'spoke 2 to ping the hub')
    # Spoke to spoke goes through the hub (forwarding in the project namespace, without ICMP redirects
    # that a spoke could not act on).
    out = harness.run('ping', '-c', '3', '-i', '0.2', '-W', '2', fixed_ip(p2), netns=first.netns).stdout
    assert ' 0% packet loss' in out and 'Redirect' not in out, out
    assert harness.ping(second.netns, fixed_ip(p1))
    world.spoke_ports = [p1, p2]


def test_bad_input_is_rejected_and_tunnels_stay(world):
    before = harness.wg_dump(hub_dev(world), netns=world.tun_ns)
    extra = world.add_spoke()
    # A key that is not 32 bytes of base64, a hub that does not exist, an endpoint without a port.
    bad_key = world.api.create('port', expected=400, network_id=world.network['id'],
                               project_id=world.project, device_owner='channel:wireguard:spoke',
                               **{'binding:profile': {'public_key': 'bm90LWEta2V5', 'peers': world.hubs}})
    assert 'public_key' in bad_key['NeutronError']['message']
    no_hub = world.create_spoke_port(extra, ['00000000-0000-0000-0000-000000000000'], expected=400)
    assert 'peers' in no_hub['NeutronError']['message']
    p1 = world.spoke_ports[0]
    bad_update = world.api.update('port', p1['id'], expected=400, **{'binding:profile': {
        'public_key': world.spokes[0].public_key, 'peers': world.hubs, 'endpoint': '198.51.100.11'}})
    assert 'endpoint' in bad_update['NeutronError']['message']
    assert world.api.show('port', p1['id'])['binding:profile']['endpoint'] == world.spokes[0].endpoint
    # Nothing changed on the hub, and the tunnels carry traffic.
    after = harness.wg_dump(hub_dev(world), netns=world.tun_ns)
    assert after[0] == before[0]
    assert set(after[1]) == set(before[1])
    assert harness.ping(world.spokes[0].netns, fixed_ip(hub_port(world)))


def identity(world):
    device, peers = harness.wg_dump(hub_dev(world), netns=world.tun_ns)
    return device['public_key'], device['listen_port'], {k: v['allowed_ips'] for k, v in peers.items()}


def test_agent_restart_keeps_identity_and_changes_nothing(world):
    before = identity(world)
    assert world.agent.stop() == 0
    assert harness.ping(world.spokes[0].netns, fixed_ip(hub_port(world)))  # tunnels live without the agent
    log_size = os.path.getsize(world.agent.log_path)
    world.agent.start()

    def first_full_sync():
        with open(world.agent.log_path) as f:
            f.seek(log_size)
            lines = [l for l in f if 'full sync (start)' in l]
        return lines and lines[0]
    line = harness.wait_until(first_full_sync, WAIT, 'the restarted agent\'s first full sync')
    assert '1 realized, 0 failed, 0 removed, 0 action(s)' in line, line
    assert identity(world) == before
    assert harness.ping(world.spokes[1].netns, fixed_ip(hub_port(world)))


def test_killed_wireguard_go_comes_back_with_the_same_identity(world):
    before = identity(world)
    pid = harness.wireguard_go_pid(hub_dev(world))
    assert pid, 'no wireguard-go process for the hub'
    os.kill(pid, 9)
    harness.wait_until(lambda: harness.wireguard_go_pid(hub_dev(world)) not in (None, pid), WAIT,
                       'the agent to restart the hub device')
    harness.wait_until(lambda: identity(world) == before, WAIT, 'the hub to have its old identity back')
    restored = time.monotonic()
    # The new device has no session, and a spoke would only give up its old one 15 s after sending data
    # that got no answer (WireGuard's KEEPALIVE_TIMEOUT + REKEY_TIMEOUT). The agent greets every spoke
    # whose endpoint it knows, so spoke 1 (endpoint in Neutron) has a fresh handshake although it has
    # sent nothing since the kill.
    harness.wait_until(
        lambda: harness.wg_dump(hub_dev(world), netns=world.tun_ns)[1][world.spokes[0].public_key]
        ['latest_handshake'] > 0, WAIT, 'the re-created hub to handshake with spoke 1 on its own')
    assert harness.wait_until(lambda: harness.ping(world.spokes[0].netns, fixed_ip(hub_port(world)), count=1),
                              WAIT, 'spoke 1 to reach the hub again')
    print('spoke 1 reached the re-created hub %.1f s after its identity was back' % (time.monotonic() - restored))
    assert harness.ping(world.spokes[0].netns, fixed_ip(world.spoke_ports[1]))


def log_since(world, offset):
    with open(world.agent.log_path) as f:
        f.seek(offset)
        return f.read()


def new_spoke_is_served(world):
    """A spoke created now becomes a peer and reaches the hub: the agent is fully working."""
    spoke = world.add_spoke()
    port = world.create_spoke_port(spoke, [world.hubs[0]])
    hub = hub_port(world)
    spoke.configure(hub['binding:profile']['public_key'], hub['binding:profile']['endpoint'],
                    fixed_ip(port), CIDR)
    assert harness.wait_until(lambda: harness.ping(spoke.netns, fixed_ip(hub), count=1), WAIT,
                              'a spoke created after the outage to reach the hub')
    world.api.delete('port', port['id'])
    harness.wait_until(lambda: spoke.public_key not in harness.wg_dump(hub_dev(world), netns=world.tun_ns)[1],
                       WAIT, 'the extra spoke to leave the hub')


def test_neutron_server_outage_leaves_tunnels_and_agent_recovers(world):
    before = identity(world)
    offset = os.path.getsize(world.agent.log_path)
    harness.stack_control('neutron_server_stop')
    try:
        # The agent's passes now fail (no answer within rpc_response_timeout): it must change nothing.
        harness.wait_until(lambda: 'nothing changed on the host' in log_since(world, offset), 60,
                           'the agent to notice the server is away')
        assert identity(world) == before
        assert harness.ping(world.spokes[0].netns, fixed_ip(world.spoke_ports[1]))
    finally:
        harness.stack_control('neutron_server_start')
    new_spoke_is_served(world)
    assert identity(world)[:2] == before[:2]


def test_rabbitmq_outage_leaves_tunnels_and_agent_reconnects(world):
    before = identity(world)
    offset = os.path.getsize(world.agent.log_path)
    harness.stack_control('rabbit_ctl stop_app')
    try:
        assert harness.ping(world.spokes[0].netns, fixed_ip(world.spoke_ports[1]))
        assert identity(world) == before
    finally:
        harness.stack_control('rabbit_ctl start_app')
    harness.wait_until(lambda: 'full sync (reconnected to RabbitMQ)' in log_since(world, offset), 90,
                       'the agent to reconnect and resync')
    new_spoke_is_served(world)
    assert identity(world)[:2] == before[:2]


def test_spoke_deleted_is_removed_from_the_hub(world):
    gone = world.spokes[1]
    world.api.delete('port', world.spoke_ports[1]['id'])

    def removed():
        _, peers = harness.wg_dump(hub_dev(world), netns=world.tun_ns)
        return gone.public_key not in peers
    harness.wait_until(removed, WAIT, 'the deleted spoke to leave the hub')
    assert not harness.ping(gone.netns, fixed_ip(hub_port(world)), count=1)
    assert harness.ping(world.spokes[0].netns, fixed_ip(hub_port(world)))


def test_dry_run_once_reports_and_changes_nothing(world):
    world.agent.stop()
    try:
        spoke = world.spokes[0]
        harness.run('wg', 'set', hub_dev(world), 'peer', spoke.public_key, 'remove', netns=world.tun_ns)
        code, log = world.agent.run_once('--dry-run')
        assert code == 0, log
        assert 'dry run: would configure %s' % hub_dev(world) in log
        assert spoke.public_key in log
        _, peers = harness.wg_dump(hub_dev(world), netns=world.tun_ns)
        assert spoke.public_key not in peers  # dry run changed nothing
        code, log = world.agent.run_once()
        assert code == 0, log
        _, peers = harness.wg_dump(hub_dev(world), netns=world.tun_ns)
        assert spoke.public_key in peers
    finally:
        world.agent.start()


def test_hub_deleted_removes_device_state_and_namespace(world):
    world.api.delete('port', world.spoke_ports[0]['id'])
    world.api.delete('port', world.hubs[0])
    state = os.path.join(world.agent.state_path, world.hubs[0] + '.conf')
    harness.wait_until(lambda: not os.path.exists(state), WAIT, 'the hub\'s state file to be removed')
    assert harness.run('ip', '-n', world.tun_ns, 'link', 'show', hub_dev(world), check=False).returncode != 0
    harness.wait_until(lambda: world.tun_ns not in harness.run('ip', 'netns', 'list').stdout, WAIT,
                       'the emptied project namespace to be removed')
    assert harness.wireguard_go_pid(hub_dev(world)) is None
