# The q-wireguard RPC endpoint of a real neutron-server, called as a WireGuard agent calls it.

import time

from networking_wireguard.tests.functional import clients


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
