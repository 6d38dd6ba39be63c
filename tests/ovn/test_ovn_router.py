# A hub attached to an OVN router (ML2/OVN, no L3 agent, no qrouter- namespace), as docs/ovn.md and
# the design of issue #15 say: the server gives the hub a plug port on the tunnel network and routes
# the tunnel subnet's two halves via the plug's IP; the agent puts the hub in a namespace of its own,
# plugged into br-int through a veth as OVN's metadata agent plugs its namespaces. A spoke (wireguard-go,
# configured from Neutron) and a VM (a namespace plugged as a Neutron port on another network of the
# router) reach each other; a spoke comes and goes; the agent restarts with no ping lost; detaching
# the hub leaves nothing behind in Neutron, OVN NB, OVS or the host. The steps share one world and run in
# order.

import ipaddress
import subprocess
import threading

import pytest

from tests.e2e import harness
from tests.ovn.conftest import OvnWorld

TUNNEL_CIDR = '10.66.0.0/24'
LAN_CIDR = '10.67.0.0/24'
LAN_GATEWAY = '10.67.0.1'
PLUG_OWNER = 'network:wireguard_plug'
WAIT = 60
STATUS_WAIT = 60  # ML2/OVN can take ~10 s to report a port up while router ports are provisioned


@pytest.fixture(scope='module')
def world(ovn_stack):
    w = OvnWorld(ovn_stack, ports='52600:52649')
    try:
        yield w
    finally:
        w.close()


def fixed_ip(port):
    return port['fixed_ips'][0]['ip_address']


def hub_dev(world):
    return 'wg-' + world.hub['id'][:11]


def hub_ns(world):
    return 'wghub-' + world.hub['id']


def links_in(netns=None):
    cmd = ('ip', '-o', 'link', 'show') if netns is None else ('ip', '-n', netns, '-o', 'link', 'show')
    return harness.run(*cmd, check=False).stdout


def namespaces():
    return [line.split()[0] for line in harness.run('ip', 'netns', 'list').stdout.splitlines() if line]


def plug_ports(world):
    return world.api.list('port', network_id=world.tunnel['id'], device_owner=PLUG_OWNER)


def halves(cidr):
    return sorted(str(n) for n in ipaddress.ip_network(cidr).subnets(prefixlen_diff=1))


def port_status(world, port_id):
    return world.api.show('port', port_id)['status']


def test_an_ovn_cloud_without_l3_agents(world):
    # Ours before ovn: ML2/OVN asked first binds every normal port on a chassis host, hubs included.
    agents = {a['agent_type'] for a in world.api.list('agent', host=world.ovn.host)}
    assert 'OVN Controller agent' in agents
    assert world.api.list('agent', agent_type='L3 agent') == []  # no L3 agent anywhere: OVN routes


def test_vm_on_a_lan_behind_an_ovn_router(world):
    api = world.api
    world.router = api.create('router', name='ovn-r-' + world.tok, project_id=world.project)
    world.routers.append(world.router['id'])
    world.lan, lan_subnet = world.network('lan', LAN_CIDR, gateway_ip=LAN_GATEWAY)
    api.request('PUT', '/routers/%s/add_router_interface' % world.router['id'],
                {'subnet_id': lan_subnet['id']}, expected=200)
    vm = api.create('port', network_id=world.lan['id'], project_id=world.project, name='vm',
                    **{'binding:host_id': world.ovn.host})
    world.vm_ip = fixed_ip(vm)
    # Security groups keep protecting VMs: spokes reach this one because its group lets the tunnel
    # subnet in (what docs/ovn.md tells operators to do).
    api.create('security_group_rule', security_group_id=vm['security_groups'][0], direction='ingress',
               ethertype='IPv4', remote_ip_prefix=TUNNEL_CIDR, project_id=world.project)
    world.vm_ns = 'nwgn' + world.tok
    world.plugged.append((world.vm_ns, 'nwgq' + world.tok))
    world.ovn.plug(world.vm_ns, vm, 'nwgq' + world.tok, 'eth0', world.lan['mtu'])
    harness.run('ip', '-n', world.vm_ns, 'addr', 'add', world.vm_ip + '/24', 'dev', 'eth0')
    harness.run('ip', '-n', world.vm_ns, 'route', 'add', 'default', 'via', LAN_GATEWAY)
    harness.wait_until(lambda: port_status(world, vm['id']) == 'ACTIVE', STATUS_WAIT, 'the VM port ACTIVE')
    assert harness.wait_until(lambda: harness.ping(world.vm_ns, LAN_GATEWAY, count=1), WAIT,
                              'the VM to reach its OVN router')


