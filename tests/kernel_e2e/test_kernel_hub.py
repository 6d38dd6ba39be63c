# The production data plane end to end: the agent binary inside a qemu VM booting the pinned Debian
# kernel, with `backend = auto` (so kernel WireGuard over generic netlink), against the real neutron-server
# of the host (through the host's RabbitMQ); spokes are wireguard-go in host namespaces on the VM's
# underlay. The steps share one world and run in order.

import re
import signal
import subprocess
import time

import pytest

from tests.e2e import harness
from tests.kernel_e2e import vm as kvm
from tests.kernel_e2e.world import World

CIDR = '10.64.0.0/24'
PORTS = '52500:52549'
WAIT = 60  # seconds: generous, the VM runs under TCG (software emulation)


@pytest.fixture(scope='module')
def world(stack):
    w = World(stack, ports=PORTS, cidr=CIDR)
    print('kernel-e2e: the VM booted in %.1f s' % w.vm.boot_seconds)
    try:
        w.agent.start()
        yield w
    finally:
        router = getattr(w, 'router', None)
        if router:  # a step that failed with the hub attached: detach it first (Zed deletes the port)
            for port in w.api.list('port', device_id=router['id']):
                w.api.router_interface(router['id'], 'remove', port['id'], expected=None)
        w.close()
        if router:
            w.api.request('DELETE', '/routers/%s' % router['id'])


def hub_dev(hub_id):
    return 'wg-' + hub_id[:11]


def fixed_ip(port):
    return port['fixed_ips'][0]['ip_address']


def hub_port(world, index=0):
    return world.api.show('port', world.hubs[index])


def identity(world, netns=None, index=0):
    device, peers = world.vm.wg_dump(hub_dev(world.hubs[index]), netns=netns or world.tun_ns)
    return device['public_key'], device['listen_port'], {k: v['allowed_ips'] for k, v in peers.items()}


def peers_of(world, netns=None, index=0):
    return world.vm.wg_dump(hub_dev(world.hubs[index]), netns=netns or world.tun_ns)[1]


def wait_active(world, hub_id):
    def active():
        port = world.api.show('port', hub_id)
        profile = port['binding:profile']
        return port['status'] == 'ACTIVE' and profile.get('public_key') and profile.get('endpoint') and port
    return harness.wait_until(active, WAIT, 'the hub to be ACTIVE with its key and endpoint')


def test_agent_picks_kernel_wireguard_and_registers(world):
    assert abs(world.vm.clock_offset()) < 1.0, 'the VM clock is not the host\'s'
    log = world.agent.log_since_start()
    assert 'backend kernel' in log, log

    def alive():
        agents = world.api.list('agent', host=world.agent.host, agent_type='wireguard agent')
        return agents and agents[0]['alive'] and agents[0]
    agent = harness.wait_until(alive, WAIT, 'the agent in the VM to be alive in GET /v2.0/agents')
    assert agent['binary'] == 'neutron-wireguard-agent'
    assert agent['configurations']['backend'] == 'kernel'
    assert agent['configurations']['endpoint_address'] == kvm.UPLINK_ADDRESS


def test_hub_becomes_active_with_key_and_endpoint(world):
    hub = world.create_hub()
    assert hub['binding:vif_type'] == 'wireguard'
    port = wait_active(world, hub['id'])
    dev = hub_dev(hub['id'])
    device, peers = world.vm.wg_dump(dev, netns=world.tun_ns)
    assert port['binding:profile']['public_key'] == device['public_key']
    assert port['binding:profile']['endpoint'] == '%s:%d' % (kvm.UPLINK_ADDRESS, device['listen_port'])
    assert 52500 <= device['listen_port'] <= 52549
    assert peers == {}
    # A kernel WireGuard link in the project namespace, with the hub's fixed IP, up; its UDP socket stays
    # in the VM's root namespace, where it was created (the kernel keeps it there across the move).
    link = world.vm.run('ip', '-n', world.tun_ns, '-d', 'link', 'show', dev).stdout
    assert '\n    wireguard ' in link, link
    assert 'state UP' in link or ',UP' in link
    assert 'mtu %d ' % min(world.network['mtu'], 1500 - 60) in link
    addr = world.vm.run('ip', '-n', world.tun_ns, '-o', '-4', 'addr', 'show', dev).stdout
    assert '%s/24' % fixed_ip(port) in addr
    # The key stays in the VM: a 0600 file in a 0700 directory, never in the log.
    assert world.vm.stat(world.agent.state_path)['mode'] == 0o700
    state = '%s/%s.conf' % (world.agent.state_path, hub['id'])
    assert world.vm.stat(state)['mode'] == 0o600
    private = [l.split('=', 1)[1].strip() for l in world.vm.read(state).splitlines()
               if l.startswith('PrivateKey')][0]
    assert private not in world.agent.log()


