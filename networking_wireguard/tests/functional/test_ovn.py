# The driver on a real ML2/OVN neutron-server (docs/ovn.md): run under scripts/lib/ovn.sh's ovn_env
# (mechanism_drivers = wireguard,ovn, ovn-router, OVN NB/SB with a chassis on NWG_OVN_HOST). Checks
# the API and OVN NB (ovn-nbctl): an attach makes the plug's logical switch port and two static
# routes, a detach removes them; hub binding with ovn beside us. Without that stack: skipped.

import os
import shutil
import subprocess
import time
import uuid

import pytest

from networking_wireguard.tests.functional import clients
from networking_wireguard.tests.functional import conftest


@pytest.fixture(scope='module')
def nb():
    db = os.environ.get('NWG_OVN_NB')
    if not db or not shutil.which('ovn-nbctl'):
        conftest._unavailable('no ML2/OVN server (NWG_OVN_NB, ovn-nbctl): scripts/test runs this '
                              'in the ovn layer, under scripts/lib/ovn.sh ovn_env')

    def nbctl(*args):
        return subprocess.run(['ovn-nbctl', '--db=' + db, '--timeout=30'] + list(args),
                              check=True, capture_output=True, text=True).stdout.strip()
    return nbctl


@pytest.fixture(scope='module')
def chassis_agent(api, transport_url, nb):
    rpc = clients.AgentRpc(transport_url, os.environ['NWG_OVN_HOST'])
    yield rpc
    rpc.close()
    # The ovn layer's end-to-end tests run next on this server and wait for the real agent on this
    # host to report: the stand-in's row must not answer for it.
    for agent in api.list('agent', host=rpc.host, agent_type='wireguard agent'):
        api.request('DELETE', '/agents/%s' % agent['id'], expected=204)


@pytest.fixture(scope='module')
def tunnel(api, nb):
    project = 'nwg-' + uuid.uuid4().hex[:8]
    net = api.create('network', name='wgf-ovn-tun', project_id=project)
    subnet = api.create('subnet', network_id=net['id'], ip_version=4, cidr='10.93.0.0/24',
                        project_id=project)
    router = api.create('router', name='wgf-ovn-r', project_id=project)
    yield project, net, subnet, router
    for port in api.list('port', network_id=net['id']):
        if port['device_owner'] == 'network:router_interface':
            api.request('PUT', '/routers/%s/remove_router_interface' % router['id'],
                        {'port_id': port['id']})
    for port in api.list('port', network_id=net['id']):
        api.request('DELETE', '/ports/%s' % port['id'])
    api.request('DELETE', '/routers/%s' % router['id'])
    api.request('DELETE', '/networks/%s' % net['id'])


def _nb_routes(nb, router_id):
    uuids = nb('--bare', '--columns=static_routes', 'find', 'Logical_Router',
               'name=neutron-' + router_id).split()
    return sorted((nb('get', 'Logical_Router_Static_Route', u, 'ip_prefix').strip('"'),
                   nb('get', 'Logical_Router_Static_Route', u, 'nexthop').strip('"'))
                  for u in uuids)


def _nb_lsp(nb, port_id):
    return nb('--bare', '--columns=name', 'find', 'Logical_Switch_Port', 'name=' + port_id)


