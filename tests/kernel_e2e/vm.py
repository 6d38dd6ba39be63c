# The kernel VM of the kernel-e2e layer, seen from the host: a qemu VM booting the pinned Debian kernel
# (scripts/kernel-vm) that stays up while the tests drive it through its command server
# (tests/vm/vm_server.cpp), and the agent running inside it.
#
# Networking (docs/testing.md, "kernel-e2e"): two NICs.
# - ctl0, qemu user networking, restricted (no route out): the host's 127.0.0.1:<port> is forwarded to
#   the command server, and the VM's connections to 10.0.2.100:5672 are relayed by socat to the host's
#   RabbitMQ (guestfwd: one socat per connection), so the agent reaches the real neutron-server.
# - uplink0, a tap on a bridge in the host's namespace (no address there): the network node's underlay.
#   Spokes (wireguard-go in host namespaces, tests/e2e/harness.py) are on the same bridge and reach the
#   hub's endpoint at UPLINK_ADDRESS with no NAT in between.

import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse

from tests.e2e import harness

CTL_MAC = '52:54:00:4e:57:01'
UPLINK_MAC = '52:54:00:4e:57:02'
UPLINK_ADDRESS = harness.UNDERLAY_PREFIX + '.1'
GUEST_BROKER = '10.0.2.100'
SERVER_PORT = 7000


class VmError(Exception):
    """The command server answered with an error, or could not be reached."""


class VmExited(Exception):
    """The VM is gone (not an AssertionError: waiting for it any longer is pointless)."""


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Underlay(object):
    """A bridge in the host's namespace with the VM's tap on it: spokes join it as in tests/e2e. It has
    no address, so the host's own routing is untouched."""

    def __init__(self, tok):
        self.bridge = 'nwgkb' + tok
        self.tap = 'nwgkt' + tok
        mac = '02:00:%s:%s:%s:02' % (tok[0:2], tok[2:4], tok[4:6])
        harness.run('ip', 'link', 'add', self.bridge, 'address', mac, 'type', 'bridge')
        harness.run('ip', 'tuntap', 'add', 'dev', self.tap, 'mode', 'tap')
        harness.run('ip', 'link', 'set', self.tap, 'master', self.bridge, 'up')
        harness.run('ip', 'link', 'set', self.bridge, 'up')

    def close(self):
        harness.run('ip', 'link', 'del', self.tap, check=False)
        harness.run('ip', 'link', 'del', self.bridge, check=False)