def test_spokes_ping_the_hub_and_each_other(world):
    port = hub_port(world)
    first, second = world.add_spoke(), world.add_spoke()
    # The first spoke tells Neutron its endpoint; the second is behind NAT (the hub learns it).
    p1 = world.create_spoke_port(first, [world.hubs[0]], endpoint=first.endpoint)
    p2 = world.create_spoke_port(second, [world.hubs[0]])
    peers = harness.wait_until(
        lambda: (lambda p: first.public_key in p and second.public_key in p and p)(peers_of(world)),
        WAIT, 'both spokes to be peers of the hub')
    assert peers[first.public_key]['allowed_ips'] == ['%s/32' % fixed_ip(p1)]
    assert peers[first.public_key]['endpoint'] == first.endpoint
    assert peers[second.public_key]['allowed_ips'] == ['%s/32' % fixed_ip(p2)]
    profile = port['binding:profile']
    for spoke, sport in ((first, p1), (second, p2)):
        spoke.configure(profile['public_key'], profile['endpoint'], fixed_ip(sport), CIDR)
    for n, spoke in enumerate((first, second), 1):
        assert harness.wait_until(lambda: harness.ping(spoke.netns, fixed_ip(port)), WAIT,
                                  'spoke %d to ping the hub' % n)
    # Spoke to spoke through the hub: forwarding in the VM's project namespace, no ICMP redirects.
    out = harness.run('ping', '-c', '3', '-i', '0.2', '-W', '2', fixed_ip(p2), netns=first.netns).stdout
    assert ' 0% packet loss' in out and 'Redirect' not in out, out
    assert harness.ping(second.netns, fixed_ip(p1))
    # The hub learnt the second spoke's endpoint from its handshake.
    assert peers_of(world)[second.public_key]['endpoint'] == second.endpoint
    world.spoke_ports = [p1, p2]


def notified_syncs(log):
    """Passes the notification triggered (not a full sync) that changed something."""
    return [l for l in log.splitlines()
            if re.search(r'sync of \d+ hub\(s\): \d+ realized, 0 failed, 0 removed, [1-9]\d* action', l)]


def test_spoke_added_and_removed_by_notification(world):
    offset = world.agent.log_size()
    spoke = world.add_spoke()
    port = world.create_spoke_port(spoke, [world.hubs[0]])
    harness.wait_until(lambda: spoke.public_key in peers_of(world), WAIT, 'the new spoke to be a peer')
    assert notified_syncs(world.agent.log_since(offset)), world.agent.log_since(offset)
    hub = hub_port(world)
    spoke.configure(hub['binding:profile']['public_key'], hub['binding:profile']['endpoint'],
                    fixed_ip(port), CIDR)
    assert harness.wait_until(lambda: harness.ping(spoke.netns, fixed_ip(hub), count=1), WAIT,
                              'the new spoke to reach the hub')

    offset = world.agent.log_size()
    world.api.delete('port', port['id'])
    harness.wait_until(lambda: spoke.public_key not in peers_of(world), WAIT, 'the spoke to leave the hub')
    assert notified_syncs(world.agent.log_since(offset)), world.agent.log_since(offset)
    assert not harness.ping(spoke.netns, fixed_ip(hub), count=1)
    assert set(peers_of(world)) == {s.public_key for s in world.spokes[:2]}


