# get_hubs 1.6 (docs/scale.md): hub revisions, deltas since an agent's revision, bounded answers
# and get_hub_spokes pages, on Neutron's ML2 test base.

from neutron_lib.api.definitions import portbindings
from neutron_lib import exceptions as n_exc

from networking_wireguard import constants
from networking_wireguard.db import wireguard_db as wg_db
from networking_wireguard.tests.unit import base

KEY = constants.PROFILE_PUBLIC_KEY
PROFILE = portbindings.PROFILE


class TestDeltas(base.WireGuardTestCase):

    def setUp(self):
        super().setUp()
        self.hub = self.create_hub()
        self.other = self.create_hub()
        self.spoke = self.create_spoke([self.hub])

    def entry(self, hub_id, **kwargs):
        answer = self.rpc.get_hubs(None, base.HOST, **kwargs)['hubs']
        return {h['id']: h for h in answer}.get(hub_id)

    def revision(self, hub_id):
        return self.entry(hub_id, spokes_limit=100)['revision']

    def spoke_ids(self, entry):
        return sorted(s['id'] for s in entry['spokes'])

    def test_every_entry_has_a_revision_and_a_spoke_change_bumps_only_its_hubs(self):
        hub, other = self.revision(self.hub['id']), self.revision(self.other['id'])
        self.assertGreaterEqual(hub, 1)  # the spoke's creation
        spoke = self.create_spoke([self.hub])
        self.assertEqual(hub + 1, self.revision(self.hub['id']))
        self.assertEqual(other, self.revision(self.other['id']))
        # what the agent does not see bumps nothing
        self.update_port(spoke['id'], name='renamed')
        self.assertEqual(hub + 1, self.revision(self.hub['id']))
        # nor does a change of the hub itself (its fields come in every entry)
        self.update_port(self.hub['id'], name='renamed')
        self.assertEqual(hub + 1, self.revision(self.hub['id']))

    def test_a_delta_holds_what_changed_since(self):
        since = self.revision(self.hub['id'])
        added = self.create_spoke([self.hub], endpoint='198.51.100.7:51820')
        new_key = base.new_key()
        self.update_port(self.spoke['id'], **{PROFILE: {KEY: new_key, 'peers': [self.hub['id']]}})
        entry = self.entry(self.hub['id'], revisions={self.hub['id']: since})
        self.assertEqual(since, entry['base_revision'])
        self.assertEqual(since + 2, entry['revision'])
        self.assertEqual(sorted([added['id'], self.spoke['id']]), self.spoke_ids(entry))
        self.assertEqual([], entry['removed_spokes'])
        by_id = {s['id']: s for s in entry['spokes']}
        self.assertEqual(new_key, by_id[self.spoke['id']][KEY])
        self.assertEqual('198.51.100.7:51820', by_id[added['id']]['endpoint'])
        # the hub's own fields come too
        for field in ('project_id', 'network_id', 'admin_state_up', 'status', 'fixed_ips',
                      'mtu', 'router_id', 'root_device', 'public_key', 'endpoint'):
            self.assertIn(field, entry)
        # nothing since: an empty delta
        entry = self.entry(self.hub['id'], revisions={self.hub['id']: since + 2})
        self.assertEqual([], entry['spokes'])
        self.assertEqual([], entry['removed_spokes'])

    def test_removed_disabled_and_repeered_spokes_are_reported_removed(self):
        gone = self.create_spoke([self.hub])
        disabled = self.create_spoke([self.hub])
        moved = self.create_spoke([self.hub])
        since = self.revision(self.hub['id'])
        self._delete('ports', gone['id'])
        self.update_port(disabled['id'], admin_state_up=False)
        self.update_port(moved['id'], **{PROFILE: {KEY: moved[PROFILE][KEY],
                                                   'peers': [self.other['id']]}})
        entry = self.entry(self.hub['id'], revisions={self.hub['id']: since})
        self.assertEqual([], entry['spokes'])
        self.assertEqual(sorted([gone['id'], disabled['id'], moved['id']]),
                         entry['removed_spokes'])
        # the other hub gained the moved spoke
        other = self.entry(self.other['id'], revisions={self.other['id']: 0})
        self.assertEqual([moved['id']], self.spoke_ids(other))
        # re-enabled: back as a change, no longer removed
        self.update_port(disabled['id'], admin_state_up=True)
        entry = self.entry(self.hub['id'], revisions={self.hub['id']: since})
        self.assertEqual([disabled['id']], self.spoke_ids(entry))
        self.assertEqual(sorted([gone['id'], moved['id']]), entry['removed_spokes'])

    def test_answers_are_bounded_and_the_rest_comes_by_pages(self):
        spokes = [self.create_spoke([self.hub]) for _ in range(6)]
        ids = sorted([self.spoke['id']] + [s['id'] for s in spokes])
        entry = self.entry(self.hub['id'], spokes_limit=3)
        self.assertEqual(ids[:3], self.spoke_ids(entry))
        self.assertEqual(ids[2], entry['spokes_next'])
        self.assertNotIn('digest', entry)  # 1.6 answers are not hashed
        got = self.spoke_ids(entry)
        marker = entry['spokes_next']
        while marker:
            page = self.rpc.get_hub_spokes(None, base.HOST, self.hub['id'], marker=marker,
                                           limit=3)
            self.assertEqual(entry['revision'], page['revision'])
            got += [s['id'] for s in page['spokes']]
            marker = page['spokes_next']
        self.assertEqual(ids, got)
        # the other hub still gets at least one spoke when the budget is spent: a real marker
        self.create_spoke([self.other])
        self.create_spoke([self.other])
        answer = {h['id']: h for h in self.rpc.get_hubs(None, base.HOST, spokes_limit=2)['hubs']}
        for hub in answer.values():
            self.assertGreaterEqual(len(hub['spokes']), 1)

    def test_pages_of_a_delta(self):
        since = self.revision(self.hub['id'])
        added = sorted(self.create_spoke([self.hub])['id'] for _ in range(5))
        entry = self.entry(self.hub['id'], revisions={self.hub['id']: since}, spokes_limit=2)
        got = self.spoke_ids(entry)
        marker = entry['spokes_next']
        while marker:
            page = self.rpc.get_hub_spokes(None, base.HOST, self.hub['id'], marker=marker,
                                           limit=2, base_revision=since)
            self.assertEqual([], page['removed_spokes'])  # removals come with the first answer
            got += [s['id'] for s in page['spokes']]
            marker = page['spokes_next']
        self.assertEqual(added, got)

    def test_a_revision_beyond_the_history_gets_the_whole_entry(self):
        self.addCleanup(setattr, wg_db, 'REVISION_HISTORY', wg_db.REVISION_HISTORY)
        self.addCleanup(setattr, wg_db, 'PRUNE_EVERY', wg_db.PRUNE_EVERY)
        wg_db.REVISION_HISTORY, wg_db.PRUNE_EVERY = 2, 1
        since = self.revision(self.hub['id'])
        for _ in range(4):
            self._delete('ports', self.create_spoke([self.hub])['id'])
        entry = self.entry(self.hub['id'], revisions={self.hub['id']: since})
        self.assertNotIn('base_revision', entry)  # a full entry
        self.assertEqual([self.spoke['id']], self.spoke_ids(entry))
        self.assertRaises(n_exc.InvalidInput, self.rpc.get_hub_spokes, None, base.HOST,
                          self.hub['id'], marker=None, limit=10, base_revision=since)

    def test_malformed_arguments_are_refused(self):
        for kwargs in ({'revisions': ['x']}, {'revisions': {self.hub['id']: -1}},
                       {'revisions': {self.hub['id']: 'one'}}, {'spokes_limit': 0},
                       {'spokes_limit': True}):
            self.assertRaises(n_exc.InvalidInput, self.rpc.get_hubs, None, base.HOST, **kwargs)
        self.assertRaises(n_exc.InvalidInput, self.rpc.get_hub_spokes, None, base.HOST,
                          self.hub['id'], marker='../x')
        # another host's hub is not served
        self.assertRaises(n_exc.InvalidInput, self.rpc.get_hub_spokes, None, base.OTHER_HOST,
                          self.hub['id'])

    def test_older_agents_get_what_they_got(self):
        entry = self.entry(self.hub['id'])
        self.assertIn('digest', entry)
        self.assertNotIn('revision', entry)
        self.assertEqual([self.spoke['id']], self.spoke_ids(entry))
