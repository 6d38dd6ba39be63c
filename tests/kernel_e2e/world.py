# The world of the kernel-e2e steps: one project's tunnel network, the VM with the agent serving it, the
# underlay and the spokes. (A module of its own, not the conftest: pytest imports a conftest under
# another name than the tests would, and WORLDS must be one list.)

import os
import shutil
import tempfile
import urllib.parse

from tests.e2e import harness
from tests.kernel_e2e import vm as kvm


def run_log_dir():
    logs = os.path.join(os.environ.get('NWG_RUN', tempfile.gettempdir()), 'log')
    os.makedirs(logs, exist_ok=True)
    return logs


class World(object):
    """One project's tunnel network, the VM with the agent serving it, the underlay and the spokes."""

    def __init__(self, stack, ports, cidr):
        self.api = stack['api']
        self.tok = harness.token()
        self.project = 'kvm' + self.tok
        self.workdir = tempfile.mkdtemp(prefix='nwg-kernel-e2e-')
        self.underlay = kvm.Underlay(self.tok)
        broker = urllib.parse.urlsplit(stack['transport_url'])
        self.vm = None
        self.agent = None
        self.spokes = []
        self.hubs = []
        self.network = None
        WORLDS.append(self)
        try:
            self.vm = kvm.KernelVm(stack['vm_tools'], self.underlay, (broker.hostname, broker.port or 5672),
                                   os.path.join(run_log_dir(), 'kernel-e2e-vm-%s.log' % self.tok),
                                   files=[stack['agent'] + ':' + kvm.VmAgent.BINARY, shutil.which('ip'),
                                          shutil.which('wg')])
            self.agent = kvm.VmAgent(self.vm, 'kvm-' + self.tok, stack['transport_url'], ports)
            self.network = self.api.create('network', name='kvm-' + self.tok, project_id=self.project)
            self.subnet = self.api.create('subnet', network_id=self.network['id'], ip_version=4, cidr=cidr,
                                          project_id=self.project)
        except BaseException:
            self.close()
            raise

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

    def create_spoke_port(self, spoke, hub_ids, endpoint=None):
        profile = {'public_key': spoke.public_key, 'peers': hub_ids}
        if endpoint:
            profile['endpoint'] = endpoint
        return self.api.create('port', network_id=self.network['id'], project_id=self.project,
                               device_owner='channel:wireguard:spoke', name='spoke',
                               **{'binding:profile': profile})

    def close(self):
        if self in WORLDS:
            WORLDS.remove(self)
        exit_code = None
        if self.agent is not None:
            try:
                exit_code = self.agent.stop()
                self.keep_agent_log()
            except Exception as exc:  # the VM is gone: nothing more to learn from it
                print('kernel-e2e: could not stop the agent in the VM: %s' % exc)
        if self.vm is not None:
            self.vm.close()
        if self.network is not None:
            for port in self.api.list('port', network_id=self.network['id']):
                self.api.request('DELETE', '/ports/%s' % port['id'])
            self.api.request('DELETE', '/networks/%s' % self.network['id'])
        for spoke in self.spokes:
            spoke.close()
        self.underlay.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
        assert exit_code in (0, None), 'the agent in the VM exited with %s on SIGTERM (its log: %s)' % (
            exit_code, 'kernel-e2e-agent-%s.log' % self.tok)

    def keep_agent_log(self):
        """The agent's log and stderr (sanitizer reports) are copied next to the stack's logs."""
        with open(os.path.join(run_log_dir(), 'kernel-e2e-agent-%s.log' % self.tok), 'w') as f:
            f.write(self.agent.log())
            stderr = self.agent.stderr()
            if stderr:
                f.write('\n---- stdout/stderr ----\n' + stderr)


WORLDS = []
