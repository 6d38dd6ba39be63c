import base64
from unittest import mock

from neutron.plugins.ml2 import managers
from neutron.tests.common import helpers
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as n_const
from oslo_config import cfg

from networking_wireguard import constants
from networking_wireguard.db import wireguard_db as wg_db
from networking_wireguard.tests.unit import base
from networking_wireguard import validators

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

    def test_small_order_keys(self):
        for point in validators.SMALL_ORDER_POINTS:
            key = base64.b64encode(point).decode()
            with self.subTest(key=key):
                message = self.assert_refused(
                    'binding:profile.public_key',
                    **self.spoke_attrs({KEY: key, PEERS: [self.hub['id']]}))
                self.assertIn('small order', message)
        # a hub created with one, too
        self.assert_refused('binding:profile.public_key',
                            device_owner=constants.DEVICE_OWNER_HUB,
                            **{portbindings.HOST_ID: base.HOST,
                               PROFILE: {KEY: base64.b64encode(bytes(32)).decode()}})

    def override_denied(self, cidrs):
        cfg.CONF.set_override('denied_endpoint_cidrs', cidrs, 'wireguard')
        self.addCleanup(cfg.CONF.clear_override, 'denied_endpoint_cidrs',
                        'wireguard')

    def spoke_with_endpoint(self, endpoint):
        return self.spoke_attrs({KEY: base.new_key(), PEERS: [self.hub['id']],
                                 ENDPOINT: endpoint})

    def test_endpoint_addresses_refused(self):
        for endpoint, problem in (
                ('127.0.0.1:51820', 'loopback'),
                ('[::1]:51820', 'loopback'),
                ('[::ffff:127.0.0.1]:51820', 'loopback'),
                ('169.254.169.254:80', 'link-local'),
                ('[fe80::1]:51820', 'link-local'),
                ('224.0.0.1:51820', 'multicast'),
                ('[ff02::1]:51820', 'multicast'),
                ('255.255.255.255:51820', 'broadcast'),
                ('0.0.0.0:51820', 'unspecified'),
                ('[::]:51820', 'unspecified'),
                ('[::ffff:0.0.0.0]:51820', 'unspecified'),
                ('localhost:51820', 'loopback name'),
                ('0x7f000001:51820', 'inet_aton')):
            with self.subTest(endpoint=endpoint):
                message = self.assert_refused('binding:profile.endpoint',
                                              **self.spoke_with_endpoint(endpoint))
                self.assertIn(problem, message)
        # a DNS name is the agent's to resolve and filter
        self.create_spoke([self.hub], endpoint='spoke.example.org:51820')

    def test_operator_denied_cidrs(self):
        self.override_denied(['192.0.2.0/24', '2001:db8:f::/48'])
        for endpoint in ('192.0.2.77:51820', '[2001:db8:f::1]:51820',
                         '[::ffff:192.0.2.1]:51820'):
            with self.subTest(endpoint=endpoint):
                message = self.assert_refused('binding:profile.endpoint',
                                              **self.spoke_with_endpoint(endpoint))
                self.assertIn('does not allow', message)
        self.create_spoke([self.hub], endpoint='192.0.3.1:51820')

    def test_denied_cidrs_checked_at_start(self):
        self.override_denied(['192.0.2.0/33'])
        error = self.assertRaises(cfg.Error, self.mech.initialize)
        self.assertIn('denied_endpoint_cidrs', str(error))

    def test_agents_endpoint_addresses_refused(self):
        base.register_wireguard_agent(base.HOST, endpoint_address='198.51.100.1')
        base.register_wireguard_agent('wg-host-v6',
                                      endpoint_address='2001:db8::a')
        base.register_wireguard_agent('wg-host-bad', endpoint_address='nope')
        for endpoint in ('198.51.100.1:51820', '198.51.100.1:1',
                         '[::ffff:198.51.100.1]:51820', '[2001:db8::a]:443'):
            with self.subTest(endpoint=endpoint):
                message = self.assert_refused('binding:profile.endpoint',
                                              **self.spoke_with_endpoint(endpoint))
                self.assertIn("network node's own", message)
        self.create_spoke([self.hub], endpoint='198.51.100.2:51820')
        # on update too
        spoke = self.create_spoke([self.hub])
        profile = dict(spoke[PROFILE], endpoint='198.51.100.1:51820')
        body = self.update_port(spoke['id'], expected=400, **{PROFILE: profile})
        self.assert_bad_request(body, 'binding:profile.endpoint')

    def test_device_owner_typos(self):
        for owner in ('channel:wireguard:Hub', 'CHANNEL:WIREGUARD:SPOKE',
                      'channel:wireguard:hubs', 'channel:wireguard:',
                      'Channel:WireGuard:spoke '):
            with self.subTest(owner=owner):
                message = self.assert_refused('device_owner', **self.spoke_attrs(
                    device_owner=owner))
                self.assertIn('is not a WireGuard device_owner', message)

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

    def test_hub_key_and_endpoint_are_its_agents(self):
        # an update may repeat them (a client PUTting back the profile it read), not change them
        self.rpc.update_hub_port(None, port_id=self.hub['id'],
                                 endpoint='192.0.2.1:51820', public_key=base.new_key())
        shown = self.show_port(self.hub['id'])[PROFILE]
        for key, value in ((KEY, self.key), (KEY, base.new_key()),
                           (ENDPOINT, '192.0.2.1:51821')):
            with self.subTest(key=key, value=value):
                self.assert_update_refused(self.hub, 'binding:profile.%s' % key,
                                           **{PROFILE: dict(shown, **{key: value})})
        port = self.update_port(self.hub['id'], **{PROFILE: dict(
            shown, root_device=False)})
        self.assertEqual(dict(shown, root_device=False), port[PROFILE])

    def test_typo_owner_on_update(self):
        port = self.create_port()
        body = self.update_port(port['id'], expected=400,
                                device_owner='channel:wireguard:hubb')
        self.assert_bad_request(body, 'device_owner')
        self.assertNotIn(port['id'], self.roles())

    def test_owner_change_refused(self):
        for port, owner in ((self.hub, 'compute:nova'), (self.hub, ''),
                            (self.hub, 'network:dhcp'),
                            (self.spoke, 'compute:nova'), (self.spoke, '')):
            with self.subTest(port=port['device_owner'], owner=owner):
                self.assert_update_refused(port, 'device_owner',
                                           device_owner=owner)

    def test_hub_host_cannot_be_removed(self):
        self.assert_update_refused(self.hub, 'binding:host_id',
                                   **{portbindings.HOST_ID: ''})

    def test_role_cannot_change(self):
        self.assert_update_refused(self.hub, 'device_owner',
                                   device_owner=constants.DEVICE_OWNER_SPOKE)

    def test_spoke_becomes_router_port_refused(self):
        body = self.update_port(self.spoke['id'], expected=409,
                                device_owner=n_const.DEVICE_OWNER_ROUTER_INTF)
        self.assertIn('a spoke is a peer outside Neutron',
                      body['NeutronError']['message'])

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


