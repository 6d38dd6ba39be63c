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
TUNNEL6_CIDR = 'fd00:66::/64'  # both networks are dual-stack: IPv6 subnets' halves are /65s
LAN6_CIDR = 'fd00:67::/64'
LAN6_GATEWAY = 'fd00:67::1'
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


def address(port, version):
    return [ip['ip_address'] for ip in port['fixed_ips']
            if ipaddress.ip_address(ip['ip_address']).version == version][0]


def fixed_ip(port):
    return address(port, 4)


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


def halves(cidr, nexthop):
    return [(str(n), nexthop) for n in ipaddress.ip_network(cidr).subnets(prefixlen_diff=1)]


def normalized(routes):
    """(destination, nexthop) pairs as ipaddress prints them (Neutron and OVN spell IPv6 their way)."""
    return sorted((str(ipaddress.ip_network(d)), str(ipaddress.ip_address(n))) for d, n in routes)


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
    lan6_subnet = api.create('subnet', network_id=world.lan['id'], ip_version=6, cidr=LAN6_CIDR,
                             gateway_ip=LAN6_GATEWAY, project_id=world.project)
    for subnet in (lan_subnet, lan6_subnet):
        api.request('PUT', '/routers/%s/add_router_interface' % world.router['id'],
                    {'subnet_id': subnet['id']}, expected=200)
    vm = api.create('port', network_id=world.lan['id'], project_id=world.project, name='vm',
                    **{'binding:host_id': world.ovn.host})
    world.vm_ip, world.vm_ip6 = address(vm, 4), address(vm, 6)
    # Security groups keep protecting VMs: spokes reach this one because its group lets the tunnel
    # subnet in (what docs/ovn.md tells operators to do).
    for ethertype, cidr in (('IPv4', TUNNEL_CIDR), ('IPv6', TUNNEL6_CIDR)):
        api.create('security_group_rule', security_group_id=vm['security_groups'][0], direction='ingress',
                   ethertype=ethertype, remote_ip_prefix=cidr, project_id=world.project)
    world.vm_ns = 'nwgn' + world.tok
    world.plugged.append((world.vm_ns, 'nwgq' + world.tok))
    world.ovn.plug(world.vm_ns, vm, 'nwgq' + world.tok, 'eth0', world.lan['mtu'])
    harness.run('ip', '-n', world.vm_ns, 'addr', 'add', world.vm_ip + '/24', 'dev', 'eth0')
    harness.run('ip', '-n', world.vm_ns, 'route', 'add', 'default', 'via', LAN_GATEWAY)
    harness.run('ip', '-n', world.vm_ns, 'addr', 'add', world.vm_ip6 + '/64', 'dev', 'eth0', 'nodad')
    harness.run('ip', '-n', world.vm_ns, '-6', 'route', 'add', 'default', 'via', LAN6_GATEWAY)
    harness.wait_until(lambda: port_status(world, vm['id']) == 'ACTIVE', STATUS_WAIT, 'the VM port ACTIVE')
    assert harness.wait_until(lambda: harness.ping(world.vm_ns, LAN_GATEWAY, count=1), WAIT,
                              'the VM to reach its OVN router')
    assert harness.wait_until(lambda: harness.ping(world.vm_ns, LAN6_GATEWAY, count=1), WAIT,
                              'the VM to reach its OVN router over IPv6')


def test_hub_bound_by_the_wireguard_driver_and_a_spoke_reaching_it(world):
    api = world.api
    world.agent.start()
    world.tunnel, world.tunnel_subnet = world.network('tun', TUNNEL_CIDR)
    world.tunnel_subnet6 = api.create('subnet', network_id=world.tunnel['id'], ip_version=6,
                                      cidr=TUNNEL6_CIDR, project_id=world.project)
    harness.wait_until(lambda: any(a['alive'] for a in api.list('agent', agent_type='wireguard agent',
                                                                host=world.ovn.host)),
                       WAIT, 'the WireGuard agent to report')
    world.hub = api.create('port', network_id=world.tunnel['id'], project_id=world.project,
                           device_owner='channel:wireguard:hub', name='hub',
                           **{'binding:host_id': world.ovn.host})
    world.hubs.append(world.hub['id'])
    world.hub_ip, world.hub_ip6 = address(world.hub, 4), address(world.hub, 6)
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
    route_lan_through_the_hub(world.spoke, world.spoke_port, profile)
    assert harness.wait_until(lambda: harness.ping(world.spoke.netns, world.hub_ip, count=1), WAIT,
                              'the spoke to reach the hub')
    world.hub_identity = harness.wg_dump(hub_dev(world), netns='tun-' + world.project)[0]


