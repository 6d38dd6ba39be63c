# The REST API of a real neutron-server with the wireguard driver (MariaDB, noauth).

import json
import os
import subprocess

from networking_wireguard.tests.functional import clients


def test_hub_binds_on_its_agents_host(make_hub, alive_agent):
    hub = make_hub()
    assert hub['binding:vif_type'] == 'wireguard'
    assert hub['binding:vif_details']['device_name'] == 'wg-' + hub['id'][:11]
    assert hub['binding:host_id'] == alive_agent.host
    assert hub['status'] == 'DOWN'


def test_hub_without_agent_fails_to_bind(make_hub):
    hub = make_hub(host='wgf-no-agent-here')
    assert hub['binding:vif_type'] == 'binding_failed'


def test_spoke_is_stored_unbound(api, make_hub, make_spoke):
    hub = make_hub()
    spoke = make_spoke([hub], endpoint='[2001:db8::5]:51820')
    assert spoke['binding:vif_type'] == 'unbound'
    assert spoke['binding:profile']['peers'] == [hub['id']]
    assert api.show('port', spoke['id'])['binding:profile']['endpoint'] == \
        '[2001:db8::5]:51820'


def _assert_refused(api, network, body, field):
    status, answer = api.request('POST', '/ports', {'port': body})
    assert status == 400, answer
    assert field in answer['NeutronError']['message'], answer
    assert api.list('port', name=body['name']) == []


def test_invalid_ports_are_refused_and_not_stored(api, network, project, make_hub):
    hub = make_hub()
    base = {'network_id': network[0]['id'], 'project_id': project,
            'device_owner': 'channel:wireguard:spoke'}
    for name, profile, field in (
            ('wgf-bad-key', {'public_key': 'AAAA', 'peers': [hub['id']]},
             'binding:profile.public_key'),
            ('wgf-no-peers', {'public_key': clients.new_key(), 'peers': []},
             'binding:profile.peers'),
            ('wgf-bad-endpoint', {'public_key': clients.new_key(), 'peers': [hub['id']],
                                  'endpoint': '203.0.113.9:99999'},
             'binding:profile.endpoint'),
            ('wgf-unknown-key', {'public_key': clients.new_key(), 'peers': [hub['id']],
                                 'colour': 'blue'}, 'binding:profile')):
        _assert_refused(api, network, dict(base, name=name,
                                           **{'binding:profile': profile}), field)
    _assert_refused(api, network, {'network_id': network[0]['id'], 'project_id': project,
                                   'name': 'wgf-hub-no-host',
                                   'device_owner': 'channel:wireguard:hub'},
                    'binding:host_id')


def test_duplicate_spoke_key_refused(make_hub, make_spoke):
    hub = make_hub()
    key = clients.new_key()
    make_spoke([hub], key=key)
    answer = make_spoke([hub], key=key, expected=400)
    assert 'another spoke of hub %s' % hub['id'] in answer['NeutronError']['message']


def test_openstack_cli_creates_a_spoke(api, network, make_hub, ports):
    # Without keystone the CLI cannot name a project: noauth gives its ports this one, and a
    # spoke's hubs must be in the spoke's project.
    hub = make_hub(project_id='fake_project_id')
    key = clients.new_key()
    env = dict(os.environ, OS_AUTH_TYPE='none',
               OS_ENDPOINT=os.environ['NWG_NEUTRON_URL'])
    out = subprocess.run(
        ['openstack', 'port', 'create', '-f', 'json', '--network', network[0]['id'],
         '--device-owner', 'channel:wireguard:spoke',
         '--binding-profile', json.dumps({'public_key': key, 'peers': [hub['id']]}),
         'wgf-cli-spoke'],
        env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    port = json.loads(out.stdout)
    ports.append(port['id'])
    assert port['device_owner'] == 'channel:wireguard:spoke'
    assert api.show('port', port['id'])['binding:profile'] == {
        'public_key': key, 'peers': [hub['id']]}
