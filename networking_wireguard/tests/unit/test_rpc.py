import base64
import hashlib
import json
from unittest import mock

from neutron import service
from neutron.tests.common import helpers
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as n_const
from neutron_lib import exceptions as n_exc
import oslo_messaging

from networking_wireguard import constants
from networking_wireguard import rpc as wg_rpc
from networking_wireguard.tests.unit import base
from networking_wireguard import validators

KEY = constants.PROFILE_PUBLIC_KEY
ENDPOINT = constants.PROFILE_ENDPOINT
PROFILE = portbindings.PROFILE


class TestGetHubs(base.WireGuardTestCase):

    def setUp(self):
        super().setUp()
        base.register_wireguard_agent(base.OTHER_HOST)
        self.hub_key = base.new_key()
        self.hub = self.create_hub(**{PROFILE: {KEY: self.hub_key,
                                                ENDPOINT: '203.0.113.1:51820'}})
        self.hub2 = self.create_hub(**{PROFILE: {'root_device': True}})
        self.far_hub = self.create_hub(host=base.OTHER_HOST)
        self.spoke_key = base.new_key()
        self.spoke = self.create_spoke([self.hub, self.hub2, self.far_hub],
                                       key=self.spoke_key,
                                       endpoint='198.51.100.2:51820')
        self.spoke2 = self.create_spoke([self.hub])
        self.disabled = self.create_spoke([self.hub])
        self.update_port(self.disabled['id'], admin_state_up=False)

    def test_full_sync(self):
        hubs = self.rpc.get_hubs(None, base.HOST)['hubs']
        self.assertEqual(sorted([self.hub['id'], self.hub2['id']]),
                         [h['id'] for h in hubs])
        hub = {h['id']: h for h in hubs}[self.hub['id']]
        # 1.4: the digest of the entry's canonical JSON; without digests, every hub in full
        self.assertEqual(canonical_sha256(hub), hub.pop('digest'))
        ip = self.hub['fixed_ips'][0]
        self.assertEqual({
            'id': self.hub['id'],
            'project_id': base.PROJECT,
            'network_id': self.network['id'],
            'admin_state_up': True,
            'status': n_const.PORT_STATUS_DOWN,
            'public_key': self.hub_key,
            'endpoint': '203.0.113.1:51820',
            'root_device': False,
            'mtu': self.network['mtu'],
            'router_id': None,
            'ovn_plug': None,
            'fixed_ips': [{'ip_address': ip['ip_address'],
                           'subnet_id': self.subnet['id'],
                           'cidr': '10.10.0.0/24', 'gateway_ip': '10.10.0.1',
                           'ip_version': 4}],
            'spokes': sorted([
                {'id': self.spoke['id'], 'public_key': self.spoke_key,
                 'endpoint': '198.51.100.2:51820',
                 'fixed_ips': self.spoke['fixed_ips']},
                {'id': self.spoke2['id'],
                 'public_key': self.spoke2[PROFILE][KEY], 'endpoint': None,
                 'fixed_ips': self.spoke2['fixed_ips']}],
                key=lambda s: s['id']),
        }, hub)
        hub2 = {h['id']: h for h in hubs}[self.hub2['id']]
        self.assertTrue(hub2['root_device'])
        self.assertIsNone(hub2['public_key'])
        self.assertEqual([self.spoke['id']], [s['id'] for s in hub2['spokes']])

    def test_selected_hubs(self):
        answer = self.rpc.get_hubs(None, base.HOST, hub_ids=[
            self.hub2['id'], self.far_hub['id'], 'not-a-hub'])
        # the hub of another host is absent: positively not this host's
        self.assertEqual([self.hub2['id']], [h['id'] for h in answer['hubs']])
        self.assertEqual({'hubs': []}, self.rpc.get_hubs(None, base.HOST,
                                                         hub_ids=[]))
        self.assertEqual([self.far_hub['id']], [
            h['id'] for h in self.rpc.get_hubs(None, base.OTHER_HOST)['hubs']])

    def test_unknown_host(self):
        self.assertEqual({'hubs': []}, self.rpc.get_hubs(None, 'nowhere'))

    def test_deleted_spoke_and_hub(self):
        self._delete('ports', self.spoke2['id'])
        hub = self.rpc.get_hubs(None, base.HOST, [self.hub['id']])['hubs'][0]
        self.assertEqual([self.spoke['id']], [s['id'] for s in hub['spokes']])
        self._delete('ports', self.hub['id'])
        self.assertEqual([], self.rpc.get_hubs(None, base.HOST,
                                               [self.hub['id']])['hubs'])

    def test_binding_retried_when_agent_alive(self):
        helpers.kill_agent(self.agent['id'])
        hub = self.create_hub()
        self.assertEqual(portbindings.VIF_TYPE_BINDING_FAILED,
                         hub[portbindings.VIF_TYPE])
        # still dead: listed, not bound
        self.assertIn(hub['id'], [h['id'] for h in self.rpc.get_hubs(
            None, base.HOST)['hubs']])
        self.assertEqual(portbindings.VIF_TYPE_BINDING_FAILED,
                         self.show_port(hub['id'])[portbindings.VIF_TYPE])
        base.register_wireguard_agent(base.HOST)  # report_state revives it
        self.rpc.get_hubs(None, base.HOST)
        self.assertEqual(constants.VIF_TYPE_WIREGUARD,
                         self.show_port(hub['id'])[portbindings.VIF_TYPE])


