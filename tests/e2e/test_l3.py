# A hub added to a router lives in the router's namespace: with a real neutron-l3-agent (running the
# `wireguard` extension, on the WireGuard agent's host as the deployment rule requires), a spoke reaches,
# through the hub, a "VM" (a namespace) on another tenant subnet of the same router. Unsupported attaches
# are refused with 409 and change nothing; detaching (which deletes the port in Zed) removes the device.
# The steps share one world and run in order.

import pytest

from tests.e2e import harness
from tests.e2e.conftest import World

TUNNEL_CIDR = '10.62.0.0/24'
LAN_CIDR = '10.63.0.0/24'
WAIT = 60


@pytest.fixture(scope='module')
def world(stack):
    w = World(stack, ports='52450:52499', cidr=TUNNEL_CIDR)
    w.agent.start()
    harness.stack_control('neutron_l3_agent_start %s' % w.agent.host)
    w.vm_bridge = 'nwgl' + w.tok
    w.vm_ns = 'nwgm' + w.tok
    try:
        yield w
    finally:
        router = getattr(w, 'router', None)
        if router:
            for port in w.api.list('port', device_id=router['id']):
                w.api.request('PUT', '/routers/%s/remove_router_interface' % router['id'],
                              {'port_id': port['id']})
            w.api.request('DELETE', '/routers/%s' % router['id'])
        harness.stack_control('neutron_l3_agent_stop %s' % w.agent.host)
        harness.run('ip', 'netns', 'del', w.vm_ns, check=False)
        harness.run('ip', 'link', 'del', 'nwgy' + w.tok, check=False)
        harness.run('ip', 'link', 'del', w.vm_bridge, check=False)
        lan = getattr(w, 'lan', None)
        w.close()
        if lan:
            for port in w.api.list('port', network_id=lan['id']):
                w.api.request('DELETE', '/ports/%s' % port['id'])
            w.api.request('DELETE', '/networks/%s' % lan['id'])
        if router:
            harness.run('ip', 'netns', 'del', 'qrouter-' + router['id'], check=False)


def hub_dev(world):
    return 'wg-' + world.hubs[0][:11]


def fixed_ip(port):
    return port['fixed_ips'][0]['ip_address']


def attach_lan_tap(world):
    """Bridges the router's LAN port (the root end of the veth the L3 agent plugged) to the VM."""
    harness.wait_until(lambda: harness.run('ip', 'link', 'show', world.lan_tap, check=False).returncode == 0,
                       WAIT, 'the LAN port\'s tap device')
    harness.run('ip', 'link', 'set', world.lan_tap, 'master', world.vm_bridge, 'up')


def links_in(netns):
    return harness.run('ip', '-n', netns, '-o', 'link', 'show', check=False).stdout


