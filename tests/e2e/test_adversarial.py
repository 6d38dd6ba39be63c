# The trust boundaries of docs/security.md, attacked on the real stack (the steps share one world and
# run in order): a hub with a spoke that keeps pinging while a tenant's hostile input and a hostile
# peer on the broker try to make the agent touch the node's own namespace, send to the node itself,
# delete a device, crash, or forge log lines. Each attack must fail without disturbing the tunnel.

import json
import os
import uuid

import pytest

from tests.e2e import harness
from tests.e2e.conftest import World

CIDR = '10.61.0.0/24'
WAIT = 30


@pytest.fixture(scope='module')
def world(stack):
    w = World(stack, ports='52350:52379', cidr=CIDR)
    w.transport_url = stack['transport_url']
    w.agent.start()
    yield w
    w.close()


def hub_dev(hub_id):
    return 'wg-' + hub_id[:11]


def fixed_ip(port):
    return port['fixed_ips'][0]['ip_address']


def identity(world):
    device, peers = harness.wg_dump(hub_dev(world.hubs[0]), netns=world.tun_ns)
    return device['public_key'], device['listen_port'], sorted(peers)


def tunnel_works(world):
    return harness.ping(world.spokes[0].netns, fixed_ip(world.api.show('port', world.hubs[0])))


def log_since(world, offset):
    with open(world.agent.log_path, errors='replace') as f:
        f.seek(offset)
        return f.read()


def test_a_hub_and_a_spoke_that_pings(world):
    hub = world.create_hub()

    def active():
        port = world.api.show('port', hub['id'])
        return port['status'] == 'ACTIVE' and port['binding:profile'].get('endpoint') and port
    port = harness.wait_until(active, WAIT, 'the hub to be ACTIVE')
    spoke = world.add_spoke()
    sport = world.create_spoke_port(spoke, [hub['id']], endpoint=spoke.endpoint)
    harness.wait_until(lambda: spoke.public_key in harness.wg_dump(hub_dev(hub['id']), netns=world.tun_ns)[1],
                       WAIT, 'the spoke to be a peer')
    spoke.configure(port['binding:profile']['public_key'], port['binding:profile']['endpoint'],
                    fixed_ip(sport), CIDR)
    assert harness.wait_until(lambda: tunnel_works(world), WAIT, 'the spoke to ping the hub')


def test_the_agent_process_cannot_dump_core(world):
    with open('/proc/%d/limits' % world.agent.proc.pid) as f:
        core = [l for l in f if l.startswith('Max core file size')][0]
    assert core.split()[4:6] == ['0', '0'], core  # soft and hard


def test_a_root_device_hub_is_refused_by_the_agent(world):
    # An admin may set root_device (tenants cannot: the driver refuses them); this node does not
    # allow it ([wireguard] allow_root_device = false), so the agent keeps the hub out of its own
    # namespace and reports it DOWN.
    offset = os.path.getsize(world.agent.log_path)
    hub = world.create_hub(**{'binding:profile': {'root_device': True}})
    harness.wait_until(lambda: 'allow_root_device' in log_since(world, offset), WAIT,
                       'the agent to refuse the root_device hub')
    assert harness.run('ip', 'link', 'show', hub_dev(hub['id']), check=False).returncode != 0
    assert world.api.show('port', hub['id'])['status'] == 'DOWN'
    assert tunnel_works(world)
    world.api.delete('port', hub['id'])
    world.hubs.remove(hub['id'])


def test_a_spoke_endpoint_naming_the_node_is_dropped(world):
    # The driver refuses the node's addresses it knows of, but cannot resolve names: a DNS name that
    # resolves to the network node's own underlay address (198.51.100.1 here) must be refused by the
    # agent, which would otherwise send handshakes to itself.
    name = 'nwg-node-%s.example.net' % world.tok
    with open('/etc/hosts') as f:
        hosts = f.read()
    with open('/etc/hosts', 'a') as f:
        f.write('%s %s\n' % (world.underlay.address, name))
    try:
        offset = os.path.getsize(world.agent.log_path)
        sneaky = world.add_spoke()
        port = world.create_spoke_port(sneaky, [world.hubs[0]], endpoint=name + ':22')
        harness.wait_until(lambda: 'endpoint refused' in log_since(world, offset), WAIT,
                           'the agent to refuse the endpoint naming the node')
        assert '%s is an address of this network node' % world.underlay.address in log_since(world, offset)
        _, peers = harness.wg_dump(hub_dev(world.hubs[0]), netns=world.tun_ns)
        assert peers[sneaky.public_key]['endpoint'] is None  # a peer, but the hub sends it nothing
        assert tunnel_works(world)
        world.api.delete('port', port['id'])
        harness.wait_until(lambda: sneaky.public_key not in harness.wg_dump(hub_dev(world.hubs[0]),
                                                                            netns=world.tun_ns)[1],
                           WAIT, 'the sneaky spoke to leave the hub')
    finally:
        with open('/etc/hosts', 'w') as f:
            f.write(hosts)


