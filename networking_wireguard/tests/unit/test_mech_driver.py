from neutron.tests.common import helpers
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as n_const

from networking_wireguard import constants
from networking_wireguard.tests.unit import base

KEY = constants.PROFILE_PUBLIC_KEY
ENDPOINT = constants.PROFILE_ENDPOINT
PEERS = constants.PROFILE_PEERS
PROFILE = portbindings.PROFILE


class TestValidation(base.WireGuardTestCase):
    """Each rule: HTTP 400, a message naming the field, and nothing stored."""

    def setUp(self):
        super().setUp()
        self.hub = self.create_hub()
        self.notified_hubs()

    def assert_refused(self, field, **attrs):
        self.notified_hubs()
        ports_before = {p['id'] for p in self._list('ports')['ports']}
        roles_before, peerings_before = self.roles(), self.peerings()
        body = self.create_port(expected=400, **attrs)
        message = self.assert_bad_request(body, field)
        self.assertEqual(ports_before,
                         {p['id'] for p in self._list('ports')['ports']})
        self.assertEqual(roles_before, self.roles())
        self.assertEqual(peerings_before, self.peerings())
        self.assertEqual([], self.notified_hubs())
        return message

    def spoke_attrs(self, profile=None, **attrs):
        attrs.setdefault('device_owner', constants.DEVICE_OWNER_SPOKE)
        attrs[PROFILE] = (profile if profile is not None else
                          {KEY: base.new_key(), PEERS: [self.hub['id']]})
        return attrs

    def test_spoke_public_key(self):
        for profile, problem in (
                ({PEERS: [self.hub['id']]}, 'required'),
                ({KEY: 'not-base64!', PEERS: [self.hub['id']]},
                 'not valid base64'),
                ({KEY: 'AAAA', PEERS: [self.hub['id']]}, 'decodes to 3'),
                ({KEY: 12, PEERS: [self.hub['id']]}, 'string')):
            with self.subTest(profile=profile):
                message = self.assert_refused('binding:profile.public_key',
                                              **self.spoke_attrs(profile))
                self.assertIn(problem, message)

    def test_endpoint(self):
        for endpoint in ('198.51.100.2', '198.51.100.2:0', '198.51.100.2:70000',
                         '2001:db8::1:51820', '[nope]:1', 'a_b:1', 7):
            with self.subTest(endpoint=endpoint):
                self.assert_refused('binding:profile.endpoint',
                                    **self.spoke_attrs({
                                        KEY: base.new_key(),
                                        PEERS: [self.hub['id']],
                                        ENDPOINT: endpoint}))
        spoke = self.create_spoke([self.hub], endpoint='[2001:db8::7]:51820')
        self.assertEqual('[2001:db8::7]:51820', spoke[PROFILE][ENDPOINT])

    def test_peers_shape(self):
        for peers, problem in (
                (None, 'non-empty list'),
                ([], 'non-empty list'),
                (self.hub['id'], 'non-empty list'),
                (['not-a-uuid'], 'is not a port ID'),
                ([self.hub['id'].upper()], 'is not a port ID'),
                ([self.hub['id'], self.hub['id']], 'more than once')):
            with self.subTest(peers=peers):
                profile = {KEY: base.new_key()}
                if peers is not None:
                    profile[PEERS] = peers
                message = self.assert_refused('binding:profile.peers',
                                              **self.spoke_attrs(profile))
                self.assertIn(problem, message)

    def test_peers_must_be_hubs_of_the_project_on_a_shared_subnet(self):
        plain = self.create_port()
        spoke = self.create_spoke([self.hub])
        other_project_net = self._make_network(
            self.fmt, 'other', True, tenant_id='other-project')['network']
        self._make_subnet(self.fmt, {'network': other_project_net},
                          '10.20.0.1', '10.20.0.0/24', tenant_id='other-project')
        foreign_hub = self.create_hub(network=other_project_net,
                                      tenant_id='other-project')
        net2 = self._make_network(self.fmt, 'net2', True,
                                  tenant_id=base.PROJECT)['network']
        self._make_subnet(self.fmt, {'network': net2}, '10.30.0.1',
                          '10.30.0.0/24', tenant_id=base.PROJECT)
        far_hub = self.create_hub(network=net2)
        self.notified_hubs()
        for peer, problem in (
                ('6a3f1a5e-0000-4000-8000-000000000000', 'does not exist'),
                (plain['id'], 'is not a WireGuard hub'),
                (spoke['id'], 'is not a WireGuard hub'),
                (foreign_hub['id'], 'another project'),
                (far_hub['id'], 'no fixed IP on a subnet')):
            with self.subTest(problem=problem):
                message = self.assert_refused(
                    'binding:profile.peers',
                    **self.spoke_attrs({KEY: base.new_key(), PEERS: [peer]}))
                self.assertIn(problem, message)

    def test_public_key_unique_per_hub(self):
        hub2 = self.create_hub()
        key = base.new_key()
        self.create_spoke([self.hub], key=key)
        message = self.assert_refused('binding:profile.public_key',
                                      **self.spoke_attrs({
                                          KEY: key, PEERS: [hub2['id'],
                                                            self.hub['id']]}))
        self.assertIn('another spoke of hub %s' % self.hub['id'], message)
        # the same key on another hub is fine
        self.create_spoke([hub2], key=key)

    def test_spoke_key_differs_from_hub_key(self):
        hub_key = base.new_key()
        hub = self.create_hub(**{PROFILE: {KEY: hub_key}})
        message = self.assert_refused('binding:profile.public_key',
                                      **self.spoke_attrs({
                                          KEY: hub_key, PEERS: [hub['id']]}))
        self.assertIn('equals the public key of hub', message)

    def test_fixed_ip_required(self):
        bare_net = self._make_network(self.fmt, 'bare', True,
                                      tenant_id=base.PROJECT)['network']
        self.assert_refused('fixed_ips', network=bare_net,
                            device_owner=constants.DEVICE_OWNER_HUB,
                            **{portbindings.HOST_ID: base.HOST})
        self.assert_refused('fixed_ips', fixed_ips=[], **self.spoke_attrs())

    def test_hub_needs_host(self):
        self.assert_refused('binding:host_id',
                            device_owner=constants.DEVICE_OWNER_HUB)

    def test_spoke_has_no_host(self):
        self.assert_refused('binding:host_id',
                            **self.spoke_attrs(**{portbindings.HOST_ID:
                                                  base.HOST}))

    def test_unknown_profile_keys(self):
        self.assert_refused('binding:profile',
                            device_owner=constants.DEVICE_OWNER_HUB,
                            **{portbindings.HOST_ID: base.HOST,
                               PROFILE: {'peers': [self.hub['id']]}})
        message = self.assert_refused('binding:profile', **self.spoke_attrs({
            KEY: base.new_key(), PEERS: [self.hub['id']], 'root_device': True,
            'colour': 'blue'}))
        self.assertIn('colour, root_device', message)

    def test_hub_profile(self):
        self.assert_refused('binding:profile.root_device',
                            device_owner=constants.DEVICE_OWNER_HUB,
                            **{portbindings.HOST_ID: base.HOST,
                               PROFILE: {'root_device': 'yes'}})
        self.assert_refused('binding:profile.public_key',
                            device_owner=constants.DEVICE_OWNER_HUB,
                            **{portbindings.HOST_ID: base.HOST,
                               PROFILE: {KEY: 'short'}})
        self.assert_refused('binding:profile.endpoint',
                            device_owner=constants.DEVICE_OWNER_HUB,
                            **{portbindings.HOST_ID: base.HOST,
                               PROFILE: {ENDPOINT: 'nowhere'}})
        hub = self.create_hub(**{PROFILE: {KEY: base.new_key(),
                                           ENDPOINT: '203.0.113.1:51820',
                                           'root_device': True}})
        self.assertTrue(hub[PROFILE]['root_device'])

    def test_profile_size_limit(self):
        # Neutron's own limit (4095 bytes of JSON) applies to WireGuard ports too.
        peers = [self.hub['id']] * 120
        self.assert_refused('binding:profile', **self.spoke_attrs(
            {KEY: base.new_key(), PEERS: peers}))


