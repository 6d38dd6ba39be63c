# The q-wireguard RPC endpoint of a real neutron-server, called as a WireGuard agent calls it.

import hashlib
import json
import time

import pytest

from networking_wireguard.tests.functional import clients


def canonical_sha256(entry):
    """docs/rpc.md's digest, computed on what came over the wire."""
    entry = {k: v for k, v in entry.items() if k != 'digest'}
    return hashlib.sha256(json.dumps(entry, sort_keys=True, separators=(',', ':'))
                          .encode('utf-8')).hexdigest()


def test_get_hubs(api, network, alive_agent, make_hub, make_spoke):
    hub = make_hub(root_device=False)
    other = make_hub()
    spoke = make_spoke([hub, other], endpoint='198.51.100.7:51820')
    answer = alive_agent.call('get_hubs', host=alive_agent.host)
    hubs = {h['id']: h for h in answer['hubs']}
    assert {hub['id'], other['id']} <= set(hubs)
    assert [h['id'] for h in answer['hubs']] == sorted(hubs)
    mine = hubs[hub['id']]
    assert mine['mtu'] == network[0]['mtu']
    assert mine['router_id'] is None and mine['root_device'] is False
    assert mine['fixed_ips'][0]['cidr'] == '10.77.0.0/24'
    assert mine['fixed_ips'][0]['gateway_ip'] == '10.77.0.1'
    assert mine['spokes'] == [{'id': spoke['id'],
                               'public_key': spoke['binding:profile']['public_key'],
                               'endpoint': '198.51.100.7:51820',
                               'fixed_ips': spoke['fixed_ips']}]
    only = alive_agent.call('get_hubs', host=alive_agent.host, hub_ids=[other['id']])
    assert [h['id'] for h in only['hubs']] == [other['id']]
    assert alive_agent.call('get_hubs', host='wgf-nobody') == {'hubs': []}


def test_original_api(api, network, alive_agent, make_hub, make_spoke):
    hub = make_hub()
    spoke = make_spoke([hub])
    answer = alive_agent.call('get_ports_for_agent', version='1.2', agent=alive_agent.host)
    mine = [item for item in answer if item['hub']['id'] == hub['id']]
    assert len(mine) == 1
    assert mine[0]['hub']['binding:vif_type'] == 'wireguard'
    assert [s['id'] for s in mine[0]['spokes']] == [spoke['id']]
    subnet = alive_agent.call('get_subnet', version='1.2', subnet_id=network[1]['id'])
    assert subnet['cidr'] == '10.77.0.0/24'
    assert alive_agent.call('get_subnet', version='1.2',
                            subnet_id='6a3f1a5e-0000-4000-8000-000000000000') is None


def test_update_hub_port_then_device_up_ends_active(api, alive_agent, make_hub):
    hub = make_hub()
    key = clients.new_key()
    assert alive_agent.call('update_hub_port', version='1.2', port_id=hub['id'],
                            endpoint='192.0.2.10:51820', public_key=key) is None
    alive_agent.devices_up(hub['id'])
    port = api.show('port', hub['id'])
    assert port['status'] == 'ACTIVE'
    assert port['binding:vif_type'] == 'wireguard'
    assert port['binding:profile'] == {'public_key': key, 'endpoint': '192.0.2.10:51820'}
    assert port['revision_number'] > hub['revision_number']
    # a later report (new listen port) does not unbind or reset the status
    alive_agent.call('update_hub_port', version='1.2', port_id=hub['id'],
                     endpoint='192.0.2.10:51821', public_key=key)
    for _ in range(3):
        port = api.show('port', hub['id'])
        assert (port['status'], port['binding:vif_type']) == ('ACTIVE', 'wireguard')
        time.sleep(0.5)
    assert port['binding:profile']['endpoint'] == '192.0.2.10:51821'
    hubs = alive_agent.call('get_hubs', host=alive_agent.host, hub_ids=[hub['id']])['hubs']
    assert (hubs[0]['public_key'], hubs[0]['endpoint'], hubs[0]['status']) == (
        key, '192.0.2.10:51821', 'ACTIVE')