def _wait(predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return predicate()


def _hub(api, project, net, host):
    return api.create('port', network_id=net['id'], project_id=project,
                      device_owner='channel:wireguard:hub', **{'binding:host_id': host})


def test_hub_without_agent_is_not_bound_by_ovn(api, tunnel, chassis_agent):
    project, net, _, _ = tunnel
    agents = api.list('agent', host=chassis_agent.host, agent_type='wireguard agent')
    if any(a['alive'] for a in agents):
        conftest._unavailable('a WireGuard agent on %s is alive already' % chassis_agent.host)
    hub = _hub(api, project, net, chassis_agent.host)
    try:
        assert hub['binding:vif_type'] == 'binding_failed'   # not ovs: claimed by us
        chassis_agent.report_state()
        chassis_agent.get_hubs([hub['id']])
        assert api.show('port', hub['id'])['binding:vif_type'] == 'wireguard'
    finally:
        api.delete('port', hub['id'])


def test_attach_makes_plug_lsp_and_routes_detach_removes_them(api, tunnel, chassis_agent, nb):
    project, net, subnet, router = tunnel
    chassis_agent.report_state()
    hub = _hub(api, project, net, chassis_agent.host)
    assert hub['binding:vif_type'] == 'wireguard'
    hub_ip = hub['fixed_ips'][0]['ip_address']
    api.router_interface(router['id'], 'add', hub['id'])

    [plug] = api.list('port', device_id=hub['id'], device_owner='network:wireguard_plug')
    assert plug['network_id'] == net['id'] and plug['project_id'] == project
    assert plug['binding:host_id'] == chassis_agent.host
    assert plug['binding:vif_type'] == 'ovs'          # ML2/OVN's, not ours
    assert plug['port_security_enabled'] is False and plug['security_groups'] == []
    plug_ip = plug['fixed_ips'][0]['ip_address']
    wanted = [('10.93.0.0/25', plug_ip), ('10.93.0.128/25', plug_ip)]
    routes = api.show('router', router['id'])['routes']
    assert sorted((r['destination'], r['nexthop']) for r in routes) == wanted
    hub_now = api.show('port', hub['id'])
    assert hub_now['binding:vif_type'] == 'wireguard'
    assert hub_now['device_owner'] == 'network:router_interface'

    # OVN NB: the plug's logical switch port, the hub's router port, the two static routes
    assert _wait(lambda: _nb_lsp(nb, plug['id']) == plug['id'])
    assert _wait(lambda: _nb_routes(nb, router['id']) == wanted)
    assert nb('--bare', '--columns=name', 'find', 'Logical_Router_Port',
              'name=lrp-' + hub['id']) == 'lrp-' + hub['id']

    entry = chassis_agent.get_hubs([hub['id']])['hubs'][0]
    assert entry['router_id'] == router['id']
    assert entry['ovn_plug'] == {
        'port_id': plug['id'], 'mac_address': plug['mac_address'],
        'fixed_ips': [{'ip_address': plug_ip, 'cidr': subnet['cidr'], 'ip_version': 4,
                       'router_ip': hub_ip}]}
    delta = chassis_agent.call('get_hubs', version='1.6', host=chassis_agent.host,
                               hub_ids=[hub['id']], revisions={hub['id']: 0})['hubs'][0]
    assert delta['ovn_plug'] == entry['ovn_plug'] and delta['revision'] > 0

    api.router_interface(router['id'], 'remove', hub['id'])
    api.show('port', hub['id'], expected=404)
    api.show('port', plug['id'], expected=404)
    assert api.show('router', router['id'])['routes'] == []
    assert _wait(lambda: _nb_lsp(nb, plug['id']) == '')
    assert _wait(lambda: _nb_routes(nb, router['id']) == [])
    assert nb('--bare', '--columns=name', 'find', 'Logical_Router_Port',
              'name=lrp-' + hub['id']) == ''


def test_hubs_are_scheduled_only_to_chassis(api, tunnel, chassis_agent):
    # A WireGuard agent on a host without ovn-controller would win the tie by name (and has no hub):
    # on ML2/OVN the scheduler leaves it out, since a hub's plug needs the host's integration bridge.
    project, net, _, _ = tunnel
    elsewhere = 'nwg-a-no-chassis-' + uuid.uuid4().hex[:6]
    assert elsewhere < chassis_agent.host
    chassis_agent.report_state()
    chassis_agent.report_state(host=elsewhere)
    hub = None
    try:
        hub = api.request('POST', '/wireguard_hubs', {'wireguard_hub': {
            'network_id': net['id'], 'project_id': project}}, expected=201)[1]['wireguard_hub']
        assert _wait(lambda: api.show('port', hub['id'])['binding:host_id'] != '')
        assert api.show('port', hub['id'])['binding:host_id'] == chassis_agent.host
    finally:
        if hub:
            api.request('DELETE', '/wireguard_hubs/%s' % hub['id'], expected=204)
        for agent in api.list('agent', host=elsewhere):
            api.request('DELETE', '/agents/%s' % agent['id'], expected=204)