class TestUpdateValidation(base.WireGuardTestCase):

    def setUp(self):
        super().setUp()
        self.hub = self.create_hub()
        self.hub2 = self.create_hub()
        self.key = base.new_key()
        self.spoke = self.create_spoke([self.hub], key=self.key)
        self.notified_hubs()

    def assert_update_refused(self, port, field, **attrs):
        self.notified_hubs()
        before = self.show_port(port['id'])
        roles, peerings = self.roles(), self.peerings()
        body = self.update_port(port['id'], expected=400, **attrs)
        self.assert_bad_request(body, field)
        after = self.show_port(port['id'])
        for attr in (PROFILE, 'device_owner', portbindings.HOST_ID):
            self.assertEqual(before[attr], after[attr])
        self.assertEqual(roles, self.roles())
        self.assertEqual(peerings, self.peerings())
        self.assertEqual([], self.notified_hubs())

    def test_spoke_key_update(self):
        self.assert_update_refused(self.spoke, 'binding:profile.public_key',
                                   **{PROFILE: {KEY: 'bad', PEERS: [self.hub['id']]}})
        other = self.create_spoke([self.hub])
        self.notified_hubs()
        self.assert_update_refused(
            other, 'binding:profile.public_key',
            **{PROFILE: {KEY: self.key, PEERS: [self.hub['id']]}})
        new_key = base.new_key()
        port = self.update_port(self.spoke['id'], **{
            PROFILE: {KEY: new_key, PEERS: [self.hub['id']]}})
        self.assertEqual(new_key, port[PROFILE][KEY])
        self.assertEqual([[self.hub['id']]], self.notified_hubs())

    def test_spoke_peers_update(self):
        self.assert_update_refused(self.spoke, 'binding:profile.peers',
                                   **{PROFILE: {KEY: self.key, PEERS: []}})
        self.assert_update_refused(
            self.spoke, 'binding:profile.peers',
            **{PROFILE: {KEY: self.key, PEERS: [self.spoke['id']]}})
        self.update_port(self.spoke['id'], **{
            PROFILE: {KEY: self.key, PEERS: [self.hub2['id']]}})
        self.assertEqual([(self.spoke['id'], self.hub2['id'])], self.peerings())
        # both the hub it left and the hub it joined are told
        self.assertEqual([sorted([self.hub['id'], self.hub2['id']])],
                         self.notified_hubs())

    def test_hub_key_update_checked_against_its_spokes(self):
        self.assert_update_refused(self.hub, 'binding:profile.public_key',
                                   **{PROFILE: {KEY: self.key}})

    def test_hub_host_cannot_be_removed(self):
        self.assert_update_refused(self.hub, 'binding:host_id',
                                   **{portbindings.HOST_ID: ''})

    def test_role_cannot_change(self):
        self.assert_update_refused(self.hub, 'device_owner',
                                   device_owner=constants.DEVICE_OWNER_SPOKE)

    def test_plain_port_becomes_hub(self):
        port = self.create_port()
        self.assertNotIn(port['id'], self.roles())
        self.update_port(port['id'], device_owner=constants.DEVICE_OWNER_HUB,
                         **{portbindings.HOST_ID: base.HOST})
        self.assertEqual(constants.ROLE_HUB, self.roles()[port['id']])
        self.assertEqual(constants.VIF_TYPE_WIREGUARD,
                         self.show_port(port['id'])[portbindings.VIF_TYPE])


