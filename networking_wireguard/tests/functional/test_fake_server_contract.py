# The C++ agent's reconcile tests run against a FakeServer (agent/reconcile/tests/fake_server.h).
# These are the same scenarios (tests/contract/get_hubs_scenarios.json) against the real driver in a
# real neutron-server, so that the fake cannot drift from what the driver does: each scenario runs
# on a host of its own, with the agent's RPC calls made as the agent makes them.

import json
import os
import uuid

import pytest

from networking_wireguard.tests.functional import clients

SCENARIOS = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'tests', 'contract',
                         'get_hubs_scenarios.json')


def load():
    with open(SCENARIOS) as f:
        return json.load(f)['scenarios']


class Player(object):
    """Plays a scenario on Neutron: names become ports of this scenario's own agent host."""

    def __init__(self, api, agent, network, project, version='1.4'):
        self.v16 = version == '1.6'
        self.remembered_revisions = {}
        self.api = api
        self.agent = agent
        self.network, self.subnet = network
        self.project = project
        self.host = 'wgc-' + uuid.uuid4().hex[:8]
        self.agent.report_state(host=self.host)  # alive: hubs bind to it
        self.ids = {}
        self.names = {}
        self.spoke_keys = {}
        self.spoke_hubs = {}
        self.remembered = {}
        self.hub_key = {}

    def step(self, s):
        getattr(self, s['do'])(s)

    def _port(self, name, port):
        self.ids[name] = port['id']
        self.names[port['id']] = name

    def create_hub(self, s):
        self._port(s['name'], self.api.create(
            'port', network_id=self.network['id'], project_id=self.project,
            device_owner='channel:wireguard:hub', **{'binding:host_id': self.host}))

    def create_spoke(self, s):
        key = clients.new_key()
        hubs = [self.ids[h] for h in s['hubs']]
        self.spoke_keys[s['name']] = key
        self.spoke_hubs[s['name']] = hubs
        self._port(s['name'], self.api.create(
            'port', network_id=self.network['id'], project_id=self.project,
            device_owner='channel:wireguard:spoke',
            **{'binding:profile': {'public_key': key, 'peers': hubs}}))

    def delete(self, s):
        self.api.delete('port', self.ids[s['name']])

    def set_spoke_endpoint(self, s):
        name = s['name']
        self.api.update('port', self.ids[name], **{'binding:profile': {
            'public_key': self.spoke_keys[name], 'peers': self.spoke_hubs[name],
            'endpoint': s['endpoint']}})

    def update_hub_port(self, s):
        port_id = self.ids[s['name']]
        key = self.hub_key.setdefault(port_id, clients.new_key())
        self.agent.call('update_hub_port', version='1.2', port_id=port_id,
                        endpoint='203.0.113.1:51820', public_key=key)

    def device_up(self, s):
        self.agent.plugin.call({}, 'update_device_list', devices_up=[self.ids[s['name']]],
                               devices_down=[], agent_id='wg-' + self.host, host=self.host)

    def get_hubs(self, s):
        hubs = s.get('hubs')
        send = s.get('digests', 'none') == 'remembered'
        hub_ids = None if hubs is None else [self.ids[h] for h in hubs]
        if self.v16:
            answer = self.agent.call('get_hubs', version='1.6', host=self.host, hub_ids=hub_ids,
                                     revisions=dict(self.remembered_revisions) if send else None,
                                     spokes_limit=1000)
        else:
            answer = self.agent.get_hubs(hub_ids=hub_ids,
                                         digests=dict(self.remembered) if send else None,
                                         host=self.host)
        expect = s['expect']
        full, stubs, deltas = set(), set(), set()
        for hub in answer['hubs']:
            name = self.names[hub['id']]
            if hub.get('unchanged'):
                stubs.add(name)
                continue
            (deltas if 'base_revision' in hub else full).add(name)
            if s.get('remember'):
                if 'digest' in hub:
                    self.remembered[hub['id']] = hub['digest']
                if 'revision' in hub:
                    self.remembered_revisions[hub['id']] = hub['revision']
            if name in expect.get('removed', {}):
                assert {self.names[i] for i in hub.get('removed_spokes', [])} == set(
                    expect['removed'][name]), hub
            if name in expect.get('spokes', {}):
                assert {self.names[sp['id']] for sp in hub['spokes']} == set(expect['spokes'][name]), hub
            if name in expect.get('status', {}):
                assert hub['status'] == expect['status'][name], hub
            for sp in hub['spokes']:
                spoke = self.names[sp['id']]
                if spoke in expect.get('endpoints', {}):
                    assert sp['endpoint'] == expect['endpoints'][spoke], sp
            if name in expect.get('reported', []):
                assert hub['public_key'] and hub['endpoint'], hub
        if 'full' in expect:
            assert full == set(expect['full']), ('answered in full', full)
        if 'stubs' in expect:
            assert stubs == set(expect['stubs']), ('answered as stubs', stubs)
        if 'deltas' in expect:
            assert deltas == set(expect['deltas']), ('answered as deltas', deltas)

    def close(self):
        for port_id in self.ids.values():
            self.api.request('DELETE', '/ports/%s' % port_id)


@pytest.mark.parametrize('scenario', load(), ids=lambda s: s['name'])
def test_the_driver_behaves_as_the_fake_server_assumes(api, agent, network, project, scenario):
    player = Player(api, agent, network, project, scenario.get('version', '1.4'))
    try:
        for number, step in enumerate(scenario['steps'], 1):
            try:
                player.step(step)
            except AssertionError as exc:
                raise AssertionError('step %d %s: %s' % (number, json.dumps(step), exc))
    finally:
        player.close()