def test_router_with_a_vm_on_another_subnet(world):
    api = world.api
    world.router = api.create('router', name='e2e-r-' + world.tok, project_id=world.project)
    # Host the router on this host's L3 agent explicitly: the scheduler could pick another L3 agent that
    # Neutron still counts as alive (for agent_down_time after it stopped).
    l3 = api.list('agent', agent_type='L3 agent', host=world.agent.host)
    assert l3, 'no L3 agent on ' + world.agent.host
    api.request('POST', '/agents/%s/l3-routers' % l3[0]['id'], {'router_id': world.router['id']},
                expected=201)
    world.lan = api.create('network', name='e2e-lan-' + world.tok, project_id=world.project)
    lan_subnet = api.create('subnet', network_id=world.lan['id'], ip_version=4, cidr=LAN_CIDR,
                            gateway_ip='10.63.0.1', project_id=world.project)
    status, body = api.request('PUT', '/routers/%s/add_router_interface' % world.router['id'],
                               {'subnet_id': lan_subnet['id']}, expected=200)
    qr_port = api.show('port', body['port_id'])
    qrouter = 'qrouter-' + world.router['id']
    # The L3 agent plugs the ordinary port: qr- in the router's namespace, tap in ours.
    harness.wait_until(lambda: 'qr-' + qr_port['id'][:11] in links_in(qrouter), WAIT,
                       'the L3 agent to plug the LAN interface')
    world.lan_tap = 'tap' + qr_port['id'][:11]
    # The "VM": a namespace on that subnet, with an address Neutron allocated, behind the router port.
    vm_port = api.create('port', network_id=world.lan['id'], project_id=world.project, name='vm')
    world.vm_ip = fixed_ip(vm_port)
    harness.run('ip', 'link', 'add', world.vm_bridge, 'type', 'bridge')
    harness.run('ip', 'link', 'set', world.vm_bridge, 'up')
    attach_lan_tap(world)
    harness.run('ip', 'netns', 'add', world.vm_ns)
    harness.run('ip', 'link', 'add', 'nwgy' + world.tok, 'type', 'veth', 'peer', 'name', 'eth0',
                'netns', world.vm_ns)
    harness.run('ip', 'link', 'set', 'nwgy' + world.tok, 'master', world.vm_bridge, 'up')
    harness.run('ip', '-n', world.vm_ns, 'addr', 'add', world.vm_ip + '/24', 'dev', 'eth0')
    harness.run('ip', '-n', world.vm_ns, 'link', 'set', 'eth0', 'address', vm_port['mac_address'])
    harness.run('ip', '-n', world.vm_ns, 'link', 'set', 'eth0', 'up')
    harness.run('ip', '-n', world.vm_ns, 'link', 'set', 'lo', 'up')
    harness.run('ip', '-n', world.vm_ns, 'route', 'add', 'default', 'via', '10.63.0.1')
    assert harness.wait_until(lambda: harness.ping(world.vm_ns, '10.63.0.1', count=1), WAIT,
                              'the VM to reach its router')


def test_spoke_reaches_the_hub_in_its_project_namespace(world):
    hub = world.create_hub()
    harness.wait_until(lambda: world.api.show('port', hub['id'])['status'] == 'ACTIVE', WAIT, 'the hub')
    world.spoke = world.add_spoke()
    world.spoke_port = world.create_spoke_port(world.spoke, [hub['id']])
    profile = world.api.show('port', hub['id'])['binding:profile']
    # The spoke routes the tunnel subnet and the LAN behind the router through the hub.
    world.spoke.configure(profile['public_key'], profile['endpoint'], fixed_ip(world.spoke_port),
                          TUNNEL_CIDR)
    harness.run('wg', 'set', world.spoke.ifname, 'peer', profile['public_key'], 'allowed-ips',
                '%s,%s' % (TUNNEL_CIDR, LAN_CIDR), netns=world.spoke.netns)
    harness.run('ip', '-n', world.spoke.netns, 'route', 'add', LAN_CIDR, 'dev', world.spoke.ifname)
    assert harness.wait_until(lambda: harness.ping(world.spoke.netns, fixed_ip(hub), count=1), WAIT,
                              'the spoke to reach the hub')
    world.hub_identity = harness.wg_dump(hub_dev(world), netns=world.tun_ns)[0]


def test_unsupported_attaches_are_refused_and_change_nothing(world):
    before = harness.wg_dump(hub_dev(world), netns=world.tun_ns)
    status, body = world.api.request('PUT', '/routers/%s/add_router_interface' % world.router['id'],
                                     {'port_id': world.spoke_port['id']})
    assert status == 409, body
    assert 'spoke' in body['NeutronError']['message'].lower()
    spoke = world.api.show('port', world.spoke_port['id'])
    assert spoke['device_owner'] == 'channel:wireguard:spoke' and spoke['device_id'] == ''
    assert harness.wg_dump(hub_dev(world), netns=world.tun_ns) == before