class TestBinding(base.WireGuardTestCase):

    def test_hub_binds_on_host_of_alive_agent(self):
        hub = self.create_hub()
        self.assertEqual(constants.VIF_TYPE_WIREGUARD, hub[portbindings.VIF_TYPE])
        self.assertEqual({'port_filter': False, 'connectivity': 'l3',
                          'device_name': 'wg-' + hub['id'][:11]},
                         hub[portbindings.VIF_DETAILS])
        self.assertEqual(14, len(hub[portbindings.VIF_DETAILS]['device_name']))
        self.assertEqual(n_const.PORT_STATUS_DOWN, hub['status'])

    def test_hub_without_agent_fails_to_bind(self):
        hub = self.create_hub(host='no-agent-here')
        self.assertEqual(portbindings.VIF_TYPE_BINDING_FAILED,
                         hub[portbindings.VIF_TYPE])

    def test_hub_with_dead_agent_fails_to_bind(self):
        helpers.kill_agent(self.agent['id'])
        hub = self.create_hub()
        self.assertEqual(portbindings.VIF_TYPE_BINDING_FAILED,
                         hub[portbindings.VIF_TYPE])

    def test_spoke_is_never_bound(self):
        spoke = self.create_spoke([self.create_hub()])
        self.assertEqual(portbindings.VIF_TYPE_UNBOUND,
                         spoke[portbindings.VIF_TYPE])
        self.assertEqual('', spoke[portbindings.HOST_ID])

    def test_other_ports_are_not_bound(self):
        port = self.create_port(**{portbindings.HOST_ID: base.HOST})
        self.assertEqual(portbindings.VIF_TYPE_BINDING_FAILED,
                         port[portbindings.VIF_TYPE])

    def test_device_up_makes_hub_active(self):
        hub = self.create_hub()
        self.driver.update_port_status(self.admin, hub['id'],
                                       n_const.PORT_STATUS_ACTIVE, base.HOST)
        self.assertEqual(n_const.PORT_STATUS_ACTIVE,
                         self.show_port(hub['id'])['status'])


