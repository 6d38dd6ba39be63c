# The Debian packages as an operator meets them (steps in order, sharing one module): installed with
# apt, the packaged agent run the way its systemd unit runs it, against the test stack, reporting and
# realizing a hub; files and permissions; the conffile kept across an upgrade; purge. The packages come
# from scripts/lib/package.sh (NWG_PACKAGE_DIR). This machine has no systemd as PID 1: the unit's
# ExecStart runs under setpriv with the unit's user, capability bounding set, no-new-privileges, umask
# and core limit, read from the installed unit file.

import glob
import grp
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))

from tests.e2e import harness  # noqa: E402
from tests.e2e.conftest import World, find_stack, unavailable, Unavailable  # noqa: E402

AGENT = 'neutron-wireguard-agent'
PYPKG = 'python3-networking-wireguard'
UNIT = '/lib/systemd/system/neutron-wireguard-agent.service'
CONF = '/etc/neutron/plugins/ml2/wireguard_agent.ini'
STATE = '/var/lib/neutron/wireguard'
LOG = '/var/log/neutron/neutron-wireguard-agent.log'
CIDR = '10.61.0.0/24'
PORTS = '52700:52719'
WAIT = 30


def sh(*cmd, check=True, timeout=600, cwd=None):
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)
    if check and res.returncode != 0:
        raise AssertionError('%s failed (%d): %s' % (' '.join(cmd), res.returncode,
                                                     (res.stderr + res.stdout).strip()[-3000:]))
    return res


def apt(*args):
    return sh('apt-get', '-o', 'DPkg::Lock::Timeout=600', '-y', '-q', *args)


def installed(package):
    res = sh('dpkg-query', '-W', '-f=${Status}', package, check=False)
    return res.returncode == 0 and 'install ok installed' in res.stdout


def purge():
    present = [p for p in (AGENT, PYPKG) if sh('dpkg-query', '-W', p, check=False).returncode == 0]
    if present:
        apt('purge', *present)


def unit_settings():
    """The [Service] settings of the installed unit (a repeated key keeps its last value)."""
    settings = {}
    with open(UNIT) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(('#', '[')) and '=' in line:
                key, value = line.split('=', 1)
                settings[key] = value
    return settings


