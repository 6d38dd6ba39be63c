# Spoke liveness (issue #12): update_spoke_status (q-wireguard 1.5) on Neutron's ML2 test base: the
# spoke ports' status from the agents' reports, only changes written, hubs never touched, old and
# new callers on both sides, and the tenant API's read-only connection attributes with their
# policies.

import datetime
from unittest import mock

from neutron import policy
from neutron_lib import constants as n_const
from neutron_lib import exceptions as n_exc
from oslo_policy import policy as oslo_policy
import oslo_messaging

from networking_wireguard import constants
from networking_wireguard.tests.unit import base

SPOKE = 'wireguard_spoke'
T0 = 1766000000  # a unix time


def entry(hub, spoke, active=True, handshake=T0, endpoint='198.51.100.7:40000',
          rx=148, tx=92):
    return {'hub_id': hub['id'], 'spoke_id': spoke['id'], 'active': active,
            'latest_handshake': handshake, 'endpoint': endpoint,
            'rx_bytes': rx, 'tx_bytes': tx}


class LivenessTestCase(base.WireGuardApiTestCase):

    def setUp(self):
        super().setUp()
        self.hub = self.create_hub()
        self.hub_up(self.hub['id'])
        self.spoke = self.create_spoke([self.hub])
        self.notified_hubs()

    def report(self, *entries, host=base.HOST):
        return self.rpc.update_spoke_status(None, host, list(entries))

    def status(self, port_id):
        return self.show_port(port_id)['status']

    def peering(self, spoke_id, hub_id):
        self.admin.session.expire_all()
        from networking_wireguard.db import models
        return self.admin.session.query(models.WireGuardPeering).filter_by(
            spoke_id=spoke_id, hub_id=hub_id).one()