class TestTables(base.WireGuardTestCase):

    def test_roles_and_peerings_maintained_and_cascaded(self):
        hub1, hub2 = self.create_hub(), self.create_hub()
        spoke = self.create_spoke([hub1, hub2])
        self.assertEqual({hub1['id']: 'hub', hub2['id']: 'hub',
                          spoke['id']: 'spoke'}, self.roles())
        self.assertEqual(sorted([(spoke['id'], hub1['id']),
                                 (spoke['id'], hub2['id'])]), self.peerings())
        self._delete('ports', hub1['id'])
        self.assertEqual([(spoke['id'], hub2['id'])], self.peerings())
        self.assertNotIn(hub1['id'], self.roles())
        self._delete('ports', spoke['id'])
        self.assertEqual([], self.peerings())
        self.assertEqual({hub2['id']: 'hub'}, self.roles())

    def test_role_survives_device_owner_change(self):
        hub = self.create_hub()
        self.update_port(hub['id'], device_owner='network:router_interface')
        self.assertEqual({hub['id']: 'hub'}, self.roles())
        port = self.show_port(hub['id'])
        self.assertEqual(constants.VIF_TYPE_WIREGUARD,
                         port[portbindings.VIF_TYPE])
        # still this host's hub for the agent
        hubs = self.rpc.get_hubs(None, base.HOST)['hubs']
        self.assertEqual([hub['id']], [h['id'] for h in hubs])

    def test_host_follows_binding_host(self):
        base.register_wireguard_agent(base.OTHER_HOST)
        hub = self.create_hub()
        self.update_port(hub['id'], **{portbindings.HOST_ID: base.OTHER_HOST})
        self.assertEqual([], self.rpc.get_hubs(None, base.HOST)['hubs'])
        self.assertEqual([hub['id']], [h['id'] for h in self.rpc.get_hubs(
            None, base.OTHER_HOST)['hubs']])


class TestNotifications(base.WireGuardTestCase):

    def test_hub_lifecycle(self):
        hub = self.create_hub()
        # creation, then the binding commit
        self.assertEqual([[hub['id']], [hub['id']]], self.notified_hubs())
        self.update_port(hub['id'], name='renamed')
        self.assertEqual([], self.notified_hubs())
        self.update_port(hub['id'], admin_state_up=False)
        self.assertEqual([[hub['id']]], self.notified_hubs())
        self._delete('ports', hub['id'])
        self.assertEqual([[hub['id']]], self.notified_hubs())

    def test_status_changes_are_not_notified(self):
        hub = self.create_hub()
        self.notified_hubs()
        self.driver.update_port_status(self.admin, hub['id'],
                                       n_const.PORT_STATUS_ACTIVE, base.HOST)
        self.assertEqual([], self.notified_hubs())

    def test_spoke_lifecycle(self):
        hub1, hub2, hub3 = self.create_hub(), self.create_hub(), self.create_hub()
        self.notified_hubs()
        spoke = self.create_spoke([hub1, hub2])
        self.assertEqual([sorted([hub1['id'], hub2['id']])],
                         self.notified_hubs())
        self.update_port(spoke['id'], name='renamed')
        self.assertEqual([], self.notified_hubs())
        self.update_port(spoke['id'], admin_state_up=False)
        self.assertEqual([sorted([hub1['id'], hub2['id']])],
                         self.notified_hubs())
        profile = dict(spoke[PROFILE], peers=[hub3['id']])
        self.update_port(spoke['id'], **{PROFILE: profile})
        self.assertEqual([sorted([hub1['id'], hub2['id'], hub3['id']])],
                         self.notified_hubs())
        self._delete('ports', spoke['id'])
        self.assertEqual([[hub3['id']]], self.notified_hubs())

    def test_plain_ports_are_not_notified(self):
        port = self.create_port()
        self.update_port(port['id'], name='x')
        self._delete('ports', port['id'])
        self.assertEqual([], self.notified_hubs())