def test_agent_restart_keeps_identity_without_a_lost_ping(world):
    before = identity(world)
    hub_ip = fixed_ip(hub_port(world))
    pinger = subprocess.Popen(['ip', 'netns', 'exec', world.spokes[0].netns, 'ping', '-i', '0.2', '-W', '2',
                               hub_ip], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started = time.monotonic()
    try:
        assert world.agent.stop() == 0
        offset = world.agent.log_size()
        world.agent.start()
        line = harness.wait_until(
            lambda: [l for l in world.agent.log_since(offset).splitlines() if 'full sync (start)' in l],
            WAIT, 'the restarted agent\'s first full sync')[0]
        assert '1 realized, 0 failed, 0 removed, 0 action(s)' in line, line
        assert identity(world) == before
        harness.wait_until(lambda: world.api.show('port', world.hubs[0])['status'] == 'ACTIVE', WAIT,
                           'the hub to stay ACTIVE')
        # A quick restart must still be pinged through: at least 3 s of echoes (15) in all.
        time.sleep(max(0.0, 3.0 - (time.monotonic() - started)))
    finally:
        pinger.send_signal(signal.SIGINT)
        out = pinger.communicate(timeout=10)[0]
    seqs = sorted(int(s) for s in re.findall(r'bytes from .* icmp_seq=(\d+)', out))
    sent = int(re.search(r'(\d+) packets transmitted', out).group(1))
    # Every echo was answered but possibly the last, in flight when ping was stopped.
    assert sent >= 10 and seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= sent - 1, out


def test_device_deleted_by_hand_comes_back_with_the_same_identity(world):
    before = identity(world)
    world.vm.run('ip', '-n', world.tun_ns, 'link', 'del', hub_dev(world.hubs[0]))
    # A quick full sync (polling_interval) sees the link gone and creates it again from the state file.
    harness.wait_until(lambda: identity(world) == before, WAIT, 'the hub to be back with its old identity')
    # The new device greets the spoke whose endpoint Neutron knows: a fresh handshake without traffic.
    harness.wait_until(lambda: peers_of(world)[world.spokes[0].public_key]['latest_handshake'] > 0, WAIT,
                       'the re-created hub to handshake with spoke 1 on its own')
    hub_ip = fixed_ip(hub_port(world))
    assert harness.wait_until(lambda: harness.ping(world.spokes[0].netns, hub_ip, count=1), WAIT,
                              'spoke 1 to reach the re-created hub')
    assert harness.wait_until(lambda: harness.ping(world.spokes[0].netns, fixed_ip(world.spoke_ports[1]),
                                                   count=1), WAIT, 'spoke 1 to reach spoke 2 again')


def test_hub_deleted_removes_device_state_and_namespace(world):
    hub_id = world.hubs[0]
    world.api.delete('port', hub_id)
    state = '%s/%s.conf' % (world.agent.state_path, hub_id)
    harness.wait_until(lambda: not world.vm.stat(state)['exists'], WAIT, 'the hub\'s state file to be removed')
    assert hub_dev(hub_id) not in world.vm.links(world.tun_ns)
    harness.wait_until(lambda: world.tun_ns not in world.vm.netns_list(), WAIT,
                       'the emptied project namespace to be removed')
    assert 'wg-' not in world.vm.links()


def test_attached_hub_moves_into_the_router_namespace(world):
    """No neutron-l3-agent runs in the VM (docs/testing.md says why): the test creates the router's
    namespace there as the L3 agent would, and checks that the agent moves the kernel device into it."""
    api = world.api
    world.router = api.create('router', name='kvm-r-' + world.tok, project_id=world.project)
    # An L3 agent elsewhere (the l3 layer's, still counted alive) must not host this router.
    for l3 in api.request('GET', '/routers/%s/l3-agents' % world.router['id'])[1]['agents']:
        api.request('DELETE', '/agents/%s/l3-routers/%s' % (l3['id'], world.router['id']), expected=204)
    qrouter = 'qrouter-' + world.router['id']
    world.vm.run('ip', 'netns', 'add', qrouter)
    hub = world.create_hub()
    port = wait_active(world, hub['id'])
    before = identity(world, index=1)
    api.request('PUT', '/routers/%s/add_router_interface' % world.router['id'], {'port_id': hub['id']},
                expected=200)
    harness.wait_until(lambda: hub_dev(hub['id']) in world.vm.links(qrouter), WAIT,
                       'the hub device to move into ' + qrouter)
    assert identity(world, netns=qrouter, index=1) == before
    addr = world.vm.run('ip', '-n', qrouter, '-o', '-4', 'addr', 'show', hub_dev(hub['id'])).stdout
    assert '%s/24' % fixed_ip(port) in addr
    harness.wait_until(lambda: world.api.show('port', hub['id'])['status'] == 'ACTIVE', WAIT,
                       'the attached hub to be ACTIVE')
    # A spoke reaches the hub in the router's namespace: the UDP socket stayed in the VM's root namespace.
    spoke = world.spokes[0]
    sport = world.create_spoke_port(spoke, [hub['id']])
    harness.wait_until(lambda: spoke.public_key in peers_of(world, netns=qrouter, index=1), WAIT,
                       'the spoke to be a peer of the attached hub')
    profile = world.api.show('port', hub['id'])['binding:profile']
    # The spoke's old hub is gone: its address goes, and the new hub takes over the tunnel's prefix.
    harness.run('ip', '-n', spoke.netns, 'addr', 'flush', 'dev', spoke.ifname)
    spoke.configure(profile['public_key'], profile['endpoint'], fixed_ip(sport), CIDR)
    assert harness.wait_until(lambda: harness.ping(spoke.netns, fixed_ip(port), count=1), WAIT,
                              'the spoke to reach the hub in ' + qrouter)

    # Detaching deletes the port (Zed): the device leaves the router's namespace, its state file goes.
    api.request('PUT', '/routers/%s/remove_router_interface' % world.router['id'], {'port_id': hub['id']},
                expected=200)
    harness.wait_until(lambda: hub_dev(hub['id']) not in world.vm.links(qrouter), WAIT,
                       'the hub device to be removed')
    harness.wait_until(lambda: not world.vm.stat('%s/%s.conf' % (world.agent.state_path, hub['id']))['exists'],
                       WAIT, 'the hub\'s state file to be removed')