class TestUpdateSpokeStatus(LivenessTestCase):

    def test_a_spoke_turns_active_and_down_and_its_hub_never_moves(self):
        hub_before = self.show_port(self.hub['id'])
        self.assertEqual(n_const.PORT_STATUS_DOWN, self.status(self.spoke['id']))
        self.assertIsNone(self.report(entry(self.hub, self.spoke)))
        self.assertEqual(n_const.PORT_STATUS_ACTIVE, self.status(self.spoke['id']))
        row = self.peering(self.spoke['id'], self.hub['id'])
        self.assertEqual((True, datetime.datetime(2025, 12, 17, 19, 33, 20),
                          '198.51.100.7:40000', 148, 92),
                         (row.active, row.latest_handshake, row.endpoint,
                          row.rx_bytes, row.tx_bytes))
        self.assertIsNotNone(row.reported_at)
        self.report(entry(self.hub, self.spoke, active=False))
        self.assertEqual(n_const.PORT_STATUS_DOWN, self.status(self.spoke['id']))
        # The hub: same status, same revision (its digest for the agents is unchanged), and no
        # agent was told to re-fetch anything.
        hub_after = self.show_port(self.hub['id'])
        self.assertEqual((n_const.PORT_STATUS_ACTIVE, hub_before['revision_number']),
                         (hub_after['status'], hub_after['revision_number']))
        self.assertEqual([], self.notified_hubs())

    def test_only_changes_are_written(self):
        self.report(entry(self.hub, self.spoke))
        revision = self.show_port(self.spoke['id'])['revision_number']
        reported_at = self.peering(self.spoke['id'], self.hub['id']).reported_at
        # An agent's first report after a restart repeats what the table has: nothing changes.
        with mock.patch.object(self.driver, 'update_port_statuses') as statuses:
            self.report(entry(self.hub, self.spoke))
        statuses.assert_not_called()
        self.assertEqual(revision, self.show_port(self.spoke['id'])['revision_number'])
        self.assertEqual(reported_at,
                         self.peering(self.spoke['id'], self.hub['id']).reported_at)
        # New counters are stored; the port's status, already right, is not written again.
        with mock.patch.object(self.driver, 'update_port_statuses') as statuses:
            self.report(entry(self.hub, self.spoke, rx=10 ** 12, tx=2 ** 64 - 1))
        statuses.assert_not_called()
        row = self.peering(self.spoke['id'], self.hub['id'])
        self.assertEqual((10 ** 12, 2 ** 63 - 1), (row.rx_bytes, row.tx_bytes))

    def test_many_spokes_in_one_call(self):
        spokes = [self.create_spoke([self.hub]) for _ in range(20)]
        self.report(*[entry(self.hub, s, active=i % 2 == 0)
                      for i, s in enumerate(spokes)])
        self.assertEqual(
            [n_const.PORT_STATUS_ACTIVE, n_const.PORT_STATUS_DOWN] * 10,
            [self.status(s['id']) for s in spokes])

    def test_another_hosts_hubs_and_non_peerings_are_ignored(self):
        base.register_wireguard_agent(base.OTHER_HOST)
        self.report(entry(self.hub, self.spoke), host=base.OTHER_HOST)
        self.assertEqual(n_const.PORT_STATUS_DOWN, self.status(self.spoke['id']))
        other_hub = self.create_hub(host=base.HOST)
        self.report(entry(other_hub, self.spoke))  # not a peering of this spoke
        self.assertEqual(n_const.PORT_STATUS_DOWN, self.status(self.spoke['id']))
        self.report({'hub_id': self.hub['id'], 'spoke_id': self.hub['id'],
                     'active': True, 'latest_handshake': T0, 'endpoint': None,
                     'rx_bytes': 0, 'tx_bytes': 0})  # a hub is no spoke
        self.assertEqual(n_const.PORT_STATUS_ACTIVE, self.status(self.hub['id']))

    def test_a_spoke_of_two_hubs_on_two_hosts_is_active_while_either_sees_it(self):
        base.register_wireguard_agent(base.OTHER_HOST)
        second = self.create_hub(host=base.OTHER_HOST)
        spoke = self.create_spoke([self.hub, second])
        self.report(entry(self.hub, spoke))
        self.report(entry(second, spoke, active=False, handshake=None,
                          endpoint=None), host=base.OTHER_HOST)
        self.assertEqual(n_const.PORT_STATUS_ACTIVE, self.status(spoke['id']))
        self.report(entry(self.hub, spoke, active=False))
        self.assertEqual(n_const.PORT_STATUS_DOWN, self.status(spoke['id']))
        self.report(entry(second, spoke), host=base.OTHER_HOST)
        self.assertEqual(n_const.PORT_STATUS_ACTIVE, self.status(spoke['id']))

    def test_malformed_entries_are_skipped_and_a_malformed_call_refused(self):
        good = entry(self.hub, self.spoke)
        bad = [None, 'x', dict(good, active='yes'), dict(good, spoke_id='../x'),
               dict(good, rx_bytes=-1), dict(good, tx_bytes=1.5),
               dict(good, latest_handshake='now'), dict(good, latest_handshake=True),
               dict(good, endpoint='localhost'), {k: v for k, v in good.items()
                                                  if k != 'hub_id'}]
        self.report(*bad)
        self.assertEqual(n_const.PORT_STATUS_DOWN, self.status(self.spoke['id']))
        self.report(*(bad + [good]))
        self.assertEqual(n_const.PORT_STATUS_ACTIVE, self.status(self.spoke['id']))
        for spokes in ({'a': 1}, None, [good] * (constants.MAX_SPOKE_REPORTS + 1)):
            with self.subTest(spokes=type(spokes)):
                self.assertRaises(n_exc.InvalidInput, self.rpc.update_spoke_status,
                                  None, base.HOST, spokes)

    def test_a_profile_change_keeps_a_connected_spoke_active_but_a_new_key_does_not(self):
        self.report(entry(self.hub, self.spoke))
        # ML2 resets a port to DOWN when its binding:profile changes; the spoke is still
        # connected (its agent reports only changes), so the driver puts ACTIVE back.
        profile = dict(self.show_port(self.spoke['id'])['binding:profile'],
                       endpoint='198.51.100.8:51820')
        updated = self.update_port(self.spoke['id'], **{'binding:profile': profile})
        self.assertEqual(n_const.PORT_STATUS_ACTIVE, updated['status'])
        self.assertEqual(n_const.PORT_STATUS_ACTIVE, self.status(self.spoke['id']))
        # A new key is a new peer: DOWN until it handshakes, and the old key's numbers go.
        profile['public_key'] = base.new_key()
        self.update_port(self.spoke['id'], **{'binding:profile': profile})
        self.assertEqual(n_const.PORT_STATUS_DOWN, self.status(self.spoke['id']))
        row = self.peering(self.spoke['id'], self.hub['id'])
        self.assertEqual((False, None, None, 0, 0), (
            row.active, row.latest_handshake, row.endpoint, row.rx_bytes,
            row.tx_bytes))


