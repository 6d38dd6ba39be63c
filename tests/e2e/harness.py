# The pieces of a full-stack test: the agent as a process, an underlay segment in the agent's (root)
# namespace, and spoke devices in namespaces of their own running wireguard-go, configured from what
# Neutron says. Everything is named with a per-run token and removed by the test that made it; processes
# are stopped by PID.

import os
import signal
import subprocess
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
UNDERLAY_PREFIX = '198.51.100'  # TEST-NET-2, only inside our own bridge and namespaces


def run(*cmd, check=True, netns=None, timeout=60):
    if netns:
        cmd = ('ip', 'netns', 'exec', netns) + cmd
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and res.returncode != 0:
        raise AssertionError('%s failed (%d): %s' % (' '.join(cmd), res.returncode,
                                                     res.stderr.strip() or res.stdout.strip()))
    return res


def wait_until(predicate, timeout, what, interval=0.1):
    """Polls predicate() until it returns something true; fails naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except (AssertionError, OSError, subprocess.SubprocessError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError('timed out after %ss waiting for %s (last: %r)' % (timeout, what, last))


def token():
    return uuid.uuid4().hex[:6]


def wg_dump(ifname, netns=None):
    """`wg show IFNAME dump` parsed: (device dict, {peer public key: peer dict})."""
    res = run('wg', 'show', ifname, 'dump', netns=netns)
    lines = res.stdout.strip().split('\n')
    priv, pub, port, fwmark = lines[0].split('\t')
    device = {'public_key': pub, 'listen_port': int(port), 'fwmark': fwmark}
    peers = {}
    for line in lines[1:]:
        key, psk, endpoint, allowed, handshake, rx, tx, keepalive = line.split('\t')
        peers[key] = {'endpoint': None if endpoint == '(none)' else endpoint,
                      'allowed_ips': sorted(a for a in allowed.split(',') if a != '(none)'),
                      'latest_handshake': int(handshake)}
    return device, peers


def ping(netns, address, count=3):
    res = run('ping', '-c', str(count), '-i', '0.2', '-W', '2', address, netns=netns, check=False)
    return res.returncode == 0


class AgentProcess(object):
    """neutron-wireguard-agent started like a service: its own session, its log in a file."""

    def __init__(self, binary, workdir, host, transport_url, endpoint, ports, polling_interval=5):
        self.binary = binary
        self.workdir = workdir
        self.host = host
        self.state_path = os.path.join(workdir, 'state')
        self.log_path = os.path.join(workdir, 'agent.log')
        self.config = os.path.join(workdir, 'wireguard_agent.ini')
        with open(self.config, 'w') as f:
            f.write('[DEFAULT]\nhost = %s\ntransport_url = %s\nrpc_response_timeout = 10\n'
                    'debug = true\nlog_file = %s\n'
                    '[AGENT]\npolling_interval = %d\nreport_interval = 5\n'
                    '[wireguard]\nendpoint = %s\nstate_path = %s\nlisten_port_range = %s\n'
                    % (host, transport_url, self.log_path, polling_interval, endpoint,
                       self.state_path, ports))
        self.proc = None

    def start(self, wait=True):
        """Starts the agent; with `wait`, returns once it has logged its start (its signal handling is
        set up by then, so a SIGTERM right after is a clean stop)."""
        assert self.proc is None
        self.log_offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        self.proc = subprocess.Popen([self.binary, '--config-file', self.config],
                                     start_new_session=True, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if wait:
            wait_until(lambda: self.proc.poll() is not None or 'neutron-wireguard-agent starting' in
                       self.log_since_start(), 60, 'the agent to start')

    def log_since_start(self):
        try:
            with open(self.log_path, errors='replace') as f:
                f.seek(self.log_offset)
                return f.read()
        except FileNotFoundError:
            return ''

    def stop(self):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        code, self.proc = self.proc.returncode, None
        return code

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def run_once(self, *extra):
        """`--once` with this agent's configuration; (exit code, what it logged)."""
        log = os.path.join(self.workdir, 'once-%s.log' % token())
        with open(self.config) as f:
            text = f.read().replace(self.log_path, log)
        config = os.path.join(self.workdir, 'once.ini')
        with open(config, 'w') as f:
            f.write(text)
        res = subprocess.run([self.binary, '--config-file', config, '--once'] + list(extra),
                             capture_output=True, text=True, timeout=120)
        with open(log) as f:
            return res.returncode, f.read()

    def log(self):
        with open(self.log_path) as f:
            return f.read()