def canonical_sha256(entry):
    """docs/rpc.md's definition of a hub's digest, written out independently of rpc.py."""
    entry = {k: v for k, v in entry.items() if k != 'digest'}
    text = json.dumps(entry, sort_keys=True, separators=(',', ':'))
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


class TestHubDigests(base.WireGuardTestCase):
    """get_hubs 1.4: digests, and stubs for the hubs the agent already has."""

    def setUp(self):
        super().setUp()
        base.register_wireguard_agent(base.OTHER_HOST)
        self.hub = self.create_hub()
        self.hub2 = self.create_hub()
        self.far_hub = self.create_hub(host=base.OTHER_HOST)
        self.spoke = self.create_spoke([self.hub, self.far_hub],
                                       endpoint='198.51.100.2:51820')
        self.spoke2 = self.create_spoke([self.hub2])

    def digests(self, host=base.HOST):
        return {h['id']: h['digest']
                for h in self.rpc.get_hubs(None, host)['hubs']}

    def test_digest_present_and_stable(self):
        answer = self.rpc.get_hubs(None, base.HOST)
        for hub in answer['hubs']:
            self.assertRegex(hub['digest'], '^[0-9a-f]{64}$')
            self.assertEqual(canonical_sha256(hub), hub['digest'])
            self.assertNotIn('unchanged', hub)
        self.assertEqual(answer, self.rpc.get_hubs(None, base.HOST))
        digests = self.digests()
        self.assertEqual(2, len(set(digests.values())))
        # the same entry whether asked alone or in a full sync
        self.assertEqual(digests[self.hub['id']], self.rpc.get_hubs(
            None, base.HOST, [self.hub['id']])['hubs'][0]['digest'])
        # what the agent does not see changes nothing
        self.update_port(self.hub['id'], name='renamed')
        self.update_port(self.spoke['id'], name='renamed')
        self.assertEqual(digests, self.digests())

    def _assert_changes(self, change, hubs_changed, hubs_same=()):
        before = self.digests()
        change()
        after = self.digests()
        for hub in hubs_changed:
            self.assertNotEqual(before[hub['id']], after[hub['id']])
        for hub in hubs_same:
            self.assertEqual(before[hub['id']], after[hub['id']])

    def test_spoke_changes(self):
        spoke_id = self.spoke['id']
        profile = dict(self.spoke[PROFILE])
        hubs = ([self.hub], [self.hub2])

        def set_profile(**values):
            profile.update(values)
            self.update_port(spoke_id, **{PROFILE: profile})

        with self.subTest('key'):
            self._assert_changes(lambda: set_profile(**{KEY: base.new_key()}),
                                 *hubs)
        with self.subTest('endpoint'):
            self._assert_changes(
                lambda: set_profile(**{ENDPOINT: '198.51.100.3:51820'}), *hubs)
        with self.subTest('endpoint removed'):
            del profile[ENDPOINT]
            self._assert_changes(lambda: set_profile(), *hubs)
        with self.subTest('fixed IP'):
            self._assert_changes(lambda: self.update_port(spoke_id, fixed_ips=[
                {'subnet_id': self.subnet['id'], 'ip_address': self.free_ip()}]),
                *hubs)
        with self.subTest('disabled'):
            self._assert_changes(lambda: self.update_port(
                spoke_id, admin_state_up=False), *hubs)
        with self.subTest('enabled'):
            self._assert_changes(lambda: self.update_port(
                spoke_id, admin_state_up=True), *hubs)
        with self.subTest('peers'):
            self._assert_changes(
                lambda: set_profile(peers=[self.hub2['id']]),
                [self.hub, self.hub2])
        with self.subTest('added'):
            self._assert_changes(lambda: self.create_spoke([self.hub]), *hubs)
        with self.subTest('deleted'):
            self._assert_changes(lambda: self._delete('ports', spoke_id),
                                 [self.hub2], [self.hub])

    def test_hub_changes(self):
        hub_id = self.hub['id']
        hubs = ([self.hub], [self.hub2])
        with self.subTest('status'):
            self._assert_changes(lambda: self.driver.update_port_status(
                self.admin, hub_id, n_const.PORT_STATUS_ACTIVE, base.HOST),
                *hubs)
        with self.subTest('key and endpoint reported by the agent'):
            self._assert_changes(lambda: self.rpc.update_hub_port(
                None, port_id=hub_id, endpoint='192.0.2.1:51820',
                public_key=base.new_key()), *hubs)
        with self.subTest('endpoint reported by the agent'):
            key = self.show_port(hub_id)[PROFILE][KEY]
            self._assert_changes(lambda: self.rpc.update_hub_port(
                None, port_id=hub_id, endpoint='192.0.2.1:51821',
                public_key=key), *hubs)
        with self.subTest('admin state'):
            self._assert_changes(lambda: self.update_port(
                hub_id, admin_state_up=False), *hubs)
        with self.subTest('fixed IPs'):
            self._assert_changes(lambda: self.update_port(hub_id, fixed_ips=[
                {'subnet_id': self.subnet['id'], 'ip_address': self.free_ip()}]),
                *hubs)
        with self.subTest('root_device'):
            profile = dict(self.show_port(hub_id)[PROFILE], root_device=True)
            self._assert_changes(lambda: self.update_port(
                hub_id, **{PROFILE: profile}), *hubs)
        with self.subTest('subnet gateway'):
            self._assert_changes(lambda: self._update(
                'subnets', self.subnet['id'],
                {'subnet': {'gateway_ip': None}}),
                [self.hub, self.hub2])
        with self.subTest('network MTU'):
            self._assert_changes(lambda: self._update(
                'networks', self.network['id'], {'network': {'mtu': 1300}}),
                [self.hub, self.hub2])

    def test_unchanged_hubs_as_stubs(self):
        digests = self.digests()
        answer = self.rpc.get_hubs(None, base.HOST, digests=digests)
        self.assertEqual({'hubs': [
            {'id': hub_id, 'digest': digests[hub_id], 'unchanged': True}
            for hub_id in sorted(digests)]}, answer)
        # the same with hub_ids: only the hubs asked for
        self.assertEqual({'hubs': [{'id': self.hub2['id'],
                                    'digest': digests[self.hub2['id']],
                                    'unchanged': True}]},
                         self.rpc.get_hubs(None, base.HOST, [self.hub2['id']],
                                           digests=digests))

    def test_changed_or_unknown_digests_get_full_entries(self):
        full = {h['id']: h for h in self.rpc.get_hubs(None, base.HOST)['hubs']}
        answer = self.rpc.get_hubs(None, base.HOST, digests={
            self.hub['id']: full[self.hub['id']]['digest'],
            self.hub2['id']: '0' * 64})
        self.assertEqual(sorted(full), [h['id'] for h in answer['hubs']])
        self.assertEqual({self.hub['id']: {'id': self.hub['id'],
                                           'digest': full[self.hub['id']]['digest'],
                                           'unchanged': True},
                          self.hub2['id']: full[self.hub2['id']]},
                         {h['id']: h for h in answer['hubs']})
        # no digest for a hub: in full
        answer = self.rpc.get_hubs(None, base.HOST, digests={
            self.hub2['id']: full[self.hub2['id']]['digest']})
        self.assertEqual(full[self.hub['id']], {
            h['id']: h for h in answer['hubs']}[self.hub['id']])
        # a digest that was true before a change: in full, with the new digest
        old = full[self.hub['id']]['digest']
        self.create_spoke([self.hub])
        hub = self.rpc.get_hubs(None, base.HOST, [self.hub['id']],
                                digests={self.hub['id']: old})['hubs'][0]
        self.assertNotIn('unchanged', hub)
        self.assertNotEqual(old, hub['digest'])
        self.assertEqual(2, len(hub['spokes']))
        # an empty mapping is no mapping
        self.assertEqual(self.rpc.get_hubs(None, base.HOST),
                         self.rpc.get_hubs(None, base.HOST, digests={}))

    def test_absent_hubs_stay_absent(self):
        digests = dict(self.digests(), **self.digests(base.OTHER_HOST))
        self.assertIn(self.far_hub['id'], digests)
        gone = self.hub['id']
        self._delete('ports', gone)
        for hub_ids in (None, [gone, self.hub2['id'], self.far_hub['id']]):
            answer = self.rpc.get_hubs(None, base.HOST, hub_ids,
                                       digests=digests)
            self.assertEqual([self.hub2['id']], [h['id'] for h in answer['hubs']])
            self.assertTrue(answer['hubs'][0]['unchanged'])
        self.assertEqual({'hubs': []}, self.rpc.get_hubs(
            None, 'nowhere', digests=digests))

    def test_malformed_digests_refused(self):
        for digests in (['x'], 'x'):
            with self.subTest(digests=digests):
                error = self.assertRaises(n_exc.InvalidInput, self.rpc.get_hubs,
                                          None, base.HOST, digests=digests)
                self.assertIn('digests', str(error))

    def test_versions_through_the_dispatcher(self):
        # oslo.messaging's own version rules, as the server's RPC workers apply them
        dispatcher = oslo_messaging.RPCDispatcher([self.rpc], None)

        def call(version, **args):
            incoming = mock.Mock(ctxt={}, client_timeout=None, message={
                'method': 'get_hubs', 'version': version,
                'args': dict(host=base.HOST, **args)})
            return dispatcher.dispatch(incoming)

        full = call('1.3')
        self.assertEqual(self.rpc.get_hubs(None, base.HOST), full)
        self.assertEqual(full, call('1.2'))
        digests = {h['id']: h['digest'] for h in full['hubs']}
        self.assertTrue(all(h.get('unchanged') for h in call(
            '1.4', digests=digests)['hubs']))
        revisions = {h['id']: h['revision'] for h in call('1.6', spokes_limit=100)['hubs']}
        self.assertTrue(all(h['base_revision'] == revisions[h['id']] for h in call(
            '1.6', revisions=revisions)['hubs']))
        for version in ('1.7', '2.0'):
            with self.subTest(version=version):
                self.assertRaises(oslo_messaging.UnsupportedVersion, call,
                                  version)


