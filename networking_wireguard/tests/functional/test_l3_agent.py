# A real neutron-l3-agent with the wireguard extension (started through scripts/lib/neutron.sh):
# it plugs a veth for an ordinary router port and leaves the hub alone.

import os
import shutil
import subprocess
import time
import uuid

import pytest

from networking_wireguard.tests.functional.conftest import _unavailable


def _harness(command):
    root = os.environ['NWG_ROOT']
    script = ('source %(lib)s/common.sh; source %(lib)s/rabbitmq.sh; '
              'source %(lib)s/neutron.sh; %(command)s' % {
                  'lib': os.path.join(root, 'scripts', 'lib'), 'command': command})
    return subprocess.run(['bash', '-c', script], capture_output=True, text=True,
                          timeout=180)


def _links(namespace):
    out = subprocess.run(['ip', 'netns', 'exec', namespace, 'ip', '-br', 'link'],
                         capture_output=True, text=True)
    return [line.split()[0].split('@')[0] for line in out.stdout.splitlines()]


@pytest.fixture
def l3_host(neutron_url, agent):
    if os.geteuid() != 0 or not shutil.which('ip') or 'NWG_ROOT' not in os.environ:
        _unavailable('the L3 agent needs root, iproute2 and the harness (NWG_ROOT)')
    host = 'wgf-l3-' + uuid.uuid4().hex[:6]
    started = _harness('neutron_l3_agent_start %s' % host)
    try:
        assert started.returncode == 0, started.stderr
        yield host
    finally:
        _harness('neutron_l3_agent_stop %s' % host)


def test_l3_agent_leaves_hub_alone(api, project, agent, l3_host):
    agent.report_state(l3_host)  # a WireGuard agent on the L3 agent's host binds the hub
    net = api.create('network', name='wgf-l3-hub', project_id=project)
    api.create('subnet', network_id=net['id'], ip_version=4, cidr='10.78.0.0/24',
               project_id=project)
    other = api.create('network', name='wgf-l3-other', project_id=project)
    other_subnet = api.create('subnet', network_id=other['id'], ip_version=4,
                              cidr='10.79.0.0/24', project_id=project)
    hub = api.create('port', network_id=net['id'], project_id=project,
                     device_owner='channel:wireguard:hub',
                     **{'binding:host_id': l3_host})
    router = api.create('router', name='wgf-l3', project_id=project)
    namespace = 'qrouter-' + router['id']
    try:
        api.router_interface(router['id'], 'add', hub['id'])
        api.request('PUT', '/routers/%s/add_router_interface' % router['id'],
                    {'subnet_id': other_subnet['id']}, expected=200)
        plain = [p for p in api.list('port', device_id=router['id'])
                 if p['id'] != hub['id']][0]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and 'qr-' + plain['id'][:11] not in _links(namespace):
            time.sleep(1)
        links = _links(namespace)
        assert 'qr-' + plain['id'][:11] in links  # the L3 agent did process the router
        assert 'qr-' + hub['id'][:11] not in links
        port = api.show('port', hub['id'])
        assert (port['binding:host_id'], port['binding:vif_type']) == (l3_host, 'wireguard')
        api.router_interface(router['id'], 'remove', hub['id'])
        api.show('port', hub['id'], expected=404)
    finally:
        api.request('PUT', '/routers/%s/remove_router_interface' % router['id'],
                    {'port_id': hub['id']})
        api.request('PUT', '/routers/%s/remove_router_interface' % router['id'],
                    {'subnet_id': other_subnet['id']})
        api.delete('router', router['id'])
        api.delete('network', net['id'])
        api.delete('network', other['id'])