class TestVersions(LivenessTestCase):
    """oslo.messaging's rules on both sides: old agents and old servers keep working."""

    def dispatch(self, endpoint, method, version, **args):
        dispatcher = oslo_messaging.RPCDispatcher([endpoint], None)
        incoming = mock.Mock(ctxt={}, client_timeout=None, message={
            'method': method, 'version': version, 'args': args})
        return dispatcher.dispatch(incoming)

    def test_this_server_serves_old_agents_and_update_spoke_status(self):
        for version in ('1.2', '1.3', '1.4'):
            with self.subTest(version=version):
                self.assertIn('hubs', self.dispatch(self.rpc, 'get_hubs', version,
                                                    host=base.HOST))
        self.assertIsNone(self.dispatch(
            self.rpc, 'update_spoke_status', '1.5', host=base.HOST,
            spokes=[entry(self.hub, self.spoke)]))
        self.assertEqual(n_const.PORT_STATUS_ACTIVE, self.status(self.spoke['id']))
        self.assertRaises(oslo_messaging.UnsupportedVersion, self.dispatch,
                          self.rpc, 'update_spoke_status', '1.7', host=base.HOST,
                          spokes=[])

    def test_an_older_server_refuses_the_call_the_agent_falls_back_on(self):
        class OlderServer(object):
            target = oslo_messaging.Target(version='1.4')

            def get_hubs(self, context, host, hub_ids=None, digests=None):
                return {'hubs': []}

        # What the agent gets from a server of the previous version: UnsupportedVersion (it
        # then stops reporting spoke status for a while; agent/monitor/peer_monitor.cpp).
        self.assertRaises(oslo_messaging.UnsupportedVersion, self.dispatch,
                          OlderServer(), 'update_spoke_status', '1.5',
                          host=base.HOST, spokes=[])


class TestConnectionAttributes(LivenessTestCase):

    def test_the_owner_reads_the_connection_without_admin_rights(self):
        shown = self.api_show(SPOKE, self.spoke['id'], context=base.member())
        self.assertEqual((n_const.PORT_STATUS_DOWN, None, None, 0, 0, None), (
            shown['connection_status'], shown['latest_handshake_at'],
            shown['last_endpoint'], shown['rx_bytes'], shown['tx_bytes'],
            shown['connection_updated_at']))
        self.report(entry(self.hub, self.spoke, rx=1000, tx=2000))
        for context in (base.member(), base.member(roles=('reader',)), base.admin()):
            shown = self.api_show(SPOKE, self.spoke['id'], context=context)
            self.assertEqual((n_const.PORT_STATUS_ACTIVE, '2025-12-17T19:33:20Z',
                              '198.51.100.7:40000', 1000, 2000), (
                shown['connection_status'], shown['latest_handshake_at'],
                shown['last_endpoint'], shown['rx_bytes'], shown['tx_bytes']))
            self.assertRegex(shown['connection_updated_at'],
                             r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
        listed = self.api_list(SPOKE, context=base.member())
        self.assertEqual(1000, listed[0]['rx_bytes'])
        # Read-only.
        self.api_update(SPOKE, self.spoke['id'], context=base.admin(),
                        expected=400, rx_bytes=0)
        self.api_show(SPOKE, self.spoke['id'], context=base.member(base.OTHER_PROJECT),
                      expected=404)

    def test_two_hubs_latest_handshake_wins_and_bytes_add_up(self):
        second = self.create_hub()
        spoke = self.create_spoke([self.hub, second])
        self.report(entry(self.hub, spoke, handshake=T0, endpoint='198.51.100.7:1', rx=1),
                    entry(second, spoke, handshake=T0 + 60, endpoint='198.51.100.7:2',
                          rx=2, tx=3))
        shown = self.api_show(SPOKE, spoke['id'], context=base.member())
        self.assertEqual(('2025-12-17T19:34:20Z', '198.51.100.7:2', 3, 95), (
            shown['latest_handshake_at'], shown['last_endpoint'], shown['rx_bytes'],
            shown['tx_bytes']))

    def test_each_attribute_has_its_own_policy(self):
        # An operator who keeps some of it for admins (policy.yaml)
        policy.set_rules(oslo_policy.Rules.from_dict({
            'get_wireguard_spoke:rx_bytes': 'role:admin',
            'get_wireguard_spoke:last_endpoint': 'role:admin'}), overwrite=False)
        self.addCleanup(policy.reset)
        shown = self.api_show(SPOKE, self.spoke['id'], context=base.member())
        self.assertNotIn('rx_bytes', shown)
        self.assertNotIn('last_endpoint', shown)
        self.assertIn('tx_bytes', shown)
        self.assertIn('connection_status', shown)
        shown = self.api_show(SPOKE, self.spoke['id'], context=base.admin())
        self.assertIn('rx_bytes', shown)