def test_hub_bound_by_the_wireguard_driver_and_a_spoke_reaching_it(world):
    api = world.api
    world.agent.start()
    world.tunnel, world.tunnel_subnet = world.network('tun', TUNNEL_CIDR)
    harness.wait_until(lambda: any(a['alive'] for a in api.list('agent', agent_type='wireguard agent',
                                                                host=world.ovn.host)),
                       WAIT, 'the WireGuard agent to report')
    world.hub = api.create('port', network_id=world.tunnel['id'], project_id=world.project,
                           device_owner='channel:wireguard:hub', name='hub',
                           **{'binding:host_id': world.ovn.host})
    world.hubs.append(world.hub['id'])
    world.hub_ip = fixed_ip(world.hub)
    harness.wait_until(lambda: port_status(world, world.hub['id']) == 'ACTIVE', WAIT, 'the hub ACTIVE')
    assert api.show('port', world.hub['id'])['binding:vif_type'] == 'wireguard'
    # Not attached: the hub lives in its project's namespace as everywhere else, and has no plug.
    assert plug_ports(world) == []
    world.spoke = world.add_spoke()
    world.spoke_port = api.create('port', network_id=world.tunnel['id'], project_id=world.project,
                                  device_owner='channel:wireguard:spoke', name='spoke',
                                  **{'binding:profile': {'public_key': world.spoke.public_key,
                                                         'peers': [world.hub['id']]}})
    profile = api.show('port', world.hub['id'])['binding:profile']
    world.spoke.configure(profile['public_key'], profile['endpoint'], fixed_ip(world.spoke_port),
                          TUNNEL_CIDR)
    # The spoke routes the LAN behind the router through the hub as well.
    harness.run('wg', 'set', world.spoke.ifname, 'peer', profile['public_key'], 'allowed-ips',
                '%s,%s' % (TUNNEL_CIDR, LAN_CIDR), netns=world.spoke.netns)
    harness.run('ip', '-n', world.spoke.netns, 'route', 'add', LAN_CIDR, 'dev', world.spoke.ifname)
    assert harness.wait_until(lambda: harness.ping(world.spoke.netns, world.hub_ip, count=1), WAIT,
                              'the spoke to reach the hub')
    world.hub_identity = harness.wg_dump(hub_dev(world), netns='tun-' + world.project)[0]


