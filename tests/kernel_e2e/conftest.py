# Fixtures of the kernel-e2e layer: the real neutron-server of tests/e2e (its address from neutron_env),
# a qemu VM booting the pinned Debian kernel with the agent binary inside (backend = auto, so kernel
# WireGuard), and spokes in host namespaces on the VM's underlay. A missing prerequisite skips loudly;
# under scripts/test (NWG_TEST_REQUIRE_ALL=1) it fails.

import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))

from tests.e2e.conftest import find_stack, unavailable, Unavailable  # noqa: E402
from tests.kernel_e2e.world import WORLDS  # noqa: E402


def find_vm_tools(agent):
    """nwg_vm_init and nwg_vm_server of the agent's build, and the host programs the VM needs."""
    build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(agent))))
    tools = {}
    for name in ('init', 'server'):
        var = 'NWG_VM_' + name.upper()
        tools[name] = os.environ.get(var) or os.path.join(build, 'agent', 'wireguard', 'genl', 'nwg_vm_' + name)
        if not os.access(tools[name], os.X_OK):
            raise Unavailable('no nwg_vm_%s at %s (build the tests, or set %s)' % (name, tools[name], var))
    for prog in ('qemu-system-x86_64', 'socat', 'ip', 'wg', 'cpio', 'xz'):
        if not shutil.which(prog):
            raise Unavailable('%s is needed for the kernel VM (scripts/lib/deps.sh installs it)' % prog)
    if not os.path.exists('/dev/net/tun'):
        raise Unavailable('/dev/net/tun is needed for the VM\'s tap')
    return tools


@pytest.fixture(scope='session')
def stack():
    try:
        found = find_stack()
        found['vm_tools'] = find_vm_tools(found['agent'])
        return found
    except Unavailable as exc:
        unavailable(str(exc))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing step shows the end of the VM agent's log (read through the command server)."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when == 'call':
        for world in WORLDS:
            if world.agent is None:
                continue
            try:
                tail = world.agent.log().splitlines(True)[-80:] + world.agent.stderr().splitlines(True)[-20:]
            except Exception as exc:
                tail = ['(the VM did not answer: %s)\n' % exc, 'VM console:\n', world.vm.console()]
            report.sections.append(('agent log in the VM (last 80 lines of %s)' % world.agent.log_path,
                                    ''.join(tail)))