class UnitAgent(object):
    """The packaged agent started as its unit starts it: ExecStart as User=, under the unit's
    CapabilityBoundingSet, NoNewPrivileges, UMask and LimitCORE."""

    def __init__(self, host):
        self.host = host
        self.state_path = STATE
        self.log_path = LOG
        self.proc = None

    def command(self):
        unit = unit_settings()
        caps = ','.join('+' + c.lower()[len('cap_'):] for c in unit['CapabilityBoundingSet'].split())
        user = unit.get('User', 'root')
        cmd = ['setpriv', '--reuid', user, '--regid', str(pwd.getpwnam(user).pw_gid), '--init-groups',
               '--inh-caps', '-all', '--bounding-set', '-all,' + caps]
        if unit.get('NoNewPrivileges') == 'yes':
            cmd.append('--no-new-privs')
        cmd += ['prlimit', '--core=%s' % unit.get('LimitCORE', 'unlimited'), '--',
                'sh', '-c', 'umask %s && exec "$@"' % unit.get('UMask', '0022'), 'unit']
        return cmd + shlex.split(unit['ExecStart'])

    def start(self):
        self.offset = os.path.getsize(LOG) if os.path.exists(LOG) else 0
        self.proc = subprocess.Popen(self.command(), start_new_session=True, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        harness.wait_until(lambda: self.proc.poll() is not None or
                           'neutron-wireguard-agent starting' in self.log(), 60, 'the agent to start')
        assert self.proc.poll() is None, 'the packaged agent exited with %s: %s' % (
            self.proc.returncode, self.log()[-2000:])

    def log(self):
        try:
            with open(LOG, errors='replace') as f:
                f.seek(self.offset)
                return f.read()
        except FileNotFoundError:
            return ''

    def stop(self):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            self.proc.wait(timeout=30)
        code, self.proc = self.proc.returncode, None
        return code


@pytest.fixture(scope='module')
def debs():
    if os.geteuid() != 0:
        unavailable('needs root (apt-get install, network namespaces)')
    where = os.environ.get('NWG_PACKAGE_DIR')
    if not where:
        unavailable('no packages: set NWG_PACKAGE_DIR (scripts/lib/package.sh package_build)')
    found = {}
    for package in (AGENT, PYPKG):
        paths = sorted(glob.glob(os.path.join(where, '%s_*.deb' % package)))
        if not paths:
            unavailable('no %s package in %s' % (package, where))
        found[package] = paths[-1]
    for tool in ('apt-get', 'dpkg-deb', 'setpriv', 'prlimit'):
        if not shutil.which(tool):
            unavailable('%s is needed' % tool)
    purge()  # what a previous, interrupted run left
    yield found
    purge()
    shutil.rmtree(STATE, ignore_errors=True)  # the test's hub keys (purge keeps them by design)


@pytest.fixture(scope='module')
def world(debs):
    apt('install', '--no-install-recommends', debs[AGENT], debs[PYPKG])
    os.environ['NWG_AGENT_BIN'] = '/usr/bin/' + AGENT
    try:
        stack = find_stack()
    except Unavailable as exc:
        unavailable(str(exc))
    w = World(stack, ports=PORTS, cidr=CIDR)
    w.agent = UnitAgent('pkg-' + w.tok)
    yield w
    w.close()


def test_packages_install_their_files_with_the_right_owners(world):
    assert installed(AGENT) and installed(PYPKG)
    assert os.access('/usr/bin/' + AGENT, os.X_OK)
    assert os.path.exists(UNIT)
    # The configuration is a conffile, root:neutron 0640 (it will hold a RabbitMQ password).
    conffiles = sh('dpkg-query', '-W', '-f=${Conffiles}', AGENT).stdout
    assert CONF in conffiles
    st = os.stat(CONF)
    assert (stat.S_IMODE(st.st_mode), pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name) == \
        (0o640, 'root', 'neutron')
    # The state directory is the agent's user's (root, see the unit), 0700.
    user = unit_settings().get('User', 'root')
    st = os.stat(STATE)
    assert (stat.S_IMODE(st.st_mode), pwd.getpwuid(st.st_uid).pw_name) == (0o700, user)
    # The Python side from the package itself (not a checkout or an editable install on sys.path):
    # the driver, the L3 extension, the service plugin, the CLI plugin and the migrations by their
    # entry points.
    code = ('import sys, importlib.metadata as m\n'
            'sys.path = [p for p in sys.path if p.startswith("/usr/lib/")]\n'
            'd = m.PathDistribution.at(sys.argv[1])\n'
            'eps = {(e.group, e.name): e for e in d.entry_points}\n'
            'for g, n in [("neutron.ml2.mechanism_drivers", "wireguard"),'
            ' ("neutron.agent.l3.extensions", "wireguard"), ("neutron.service_plugins", "wireguard"),'
            ' ("openstack.cli.extension", "wireguard"),'
            ' ("neutron.db.alembic_migrations", "networking-wireguard")]:\n'
            '    mod = __import__(eps[(g, n)].module, fromlist=["x"])\n'
            '    assert mod.__file__.startswith("/usr/lib/python3/dist-packages/"), mod.__file__\n')
    egg = [p for p in sh('dpkg', '-L', PYPKG).stdout.split() if p.endswith('.egg-info')]
    assert egg, 'no egg-info in ' + PYPKG
    sh('/usr/bin/python3', '-S', '-c', 'import site; site.addsitedir("/usr/lib/python3/dist-packages")\n'
       + code, egg[0], cwd='/')


def test_agent_run_as_its_unit_reports_and_realizes_a_hub(world):
    with open(CONF, 'a') as f:  # an operator's settings (also what the upgrade must keep)
        f.write('\n# test settings\n[DEFAULT]\nhost = %s\ntransport_url = %s\n'
                '[AGENT]\npolling_interval = 5\nreport_interval = 5\n'
                '[wireguard]\nendpoint = %s\nlisten_port_range = %s\n'
                % (world.agent.host, os.environ['NWG_TEST_TRANSPORT_URL'], world.underlay.address, PORTS))
    world.agent.start()
    # It runs confined as the unit says: the bounding set and no new privileges.
    with open('/proc/%d/status' % world.agent.proc.pid) as f:
        status = dict(l.split(':', 1) for l in f.read().splitlines() if ':' in l)
    assert status['Name'].strip() == AGENT[:15]
    assert int(status['CapBnd'], 16) == (1 << 1) | (1 << 12) | (1 << 21)  # DAC_OVERRIDE NET_ADMIN SYS_ADMIN
    assert status['NoNewPrivs'].strip() == '1'

    def alive():
        agents = world.api.list('agent', host=world.agent.host, agent_type='wireguard agent')
        return agents and agents[0]['alive'] and agents[0]
    agent = harness.wait_until(alive, WAIT, 'the packaged agent to be alive in GET /v2.0/agents')
    assert agent['binary'] == AGENT

    hub = world.create_hub()

    def active():
        port = world.api.show('port', hub['id'])
        return port['status'] == 'ACTIVE' and port['binding:profile'].get('public_key') and port
    port = harness.wait_until(active, WAIT, 'the hub to be ACTIVE with its key')
    device, _ = harness.wg_dump('wg-' + hub['id'][:11], netns=world.tun_ns)
    assert device['public_key'] == port['binding:profile']['public_key']
    # The key: 0600 in the 0700 state directory (UMask=0077 too), never in the log.
    key_file = os.path.join(STATE, hub['id'] + '.conf')
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    with open(key_file) as f:
        private = [l.split('=', 1)[1].strip() for l in f if l.startswith('PrivateKey')][0]
    assert private not in world.agent.log()
    # The log is where the packaged configuration puts it, and not world-readable.
    assert stat.S_IMODE(os.stat(LOG).st_mode) & 0o007 == 0
    # The namespace the agent bind-mounted is the host's (no mount-namespace sandboxing).
    assert world.tun_ns in harness.run('ip', 'netns', 'list').stdout


def test_upgrade_keeps_the_modified_configuration_and_the_keys(world, tmp_path):
    with open(CONF) as f:
        modified = f.read()
    keys = sorted(os.listdir(STATE))
    # The next version: the same package with a higher version and a changed default configuration.
    tree = tmp_path / 'deb'
    sh('dpkg-deb', '-R', glob.glob(os.path.join(os.environ['NWG_PACKAGE_DIR'], AGENT + '_*.deb'))[-1],
       str(tree))
    control = (tree / 'DEBIAN' / 'control').read_text()
    version = [l.split(': ', 1)[1] for l in control.splitlines() if l.startswith('Version: ')][0]
    (tree / 'DEBIAN' / 'control').write_text(control.replace('Version: ' + version,
                                                             'Version: %s+upgrade1' % version))
    packaged = tree / CONF.lstrip('/')
    packaged.write_text(packaged.read_text() + '\n# a new default of the next version\n')
    md5 = sh('md5sum', str(packaged)).stdout.split()[0]
    sums = (tree / 'DEBIAN' / 'md5sums').read_text().splitlines()
    (tree / 'DEBIAN' / 'md5sums').write_text('\n'.join(
        '%s  %s' % (md5, CONF.lstrip('/')) if l.endswith(' ' + CONF.lstrip('/')) else l for l in sums) + '\n')
    upgrade = tmp_path / ('%s_%s+upgrade1.deb' % (AGENT, version))
    sh('dpkg-deb', '--root-owner-group', '-b', str(tree), str(upgrade))
    apt('-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold',
        'install', str(upgrade))
    assert sh('dpkg-query', '-W', '-f=${Version}', AGENT).stdout == version + '+upgrade1'
    with open(CONF) as f:
        assert f.read() == modified
    assert 'a new default of the next version' in open(CONF + '.dpkg-dist').read()
    assert sorted(os.listdir(STATE)) == keys
    st = os.stat(CONF)
    assert stat.S_IMODE(st.st_mode) == 0o640 and grp.getgrgid(st.st_gid).gr_name == 'neutron'
    # The agent still serves its hub (a real upgrade restarts it through systemd: try-restart).
    assert world.agent.proc.poll() is None


def test_purge_removes_the_packages_but_keeps_the_keys(world):
    assert world.agent.stop() == 0, 'the agent did not stop cleanly on SIGTERM'
    keys = os.listdir(STATE)
    assert keys
    apt('purge', AGENT, PYPKG)
    assert not installed(AGENT) and not installed(PYPKG)
    for path in ('/usr/bin/' + AGENT, UNIT, CONF, CONF + '.dpkg-dist', LOG,
                 '/usr/lib/python3/dist-packages/networking_wireguard'):
        assert not os.path.exists(path), path + ' is left after purge'
    assert sorted(os.listdir(STATE)) == sorted(keys), 'purge must keep the hub keys'