def test_attached_hub_gets_a_plug_routes_and_a_namespace_of_its_own(world):
    api, ovn = world.api, world.ovn
    hub_id = world.hub['id']
    api.request('PUT', '/routers/%s/add_router_interface' % world.router['id'], {'port_id': hub_id},
                expected=200)
    # Neutron: one plug port on the tunnel network, made by the driver for this hub.
    plugs = harness.wait_until(lambda: plug_ports(world), WAIT, 'the plug port')
    assert len(plugs) == 1, plugs
    plug = world.plug = plugs[0]
    assert plug['device_id'] == hub_id
    assert plug['project_id'] == world.project
    assert plug['port_security_enabled'] is False and plug['security_groups'] == []
    assert plug['binding:host_id'] == ovn.host
    assert {ip['subnet_id'] for ip in plug['fixed_ips']} == {world.tunnel_subnet['id']}
    world.plug_ip = fixed_ip(plug)
    # The router: the tunnel subnet's halves via the plug's IP (in Neutron and in OVN NB).
    routes = sorted((r['destination'], r['nexthop']) for r in api.show('router', world.router['id'])['routes'])
    assert routes == [(h, world.plug_ip) for h in halves(TUNNEL_CIDR)]
    harness.wait_until(lambda: ovn.routes(world.router['id']) == routes, WAIT, 'the routes in OVN NB')
    # The hub stays ours: bound by the wireguard driver on the agent's host, ACTIVE.
    hub = api.show('port', hub_id)
    assert hub['device_owner'] == 'network:router_interface'
    assert hub['binding:vif_type'] == 'wireguard' and hub['binding:host_id'] == ovn.host
    # The host: the hub in wghub-<hub>, with no address; the plug's veth with the plug's MAC and IP.
    ns = hub_ns(world)
    harness.wait_until(lambda: hub_dev(world) in links_in(ns) if ns in namespaces() else False, WAIT,
                       'the hub device to move into ' + ns)
    assert harness.wg_dump(hub_dev(world), netns=ns)[0] == world.hub_identity  # the spoke needs no change
    assert harness.run('ip', '-n', ns, '-o', 'addr', 'show', 'dev', hub_dev(world), 'scope',
                       'global').stdout.strip() == ''
    assert TUNNEL_CIDR in harness.run('ip', '-n', ns, 'route', 'show', 'dev', hub_dev(world)).stdout
    root, inner = 'wgo-' + plug['id'][:11], 'wgp-' + plug['id'][:11]
    harness.wait_until(lambda: root in ovn.bridge_ports(), WAIT, 'the plug in ' + ovn.bridge)
    assert ovn.vsctl('get', 'Interface', root, 'external_ids:iface-id').strip('"') == plug['id']
    assert root in links_in()
    inner_link = harness.run('ip', '-n', ns, '-o', 'link', 'show', inner).stdout
    assert plug['mac_address'] in inner_link
    assert '%s/32' % world.plug_ip in harness.run('ip', '-n', ns, '-o', 'addr', 'show', inner).stdout
    assert 'default via %s dev %s' % (world.hub_ip, inner) in harness.run('ip', '-n', ns, 'route').stdout
    # OVN claims the plug; Neutron makes it ACTIVE; the hub stays ACTIVE.
    harness.wait_until(lambda: (ovn.lsp(plug['id']) or {}).get('up'), WAIT, 'the plug LSP up in OVN')
    harness.wait_until(lambda: port_status(world, plug['id']) == 'ACTIVE', STATUS_WAIT, 'the plug ACTIVE')
    harness.wait_until(lambda: port_status(world, hub_id) == 'ACTIVE', STATUS_WAIT,
                       'the attached hub ACTIVE')


def test_spoke_and_vm_reach_each_other_through_the_ovn_router(world):
    spoke_ip = fixed_ip(world.spoke_port)
    assert harness.wait_until(lambda: harness.ping(world.spoke.netns, world.vm_ip, count=1), WAIT,
                              'the spoke to reach the VM through the hub and the OVN router')
    assert harness.ping(world.vm_ns, spoke_ip)
    # TCP too (the userspace datapath's checksum trap would drop it while ICMP passes).
    listener = subprocess.Popen(['ip', 'netns', 'exec', world.spoke.netns, 'socat', '-u',
                                 'TCP-LISTEN:5071,reuseaddr,bind=' + spoke_ip, '-'], stdout=subprocess.PIPE)
    try:
        harness.wait_until(lambda: ':5071 ' in harness.run('ss', '-ltn', netns=world.spoke.netns).stdout, 10,
                           'the listener')
        harness.run('bash', '-c', 'head -c 200000 /dev/zero | socat -u - TCP:%s:5071' % spoke_ip,
                    netns=world.vm_ns, timeout=30)
        received = listener.communicate(timeout=30)[0]
    finally:
        if listener.poll() is None:
            listener.kill()
            listener.wait()
    assert len(received) == 200000
    # The spoke also reaches the router's address on the tunnel (the hub's IP, now the OVN router's).
    assert harness.ping(world.spoke.netns, world.hub_ip)