def test_attached_hub_moves_into_the_router_namespace(world):
    qrouter = 'qrouter-' + world.router['id']
    hub_id = world.hubs[0]
    hub_ip = world.hub_ip = fixed_ip(world.api.show('port', hub_id))
    world.api.request('PUT', '/routers/%s/add_router_interface' % world.router['id'],
                      {'port_id': hub_id}, expected=200)
    port = world.api.show('port', hub_id)
    assert port['device_owner'] == 'network:router_interface'
    harness.wait_until(lambda: hub_dev(world) in links_in(qrouter), WAIT,
                       'the hub device to move into ' + qrouter)
    addr = harness.run('ip', '-n', qrouter, '-o', '-4', 'addr', 'show', hub_dev(world)).stdout
    assert '%s/24' % hub_ip in addr
    # The L3 agent left the hub alone: no veth (qr-/tap) for it.
    assert 'qr-' + hub_id[:11] not in links_in(qrouter)
    assert harness.run('ip', 'link', 'show', 'tap' + hub_id[:11], check=False).returncode != 0
    # Same identity: the spoke needs no change.
    device, _ = harness.wg_dump(hub_dev(world), netns=qrouter)
    assert device == world.hub_identity
    harness.wait_until(lambda: world.api.show('port', hub_id)['binding:vif_type'] == 'wireguard', WAIT,
                       'the hub to stay bound as a WireGuard port')
    harness.wait_until(lambda: world.api.show('port', hub_id)['status'] == 'ACTIVE', WAIT,
                       'the attached hub to be ACTIVE')


def test_spoke_reaches_a_vm_behind_the_router(world):
    assert harness.wait_until(lambda: harness.ping(world.spoke.netns, world.vm_ip, count=1), WAIT,
                              'the spoke to reach the VM through the hub and the router')
    assert harness.ping(world.vm_ns, fixed_ip(world.spoke_port))


def hub_location(world):
    """The namespace the hub's device is in now (or None)."""
    for ns in ('qrouter-' + world.router['id'], world.tun_ns):
        if hub_dev(world) in links_in(ns):
            return ns
    return None


def test_router_namespace_deleted_under_the_hub(world):
    qrouter = 'qrouter-' + world.router['id']
    # Deleting the router's namespace destroys the hub's device with it. The agent brings the hub back
    # with the same key and port, in the project namespace while the router's namespace is missing.
    harness.run('ip', 'netns', 'del', qrouter)
    harness.wait_until(lambda: hub_location(world) == world.tun_ns, WAIT,
                       'the hub device to be back, in the project namespace')
    assert harness.wg_dump(hub_dev(world), netns=world.tun_ns)[0] == world.hub_identity
    assert harness.wait_until(lambda: harness.ping(world.spoke.netns, fixed_ip(world.spoke_port), count=1)
                              or harness.ping(world.spoke.netns, world.hub_ip, count=1), WAIT,
                              'the spoke to reach the hub again')
    # Once the L3 agent re-creates the router (here: on its restart), the hub moves back into it.
    harness.stack_control('neutron_l3_agent_stop %s && neutron_l3_agent_start %s' % (
        world.agent.host, world.agent.host))
    harness.wait_until(lambda: hub_location(world) == qrouter, 120,
                       'the hub device to move back into the re-created ' + qrouter)
    attach_lan_tap(world)  # the L3 agent plugged the LAN port anew
    assert harness.wg_dump(hub_dev(world), netns=qrouter)[0] == world.hub_identity
    assert harness.wait_until(lambda: harness.ping(world.spoke.netns, world.vm_ip, count=1), WAIT,
                              'the spoke to reach the VM again')


def test_detaching_removes_the_device(world):
    qrouter = 'qrouter-' + world.router['id']
    hub_id = world.hubs[0]
    world.api.request('PUT', '/routers/%s/remove_router_interface' % world.router['id'],
                      {'port_id': hub_id}, expected=200)
    assert world.api.request('GET', '/ports/%s' % hub_id)[0] == 404  # Zed deletes the port
    harness.wait_until(lambda: hub_dev(world) not in links_in(qrouter), WAIT,
                       'the hub device to be removed')
    assert harness.wireguard_go_pid(hub_dev(world)) is None