class TestOriginalApi(base.WireGuardTestCase):

    def test_get_ports_for_agent(self):
        hub1, hub2 = self.create_hub(), self.create_hub()
        spoke1 = self.create_spoke([hub1])
        spoke2 = self.create_spoke([hub1, hub2])
        answer = self.rpc.get_ports_for_agent(None, agent=base.HOST)
        self.assertEqual(sorted([hub1['id'], hub2['id']]),
                         [item['hub']['id'] for item in answer])
        spokes = {item['hub']['id']: [s['id'] for s in item['spokes']]
                  for item in answer}
        self.assertEqual(sorted([spoke1['id'], spoke2['id']]),
                         spokes[hub1['id']])
        self.assertEqual([spoke2['id']], spokes[hub2['id']])
        # full port dicts, as an admin sees them
        hub = answer[0]['hub']
        self.assertEqual(base.HOST, hub[portbindings.HOST_ID])
        self.assertEqual(constants.VIF_TYPE_WIREGUARD, hub[portbindings.VIF_TYPE])
        self.assertIn('mac_address', hub)
        self.assertEqual([], self.rpc.get_ports_for_agent(None, 'nowhere'))

    def test_get_subnet(self):
        subnet = self.rpc.get_subnet(None, subnet_id=self.subnet['id'])
        self.assertEqual('10.10.0.0/24', subnet['cidr'])
        self.assertIsNone(self.rpc.get_subnet(
            None, subnet_id='6a3f1a5e-0000-4000-8000-000000000000'))

    def test_update_hub_port_keeps_binding_and_status(self):
        hub = self.create_hub(**{PROFILE: {'root_device': False}})
        self.driver.update_port_status(self.admin, hub['id'],
                                       n_const.PORT_STATUS_ACTIVE, base.HOST)
        before = self.show_port(hub['id'])
        self.assertEqual(n_const.PORT_STATUS_ACTIVE, before['status'])
        self.notified_hubs()
        key = base.new_key()
        self.assertIsNone(self.rpc.update_hub_port(
            None, port_id=hub['id'], endpoint='192.0.2.1:51821',
            public_key=key))
        after = self.show_port(hub['id'])
        self.assertEqual({'root_device': False, KEY: key,
                          ENDPOINT: '192.0.2.1:51821'}, after[PROFILE])
        self.assertEqual(n_const.PORT_STATUS_ACTIVE, after['status'])
        self.assertEqual(constants.VIF_TYPE_WIREGUARD,
                         after[portbindings.VIF_TYPE])
        self.assertEqual(before[portbindings.VIF_DETAILS],
                         after[portbindings.VIF_DETAILS])
        self.assertEqual([[hub['id']]], self.notified_hubs())
        # the key is also what validation now checks spokes against
        self.create_spoke([hub], key=key, expected=400)
        # in the driver's table; ML2's binding is not written behind its back
        self.assertEqual({'root_device': False},
                         self.binding_profile_row(hub['id']))
        self.assertGreater(after['revision_number'], before['revision_number'])
        # unchanged values: nothing written, nobody told
        self.rpc.update_hub_port(None, port_id=hub['id'],
                                 endpoint='192.0.2.1:51821', public_key=key)
        self.assertEqual(after['revision_number'],
                         self.show_port(hub['id'])['revision_number'])
        self.assertEqual([], self.notified_hubs())
        # no endpoint: the key is removed from the profile
        self.rpc.update_hub_port(None, port_id=hub['id'], endpoint=None,
                                 public_key=key)
        self.assertEqual({'root_device': False, KEY: key},
                         self.show_port(hub['id'])[PROFILE])
        self.assertEqual([[hub['id']]], self.notified_hubs())

    def test_update_hub_port_refuses_bad_values(self):
        hub = self.create_hub()
        for endpoint, key, field in (('192.0.2.1:0', base.new_key(), ENDPOINT),
                                     ('192.0.2.1:1', 'short', KEY),
                                     ('192.0.2.1:1', 'A' * 43 + '=', KEY),
                                     ('192.0.2.1:1', base64.b64encode(
                                         validators.SMALL_ORDER_POINTS[4]).decode(),
                                      KEY)):
            with self.subTest(field=field):
                error = self.assertRaises(n_exc.InvalidInput,
                                          self.rpc.update_hub_port, None,
                                          port_id=hub['id'], endpoint=endpoint,
                                          public_key=key)
                self.assertIn(field, str(error))
        self.assertEqual({}, self.show_port(hub['id'])[PROFILE])

    def test_update_hub_port_ignores_other_ports(self):
        spoke = self.create_spoke([self.create_hub()])
        self.notified_hubs()
        self.assertIsNone(self.rpc.update_hub_port(
            None, port_id=spoke['id'], endpoint='192.0.2.1:1',
            public_key=base.new_key()))
        self.assertEqual(spoke[PROFILE], self.show_port(spoke['id'])[PROFILE])
        self.assertIsNone(self.rpc.update_hub_port(
            None, port_id='6a3f1a5e-0000-4000-8000-000000000000',
            endpoint='192.0.2.1:1', public_key=base.new_key()))
        self.assertEqual([], self.notified_hubs())