class TestRootDevice(base.WireGuardTestCase):
    """root_device is an admin's decision, whatever the policies let members write."""

    def setUp(self):
        super().setUp()
        self.allow_members_binding_attributes()

    def member_hub(self, expected=201, **profile):
        return self.create_port_as_member(
            expected=expected, device_owner=constants.DEVICE_OWNER_HUB,
            **{portbindings.HOST_ID: base.HOST, PROFILE: profile})

    def test_member_cannot_set_it(self):
        body = self.member_hub(expected=403, root_device=True)
        self.assertTrue(body['NeutronError']['message'].startswith(
            'binding:profile.root_device: only an admin'))
        self.assertEqual({}, self.roles())
        hub = self.member_hub(root_device=False)
        for profile in ({'root_device': True},
                        {'root_device': True, KEY: hub[PROFILE].get(KEY)}):
            profile = {k: v for k, v in profile.items() if v is not None}
            with self.subTest(profile=profile):
                body = self.update_port(hub['id'], expected=403, as_member=True,
                                        **{PROFILE: profile})
                self.assertIn('binding:profile.root_device',
                              body['NeutronError']['message'])
        self.assertEqual({'root_device': False}, self.show_port(hub['id'])[PROFILE])

    def test_admin_sets_it_members_keep_it(self):
        hub = self.create_hub(**{PROFILE: {'root_device': True}})
        # the member may change other things and send the profile back as it is
        self.update_port(hub['id'], as_member=True, name='mine')
        self.update_port(hub['id'], as_member=True,
                         **{PROFILE: {'root_device': True}})
        self.update_port(hub['id'], as_member=True,
                         **{PROFILE: {'root_device': False}})
        body = self.update_port(hub['id'], expected=403, as_member=True,
                                **{PROFILE: {'root_device': True}})
        self.assertIn('root_device', body['NeutronError']['message'])
        self.update_port(hub['id'], **{PROFILE: {'root_device': True}})

    def test_member_spokes_unaffected(self):
        hub = self.create_hub()
        spoke = self.create_port_as_member(
            device_owner=constants.DEVICE_OWNER_SPOKE,
            **{PROFILE: {KEY: base.new_key(), PEERS: [hub['id']]}})
        self.assertEqual('spoke', self.roles()[spoke['id']])


