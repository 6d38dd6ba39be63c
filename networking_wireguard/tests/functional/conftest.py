# Fixtures for the tests against a real neutron-server: scripts/test's server layer runs them under
# neutron_env (scripts/lib/neutron.sh), which exports where the server and its RabbitMQ vhost are.
# Without them the tests skip, loudly; with NWG_TEST_REQUIRE_ALL=1 they fail instead.

import os
import uuid

import pytest
import requests

from networking_wireguard.tests.functional import clients


def _unavailable(reason):
    if os.environ.get('NWG_TEST_REQUIRE_ALL') == '1':
        pytest.fail('%s (NWG_TEST_REQUIRE_ALL=1)' % reason, pytrace=False)
    pytest.skip('SKIPPED: %s; run under scripts/lib/neutron.sh neutron_env' % reason)


@pytest.fixture(scope='session')
def neutron_url():
    url = os.environ.get('NWG_NEUTRON_URL')
    if not url:
        _unavailable('NWG_NEUTRON_URL is not set: no neutron-server to test')
    try:
        requests.get(url + '/v2.0/networks', timeout=10).raise_for_status()
    except requests.RequestException as exc:
        _unavailable('neutron-server at %s does not answer: %s' % (url, exc))
    return url


@pytest.fixture(scope='session')
def api(neutron_url):
    return clients.NeutronApi(neutron_url)


@pytest.fixture(scope='session')
def transport_url(neutron_url):
    url = os.environ.get('NWG_TEST_TRANSPORT_URL')
    if not url:
        _unavailable('NWG_TEST_TRANSPORT_URL is not set: no RabbitMQ vhost of the server')
    return url


@pytest.fixture(scope='session')
def project():
    return 'nwg-' + uuid.uuid4().hex[:8]


@pytest.fixture(scope='session')
def agent(transport_url):
    """A registered WireGuard agent on a host name of its own, listening to notifications."""
    rpc = clients.AgentRpc(transport_url, 'wgf-' + uuid.uuid4().hex[:8])
    rpc.listen()
    yield rpc
    rpc.close()


@pytest.fixture
def alive_agent(agent):
    agent.report_state()  # a heartbeat per test: the server forgets agents after 75 s
    return agent


@pytest.fixture(scope='session')
def network(api, project):
    net = api.create('network', name='wgf-net', project_id=project)
    subnet = api.create('subnet', network_id=net['id'], ip_version=4,
                        cidr='10.77.0.0/24', project_id=project)
    yield net, subnet
    for port in api.list('port', network_id=net['id']):
        api.request('DELETE', '/ports/%s' % port['id'])
    api.delete('network', net['id'])


@pytest.fixture
def ports(api):
    """Deletes the ports a test created (if still there)."""
    created = []
    yield created
    for port_id in reversed(created):
        api.request('DELETE', '/ports/%s' % port_id)


@pytest.fixture
def make_hub(api, network, project, ports, alive_agent):
    def make(host=None, expected=201, project_id=None, **profile):
        port = api.create('port', expected=expected, network_id=network[0]['id'],
                          project_id=project_id or project,
                          device_owner='channel:wireguard:hub',
                          **{'binding:host_id': host or alive_agent.host,
                             'binding:profile': profile})
        if expected == 201:
            ports.append(port['id'])
        return port
    return make


@pytest.fixture
def make_spoke(api, network, project, ports):
    def make(hubs, key=None, expected=201, **profile):
        profile.setdefault('public_key', key or clients.new_key())
        profile.setdefault('peers', [hub['id'] for hub in hubs])
        port = api.create('port', expected=expected, network_id=network[0]['id'],
                          project_id=project, device_owner='channel:wireguard:spoke',
                          **{'binding:profile': profile})
        if expected == 201:
            ports.append(port['id'])
        return port
    return make