class TestNotifier(base.WireGuardTestCase):

    def test_fanout_cast(self):
        with mock.patch.object(wg_rpc.n_rpc, 'get_client') as get_client:
            notifier = wg_rpc.WireGuardAgentNotifyAPI()
            target = get_client.call_args.args[0]
            self.assertEqual(('q-wireguard-notifier', '1.0'),
                             (target.topic, target.version))
            notifier.hubs_changed(self.admin, {'b', 'a'})
            client = get_client.return_value
            client.prepare.assert_called_once_with(fanout=True)
            client.prepare.return_value.cast.assert_called_once_with(
                self.admin, 'hubs_changed', hub_ids=['a', 'b'])

    def test_transport_error_is_swallowed(self):
        with mock.patch.object(wg_rpc.n_rpc, 'get_client') as get_client:
            get_client.return_value.prepare.return_value.cast.side_effect = (
                RuntimeError('broker down'))
            wg_rpc.WireGuardAgentNotifyAPI().hubs_changed(self.admin, ['a'])


class TestRpcListeners(base.WireGuardTestCase):

    def _start(self, worker):
        with mock.patch('neutron_lib.rpc.Connection') as connection:
            self.mech._start_rpc_listeners('process', 'after_init',
                                           worker.start)
        return connection

    def test_consumer_in_rpc_workers_only(self):
        connection = self._start(service.RpcWorker([], worker_process_count=1))
        conn = connection.return_value
        topic, endpoints = conn.create_consumer.call_args.args
        self.assertEqual('q-wireguard', topic)
        self.assertIsInstance(endpoints[0], wg_rpc.WireGuardRpcCallback)
        self.assertEqual(constants.RPC_VERSION, endpoints[0].target.version)
        self.assertEqual('1.6', constants.RPC_VERSION)
        self.assertEqual({'fanout': False}, conn.create_consumer.call_args.kwargs)
        conn.consume_in_threads.assert_called_once_with()
        for worker in (service.RpcReportsWorker([], worker_process_count=1),
                       service.AllServicesNeutronWorker([])):
            with self.subTest(worker=type(worker).__name__):
                self._start(worker).assert_not_called()
