#!/usr/bin/python3
# Real oslo.messaging (Debian python3-oslo.messaging, Zed) peers for the C++ RPC interop tests and the
# benchmark. Run with /usr/bin/python3 (python3 on PATH may be another interpreter without oslo).
#
#   oslo_peer.py server URL TOPIC SERVER      RPC server; prints READY, serves until stdin closes
#   oslo_peer.py wireguard-v13 URL TOPIC SERVER   the driver's get_hubs as of API 1.3 (no digests)
#   oslo_peer.py call URL TOPIC METHOD ARGS [--server S] [--version V] [--timeout T]
#                                             one call; prints {"result": ...} or {"error": ..., "value": ...}
#   oslo_peer.py cast URL TOPIC METHOD ARGS [--fanout] [--version V]
#   oslo_peer.py bench URL TOPIC COUNT        COUNT sequential small calls; prints latency figures
#
# Every mode ends with os._exit(): a short-lived oslo client otherwise hangs ~10 s in its reply listener.
import argparse
import json
import os
import sys
import threading
import time

from oslo_config import cfg
import oslo_messaging
from oslo_utils import timeutils


def transport(url):
    # Neutron scopes its topics under the "neutron" exchange; oslo's default "openstack" goes nowhere.
    oslo_messaging.set_transport_defaults(control_exchange='neutron')
    conf = cfg.CONF  # oslo registers some options (metrics) on the global CONF only
    conf([], project='nwg-interop', default_config_files=[])
    t = oslo_messaging.get_rpc_transport(conf, url=url)
    conf.set_override('rabbit_retry_interval', 1, group='oslo_messaging_rabbit')
    conf.set_override('rabbit_retry_backoff', 0, group='oslo_messaging_rabbit')
    return t


class WgError(Exception):
    def __init__(self, peer, code):
        self.kwargs = {'peer': peer, 'code': code}
        super().__init__('WireGuard peer %s failed with code %d' % (peer, code))


class TestEndpoint(object):
    """Generic methods for the codec checks (version 1.2, no namespace)."""
    target = oslo_messaging.Target(version='1.2')

    def __init__(self):
        self.casts = []
        self.lock = threading.Lock()

    def echo(self, ctxt, value):
        return value

    def get_dict(self, ctxt, a, b):
        return {'a': a, 'b': b, 'sum': a + b, 'nested': {'k': [1, 2]},
                'ctxt_keys': sorted(ctxt.keys())}

    def size_of(self, ctxt, blob):
        return len(blob)

    def make_blob(self, ctxt, size):
        return 'y' * size

    def raise_error(self, ctxt, code):
        raise WgError(peer='p1', code=code)

    def raise_value_error(self, ctxt):
        raise ValueError('bad value 42')

    def slow(self, ctxt, secs):
        time.sleep(secs)
        return 'slept'

    def record(self, ctxt, **kwargs):
        with self.lock:
            self.casts.append(kwargs)

    def recorded(self, ctxt):
        with self.lock:
            return list(self.casts)

    def check_context(self, ctxt):
        # What neutron-server does with an agent's context.
        from neutron_lib import context as n_context
        c = n_context.Context.from_dict(ctxt)
        return {'is_admin': c.is_admin, 'request_id': c.request_id,
                'timestamp': str(c.timestamp)}


class NeutronLikeEndpoint(object):
    """Neutron's agent-facing callbacks, reduced to their argument handling (no database)."""
    target = oslo_messaging.Target(version='1.9')

    def __init__(self):
        self.agents = {}

    def report_state(self, ctxt, **kwargs):
        # neutron/db/agents_db.py AgentExtRpcCallback.report_state parses the time exactly like this.
        timeutils.parse_strtime(kwargs['time'])
        state = kwargs['agent_state']['agent_state']
        for key in ('agent_type', 'binary', 'host', 'topic'):
            if not state.get(key):
                raise ValueError('agent_state lacks %s' % key)
        key = (state['agent_type'], state['host'])
        status = 'alive' if key in self.agents else 'new'
        if state.get('configurations', {}).get('simulate') == 'revived':
            status = 'revived'
        self.agents[key] = state
        return status

    def update_device_list(self, ctxt, devices_up, devices_down, agent_id, host,
                           refresh_tunnels=False):
        return {'devices_up': devices_up, 'failed_devices_up': [],
                'devices_down': [{'device': d, 'exists': True} for d in devices_down],
                'failed_devices_down': []}


