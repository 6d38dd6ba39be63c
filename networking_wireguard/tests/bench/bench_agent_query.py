"""Benchmark (reports, asserts nothing): the server's time to answer one agent's query.

A cloud with N spokes (default 10,000) of which M (default 100) peer with the hubs of one host.
Compared:
  - get_hubs(host)              (1.3, own tables: the hubs of the host and their spokes)
  - get_hubs(host, digests=...) (1.4, the agent holds every hub's digest: all stubs), with the
    answer's size in bytes (its JSON, and the whole reply on the wire in oslo's envelope 2.0),
    and the cost of the digests alone
  - get_ports_for_agent(host)   (1.2 kept, same tables, full port dicts)
  - the original approach: the hubs of the host plus a list of every spoke in the cloud, stitched
    together by peers (Ml2Plugin.get_ports filtered by device_owner; also timed through REST).
Each is timed in-process against the harness's MariaDB (the server's own work) and, for the RPC
methods, as a round trip over RabbitMQ from an agent's point of view.

Run against the harness (scripts/lib/neutron.sh):
    neutron_up
    neutron_env /usr/bin/python3 -m networking_wireguard.tests.bench.bench_agent_query
Populating 10,000 spokes takes minutes the first time; later runs on the same stack reuse them.

The idle full sync of a big network node (100 hubs x 100 spokes, ~2 MB per answer) on a host of
its own, its spokes inserted directly (the API would take an hour):
    neutron_env /usr/bin/python3 -m networking_wireguard.tests.bench.bench_agent_query \
        --host wg-bench-big --hubs 100 --local-hubs 100 --spokes 10000 --local-spokes 10000 \
        --insert-local --skip-original
"""

import argparse
import json
import logging
import os
import statistics
import sys
import time

from networking_wireguard.tests.functional import clients

PROJECT = 'wg-bench'
HOST = 'wg-bench-host'
OTHER_HOSTS = ['wg-bench-other-%d' % i for i in range(10)]


def populate(api, plugin, host, spokes, local_spokes, hubs_total, local_hubs,
             insert_local=False):
    """This host's hubs and spokes through the API; the rest of the cloud inserted directly.

    Creating a port through the API costs ~0.4 s on this 2-core machine (Neutron's own work, with
    debug logging), so the other hosts' spokes are written straight into the database: the rows
    the API would write (port, standard attributes, fixed IP, binding with its profile, and the
    driver's role and peering), without IPAM bookkeeping, on a subnet of their own. With
    insert_local, this host's spokes too.
    """
    name, project = 'wg-bench-%d-%d' % (spokes, local_spokes), PROJECT
    if host != HOST:  # a project of its own: the API counts the inserted ports in the quota
        name = 'wg-bench-%s-%d-%d-%d' % (host, spokes, local_spokes, local_hubs)
        project = 'wg-bench-' + host
    nets = api.list('network', name=name)
    if nets:
        count = len(api.list('port', network_id=nets[0]['id'],
                             device_owner='channel:wireguard:spoke', fields='id'))
        if count >= spokes:
            return
        sys.exit('%s exists with %d spokes; delete it first' % (name, count))
    t0 = time.monotonic()
    net = api.create('network', name=name, project_id=project)
    subnet = api.create('subnet', network_id=net['id'], ip_version=4,
                        cidr='10.100.0.0/24', project_id=project)
    far_subnet = api.create('subnet', network_id=net['id'], ip_version=4,
                            cidr='10.101.0.0/16', project_id=project)
    hubs, used = [], set()
    for i in range(hubs_total):
        local = i < local_hubs
        fixed_ips = [{'subnet_id': subnet['id']}] if local and not insert_local else [
            {'subnet_id': subnet['id']}, {'subnet_id': far_subnet['id']}]
        hub = api.create('port', network_id=net['id'], project_id=project,
                         device_owner='channel:wireguard:hub', fixed_ips=fixed_ips,
                         **{'binding:host_id': host if local else
                            OTHER_HOSTS[i % len(OTHER_HOSTS)]})
        hubs.append(hub['id'])
        used.update(ip['ip_address'] for ip in hub['fixed_ips'])
    addresses = _free_addresses(far_subnet, used)
    if insert_local:
        _insert_spokes(plugin, project, net['id'], far_subnet, addresses, hubs[:local_hubs],
                       local_spokes)
    else:
        body = {'ports': [{'network_id': net['id'], 'project_id': project,
                           'device_owner': 'channel:wireguard:spoke',
                           'fixed_ips': [{'subnet_id': subnet['id']}],
                           'binding:profile': {'public_key': clients.new_key(),
                                               'peers': [hubs[i % local_hubs]]}}
                          for i in range(local_spokes)]}
        api.request('POST', '/ports', body, expected=201)
    print('hubs and %d local spokes in %.0f s' % (
        local_spokes, time.monotonic() - t0), file=sys.stderr)
    t0 = time.monotonic()
    _insert_spokes(plugin, project, net['id'], far_subnet, addresses, hubs[local_hubs:],
                   spokes - local_spokes, first=local_spokes if insert_local else 0)
    print('%d other spokes inserted in %.0f s' % (spokes - local_spokes,
                                                   time.monotonic() - t0), file=sys.stderr)