class TestDeletedHub(base.WireGuardTestCase):
    """A deleted hub leaves its spokes' peers; a spoke whose last hub it was has peers []."""

    def setUp(self):
        super().setUp()
        self.hub1, self.hub2 = self.create_hub(), self.create_hub()
        self.key = base.new_key()
        self.spoke = self.create_spoke([self.hub1, self.hub2], key=self.key)
        self.lone = self.create_spoke([self.hub1])

    def test_peers_follow(self):
        before = self.show_port(self.spoke['id'])['revision_number']
        self._delete('ports', self.hub1['id'])
        spoke = self.show_port(self.spoke['id'])
        self.assertEqual({KEY: self.key, PEERS: [self.hub2['id']]}, spoke[PROFILE])
        self.assertGreater(spoke['revision_number'], before)
        self.assertEqual({KEY: self.lone[PROFILE][KEY], PEERS: []},
                         self.show_port(self.lone['id'])[PROFILE])
        self.assertEqual([(self.spoke['id'], self.hub2['id'])], self.peerings())
        # the spoke's next update is not refused for a stale hub
        self.update_port(self.spoke['id'], **{PROFILE: dict(
            spoke[PROFILE], endpoint='198.51.100.9:51820')})

    def test_orphan_spoke(self):
        self._delete('ports', self.hub1['id'])
        # changes that are not validated pass; a profile must name a hub again
        self.update_port(self.lone['id'], name='waiting',
                         **{portbindings.HOST_ID: ''})
        profile = {KEY: self.lone[PROFILE][KEY], PEERS: []}
        body = self.update_port(self.lone['id'], expected=400, **{PROFILE: dict(
            profile, endpoint='198.51.100.9:51820')})
        self.assert_bad_request(body, 'binding:profile.peers')
        self.notified_hubs()
        port = self.update_port(self.lone['id'], **{PROFILE: dict(
            profile, peers=[self.hub2['id']])})
        self.assertEqual([self.hub2['id']], port[PROFILE][PEERS])
        self.assertIn((self.lone['id'], self.hub2['id']), self.peerings())
        self.assertEqual([[self.hub2['id']]], self.notified_hubs())
        self.assertIn(self.lone['id'], [s['id'] for s in self.rpc.get_hubs(
            None, base.HOST, [self.hub2['id']])['hubs'][0]['spokes']])


class TestRaces(base.WireGuardTestCase):
    """What the database refuses when validation ran before a concurrent change committed."""

    def setUp(self):
        super().setUp()
        self.hub = self.create_hub()

    def test_duplicate_key_retried_then_refused(self):
        key = base.new_key()
        first = self.create_spoke([self.hub], key=key)
        real = wg_db.get_hubs_with_spoke_key
        calls = []

        def stale_read(*args):
            # the first attempt validates as if the other spoke had not committed yet
            calls.append(args)
            return [] if len(calls) == 1 else real(*args)

        with mock.patch.object(wg_db, 'get_hubs_with_spoke_key', stale_read):
            body = self.create_spoke([self.hub], key=key, expected=400)
        self.assertIn('another spoke of hub %s' % self.hub['id'],
                      body['NeutronError']['message'])
        self.assertEqual(2, len(calls))  # retried once, by Neutron
        self.assertEqual([(first['id'], self.hub['id'], key)], self.peering_keys())
        self.assertEqual([first['id']], [p['id'] for p in self._list('ports')['ports']
                                         if p['device_owner'] ==
                                         constants.DEVICE_OWNER_SPOKE])

    def test_key_copies_follow_the_spoke(self):
        hub2 = self.create_hub()
        spoke = self.create_spoke([self.hub])
        key = base.new_key()
        self.update_port(spoke['id'], **{PROFILE: {KEY: key, PEERS: [
            self.hub['id'], hub2['id']]}})
        self.assertEqual(sorted([(spoke['id'], self.hub['id'], key),
                                 (spoke['id'], hub2['id'], key)]),
                         self.peering_keys())

    def test_hub_deleted_after_validation(self):
        gone = self.create_hub()
        gone_id = gone['id']
        self._delete('ports', gone_id)
        real = wg_db.get_peer_candidates
        calls = []

        def stale_read(context, port_ids):
            # the first attempt still sees the hub that a concurrent request deleted
            calls.append(port_ids)
            if len(calls) > 1:
                return real(context, port_ids)
            found = real(context, [self.hub['id']])[self.hub['id']]
            return {gone_id: found}

        with mock.patch.object(wg_db, 'get_peer_candidates', stale_read):
            body = self.create_spoke([gone], expected=400)
        self.assertIn('port %s does not exist' % gone_id,
                      body['NeutronError']['message'])
        self.assertEqual(2, len(calls))
        self.assertEqual([], self.peerings())