class WireGuardV13Endpoint(object):
    """The wireguard driver's endpoint as of API 1.3 (before get_hubs digests), with canned hubs."""
    target = oslo_messaging.Target(version='1.3')

    def get_hubs(self, ctxt, host, hub_ids=None):
        hubs = [{'id': 'hub-1', 'spokes': []}, {'id': 'hub-2', 'spokes': []}]
        if hub_ids is not None:
            hubs = [h for h in hubs if h['id'] in hub_ids]
        return {'hubs': hubs, 'asked_by': host}


def serve_wireguard_v13(args):
    t = transport(args.url)
    target = oslo_messaging.Target(topic=args.topic, server=args.server)
    server = oslo_messaging.get_rpc_server(t, target, [WireGuardV13Endpoint()], executor='threading')
    server.start()
    print('READY', flush=True)
    sys.stdin.read()
    os._exit(0)


def serve(args):
    t = transport(args.url)
    target = oslo_messaging.Target(topic=args.topic, server=args.server)
    server = oslo_messaging.get_rpc_server(t, target, [TestEndpoint(), NeutronLikeEndpoint()],
                                           executor='threading')
    server.start()
    print('READY', flush=True)
    sys.stdin.read()  # until the test closes our stdin
    os._exit(0)


def client(args, url=None):
    t = transport(url or args.url)
    target = oslo_messaging.Target(topic=args.topic, version=getattr(args, 'version', None))
    return oslo_messaging.get_rpc_client(t, target)


def call(args):
    c = client(args)
    kw = {}
    if args.server:
        kw['server'] = args.server
    if args.timeout:
        kw['timeout'] = args.timeout
    if args.version:
        kw['version'] = args.version
    try:
        result = c.prepare(**kw).call({'is_admin': True}, args.method, **json.loads(args.args))
        out = {'result': result}
    except oslo_messaging.RemoteError as e:
        out = {'error': e.exc_type, 'value': e.value}
    except oslo_messaging.MessagingTimeout as e:
        out = {'error': 'MessagingTimeout', 'value': str(e)}
    except Exception as e:  # a rebuilt builtin exception
        out = {'error': type(e).__name__, 'value': str(e)}
    print(json.dumps(out), flush=True)
    os._exit(0)


def cast(args):
    c = client(args)
    kw = {'fanout': True} if args.fanout else {}
    if args.version:
        kw['version'] = args.version
    c.prepare(**kw).cast({'is_admin': True}, args.method, **json.loads(args.args))
    print(json.dumps({'sent': True}), flush=True)
    os._exit(0)


def bench(args):
    c = client(args).prepare(timeout=30)
    for _ in range(20):  # warm up: connections, reply queue
        c.call({}, 'echo', value='w')
    lat = []
    t0 = time.perf_counter()
    for i in range(args.count):
        s = time.perf_counter()
        c.call({}, 'echo', value=i)
        lat.append(time.perf_counter() - s)
    total = time.perf_counter() - t0
    lat.sort()
    print(json.dumps({'calls': args.count, 'seconds': total,
                      'p50_ms': lat[len(lat) // 2] * 1000,
                      'p99_ms': lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000}), flush=True)
    os._exit(0)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='mode', required=True)
    s = sub.add_parser('server')
    s.add_argument('url')
    s.add_argument('topic')
    s.add_argument('server')
    w = sub.add_parser('wireguard-v13')
    w.add_argument('url')
    w.add_argument('topic')
    w.add_argument('server')
    c = sub.add_parser('call')
    for a in ('url', 'topic', 'method', 'args'):
        c.add_argument(a)
    c.add_argument('--server')
    c.add_argument('--version')
    c.add_argument('--timeout', type=float)
    k = sub.add_parser('cast')
    for a in ('url', 'topic', 'method', 'args'):
        k.add_argument(a)
    k.add_argument('--fanout', action='store_true')
    k.add_argument('--version')
    b = sub.add_parser('bench')
    b.add_argument('url')
    b.add_argument('topic')
    b.add_argument('count', type=int)
    args = p.parse_args()
    try:
        {'server': serve, 'wireguard-v13': serve_wireguard_v13, 'call': call, 'cast': cast,
         'bench': bench}[args.mode](args)
    except Exception as e:
        print(json.dumps({'peer_failed': '%s: %s' % (type(e).__name__, e)}), flush=True)
        os._exit(3)


if __name__ == '__main__':
    main()
