# Convergence latency: from the Neutron API's answer to `POST /ports` (a spoke) to the spoke being a
# peer of its hub in WireGuard, over N spokes, with notifications and with polling only (the agent's
# fanout queue unbound at the broker, so only its polling_interval brings changes). Reports p50/p90;
# asserts nothing. Run under the stack's environment:
#   bash -c 'source scripts/lib/common.sh; source scripts/lib/rabbitmq.sh; source scripts/lib/neutron.sh;
#            neutron_up && NWG_AGENT_BIN=build/release/agent/daemon/neutron-wireguard-agent \
#            neutron_env /usr/bin/python3 -m tests.e2e.bench_convergence [spokes=20] [polling_interval=5]'

import os
import socket
import statistics
import sys
import time
import urllib.parse

import amqp

from tests.e2e import conftest
from tests.e2e import harness


def uapi_peers(ifname):
    """The peers' public keys (hex) of a wireguard-go device, straight from its UAPI socket."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect('/var/run/wireguard/%s.sock' % ifname)
        s.sendall(b'get=1\n\n')
        data = b''
        while not data.endswith(b'\n\n'):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return {line[len('public_key='):] for line in data.decode().split('\n') if line.startswith('public_key=')}


def b64_to_hex(key):
    import base64
    return base64.b64decode(key).hex()


def unbind_notifications(transport_url):
    """Detaches every q-wireguard-notifier fanout queue from its exchange: agents then see no
    notifications and converge by polling only."""
    url = urllib.parse.urlparse(transport_url)
    vhost = urllib.parse.unquote(url.path[1:]) or '/'
    queues = harness.run('rabbitmqctl', '-q', '-n', 'rabbit@localhost', 'list_queues', '-p', vhost,
                         'name').stdout.split()
    conn = amqp.Connection(host='%s:%d' % (url.hostname, url.port or 5672), userid=url.username,
                           password=url.password, virtual_host=vhost)
    conn.connect()
    ch = conn.channel()
    n = 0
    for q in queues:
        if q.startswith('q-wireguard-notifier_fanout_'):
            ch.queue_unbind(q, 'q-wireguard-notifier_fanout', routing_key='q-wireguard-notifier')
            n += 1
    conn.close()
    return n


def measure(world, hub_id, spokes, label):
    dev = 'wg-' + hub_id[:11]
    latencies = []
    for i in range(spokes):
        key = harness.run('wg', 'genkey').stdout.strip()
        pub = harness.run_input(['wg', 'pubkey'], key).strip()
        want = b64_to_hex(pub)
        world.api.create('port', network_id=world.network['id'], project_id=world.project,
                         device_owner='channel:wireguard:spoke', name='bench-%d' % i,
                         **{'binding:profile': {'public_key': pub, 'peers': [hub_id]}})
        t0 = time.monotonic()  # the API has answered
        deadline = t0 + 120
        while want not in uapi_peers(dev):
            if time.monotonic() > deadline:
                raise AssertionError('spoke %d never became a peer' % i)
            time.sleep(0.002)
        latencies.append((time.monotonic() - t0) * 1000)
    latencies.sort()
    p90 = latencies[int(0.9 * (len(latencies) - 1))]
    print('%-24s %d spokes: p50 %7.1f ms  p90 %7.1f ms  (min %.1f, max %.1f)' % (
        label, len(latencies), statistics.median(latencies), p90, latencies[0], latencies[-1]))
    return latencies


def main():
    spokes = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    polling = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    os.environ.setdefault('NWG_AGENT_BIN', os.path.join(
        harness.ROOT, 'build', 'release', 'agent', 'daemon', 'neutron-wireguard-agent'))

    try:
        stack = conftest.find_stack()
    except conftest.Unavailable as exc:
        print('cannot run: %s' % exc)
        return 77
    world = conftest.World(stack, ports='52400:52449', cidr='10.61.0.0/20')
    with open(world.agent.config) as f:
        text = f.read().replace('polling_interval = 5', 'polling_interval = %d' % polling)
    with open(world.agent.config, 'w') as f:
        f.write(text)
    try:
        world.agent.start()
        hub = world.create_hub()
        harness.wait_until(lambda: world.api.show('port', hub['id'])['status'] == 'ACTIVE', 60, 'the hub')
        print('agent: %s; polling_interval %d s' % (world.agent.binary, polling))
        measure(world, hub['id'], spokes, 'with notifications')
        n = unbind_notifications(stack['transport_url'])
        measure(world, hub['id'], spokes, 'polling only (%d queue%s unbound)' % (n, '' if n == 1 else 's'))
    finally:
        code = world.agent.stop()
        world.close()
    if code != 0:
        print('the agent exited with %s on SIGTERM (log kept in $NWG_RUN/log)' % code)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