def _free_addresses(subnet, used):
    import ipaddress
    return (str(a) for a in ipaddress.ip_network(subnet['cidr']).hosts()
            if str(a) not in used and str(a) != subnet['gateway_ip'])


def _insert_spokes(plugin, project, network_id, subnet, addresses, hub_ids, count,
                   first=0):
    """count spokes of project on subnet (addresses: free ones) peering with hub_ids.

    first: the index of the first one in this network (their MAC addresses are unique).
    """
    import uuid

    from neutron.db import models_v2
    from neutron.plugins.ml2 import models as ml2_models
    from neutron_lib import context as n_context
    from neutron_lib.db import api as db_api

    from networking_wireguard.db import models

    context = n_context.get_admin_context()
    for start in range(first, first + count, 1000):
        with db_api.CONTEXT_WRITER.using(context):
            ours = []
            for i in range(start, min(first + count, start + 1000)):
                port_id = str(uuid.uuid4())
                hub_id = hub_ids[(i - first) % len(hub_ids)]
                key = clients.new_key()
                context.session.add(models_v2.Port(
                    id=port_id, project_id=project, name='', network_id=network_id,
                    mac_address='fa:16:3e:%02x:%02x:%02x' % (
                        i >> 16 & 255, i >> 8 & 255, i & 255),
                    admin_state_up=True, status='DOWN', device_id='',
                    device_owner='channel:wireguard:spoke', ip_allocation='immediate'))
                context.session.add(models_v2.IPAllocation(
                    port_id=port_id, ip_address=next(addresses),
                    subnet_id=subnet['id'], network_id=network_id))
                context.session.add(ml2_models.PortBinding(
                    port_id=port_id, host='', vnic_type='normal', vif_type='unbound',
                    vif_details='', status='ACTIVE',
                    profile=json.dumps({'public_key': key, 'peers': [hub_id]})))
                ours += [models.WireGuardPort(port_id=port_id, role='spoke',
                                              public_key=key),
                         models.WireGuardPeering(spoke_id=port_id, hub_id=hub_id,
                                                  public_key=key)]
            context.session.flush()  # the ports first: our tables refer to them
            context.session.add_all(ours)


def timed(fn, repeat):
    fn()  # warm up caches and connections
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), result


def wire_bytes(answer):
    """(the answer's JSON, the whole reply as oslo.messaging puts it on the wire) in bytes."""
    from oslo_messaging._drivers import common as rpc_common
    from oslo_serialization import jsonutils
    reply = rpc_common.serialize_msg({'result': answer, 'failure': None, 'ending': True,
                                      '_msg_id': '0' * 32})
    return len(jsonutils.dumps(answer)), len(json.dumps(reply))


def in_process_plugin():
    from neutron.common import config as common_config
    from neutron import manager
    from neutron_lib.plugins import directory
    common_config.register_common_config_options()
    common_config.init(os.environ['NWG_NEUTRON_CONF'].split())
    manager.init()
    return directory.get_plugin()