def raw_publish(world, exchange, body, routing_key=''):
    """Publishes bytes as any peer on the vhost could, without oslo.messaging's help."""
    import kombu
    url = world.transport_url.replace('rabbit://', 'amqp://', 1)
    with kombu.Connection(url, connect_timeout=10) as conn:
        producer = conn.Producer()
        producer.publish(body, exchange=exchange, routing_key=routing_key, content_type='application/json',
                         content_encoding='utf-8', serializer=None, declare=[], retry=True)


def oslo_cast(method, **args):
    msg = {'method': method, 'args': args, 'version': '1.0', '_unique_id': uuid.uuid4().hex,
           '_context_request_id': 'req-' + str(uuid.uuid4()), '_context_is_admin': True}
    return json.dumps({'oslo.version': '2.0', 'oslo.message': json.dumps(msg)})


def test_hostile_broker_messages_change_nothing(world):
    before = identity(world)
    pid = world.agent.proc.pid
    offset = os.path.getsize(world.agent.log_path)
    fanout = 'q-wireguard-notifier_fanout'
    deep = 1000000
    attacks = [
        '[' * deep + ']' * deep,                                               # nesting, outer
        json.dumps({'oslo.version': '2.0', 'oslo.message': '[' * deep + ']' * deep}),  # nesting, inner
        'x' * (20 * 1024 * 1024),                                              # 20 MB of nothing
        '\xff\xfe not json',
        oslo_cast('hubs_changed', hub_ids='not a list'),
        oslo_cast('hubs_changed', hub_ids=[42, None, {'a': 1}]),
        oslo_cast('hubs_changed', hub_ids=['../../etc/passwd', 'wg-0000; rm -rf /']),
        oslo_cast('no_such_method'),
        # A request id that would forge a log line.
        json.dumps({'oslo.version': '2.0', 'oslo.message': json.dumps({
            'method': 'no_such_method', 'args': {}, 'version': '1.0', '_unique_id': uuid.uuid4().hex,
            '_context_request_id': 'req-1\n2026-01-01 00:00:00.000 1 CRITICAL forged [-] owned'})}),
        # Last (a queue is consumed in order): a port ID with the first 11 characters of the hub's ID,
        # so the same device name. The agent must ask the server, learn it is not its hub, and delete
        # nothing.
        oslo_cast('hubs_changed', hub_ids=[world.hubs[0][:11] + 'ff-ffff-ffff-ffffffffffff']),
    ]
    for body in attacks:
        raw_publish(world, fanout, body)
    # The agent got through all of them: the last one made it sync that one port (and find nothing).
    harness.wait_until(lambda: 'sync of 1 hub(s)' in log_since(world, offset), WAIT,
                       'the agent to get through the hostile messages')
    assert world.agent.running() and world.agent.proc.pid == pid, 'the agent died'
    assert identity(world) == before
    assert tunnel_works(world)
    log = log_since(world, offset)
    assert '\n2026-01-01 00:00:00.000 1 CRITICAL forged' not in log, 'a log line was forged'
    line = log.split('sync of 1 hub(s)')[1].split('\n')[0]
    assert ' 0 removed, 0 action(s)' in line, line
    # And it still does its job: a change made now is applied.
    extra = world.add_spoke()
    port = world.create_spoke_port(extra, [world.hubs[0]])
    harness.wait_until(lambda: extra.public_key in harness.wg_dump(hub_dev(world.hubs[0]), netns=world.tun_ns)[1],
                       WAIT, 'a spoke created after the attack to become a peer')
    world.api.delete('port', port['id'])


def test_a_state_directory_open_to_others_is_refused(world):
    assert world.agent.stop() == 0
    try:
        os.chmod(world.agent.state_path, 0o755)
        code, log = world.agent.run_once()
        assert code != 0
        assert 'mode 0755' in log and 'must be owned by the agent' in log, log
        assert tunnel_works(world)  # the devices are untouched
    finally:
        os.chmod(world.agent.state_path, 0o700)
        world.agent.start()
    harness.wait_until(lambda: 'full sync (start)' in world.agent.log(), WAIT, 'the agent to start again')