def test_tenant_api_hub_scheduled_to_the_wireguard_agent(world):
    # A hub made through the tenant API (no host given) goes to the host of a live WireGuard agent and
    # is bound there by our driver, not by ovn.
    api = world.api
    hub = api.request('POST', '/wireguard_hubs', {'wireguard_hub': {
        'network_id': world.tunnel['id'], 'project_id': world.project, 'name': 'scheduled'}},
        expected=201)[1]['wireguard_hub']
    world.hubs.append(hub['id'])

    def bound():
        port = api.show('port', hub['id'])
        return port['binding:vif_type'] != 'unbound' and port
    port = harness.wait_until(bound, WAIT, 'the scheduled hub to be bound')
    assert (port['binding:host_id'], port['binding:vif_type']) == (world.ovn.host, 'wireguard')
    harness.wait_until(lambda: port_status(world, hub['id']) == 'ACTIVE', WAIT, 'the scheduled hub ACTIVE')
    api.request('DELETE', '/wireguard_hubs/%s' % hub['id'], expected=204)
    harness.wait_until(lambda: 'wg-' + hub['id'][:11] not in links_in('tun-' + world.project), WAIT,
                       'the scheduled hub\'s device to go')


def route_lan_through_the_hub(spoke, port, profile):
    """The spoke's IPv6 address, and the LAN (both families) routed through the hub."""
    harness.run('ip', '-n', spoke.netns, 'addr', 'add', address(port, 6) + '/64', 'dev', spoke.ifname,
                'nodad')
    harness.run('wg', 'set', spoke.ifname, 'peer', profile['public_key'], 'allowed-ips',
                ','.join((TUNNEL_CIDR, LAN_CIDR, TUNNEL6_CIDR, LAN6_CIDR)), netns=spoke.netns)
    harness.run('ip', '-n', spoke.netns, 'route', 'add', LAN_CIDR, 'dev', spoke.ifname)
    harness.run('ip', '-n', spoke.netns, '-6', 'route', 'add', LAN6_CIDR, 'dev', spoke.ifname)


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
    assert sorted(ip['subnet_id'] for ip in plug['fixed_ips']) == sorted(
        (world.tunnel_subnet['id'], world.tunnel_subnet6['id']))
    world.plug_ip, world.plug_ip6 = address(plug, 4), address(plug, 6)
    # The router: each tunnel subnet's halves via the plug's IP there (in Neutron and in OVN NB).
    routes = normalized((r['destination'], r['nexthop'])
                        for r in api.show('router', world.router['id'])['routes'])
    assert routes == normalized(halves(TUNNEL_CIDR, world.plug_ip) + halves(TUNNEL6_CIDR, world.plug_ip6))
    harness.wait_until(lambda: normalized(ovn.routes(world.router['id'])) == routes, WAIT,
                       'the routes in OVN NB')
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


def test_ipv6_through_the_ovn_router(world):
    ns, inner = hub_ns(world), 'wgp-' + world.plug['id'][:11]
    assert TUNNEL6_CIDR in harness.run('ip', '-n', ns, '-6', 'route', 'show', 'dev', hub_dev(world)).stdout
    assert '%s/128' % world.plug_ip6 in harness.run('ip', '-n', ns, '-o', '-6', 'addr', 'show', inner).stdout
    assert 'default via %s dev %s' % (world.hub_ip6, inner) in harness.run('ip', '-n', ns, '-6',
                                                                           'route').stdout
    spoke_ip6 = address(world.spoke_port, 6)
    assert harness.wait_until(lambda: harness.ping(world.spoke.netns, world.vm_ip6, count=1), WAIT,
                              'the spoke to reach the VM over IPv6')
    assert harness.ping(world.vm_ns, spoke_ip6)
    assert harness.ping(world.spoke.netns, world.hub_ip6)


def test_spoke_added_and_removed(world):
    api = world.api
    spoke = world.add_spoke()
    port = api.create('port', network_id=world.tunnel['id'], project_id=world.project,
                      device_owner='channel:wireguard:spoke', name='spoke2',
                      **{'binding:profile': {'public_key': spoke.public_key, 'peers': [world.hub['id']]}})
    profile = api.show('port', world.hub['id'])['binding:profile']
    spoke.configure(profile['public_key'], profile['endpoint'], fixed_ip(port), TUNNEL_CIDR)
    route_lan_through_the_hub(spoke, port, profile)
    assert harness.wait_until(lambda: harness.ping(spoke.netns, world.vm_ip, count=1), WAIT,
                              'the new spoke to reach the VM')
    assert harness.ping(world.vm_ns, fixed_ip(port))
    api.delete('port', port['id'])
    harness.wait_until(
        lambda: spoke.public_key not in harness.wg_dump(hub_dev(world), netns=hub_ns(world))[1], WAIT,
        'the removed spoke to leave the hub')
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
            return [line for line in world.agent.log_since_start().splitlines()
                    if 'full sync (start)' in line]
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