def test_get_hubs_digests(api, alive_agent, make_hub, make_spoke):
    """get_hubs 1.4: digests in every entry, stubs for the hubs whose digest the agent sends."""
    hub, other, gone = make_hub(), make_hub(), make_hub()
    spoke = make_spoke([hub, other], endpoint='198.51.100.7:51820')
    mine = sorted([hub['id'], other['id'], gone['id']])
    full = alive_agent.get_hubs(hub_ids=mine, digests={})
    assert [h['id'] for h in full['hubs']] == mine
    for entry in full['hubs']:
        assert 'unchanged' not in entry
        assert entry['digest'] == canonical_sha256(entry)
    # a 1.3 call (no digests): the same full entries, digests included
    assert alive_agent.get_hubs(hub_ids=mine) == full
    digests = {h['id']: h['digest'] for h in full['hubs']}
    assert len(set(digests.values())) == 3

    # nothing changed: every hub a stub, in the same order
    stubs = alive_agent.get_hubs(hub_ids=mine, digests=digests)
    assert stubs == {'hubs': [{'id': i, 'digest': digests[i], 'unchanged': True}
                              for i in mine]}
    # a full sync (hub_ids null) lists them too
    assert {h['id']: h for h in alive_agent.get_hubs(digests=digests)['hubs']
            if h['id'] in digests} == {h['id']: h for h in stubs['hubs']}

    # a spoke's endpoint changes: both of its hubs in full, the third still a stub
    api.update('port', spoke['id'], **{'binding:profile': dict(
        spoke['binding:profile'], endpoint='198.51.100.8:51820')})
    # a hub is deleted: absent, although the agent sent its digest
    api.delete('port', gone['id'])
    answer = {h['id']: h for h in alive_agent.get_hubs(hub_ids=mine,
                                                       digests=digests)['hubs']}
    assert sorted(answer) == sorted([hub['id'], other['id']])
    for hub_id in (hub['id'], other['id']):
        entry = answer[hub_id]
        assert 'unchanged' not in entry
        assert entry['digest'] != digests[hub_id]
        assert entry['digest'] == canonical_sha256(entry)
        assert entry['spokes'][0]['endpoint'] == '198.51.100.8:51820'
    assert alive_agent.get_hubs(hub_ids=mine, digests={
        i: answer[i]['digest'] for i in answer})['hubs'] == [
        {'id': i, 'digest': answer[i]['digest'], 'unchanged': True}
        for i in sorted(answer)]


def test_get_hubs_versions(alive_agent, make_hub):
    hub = make_hub()
    answers = [alive_agent.get_hubs(hub_ids=[hub['id']], version=v)
               for v in ('1.3', '1.4')]
    assert answers[0] == answers[1]
    assert answers[0]['hubs'][0]['digest'] == canonical_sha256(answers[0]['hubs'][0])
    # what an agent newer than the server sees: its cue to fall back
    with pytest.raises(Exception) as error:
        alive_agent.get_hubs(hub_ids=[hub['id']], digests={}, version='1.7')
    assert 'UnsupportedVersion' in '%s %s' % (type(error.value).__name__, error.value)


def test_update_spoke_status_sets_spokes_and_never_their_hub(api, alive_agent, make_hub,
                                                              make_spoke):
    """1.5: the spokes' liveness from their hub's agent; the hub keeps its status and entry."""
    hub = make_hub()
    alive_agent.devices_up(hub['id'])
    spoke = make_spoke([hub])
    before = api.show('port', hub['id'])
    digest = alive_agent.get_hubs(hub_ids=[hub['id']], version='1.4')['hubs'][0]['digest']
    entry = {'hub_id': hub['id'], 'spoke_id': spoke['id'], 'active': True,
             'latest_handshake': int(time.time()) - 5, 'endpoint': '198.51.100.7:40000',
             'rx_bytes': 148, 'tx_bytes': 92}
    assert alive_agent.call('update_spoke_status', version='1.5', host=alive_agent.host,
                            spokes=[entry]) is None
    assert api.show('port', spoke['id'])['status'] == 'ACTIVE'
    alive_agent.call('update_spoke_status', version='1.5', host=alive_agent.host,
                     spokes=[dict(entry, active=False)])
    assert api.show('port', spoke['id'])['status'] == 'DOWN'
    after = api.show('port', hub['id'])
    assert (after['status'], after['revision_number']) == ('ACTIVE', before['revision_number'])
    # The hub's entry (what the agent re-fetches) did not change: a stub for its digest.
    stub = alive_agent.get_hubs(hub_ids=[hub['id']], digests={hub['id']: digest},
                                version='1.4')['hubs'][0]
    assert stub.get('unchanged') is True
    # Another host's agent cannot report about this host's hubs.
    alive_agent.call('update_spoke_status', version='1.5', host='wgf-nobody', spokes=[entry])
    assert api.show('port', spoke['id'])['status'] == 'DOWN'