class TestRefusalsBeforeTheTransaction(base.WireGuardTestCase):
    """Bad syntax is refused in PORT BEFORE_CREATE/BEFORE_UPDATE: ML2 logs no driver failure."""

    def test_no_mechanism_driver_error_logged(self):
        hub = self.create_hub()
        spoke = self.create_spoke([hub])
        with mock.patch.object(managers.LOG, 'exception') as logged:
            for profile in ({KEY: 'AAAA', PEERS: [hub['id']]},
                            {KEY: base.new_key(), PEERS: [hub['id']],
                             ENDPOINT: '127.0.0.1:1'},
                            {KEY: base.new_key(), PEERS: 'x'},
                            {KEY: base.new_key(), PEERS: [hub['id']], 'x': 1}):
                with self.subTest(profile=profile):
                    self.create_port(expected=400,
                                     device_owner=constants.DEVICE_OWNER_SPOKE,
                                     **{PROFILE: profile})
                    self.update_port(spoke['id'], expected=400,
                                     **{PROFILE: profile})
            self.create_port(expected=400, device_owner='channel:wireguard:Hub')
            self.create_hub(expected=400, **{PROFILE: {'root_device': 1}})
            logged.assert_not_called()
            # the semantic checks read the database inside ML2's transaction
            self.create_spoke([self.create_port()], expected=400)
            logged.assert_called()


class TestHubAgentValues(base.WireGuardTestCase):
    """The hub's key and endpoint live in wireguard_ports; the API shows them in binding:profile."""

    def setUp(self):
        super().setUp()
        self.hub = self.create_hub(**{PROFILE: {'root_device': False}})
        self.key = base.new_key()
        self.rpc.update_hub_port(None, port_id=self.hub['id'],
                                 endpoint='192.0.2.1:51820', public_key=self.key)
        self.shown = {'root_device': False, KEY: self.key,
                      ENDPOINT: '192.0.2.1:51820'}

    def test_stored_in_own_table_only(self):
        row = self.wg_row(self.hub['id'])
        self.assertEqual((self.key, '192.0.2.1:51820'),
                         (row.public_key, row.endpoint))
        self.assertEqual({'root_device': False},
                         self.binding_profile_row(self.hub['id']))
        self.assertEqual(self.shown, self.show_port(self.hub['id'])[PROFILE])
        self.assertGreater(self.show_port(self.hub['id'])['revision_number'],
                           self.hub['revision_number'])
        listed = {p['id']: p for p in self._list('ports')['ports']}
        self.assertEqual(self.shown, listed[self.hub['id']][PROFILE])

    def test_survive_profile_replaced(self):
        for profile in ({}, {'root_device': False}, self.shown):
            with self.subTest(profile=profile):
                port = self.update_port(self.hub['id'], **{PROFILE: profile})
                expected = dict(self.shown)
                if 'root_device' not in profile:
                    del expected['root_device']
                self.assertEqual(expected, port[PROFILE])  # the PUT's answer
                self.assertEqual(expected, self.show_port(self.hub['id'])[PROFILE])
                hub = self.rpc.get_hubs(None, base.HOST, [self.hub['id']])['hubs'][0]
                self.assertEqual((self.key, '192.0.2.1:51820'),
                                 (hub['public_key'], hub['endpoint']))
        # other updates answer with them too
        self.assertEqual(self.shown, self.update_port(
            self.hub['id'], name='x', **{PROFILE: {'root_device': False}})[PROFILE])
        self.assertEqual(self.shown, self.update_port(self.hub['id'],
                                                      name='y')[PROFILE])

    def test_created_with_key(self):
        key = base.new_key()
        hub = self.create_hub(**{PROFILE: {KEY: key, ENDPOINT: '192.0.2.5:1'}})
        self.assertEqual({KEY: key, ENDPOINT: '192.0.2.5:1'}, hub[PROFILE])
        self.assertEqual((key, '192.0.2.5:1'), (self.wg_row(hub['id']).public_key,
                                                self.wg_row(hub['id']).endpoint))
        # the agent's report replaces them
        self.rpc.update_hub_port(None, port_id=hub['id'], endpoint='192.0.2.5:2',
                                 public_key=self.key)
        self.assertEqual({KEY: self.key, ENDPOINT: '192.0.2.5:2'},
                         self.show_port(hub['id'])[PROFILE])

    def test_spokes_checked_against_agent_key(self):
        self.create_spoke([self.hub], key=self.key, expected=400)