def test_spoke_added_and_removed(world):
    api = world.api
    spoke = world.add_spoke()
    port = api.create('port', network_id=world.tunnel['id'], project_id=world.project,
                      device_owner='channel:wireguard:spoke', name='spoke2',
                      **{'binding:profile': {'public_key': spoke.public_key, 'peers': [world.hub['id']]}})
    profile = api.show('port', world.hub['id'])['binding:profile']
    spoke.configure(profile['public_key'], profile['endpoint'], fixed_ip(port), TUNNEL_CIDR)
    harness.run('wg', 'set', spoke.ifname, 'peer', profile['public_key'], 'allowed-ips',
                '%s,%s' % (TUNNEL_CIDR, LAN_CIDR), netns=spoke.netns)
    harness.run('ip', '-n', spoke.netns, 'route', 'add', LAN_CIDR, 'dev', spoke.ifname)
    assert harness.wait_until(lambda: harness.ping(spoke.netns, world.vm_ip, count=1), WAIT,
                              'the new spoke to reach the VM')
    assert harness.ping(world.vm_ns, fixed_ip(port))
    api.delete('port', port['id'])
    harness.wait_until(lambda: spoke.public_key not in harness.wg_dump(hub_dev(world), netns=hub_ns(world))[1],
                       WAIT, 'the removed spoke to leave the hub')
    assert not harness.ping(spoke.netns, world.vm_ip, count=2)
    assert harness.ping(world.spoke.netns, world.vm_ip)  # the other spoke is unaffected


class Pinger(threading.Thread):
    """Pings without a pause (runs of 40 echoes 50 ms apart) until stopped; records every run."""

    def __init__(self, netns, address):
        super().__init__(daemon=True)
        self.netns, self.address = netns, address
        self.runs = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            res = harness.run('ping', '-c', '40', '-i', '0.05', '-W', '1', self.address, netns=self.netns,
                              check=False)
            stats = [line for line in res.stdout.splitlines() if 'packets transmitted' in line]
            self.runs.append(stats[0] if stats else res.stdout + res.stderr)

    def stop(self):
        self.stopping.set()
        self.join(timeout=30)


def test_agent_restart_loses_no_ping(world):
    pinger = Pinger(world.vm_ns, fixed_ip(world.spoke_port))
    pinger.start()
    try:
        harness.wait_until(lambda: pinger.runs, 10, 'a first run of pings')
        assert world.agent.stop() == 0
        world.agent.start()

        def first_full_sync():
            return [line for line in world.agent.log_since_start().splitlines() if 'full sync (start)' in line]
        line = harness.wait_until(first_full_sync, WAIT, 'the restarted agent\'s first full sync')[0]
        done = len(pinger.runs)
        harness.wait_until(lambda: len(pinger.runs) > done, 10, 'a run of pings after the first full sync')
    finally:
        pinger.stop()
    lost = [run for run in pinger.runs if ' 0% packet loss' not in run]
    assert not lost, pinger.runs
    # Nothing re-created: the plug and the hub were observed in place.
    assert ' 0 failed, 0 removed, 0 action(s)' in line, line
    assert harness.wg_dump(hub_dev(world), netns=hub_ns(world))[0] == world.hub_identity


def test_detaching_leaves_nothing_behind(world):
    api, ovn = world.api, world.ovn
    hub_id, plug = world.hub['id'], world.plug
    api.request('PUT', '/routers/%s/remove_router_interface' % world.router['id'], {'port_id': hub_id},
                expected=200)
    assert api.request('GET', '/ports/%s' % hub_id)[0] == 404  # Zed deletes the port
    # Neutron and OVN NB: no routes (gone before Neutron's "interface in use by route" check), no plug.
    assert api.show('router', world.router['id'])['routes'] == []
    harness.wait_until(lambda: api.request('GET', '/ports/%s' % plug['id'])[0] == 404, WAIT,
                       'the plug port to be deleted')
    assert plug_ports(world) == []
    harness.wait_until(lambda: ovn.lsp(plug['id']) is None and ovn.lsp(hub_id) is None, WAIT,
                       'the hub and plug LSPs to leave OVN NB')
    assert ovn.routes(world.router['id']) == []
    # The host: no namespace, no veth, no OVS port, no wireguard-go.
    root = 'wgo-' + plug['id'][:11]
    harness.wait_until(lambda: hub_ns(world) not in namespaces(), WAIT, 'the hub namespace to go')
    harness.wait_until(lambda: root not in ovn.bridge_ports(), WAIT, 'the plug to leave ' + ovn.bridge)
    assert root not in links_in()
    assert harness.wireguard_go_pid(hub_dev(world)) is None
    # The LAN and its VM are as before.
    assert harness.ping(world.vm_ns, LAN_GATEWAY)