class KernelVm(object):
    """The VM: booted by scripts/kernel-vm with nwg_vm_server as its program; `call` sends one request."""

    def __init__(self, tools, underlay, broker, console_log, files=(), timeout=1800):
        self.port = free_port()
        self.console_log = console_log
        host, broker_port = broker
        ctl = ('user,id=ctl,restrict=on,net=10.0.2.0/24,hostfwd=tcp:127.0.0.1:%d-10.0.2.15:%d,'
               'guestfwd=tcp:%s:%d-cmd:socat - TCP:%s:%d'
               % (self.port, SERVER_PORT, GUEST_BROKER, broker_port, host, broker_port))
        qemu = ['-netdev', ctl, '-device', 'virtio-net-pci,netdev=ctl,mac=' + CTL_MAC,
                '-netdev', 'tap,id=up,ifname=%s,script=no,downscript=no' % underlay.tap,
                '-device', 'virtio-net-pci,netdev=up,mac=' + UPLINK_MAC]
        cmd = [os.path.join(harness.ROOT, 'scripts', 'kernel-vm'), '--init', tools['init'],
               '--timeout', str(timeout), '--mem', '1024']
        for f in files:
            cmd += ['--file', f]
        for arg in qemu:
            cmd += ['--qemu', arg]
        cmd += ['--', tools['server'], '--port', str(SERVER_PORT),
                '--link', '%s=ctl0=10.0.2.15/24' % CTL_MAC,
                '--link', '%s=uplink0=%s/24' % (UPLINK_MAC, UPLINK_ADDRESS)]
        self.t0 = time.monotonic()
        # The kernel cache and the harness of this tree, whatever stack (NWG_ROOT) the tests use.
        env = dict(os.environ, NWG_ROOT=harness.ROOT)
        with open(console_log, 'w') as out:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True, env=env)
        try:
            harness.wait_until(self._ready, 180, 'the VM\'s command server', interval=0.5)
        except BaseException:
            self.close()
            raise
        self.boot_seconds = time.monotonic() - self.t0
        self.sync_clock()

    def _ready(self):
        if self.proc.poll() is not None:
            raise VmExited('the VM exited (%s); console: %s' % (self.proc.returncode, self.console()))
        try:
            return self.call({'op': 'ping'}, timeout=5) is not None
        except (OSError, VmError):
            return False

    def console(self, lines=40):
        with open(self.console_log, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])

    def call(self, request, timeout=120):
        with socket.create_connection(('127.0.0.1', self.port), timeout=timeout) as s:
            s.sendall((json.dumps(request) + '\n').encode())
            data = b''
            while not data.endswith(b'\n'):
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                data += chunk
        if not data:  # qemu accepted, but nothing listens in the VM (yet)
            raise VmError('no answer from the VM to %s' % request.get('op'))
        reply = json.loads(data)
        if 'error' in reply:
            raise VmError(reply['error'])
        return reply

    def sync_clock(self):
        """The VM's clock is the host's: the agent's report_state times are compared with the server's."""
        self.call({'op': 'settime', 'ns': time.time_ns()})

    def clock_offset(self):
        before = time.time_ns()
        vm = self.call({'op': 'ping'})['time_ns']
        return (vm - (before + time.time_ns()) / 2) / 1e9

    def run(self, *argv, check=True, netns=None, timeout=60, stdin=None):
        """A command in the VM (PATH: the programs in /vmtest/bin); a CompletedProcess-like result."""
        if netns:
            argv = ('ip', 'netns', 'exec', netns) + argv
        req = {'op': 'exec', 'argv': list(argv), 'timeout': timeout}
        if stdin is not None:
            req['stdin'] = stdin
        reply = self.call(req, timeout=timeout + 30)
        res = subprocess.CompletedProcess(argv, reply['rc'], reply['stdout'], reply['stderr'])
        if check and res.returncode != 0:
            raise AssertionError('in the VM: %s failed (%d): %s' % (' '.join(argv), res.returncode,
                                                                     (res.stderr or res.stdout).strip()))
        return res

    def read(self, path, offset=0):
        return self.call({'op': 'read', 'path': path, 'offset': offset})['data']

    def write(self, path, data, mode=0o644):
        self.call({'op': 'write', 'path': path, 'data': data, 'mode': mode})

    def stat(self, path):
        return self.call({'op': 'stat', 'path': path})

    def mkdir(self, path, mode=0o755):
        self.call({'op': 'mkdir', 'path': path, 'mode': mode})

    def wg_dump(self, ifname, netns=None):
        """`wg show IFNAME dump` in the VM, parsed as harness.wg_dump does on the host."""
        lines = self.run('wg', 'show', ifname, 'dump', netns=netns).stdout.strip().split('\n')
        priv, pub, port, fwmark = lines[0].split('\t')
        peers = {}
        for line in lines[1:]:
            key, psk, endpoint, allowed, handshake, rx, tx, keepalive = line.split('\t')
            peers[key] = {'endpoint': None if endpoint == '(none)' else endpoint,
                          'allowed_ips': sorted(a for a in allowed.split(',') if a != '(none)'),
                          'latest_handshake': int(handshake)}
        return {'public_key': pub, 'listen_port': int(port), 'fwmark': fwmark}, peers

    def links(self, netns=None):
        args = ('-n', netns) if netns else ()
        return self.run('ip', *args, '-o', 'link', 'show', check=False).stdout

    def netns_list(self):
        return self.run('ip', 'netns', 'list').stdout

    def close(self):
        """Powers the VM off (its program exits), or kills it if it does not answer."""
        if self.proc.poll() is None:
            try:
                self.call({'op': 'exit'}, timeout=10)
                self.proc.wait(timeout=30)
            except (OSError, VmError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode


def guest_transport_url(url):
    """The stack's transport URL as the VM reaches it: the broker's address replaced by guestfwd's."""
    parts = urllib.parse.urlsplit(url)
    auth = parts.netloc.rpartition('@')[0]
    netloc = '%s@%s:%d' % (auth, GUEST_BROKER, parts.port or 5672) if auth else \
        '%s:%d' % (GUEST_BROKER, parts.port or 5672)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class VmAgent(object):
    """neutron-wireguard-agent inside the VM, started like a service; its log in the VM, read on demand.
    The same surface as harness.AgentProcess where the tests use it."""

    BINARY = '/vmtest/bin/neutron-wireguard-agent'
    CONFIG = '/etc/neutron/plugins/ml2/wireguard_agent.ini'
    LOG = '/var/log/neutron/wireguard-agent.log'
    STATE = '/var/lib/neutron/wireguard'

    def __init__(self, vm, host, transport_url, ports, polling_interval=5):
        self.vm = vm
        self.host = host
        self.state_path = self.STATE
        self.log_path = self.LOG
        vm.mkdir(os.path.dirname(self.CONFIG))
        vm.mkdir(os.path.dirname(self.LOG))
        vm.mkdir(os.path.dirname(self.STATE))
        vm.write(self.CONFIG,
                 '[DEFAULT]\nhost = %s\ntransport_url = %s\nrpc_response_timeout = 20\n'
                 'debug = true\nlog_file = %s\n'
                 '[AGENT]\npolling_interval = %d\nreport_interval = 5\n'
                 '[wireguard]\nbackend = auto\nendpoint = %s\nstate_path = %s\nlisten_port_range = %s\n'
                 % (host, guest_transport_url(transport_url), self.LOG, polling_interval, UPLINK_ADDRESS,
                    self.STATE, ports), mode=0o600)
        self.pid = None
        self.log_offset = 0

    def log_size(self):
        st = self.vm.stat(self.LOG)
        return st['size'] if st['exists'] else 0

    def start(self, wait=True):
        assert self.pid is None
        self.vm.sync_clock()
        self.log_offset = self.log_size()
        self.pid = self.vm.call({'op': 'spawn', 'argv': [self.BINARY, '--config-file', self.CONFIG],
                                 'log': '/var/log/neutron/wireguard-agent.stderr'})['pid']
        if wait:
            harness.wait_until(lambda: not self.running() or 'neutron-wireguard-agent starting' in
                               self.log_since_start(), 120, 'the agent in the VM to start')

    def running(self):
        return self.pid is not None and not self.vm.call({'op': 'wait', 'pid': self.pid})['exited']

    def stop(self):
        """SIGTERM, as systemd would; returns the exit status (None if it was not running)."""
        if self.pid is None:
            return None
        try:
            self.vm.call({'op': 'signal', 'pid': self.pid, 'signal': signal.SIGTERM})
        except VmError:
            pass  # exited already
        res = self.vm.call({'op': 'wait', 'pid': self.pid, 'timeout': 60}, timeout=90)
        if not res['exited']:
            self.vm.call({'op': 'signal', 'pid': self.pid, 'signal': signal.SIGKILL})
            res = self.vm.call({'op': 'wait', 'pid': self.pid, 'timeout': 10})
        self.pid = None
        return res.get('status')

    def log(self):
        return self.vm.read(self.LOG) if self.vm.stat(self.LOG)['exists'] else ''

    def log_since(self, offset):
        return self.vm.read(self.LOG, offset) if self.vm.stat(self.LOG)['exists'] else ''

    def log_since_start(self):
        return self.log_since(self.log_offset)

    def stderr(self):
        path = '/var/log/neutron/wireguard-agent.stderr'
        return self.vm.read(path) if self.vm.stat(path)['exists'] else ''
