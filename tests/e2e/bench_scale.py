# Big hubs (issue #16, docs/scale.md): what one spoke change costs on a hub of N spokes against a hub of
# 20, in one run, with the real neutron-server and the agent on wireguard-go. Reports; asserts nothing.
#
# - Convergence: a spoke added, re-keyed, re-addressed, removed through the API; the time from the
#   API's answer to the agent's write having returned from wireguard-go (the time stamp of the agent's
#   "applied" line after the line naming that change: a UAPI set returns once wireguard-go holds the
#   change; polling a 10,000-peer device from outside would itself cost 25 ms a read and hold the
#   device's lock against the agent's write).
# - Bursts: 1,000 spokes created in one bulk request, and 1,000 deleted at once (4 clients): how many
#   passes wrote the hub's device, and whether a spoke device already connected lost a ping meanwhile.
# - Bulk creation: seconds per port for 500 spokes in one request against 500 plain ports on the same
#   network in the same run, on the full hub.
# - Memory and time at N: the agent's RSS (and peak), wireguard-go's RSS, a deep sync (`--once`).
#
# Run under the stack's environment:
#   bash -c 'source scripts/lib/common.sh; source scripts/lib/rabbitmq.sh; source scripts/lib/neutron.sh;
#            neutron_up && NWG_AGENT_BIN=build/release/agent/daemon/neutron-wireguard-agent \
#            neutron_env /usr/bin/python3 -m tests.e2e.bench_scale [spokes=10000] [samples=20]'

import base64
import concurrent.futures
import ipaddress
import os
import re
import signal
import statistics
import subprocess
import sys
import time

from tests.e2e import conftest
from tests.e2e import harness

BATCH = 1000
STAMP = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3}) ')


def new_key():
    return base64.b64encode(os.urandom(32)).decode()


def stamp_of(line):
    m = STAMP.match(line)
    return time.mktime(time.strptime(m.group(1), '%Y-%m-%d %H:%M:%S')) + int(m.group(2)) / 1000.0


class AgentLog(object):
    """Follows the agent's log file from where it is now."""

    def __init__(self, path):
        self.f = open(path, errors='replace')
        self.f.seek(0, os.SEEK_END)
        self.pending = ''

    def lines(self):
        chunk = self.f.read()
        if not chunk:
            return []
        text = self.pending + chunk
        complete, _, self.pending = text.rpartition('\n')
        return complete.split('\n') if complete else []

    def applied(self, needle, timeout=60):
        """Time stamp of the 'applied' line that follows the first line containing `needle`."""
        deadline = time.monotonic() + timeout
        seen = False
        while time.monotonic() < deadline:
            for line in self.lines():
                if not seen and needle in line:
                    seen = True
                elif seen and ' applied in ' in line:
                    return stamp_of(line)
            time.sleep(0.002)
        raise AssertionError('the agent never applied %r' % needle)

    def count_until(self, needle, done, timeout=600):
        """Lines containing `needle` until `done()` holds (checked every 0.2 s)."""
        n, deadline = 0, time.monotonic() + timeout
        while time.monotonic() < deadline:
            n += sum(needle in line for line in self.lines())
            if done():
                return n + sum(needle in line for line in self.lines())
            time.sleep(0.2)
        raise AssertionError('not converged after %d s' % timeout)


def peer_count(dev, netns):
    out = harness.run('ip', 'netns', 'exec', netns, 'wg', 'show', dev, 'peers').stdout
    return len(out.split())


def percentiles(values):
    values = sorted(values)
    return statistics.median(values), values[int(0.9 * (len(values) - 1))]


def rss_kb(pid):
    fields = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            key, _, value = line.partition(':')
            fields[key] = value.strip()
    return int(fields['VmRSS'].split()[0]), int(fields['VmHWM'].split()[0])


def spoke_body(net, project, hub_id, i, fixed_ip=None):
    body = {'network_id': net, 'project_id': project, 'device_owner': 'channel:wireguard:spoke',
            'name': 'scale-%d' % i, 'binding:profile': {'public_key': new_key(), 'peers': [hub_id]}}
    if fixed_ip:
        body['fixed_ips'] = [fixed_ip]
    return body


def bulk(api, bodies):
    t0 = time.monotonic()
    res = api.session.post(api.url + '/ports', json={'ports': bodies}, timeout=900)
    assert res.status_code == 201, (res.status_code, res.text[:500])
    return time.monotonic() - t0, res.json()['ports']