class Underlay(object):
    """A bridge in the agent's namespace standing in for the network node's uplink: spokes reach the
    hubs' UDP sockets at 198.51.100.1."""

    def __init__(self, tok):
        self.bridge = 'nwgb' + tok
        self.address = UNDERLAY_PREFIX + '.1'
        # A fixed MAC: a bridge without one takes the lowest of its ports', so a spoke joining later
        # could change it under the other spokes' ARP caches and cut their tunnels for seconds.
        mac = '02:00:%s:%s:%s:01' % (tok[0:2], tok[2:4], tok[4:6])
        run('ip', 'link', 'add', self.bridge, 'address', mac, 'type', 'bridge')
        run('ip', 'addr', 'add', self.address + '/24', 'dev', self.bridge)
        run('ip', 'link', 'set', self.bridge, 'up')

    def close(self):
        run('ip', 'link', 'del', self.bridge, check=False)


class Spoke(object):
    """A remote device: its own namespace, a veth onto the underlay, and a wireguard-go interface."""

    def __init__(self, underlay, tok, index, keydir):
        self.netns = 'nwgs%s%d' % (tok, index)
        self.veth = 'nwgv%s%d' % (tok, index)
        self.ifname = 'nwgw%s%d' % (tok, index)
        self.underlay_ip = '%s.%d' % (UNDERLAY_PREFIX, 10 + index)
        self.listen_port = 51820
        self.key_file = os.path.join(keydir, self.netns + '.key')
        old = os.umask(0o077)
        try:
            with open(self.key_file, 'w') as f:
                f.write(run('wg', 'genkey').stdout)
        finally:
            os.umask(old)
        with open(self.key_file) as f:
            self.public_key = run_input(['wg', 'pubkey'], f.read()).strip()
        run('ip', 'netns', 'add', self.netns)
        run('ip', '-n', self.netns, 'link', 'set', 'lo', 'up')
        run('ip', 'link', 'add', self.veth, 'type', 'veth', 'peer', 'name', 'u0', 'netns', self.netns)
        run('ip', 'link', 'set', self.veth, 'master', underlay.bridge, 'up')
        run('ip', '-n', self.netns, 'addr', 'add', self.underlay_ip + '/24', 'dev', 'u0')
        run('ip', '-n', self.netns, 'link', 'set', 'u0', 'up')
        env = {k: v for k, v in os.environ.items() if not k.startswith('WG_')}
        subprocess.run(['ip', 'netns', 'exec', self.netns, 'wireguard-go', self.ifname],
                       env=env, check=True, capture_output=True, timeout=30)
        wait_until(lambda: os.path.exists('/var/run/wireguard/%s.sock' % self.ifname), 10,
                   'wireguard-go socket of ' + self.ifname)

    @property
    def endpoint(self):
        return '%s:%d' % (self.underlay_ip, self.listen_port)

    def configure(self, hub_public_key, hub_endpoint, address, cidr):
        """The spoke's side, from what Neutron returned: the hub as its only peer."""
        run('wg', 'set', self.ifname, 'private-key', self.key_file, 'listen-port', str(self.listen_port),
            'peer', hub_public_key, 'endpoint', hub_endpoint, 'allowed-ips', cidr,
            'persistent-keepalive', '5', netns=self.netns)
        prefix = cidr.split('/')[1]
        run('ip', '-n', self.netns, 'addr', 'replace', '%s/%s' % (address, prefix), 'dev', self.ifname)
        run('ip', '-n', self.netns, 'link', 'set', self.ifname, 'up')

    def close(self):
        run('ip', '-n', self.netns, 'link', 'del', self.ifname, check=False)  # wireguard-go exits
        run('ip', 'netns', 'del', self.netns, check=False)
        run('ip', 'link', 'del', self.veth, check=False)


def stack_control(command):
    """Runs a function of the stack's shell harness (scripts/lib), e.g. 'neutron_server_stop'."""
    script = ('source scripts/lib/common.sh && source scripts/lib/rabbitmq.sh && '
              'source scripts/lib/neutron.sh && ' + command)
    res = subprocess.run(['bash', '-c', script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        raise AssertionError('%s failed: %s' % (command, res.stderr.strip()))


def run_input(cmd, text):
    return subprocess.run(cmd, input=text, capture_output=True, text=True, check=True).stdout


def wireguard_go_pid(ifname):
    """The wireguard-go daemon serving IFNAME (its tun fd's fdinfo names the interface)."""
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                argv = f.read().split(b'\0')
        except OSError:
            continue
        if argv and argv[0].endswith(b'wireguard-go') and ifname.encode() in argv:
            return int(pid)
    return None