def original_approach(plugin, context, host):
    """The original design's query: this host's hubs, then every spoke in the cloud."""
    hubs = plugin.get_ports(context, filters={
        'device_owner': ['channel:wireguard:hub'], 'binding:host_id': [host]})
    spokes = plugin.get_ports(context, filters={
        'device_owner': ['channel:wireguard:spoke']})
    return [{'hub': hub, 'spokes': [s for s in spokes if hub['id'] in
                                    (s['binding:profile'] or {}).get('peers', [])]}
            for hub in hubs]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--spokes', type=int, default=10000)
    parser.add_argument('--local-spokes', type=int, default=100)
    parser.add_argument('--hubs', type=int, default=100)
    parser.add_argument('--local-hubs', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=10)
    parser.add_argument('--host', default=HOST, help='the agent host measured')
    parser.add_argument('--insert-local', action='store_true',
                        help="insert the host's spokes directly too (for many of them)")
    parser.add_argument('--skip-original', action='store_true',
                        help='do not time the original approach (minutes on big clouds)')
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the bulk insert's revision-bump warnings

    api = clients.NeutronApi(os.environ['NWG_NEUTRON_URL'])
    host = args.host
    agent = clients.AgentRpc(os.environ['NWG_TEST_TRANSPORT_URL'], host)
    agent.report_state()
    for other in OTHER_HOSTS:  # so that their hubs bind at once
        agent.report_state(other)

    from neutron_lib import context as n_context
    from oslo_serialization import jsonutils

    from networking_wireguard.db import wireguard_db as wg_db
    from networking_wireguard import rpc as wg_rpc
    plugin = in_process_plugin()
    populate(api, plugin, host, args.spokes, args.local_spokes, args.hubs,
             args.local_hubs, args.insert_local)
    admin = n_context.get_admin_context()
    endpoint = wg_rpc.WireGuardRpcCallback(notifier=None)

    rows = []

    def measure(name, fn, count, size=True):
        median, best, result = timed(fn, args.repeat)
        rows.append((name, median, best, count(result),
                     wire_bytes(result) if size else None))

    def spokes_in_hubs(result):
        return sum(len(h.get('spokes', ())) for h in result['hubs'])

    def spokes_in_items(result):
        return sum(len(item['spokes']) for item in result)

    def no_count(result):
        return None

    full = endpoint.get_hubs(admin, host)
    digests = {hub['id']: hub['digest'] for hub in full['hubs']}
    stubs = endpoint.get_hubs(admin, host, digests=digests)
    assert all(hub.get('unchanged') for hub in stubs['hubs']), 'not all unchanged'

    measure('get_hubs, in-process', lambda: endpoint.get_hubs(admin, host),
            spokes_in_hubs)
    measure('get_hubs 1.4, all unchanged, in-process',
            lambda: endpoint.get_hubs(admin, host, digests=digests), spokes_in_hubs)
    measure('  entries without digests (get_hub_details)',
            lambda: {'hubs': wg_db.get_hub_details(admin, host)}, spokes_in_hubs)
    entries = wg_db.get_hub_details(admin, host)
    measure('  the digests alone',
            lambda: [wg_rpc.hub_digest(hub) for hub in entries], no_count, size=False)
    measure('  JSON of the full answer (jsonutils.dumps)',
            lambda: jsonutils.dumps(full), no_count, size=False)
    measure('  JSON of the all-unchanged answer',
            lambda: jsonutils.dumps(stubs), no_count, size=False)
    measure('get_ports_for_agent, in-process',
            lambda: endpoint.get_ports_for_agent(admin, host), spokes_in_items)
    if not args.skip_original:
        measure('original: every spoke, in-process',
                lambda: original_approach(plugin, admin, host), spokes_in_items,
                size=False)
    measure('get_hubs, RPC round trip',
            lambda: agent.get_hubs(), spokes_in_hubs)
    measure('get_hubs 1.4, all unchanged, RPC round trip',
            lambda: agent.get_hubs(digests=digests), spokes_in_hubs)
    measure('get_ports_for_agent, RPC round trip',
            lambda: agent.call('get_ports_for_agent', version='1.2', agent=host),
            spokes_in_items)
    if not args.skip_original:
        measure('original: GET /v2.0/ports?device_owner=spoke (REST)',
                lambda: api.list('port', device_owner='channel:wireguard:spoke'), len,
                size=False)

    print('\n%d spokes in the cloud, %d on the %d hubs of %s; median (best) of %d runs'
          % (args.spokes, args.local_spokes, args.local_hubs, host, args.repeat))
    print('%-48s %10s %10s %7s %10s %10s' % ('query', 'median ms', 'best ms',
                                             'spokes', 'JSON B', 'wire B'))
    for name, median, best, count, size in rows:
        print('%-48s %10.1f %10.1f %7s %10s %10s' % (
            name, median * 1000, best * 1000, '' if count is None else count,
            size[0] if size else '', size[1] if size else ''))
    sys.stdout.flush()
    agent.close()
    os._exit(0)  # oslo.messaging's reply poller would keep the process ~10 s


if __name__ == '__main__':
    main()
