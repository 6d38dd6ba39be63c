# Fixtures of the full-stack tests: a real neutron-server with the wireguard driver (started by
# scripts/lib/neutron.sh; its address comes from neutron_env), the real agent binary on wireguard-go,
# and spoke devices in namespaces. Without the stack the tests skip loudly; under scripts/test
# (NWG_TEST_REQUIRE_ALL=1) they fail instead.

import os
import shutil
import sys
import tempfile

import pytest
import requests

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))

from networking_wireguard.tests.functional.clients import NeutronApi  # noqa: E402
from tests.e2e import harness  # noqa: E402


def unavailable(reason):
    if os.environ.get('NWG_TEST_REQUIRE_ALL') == '1':
        pytest.fail('%s (NWG_TEST_REQUIRE_ALL=1)' % reason, pytrace=False)
    pytest.skip('SKIPPED: %s' % reason)


class Unavailable(Exception):
    """Something the full stack needs is missing here."""


def find_stack():
    """Where the stack is: neutron-server's URL, its RabbitMQ vhost, the agent binary, an API client."""
    if os.geteuid() != 0:
        raise Unavailable('needs root (network namespaces, WireGuard devices)')
    url = os.environ.get('NWG_NEUTRON_URL')
    transport = os.environ.get('NWG_TEST_TRANSPORT_URL')
    if not url or not transport:
        raise Unavailable('no neutron-server: run under scripts/lib/neutron.sh neutron_env')
    try:
        requests.get(url + '/v2.0/networks', timeout=10).raise_for_status()
    except requests.RequestException as exc:
        raise Unavailable('neutron-server at %s does not answer: %s' % (url, exc))
    binary = os.environ.get('NWG_AGENT_BIN') or os.path.join(
        harness.ROOT, 'build', 'test', 'agent', 'daemon', 'neutron-wireguard-agent')
    if not os.access(binary, os.X_OK):
        raise Unavailable('no agent binary at %s (set NWG_AGENT_BIN)' % binary)
    if not shutil.which('wireguard-go') or not shutil.which('wg'):
        raise Unavailable('wireguard-go and wireguard-tools are needed')
    return {'url': url, 'transport_url': transport, 'agent': binary, 'api': NeutronApi(url)}


@pytest.fixture(scope='session')
def stack():
    try:
        return find_stack()
    except Unavailable as exc:
        unavailable(str(exc))


class World(object):
    """One project's tunnel network, the agent serving it, the underlay and the spokes."""

    def __init__(self, stack, ports, cidr):
        self.api = stack['api']
        self.tok = harness.token()
        self.project = 'e2e' + self.tok
        self.workdir = tempfile.mkdtemp(prefix='nwg-e2e-')
        self.underlay = harness.Underlay(self.tok)
        self.agent = harness.AgentProcess(stack['agent'], self.workdir, 'e2e-' + self.tok,
                                          stack['transport_url'], self.underlay.address, ports)
        self.network = self.api.create('network', name='e2e-' + self.tok, project_id=self.project)
        self.subnet = self.api.create('subnet', network_id=self.network['id'], ip_version=4, cidr=cidr,
                                      project_id=self.project)
        self.spokes = []
        self.hubs = []
        WORLDS.append(self)

    @property
    def tun_ns(self):
        return 'tun-' + self.project

    def add_spoke(self):
        spoke = harness.Spoke(self.underlay, self.tok, len(self.spokes) + 1, self.workdir)
        self.spokes.append(spoke)
        return spoke

    def create_hub(self, **extra):
        hub = self.api.create('port', network_id=self.network['id'], project_id=self.project,
                              device_owner='channel:wireguard:hub', name='hub',
                              **{'binding:host_id': self.agent.host}, **extra)
        self.hubs.append(hub['id'])
        return hub

    def create_spoke_port(self, spoke, hub_ids, endpoint=None, expected=201):
        profile = {'public_key': spoke.public_key, 'peers': hub_ids}
        if endpoint:
            profile['endpoint'] = endpoint
        return self.api.create('port', expected=expected, network_id=self.network['id'],
                               project_id=self.project, device_owner='channel:wireguard:spoke',
                               name='spoke', **{'binding:profile': profile})

    def close(self):
        if self in WORLDS:
            WORLDS.remove(self)
        exit_code = self.agent.stop()  # None: a step stopped it already (and checked how it ended)
        for port in self.api.list('port', network_id=self.network['id']):
            self.api.request('DELETE', '/ports/%s' % port['id'])
        self.api.request('DELETE', '/networks/%s' % self.network['id'])
        for spoke in self.spokes:
            spoke.close()
        # Whatever the agent did not get to remove (a failed test): our hubs' devices and namespace.
        for hub in self.hubs:
            harness.run('ip', '-n', self.tun_ns, 'link', 'del', 'wg-' + hub[:11], check=False)
            harness.run('ip', 'link', 'del', 'wg-' + hub[:11], check=False)
        harness.run('ip', 'netns', 'del', self.tun_ns, check=False)
        self.underlay.close()
        self.keep_agent_log()
        shutil.rmtree(self.workdir, ignore_errors=True)
        # SIGTERM is a clean shutdown: anything else (a crash while stopping) fails the module.
        assert exit_code in (0, None), 'the agent exited with %s on SIGTERM (its log: %s)' % (
            exit_code, 'e2e-agent-%s.log' % self.tok)

    def keep_agent_log(self):
        """The agent's log outlives the world: copied next to the stack's logs for a post-mortem."""
        logs = os.path.join(os.environ.get('NWG_RUN', tempfile.gettempdir()), 'log')
        os.makedirs(logs, exist_ok=True)
        if os.path.exists(self.agent.log_path):
            shutil.copy(self.agent.log_path, os.path.join(logs, 'e2e-agent-%s.log' % self.tok))


WORLDS = []  # the worlds alive now, so that a failing step can show its agent's log


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing step shows the end of the agent's log: what the agent did is usually the answer."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when == 'call':
        for world in WORLDS:
            try:
                with open(world.agent.log_path, errors='replace') as f:
                    tail = f.readlines()[-80:]
            except OSError:
                continue
            report.sections.append(('agent log (last 80 lines of %s)' % world.agent.log_path,
                                    ''.join(tail)))
