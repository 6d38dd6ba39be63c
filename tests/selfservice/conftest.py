# Fixtures of the tenant API's full-stack tests: the stack of tests/e2e (neutron-server, RabbitMQ,
# the agent binary, wireguard-go) plus a real Keystone and the neutron-server that authenticates
# with it (scripts/lib/keystone.sh: keystone_up, neutron_keystone_up, keystone_env). Users act
# through openstacksdk and the `openstack` CLI as the clouds nwg-alice and nwg-bob (members of
# two projects) and nwg-admin. Without the stack the tests skip loudly; under scripts/test
# (NWG_TEST_REQUIRE_ALL=1) they fail instead.

import json
import os
import shutil
import subprocess
import sys

import pytest
import requests

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))

from tests.e2e.conftest import find_stack  # noqa: E402
from tests.e2e.conftest import Unavailable  # noqa: E402
from tests.e2e.conftest import unavailable  # noqa: E402

# neutron_env's noauth settings would override the clouds of clouds.yaml.
for _name in ('OS_AUTH_TYPE', 'OS_ENDPOINT'):
    os.environ.pop(_name, None)

AGENTS = []  # the agents of the running tests, whose logs a failing step shows


def find_keystone_stack():
    stack = find_stack()
    url = os.environ.get('NWG_NEUTRON_KEYSTONE_URL')
    if not url or not os.environ.get('OS_CLIENT_CONFIG_FILE'):
        raise Unavailable('no Keystone: run under scripts/lib/keystone.sh keystone_env '
                          '(after neutron_up, keystone_up, neutron_keystone_up)')
    try:
        status = requests.get(url + '/v2.0/networks', timeout=10).status_code
    except requests.RequestException as exc:
        raise Unavailable('neutron-server (keystone) at %s does not answer: %s' % (url, exc))
    if status != 401:
        raise Unavailable('neutron-server at %s does not ask for a token (%d)' % (url, status))
    if not shutil.which('wg-quick'):
        raise Unavailable('wg-quick (wireguard-tools) is needed')
    if not shutil.which('openstack'):
        raise Unavailable('the openstack CLI (python3-openstackclient) is needed')
    import openstack
    stack['clouds'] = {name: openstack.connect(cloud='nwg-' + name)
                       for name in ('admin', 'alice', 'bob')}
    stack['agent_down_time'] = int(os.environ.get('NWG_KEYSTONE_AGENT_DOWN_TIME', '75'))
    stack['reschedule_after'] = int(os.environ.get('NWG_KEYSTONE_RESCHEDULE_AFTER', '300'))
    return stack


@pytest.fixture(scope='session')
def stack():
    try:
        return find_keystone_stack()
    except Unavailable as exc:
        unavailable(str(exc))


def cli(cloud, *args, expect_ok=True, parse=True):
    """`openstack --os-cloud nwg-CLOUD ARGS...`: its JSON (with -f json) or text."""
    res = subprocess.run(('openstack', '--os-cloud', 'nwg-' + cloud) + args,
                         capture_output=True, text=True, timeout=120)
    if expect_ok and res.returncode != 0:
        raise AssertionError('openstack %s failed (%d): %s' % (
            ' '.join(args), res.returncode, res.stderr.strip()))
    if not expect_ok:
        return res
    return json.loads(res.stdout) if parse and '-f' in args and 'json' in args else res.stdout


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing step shows the end of each agent's log."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when == 'call':
        for agent in AGENTS:
            try:
                with open(agent.log_path, errors='replace') as f:
                    tail = f.readlines()[-60:]
            except OSError:
                continue
            report.sections.append(('agent %s (last 60 lines of %s)' % (
                agent.host, agent.log_path), ''.join(tail)))