class Hub(object):
    def __init__(self, world, network, subnet, spare_ips):
        self.world, self.network, self.subnet = world, network, subnet
        self.candidates = spare_ips
        self.port = world.api.create('port', network_id=network, project_id=world.project,
                                     device_owner='channel:wireguard:hub', name='hub',
                                     **{'binding:host_id': world.agent.host})
        world.hubs.append(self.port['id'])
        self.dev = 'wg-' + self.port['id'][:11]

    def free_addresses(self):
        """The subnet's addresses that no port holds and that are not kept for re-addressing, in
        order."""
        net = ipaddress.ip_network(self.world.api.show('subnet', self.subnet)['cidr'])
        taken = {ip['ip_address'] for p in self.world.api.list('port', network_id=self.network, fields='fixed_ips')
                 for ip in p['fixed_ips']}
        taken |= set(self.candidates)
        return [str(a) for a in list(net.hosts())[1:] if str(a) not in taken]  # [0]: the gateway

    def fill(self, n, log):
        """Bulk-creates n spokes, BATCH per request; returns (seconds per spoke of each request,
        passes that wrote the device during the first and the last burst). Each spoke is given its
        address: Neutron's IPAM then checks one address instead of scanning the subnet for a free one
        (which grows with the subnet: 295 ms a port at first, 458 ms at 10,000)."""
        per_spoke, passes, made = [], [], 0
        free = iter(self.free_addresses())
        while made < n:
            count = min(BATCH, n - made)
            bodies = [spoke_body(self.network, self.world.project, self.port['id'], made + i,
                                 {'subnet_id': self.subnet, 'ip_address': next(free)})
                      for i in range(count)]
            seconds, _ = bulk(self.world.api, bodies)
            per_spoke.append(seconds / count)
            made += count
            passes.append(log.count_until('configure %s' % self.dev,
                                          lambda: peer_count(self.dev, self.world.tun_ns) >= made))
        return per_spoke, passes

    def changes(self, samples, log):
        """Latency in ms of each operation, `samples` times, on a spoke created for it."""
        api, hub_id = self.world.api, self.port['id']
        # Addresses for re-addressing: free ones (Neutron's IPAM hands addresses out in random order).
        taken = {ip['ip_address'] for p in api.list('port', network_id=self.network, fields='fixed_ips')
                 for ip in p['fixed_ips']}
        spare = [ip for ip in self.candidates if ip not in taken]
        got = {'add': [], 're-key': [], 're-address': [], 'remove': []}
        for i in range(samples):
            body = spoke_body(self.network, self.world.project, hub_id, 900000 + i)
            key = body['binding:profile']['public_key']
            port = api.create('port', **body)
            t = time.time()
            got['add'].append(log.applied('set peer ' + key) - t)
            new = new_key()
            api.update('port', port['id'], **{'binding:profile': {'public_key': new, 'peers': [hub_id]}})
            t = time.time()
            got['re-key'].append(log.applied('set peer ' + new) - t)
            ip = spare[i % len(spare)]
            if ip == port['fixed_ips'][0]['ip_address']:  # IPAM gave the new port that very address
                ip = spare[(i + 1) % len(spare)]
            api.update('port', port['id'], fixed_ips=[{'subnet_id': self.subnet, 'ip_address': ip}])
            t = time.time()
            got['re-address'].append(log.applied('allowed IPs = %s/32' % ip) - t)
            api.delete('port', port['id'])
            t = time.time()
            got['remove'].append(log.applied('remove peer ' + new) - t)
        return {op: [v * 1000 for v in values] for op, values in got.items()}


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    samples = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    os.environ.setdefault('NWG_AGENT_BIN', os.path.join(
        harness.ROOT, 'build', 'release', 'agent', 'daemon', 'neutron-wireguard-agent'))
    # An underlay of its own: the e2e tests' bridges use 198.51.100.1, and two bridges with one address
    # would route a hub's packets to the wrong spokes if both ran at once.
    harness.UNDERLAY_PREFIX = '203.0.113'
    try:
        stack = conftest.find_stack()
    except conftest.Unavailable as exc:
        print('cannot run: %s' % exc)
        return 77
    world = conftest.World(stack, ports='52450:52499', cidr='10.64.0.0/17')
    api = world.api
    # Neutron's default quota is 500 ports a project.
    api.request('PUT', '/quotas/%s' % world.project, {'quota': {'port': -1}}, expected=200)
    small_net = api.create('network', name='small-' + world.tok, project_id=world.project)
    small_sub = api.create('subnet', network_id=small_net['id'], ip_version=4, cidr='10.65.0.0/24',
                           project_id=world.project)
    pinger, code = None, 1
    try:
        world.agent.start()
        log = AgentLog(world.agent.log_path)
        big = Hub(world, world.network['id'], world.subnet['id'],
                  ['10.64.127.%d' % i for i in range(2, 250)])
        small = Hub(world, small_net['id'], small_sub['id'], ['10.65.0.%d' % i for i in range(200, 250)])
        for hub in (big, small):
            harness.wait_until(lambda: api.show('port', hub.port['id'])['status'] == 'ACTIVE', 60, 'a hub')
        print('agent: %s' % world.agent.binary)

        # A device already connected to the big hub, pinging it through every burst below.
        spoke = world.add_spoke()
        sport = world.create_spoke_port(spoke, [big.port['id']])
        profile = api.show('port', big.port['id'])['binding:profile']
        spoke.configure(profile['public_key'], profile['endpoint'], sport['fixed_ips'][0]['ip_address'],
                        world.subnet['cidr'])
        hub_ip = big.port['fixed_ips'][0]['ip_address']
        harness.wait_until(lambda: harness.ping(spoke.netns, hub_ip, count=1), 30, 'the spoke to ping')
        pinger = subprocess.Popen(['ip', 'netns', 'exec', spoke.netns, 'ping', '-i', '0.2', '-W', '2', hub_ip],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

        small.fill(20, log)
        t0 = time.monotonic()
        per_spoke, passes = big.fill(size, log)
        print('filled a hub with %d spokes in %.0f s: bulk creation %.1f ms per spoke in the first request '
              '(%d passes wrote the device), %.1f ms in the last (%d passes)' % (
                  size, time.monotonic() - t0, per_spoke[0] * 1000, passes[0], per_spoke[-1] * 1000,
                  passes[-1]))
        pid = world.agent.proc.pid
        rss, hwm = rss_kb(pid)
        go_rss, _ = rss_kb(harness.wireguard_go_pid(big.dev))
        print('agent RSS %.1f MB (peak %.1f MB); wireguard-go of the big hub %.1f MB' % (
            rss / 1024, hwm / 1024, go_rss / 1024))

        # Bulk creation against plain ports on the same network (Neutron's IPAM cost grows with the
        # addresses a subnet has handed out: the same for both), on the full hub.
        plain_s, _ = bulk(api, [{'network_id': big.network, 'project_id': world.project,
                                 'name': 'plain-%d' % i} for i in range(500)])
        spokes_s, _ = bulk(api, [spoke_body(big.network, world.project, big.port['id'], 800000 + i)
                                 for i in range(500)])
        print('bulk creation of 500 on the full hub: spokes %.1f ms per port, plain ports %.1f ms: %.2f x' % (
            spokes_s / 500 * 1000, plain_s / 500 * 1000, spokes_s / plain_s))
        want = size + 501
        log.count_until('configure %s' % big.dev, lambda: peer_count(big.dev, world.tun_ns) >= want)

        for label, hub in (('hub of 20', small), ('hub of %d' % size, big)):
            figures = hub.changes(samples, log)
            print('%s, API answer -> applied, %d samples:' % (label, samples))
            for op, values in figures.items():
                p50, p90 = percentiles(values)
                print('  %-10s p50 %6.1f ms  p90 %6.1f ms  (max %.1f)' % (op, p50, p90, max(values)))

        # A burst of deletions, 4 clients at once.
        victims = [p['id'] for p in api.list('port', network_id=big.network, fields='id',
                                             device_owner='channel:wireguard:spoke')
                   if p['id'] != sport['id']][:BATCH]
        before = peer_count(big.dev, world.tun_ns)
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda pid_: conftest.NeutronApi(stack['url']).delete('port', pid_), victims))
        deleted_s = time.monotonic() - t0
        passes = log.count_until('configure %s' % big.dev,
                                 lambda: peer_count(big.dev, world.tun_ns) <= before - len(victims))
        print('%d spokes deleted in %.0f s (4 clients): %d passes wrote the device' % (
            len(victims), deleted_s, passes))

        rss, hwm = rss_kb(pid)
        print('agent RSS %.1f MB after all of the above (peak over the run %.1f MB)' % (rss / 1024, hwm / 1024))
        code = world.agent.stop()
        t0 = time.monotonic()
        once, _ = world.agent.run_once()
        print('deep sync (--once, the agent stopped, its devices kept) at %d spokes: %.1f s, exit %d' % (
            peer_count(big.dev, world.tun_ns), time.monotonic() - t0, once))
        # The agent started on the full hub: its start's deep sync and two readings of the peers.
        world.agent.start()
        time.sleep(35)
        rss, hwm = rss_kb(world.agent.proc.pid)
        print('agent started on the full hub: RSS %.1f MB 35 s later, peak %.1f MB (its start deep sync '
              'and the peer readings)' % (rss / 1024, hwm / 1024))
    finally:
        if pinger:
            pinger.send_signal(signal.SIGINT)  # ping prints its summary on SIGINT only
            out = pinger.communicate()[0]
            m = re.search(r'(\d+) packets transmitted, (\d+) received', out)
            if m:
                print('the connected spoke during all of it: %s pings sent, %s answered' % m.groups())
        stopped = world.agent.stop()
        code = stopped if stopped is not None else code
        # Thousands of ports: deleted by 4 clients before the world deletes what is left one by one.
        ports = [p['id'] for net in (small_net['id'], world.network['id'])
                 for p in api.list('port', network_id=net, fields='id')]
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda id_: conftest.NeutronApi(stack['url']).request('DELETE', '/ports/' + id_),
                          ports))
        api.request('DELETE', '/networks/%s' % small_net['id'])
        world.close()
    return 0 if code == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
