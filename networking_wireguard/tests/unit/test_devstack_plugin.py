# The devstack plugin, run by bash with devstack's functions replaced by stubs that record their calls:
# what it installs, configures and starts in each phase. (A real devstack run needs a whole cloud.)

import os
import subprocess
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))

STUBS = r'''
set -u
calls() { echo "$*" >> "$CALLS"; }
setup_develop() { calls setup_develop "$@"; }
install_package() { calls install_package "$@"; }
run_process() { calls run_process "$@"; }
stop_process() { calls stop_process "$@"; }
echo_summary() { :; }
get_hostname() { echo node-1; }
is_service_enabled() { local s; for s in "$@"; do [[ " $ENABLED " == *" $s "* ]] && return 0; done; return 1; }
iniset() { calls iniset "$@"; }
iniget() { case "$2 $3" in "ml2 mechanism_drivers") echo openvswitch;; "agent extensions") echo fip_qos;; esac; }
cmake() { calls cmake "$@"; }
sudo() { if [ "$1" = cmake ]; then calls sudo "$@"; else "$@"; fi; }
install() { calls install "$@"; }
cp() { calls cp "$@"; }
DEST=/opt/stack HOST_IP=203.0.113.7 STACK_USER=stack
Q_PLUGIN_CONF_FILE=etc/neutron/plugins/ml2/ml2_conf.ini Q_L3_CONF_FILE=/etc/neutron/l3_agent.ini
NEUTRON_CONF=/etc/neutron/neutron.conf
'''


class TestDevstackPlugin(unittest.TestCase):

    def run_phase(self, enabled, *args):
        with tempfile.NamedTemporaryFile('r') as calls:
            script = STUBS + (
                'NETWORKING_WIREGUARD_DIR=%s\nsource %s/devstack/settings\n'
                'source %s/devstack/plugin.sh %s\n' % (ROOT, ROOT, ROOT, ' '.join(args)))
            env = dict(os.environ, CALLS=calls.name, ENABLED=enabled)
            res = subprocess.run(['bash', '-c', script], env=env, capture_output=True, text=True)
            self.assertEqual(0, res.returncode, res.stderr)
            return calls.read().splitlines()

    def test_install_builds_the_agent_and_installs_the_package(self):
        calls = self.run_phase('q-svc wg-agt', 'stack', 'install')
        self.assertIn('setup_develop %s' % ROOT, calls)
        self.assertTrue(any(c.startswith('install_package ') and 'libsodium-dev' in c and
                            'wireguard-go' in c for c in calls), calls)
        self.assertTrue(any(c.startswith('cmake -S %s' % ROOT) and '-DNWG_TESTS=OFF' in c
                            for c in calls), calls)
        self.assertTrue(any(c.startswith('sudo cmake --install') for c in calls), calls)

    def test_server_only_node_does_not_build_the_agent(self):
        calls = self.run_phase('q-svc', 'stack', 'install')
        self.assertIn('setup_develop %s' % ROOT, calls)
        self.assertFalse(any(c.startswith('cmake') for c in calls), calls)

    def test_post_config_enables_driver_extension_and_agent(self):
        calls = self.run_phase('q-svc q-l3 wg-agt', 'stack', 'post-config')
        self.assertIn('iniset /etc/neutron/plugins/ml2/ml2_conf.ini ml2 mechanism_drivers '
                      'wireguard,openvswitch', calls)
        self.assertIn('iniset /etc/neutron/l3_agent.ini agent extensions fip_qos,wireguard', calls)
        conf = '/etc/neutron/plugins/ml2/wireguard_agent.ini'
        self.assertIn('iniset %s DEFAULT host node-1' % conf, calls)
        self.assertIn('iniset %s wireguard endpoint 203.0.113.7' % conf, calls)
        self.assertIn('iniset %s wireguard state_path /var/lib/neutron/wireguard' % conf, calls)

    def test_extra_starts_the_agent_as_root_with_both_config_files(self):
        calls = self.run_phase('wg-agt', 'stack', 'extra')
        self.assertIn('run_process wg-agt /usr/local/bin/neutron-wireguard-agent --config-file '
                      '/etc/neutron/neutron.conf --config-file '
                      '/etc/neutron/plugins/ml2/wireguard_agent.ini  root', calls)

    def test_unstack_stops_the_agent(self):
        self.assertEqual(['stop_process wg-agt'], self.run_phase('wg-agt', 'unstack'))
