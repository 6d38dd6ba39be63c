# The WireGuard API (extension "wireguard", service plugin "wireguard") on Neutron's ML2 test base:
# hubs scheduled to agents, spokes with only a public key, key rotation, the spoke's configuration,
# and the default policies (a project member, another project's member, a reader, an admin).

from unittest import mock
import urllib.parse

from neutron import policy
from neutron.tests.common import helpers
from neutron.tests.unit.api import test_extensions
from neutron.tests.unit.extensions import test_l3
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as n_const
from oslo_config import cfg

from networking_wireguard import constants
from networking_wireguard import scheduler
from networking_wireguard.services import spoke_config
from networking_wireguard.tests.unit import base

HUB = 'wireguard_hub'
SPOKE = 'wireguard_spoke'
PROFILE = portbindings.PROFILE


class ApiTestCase(base.WireGuardApiTestCase):

    def create_hub_as(self, context=None, expected=201, **attrs):
        attrs.setdefault('network_id', self.network['id'])
        attrs.setdefault('tenant_id', base.PROJECT)
        return self.api_create(HUB, context=context or base.member(),
                               expected=expected, **attrs)

    def create_spoke_as(self, context=None, expected=201, key=None, **attrs):
        attrs.setdefault('public_key', key or base.new_key())
        attrs.setdefault('tenant_id', base.PROJECT)
        return self.api_create(SPOKE, context=context or base.member(),
                               expected=expected, **attrs)

    def host_of(self, hub_id):
        return self.show_port(hub_id)[portbindings.HOST_ID]

    def error(self, body):
        return body['NeutronError']['message']


class TestHubScheduling(ApiTestCase):

    def test_member_creates_a_scheduled_hub(self):
        hub = self.create_hub_as(name='hub1')
        self.assertEqual('hub1', hub['name'])
        self.assertEqual(n_const.PORT_STATUS_DOWN, hub['status'])
        self.assertNotIn('host', hub)  # admins only
        self.assertNotIn('root_device', hub)
        port = self.show_port(hub['id'])
        self.assertEqual(constants.DEVICE_OWNER_HUB, port['device_owner'])
        self.assertEqual(base.HOST, port[portbindings.HOST_ID])
        self.assertEqual(constants.VIF_TYPE_WIREGUARD,
                         port[portbindings.VIF_TYPE])
        self.assertTrue(self.wg_row(hub['id']).scheduled)
        self.assertEqual(base.HOST, self.api_show(HUB, hub['id'])['host'])
        # the hub's agent reports: the API shows what a spoke needs
        key = self.hub_up(hub['id'])
        shown = self.api_show(HUB, hub['id'], context=base.member())
        self.assertEqual((n_const.PORT_STATUS_ACTIVE, key, '203.0.113.1:51820'),
                         (shown['status'], shown['public_key'],
                          shown['endpoint']))

    def test_fewest_hubs_first(self):
        base.register_wireguard_agent(base.OTHER_HOST)
        hosts = [self.host_of(self.create_hub_as()['id']) for _ in range(3)]
        # a tie goes to the first host by name
        self.assertEqual([base.HOST, base.OTHER_HOST, base.HOST], hosts)
        # hubs made through the port API count too
        self.create_hub(host=base.OTHER_HOST)
        self.create_hub(host=base.OTHER_HOST)
        self.assertEqual(base.HOST, self.host_of(self.create_hub_as()['id']))

    def test_on_ovn_only_chassis_hosts(self):
        # OTHER_HOST would win the tie by name; on ML2/OVN it is no chassis (no ovn-controller, so no
        # integration bridge for a plug): HOST, the only chassis among them, takes every hub.
        base.register_wireguard_agent(base.OTHER_HOST)
        chassis = [{'host': base.HOST, 'alive': True}, {'host': base.OTHER_HOST, 'alive': False}]
        with mock.patch.object(scheduler.ovn, 'ovn_mode', return_value=True), \
                mock.patch.object(self.plugin, 'get_agents', return_value=chassis) as listed:
            hosts = [self.host_of(self.create_hub_as()['id']) for _ in range(2)]
        self.assertEqual([base.HOST, base.HOST], hosts)
        listed.assert_any_call(
            mock.ANY, filters={'agent_type': ['OVN Controller agent', 'OVN Controller Gateway agent']})

    def test_dead_and_disabled_agents_are_skipped(self):
        dead = base.register_wireguard_agent(base.OTHER_HOST)
        helpers.kill_agent(dead['id'])
        disabled = base.register_wireguard_agent('wg-host-c')
        helpers.set_agent_admin_state(disabled['id'], False)
        for _ in range(2):
            self.assertEqual(base.HOST, self.host_of(self.create_hub_as()['id']))

    def test_availability_zone_hints(self):
        base.register_wireguard_agent('wg-host-z', availability_zone='zone-b')
        base.register_wireguard_agent('wg-host-y', availability_zone='zone-a')
        hub = self.create_hub_as(availability_zone_hints=['zone-b'])
        self.assertEqual('wg-host-z', self.host_of(hub['id']))
        self.assertEqual((['zone-b'], ['zone-b']),
                         (hub['availability_zone_hints'],
                          hub['availability_zones']))
        hub = self.create_hub_as(availability_zone_hints=['zone-a', 'zone-b'])
        self.assertEqual('wg-host-y', self.host_of(hub['id']))
        # an unknown zone: 404, as for Neutron's networks; nothing created
        ports = len(self._list('ports')['ports'])
        body = self.create_hub_as(expected=404,
                                  availability_zone_hints=['zone-x'])
        self.assertIn('zone-x', self.error(body))
        self.assertEqual(ports, len(self._list('ports')['ports']))

    def test_waits_without_agent_and_is_bound_when_one_reports(self):
        # an unknown zone is refused (404, as for Neutron's networks)
        self.create_hub_as(availability_zone_hints=['zone-b'], expected=404)
        zoned = base.register_wireguard_agent('wg-host-z',
                                              availability_zone='zone-b')
        helpers.kill_agent(zoned['id'])
        helpers.kill_agent(self.agent['id'])
        hub = self.create_hub_as()
        hinted = self.create_hub_as(availability_zone_hints=['zone-b'])
        self.assertEqual(constants.HUB_STATUS_WAITING, hub['status'])
        port = self.show_port(hub['id'])
        self.assertEqual(('', portbindings.VIF_TYPE_UNBOUND),
                         (port[portbindings.HOST_ID],
                          port[portbindings.VIF_TYPE]))
        self.assertIsNone(self.wg_row(hub['id']).host)
        self.assertIsNone(self.api_show(HUB, hub['id'])['host'])
        # a waiting hub can be renamed: it keeps waiting
        self.api_update(HUB, hub['id'], context=base.member(), name='later')
        self.notified_hubs()
        base.register_wireguard_agent(base.HOST)  # revived: takes the hub at once
        self.assertEqual(base.HOST, self.host_of(hub['id']))
        self.assertEqual(constants.VIF_TYPE_WIREGUARD,
                         self.show_port(hub['id'])[portbindings.VIF_TYPE])
        self.assertTrue(self.wg_row(hub['id']).scheduled)
        self.assertIn([hub['id']], self.notified_hubs())
        self.assertEqual(n_const.PORT_STATUS_DOWN,
                         self.api_show(HUB, hub['id'])['status'])
        # not the hub that wants zone-b: its agent comes back later
        self.assertEqual('', self.host_of(hinted['id']))
        base.register_wireguard_agent('wg-host-z', availability_zone='zone-b')
        self.assertEqual('wg-host-z', self.host_of(hinted['id']))

    def test_periodic_check_binds_waiting_hubs(self):
        helpers.kill_agent(self.agent['id'])
        hub = self.create_hub_as()
        helpers.revive_agent(self.agent['id'])  # no report: no event
        self.assertEqual('', self.host_of(hub['id']))
        workers = self.mech.get_workers()
        self.assertEqual(1, len(workers))
        self.mech._check_hubs()
        self.assertEqual(base.HOST, self.host_of(hub['id']))

    def test_alive_agent_report_schedules_nothing(self):
        with mock.patch.object(scheduler, 'schedule_waiting_hubs') as schedule:
            base.register_wireguard_agent(base.HOST)
            base.register_wireguard_agent(base.OTHER_HOST)  # new
        self.assertEqual(1, schedule.call_count)

    def test_admin_pins_the_host(self):
        base.register_wireguard_agent(base.OTHER_HOST)
        hub = self.create_hub_as(context=base.admin(), host=base.OTHER_HOST)
        self.assertEqual(base.OTHER_HOST, hub['host'])
        self.assertFalse(self.wg_row(hub['id']).scheduled)
        hub = self.create_hub_as()
        self.assertEqual(base.HOST, self.host_of(hub['id']))
        self.api_update(HUB, hub['id'], host=base.OTHER_HOST)
        self.assertEqual(base.OTHER_HOST, self.host_of(hub['id']))
        self.assertFalse(self.wg_row(hub['id']).scheduled)

    def test_port_api_unchanged(self):
        # a hub port without a host is still refused; only the WireGuard API schedules
        body = self.create_port(expected=400,
                                device_owner=constants.DEVICE_OWNER_HUB)
        self.assert_bad_request(body, 'binding:host_id')
        hub = self.create_hub()
        self.assertFalse(self.wg_row(hub['id']).scheduled)
        # and its hubs show in the API too
        self.assertEqual([hub['id']], [h['id'] for h in self.api_list(HUB)])

    def test_delete(self):
        hub = self.create_hub_as()
        self.request('DELETE', 'wireguard_hubs', hub['id'],
                     context=base.member(), expected=204)
        self._show('ports', hub['id'], expected_code=404)
        self.api_show(HUB, hub['id'], expected=404)


class TestRescheduling(ApiTestCase):

    def setUp(self):
        super().setUp()
        self.other = base.register_wireguard_agent(base.OTHER_HOST)
        cfg.CONF.set_override('reschedule_hubs', True, 'wireguard')
        cfg.CONF.set_override('reschedule_hubs_after', 0, 'wireguard')
        self.hub = self.create_hub_as()  # on HOST
        self.hub_up(self.hub['id'], key=base.new_key())
        self.spoke = self.create_spoke_as()

    def test_scheduled_hub_of_a_dead_agent_moves(self):
        pinned = self.create_hub(host=base.HOST)
        helpers.kill_agent(self.agent['id'])
        self.notified_hubs()
        self.mech._check_hubs()
        self.assertEqual(base.OTHER_HOST, self.host_of(self.hub['id']))
        self.assertEqual(constants.VIF_TYPE_WIREGUARD,
                         self.show_port(self.hub['id'])[portbindings.VIF_TYPE])
        self.assertTrue(self.wg_row(self.hub['id']).scheduled)
        self.assertIn([self.hub['id']], self.notified_hubs())
        # the old agent's key and endpoint are gone: the spoke's configuration waits for the
        # new agent's, then shows them
        config = self.spoke_config(self.spoke['id'], context=base.member())
        self.assertFalse(config['ready'])
        self.assertIsNone(config['peers'][0]['public_key'])
        key = self.hub_up(self.hub['id'], host=base.OTHER_HOST)
        config = self.spoke_config(self.spoke['id'], context=base.member())
        self.assertEqual(key, config['peers'][0]['public_key'])
        self.assertIn('PublicKey = %s' % key, config['wg_quick'])
        # a hub whose host a request named stays
        self.assertEqual(base.HOST, self.host_of(pinned['id']))

    def test_off_by_default_and_not_before_the_delay(self):
        helpers.kill_agent(self.agent['id'])
        cfg.CONF.set_override('reschedule_hubs', False, 'wireguard')
        self.mech._check_hubs()
        self.assertEqual(base.HOST, self.host_of(self.hub['id']))
        cfg.CONF.set_override('reschedule_hubs', True, 'wireguard')
        cfg.CONF.set_override('reschedule_hubs_after', 7200, 'wireguard')
        self.mech._check_hubs()  # dead for an hour only
        self.assertEqual(base.HOST, self.host_of(self.hub['id']))

    def test_no_other_agent_keeps_it(self):
        helpers.kill_agent(self.agent['id'])
        helpers.kill_agent(self.other['id'])
        self.assertEqual([], scheduler.reschedule_hubs())
        self.assertEqual(base.HOST, self.host_of(self.hub['id']))

    def test_router_interface_stays(self):
        ext_api = test_extensions.setup_extensions_middleware(
            test_l3.L3TestExtensionManager())
        req = self.new_create_request('routers', {'router': {
            'name': 'r1', 'admin_state_up': True, 'tenant_id': base.PROJECT}})
        router = self.deserialize(self.fmt, req.get_response(ext_api))['router']
        req = self.new_action_request('routers', {'port_id': self.hub['id']},
                                      router['id'], 'add_router_interface')
        self.assertEqual(200, req.get_response(ext_api).status_int)
        helpers.kill_agent(self.agent['id'])
        self.assertEqual([], scheduler.reschedule_hubs())


class TestSpokes(ApiTestCase):

    def setUp(self):
        super().setUp()
        self.hub = self.create_hub_as(name='hub1')
        self.notified_hubs()

    def test_spoke_with_only_a_public_key(self):
        key = base.new_key()
        spoke = self.create_spoke_as(key=key, name='laptop')
        self.assertEqual([self.hub['id']], spoke['hub_ids'])
        self.assertEqual(self.network['id'], spoke['network_id'])
        self.assertEqual(self.subnet['id'], spoke['fixed_ips'][0]['subnet_id'])
        self.assertEqual((key, None, 25), (spoke['public_key'], spoke['endpoint'],
                                           spoke['persistent_keepalive']))
        self.assertEqual(n_const.PORT_STATUS_DOWN, spoke['status'])  # hub not up
        port = self.show_port(spoke['id'])
        self.assertEqual(constants.DEVICE_OWNER_SPOKE, port['device_owner'])
        self.assertEqual({'public_key': key, 'peers': [self.hub['id']]},
                         port[PROFILE])
        self.assertEqual([[self.hub['id']]], self.notified_hubs())
        # the hub's agent learns it as before
        hub = self.rpc.get_hubs(None, base.HOST)['hubs'][0]
        self.assertEqual([(spoke['id'], key)],
                         [(s['id'], s['public_key']) for s in hub['spokes']])
        self.hub_up(self.hub['id'])
        self.assertEqual(n_const.PORT_STATUS_ACTIVE,
                         self.api_show(SPOKE, spoke['id'],
                                       context=base.member())['status'])

    def test_choice_of_hub(self):
        subnet2 = self._make_subnet(self.fmt, {'network': self.network},
                                    '10.11.0.1', '10.11.0.0/24',
                                    tenant_id=base.PROJECT)['subnet']
        hub2 = self.create_hub_as(fixed_ips=[{'subnet_id': subnet2['id']}])
        body = self.create_spoke_as(expected=400)
        self.assertIn('several WireGuard hubs', self.error(body))
        self.assertIn(hub2['id'], self.error(body))
        spoke = self.create_spoke_as(subnet_id=subnet2['id'])
        self.assertEqual([hub2['id']], spoke['hub_ids'])
        self.assertEqual([subnet2['id']],
                         [ip['subnet_id'] for ip in spoke['fixed_ips']])
        spoke = self.create_spoke_as(hub_ids=[self.hub['id']])
        self.assertEqual([self.hub['id']], spoke['hub_ids'])
        ip = self.free_ip()
        spoke = self.create_spoke_as(fixed_ips=[{'subnet_id': self.subnet['id'],
                                                 'ip_address': ip}])
        self.assertEqual(([self.hub['id']], ip),
                         (spoke['hub_ids'], spoke['fixed_ips'][0]['ip_address']))
        both = self.create_spoke_as(hub_ids=[self.hub['id'], hub2['id']])
        self.assertEqual(2, len(both['fixed_ips']))
        # none in another network of the project
        net2 = self._make_network(self.fmt, 'empty', True,
                                  tenant_id=base.PROJECT)['network']
        body = self.create_spoke_as(expected=400, network_id=net2['id'])
        self.assertIn('no WireGuard hub', self.error(body))

    def test_key_rotation(self):
        spoke = self.create_spoke_as()
        self.notified_hubs()
        new = base.new_key()
        rotated = self.api_update(SPOKE, spoke['id'], context=base.member(),
                                  public_key=new)
        self.assertEqual(new, rotated['public_key'])
        self.assertEqual(spoke['fixed_ips'], rotated['fixed_ips'])
        self.assertEqual([[self.hub['id']]], self.notified_hubs())
        hub = self.rpc.get_hubs(None, base.HOST)['hubs'][0]
        self.assertEqual([new], [s['public_key'] for s in hub['spokes']])
        self.assertEqual([(spoke['id'], self.hub['id'], new)],
                         self.peering_keys())

    def test_endpoint_and_keepalive(self):
        spoke = self.create_spoke_as(endpoint='198.51.100.7:51000',
                                     persistent_keepalive=0)
        self.assertEqual(('198.51.100.7:51000', 0),
                         (spoke['endpoint'], spoke['persistent_keepalive']))
        spoke = self.api_update(SPOKE, spoke['id'], context=base.member(),
                                endpoint=None, persistent_keepalive=15)
        self.assertEqual((None, 15), (spoke['endpoint'],
                                      spoke['persistent_keepalive']))
        self.assertNotIn('endpoint', self.show_port(spoke['id'])[PROFILE])

    def test_bad_values_change_nothing(self):
        spoke = self.create_spoke_as()
        ports = len(self._list('ports')['ports'])
        for attrs, field in (({'public_key': 'AAAA'}, 'public_key'),
                             ({'endpoint': '127.0.0.1:51820'}, 'endpoint'),
                             ({'endpoint': 'nope'}, 'endpoint'),
                             ({'persistent_keepalive': 70000},
                              'persistent_keepalive'),
                             ({'public_key': spoke['public_key']}, 'public_key')):
            with self.subTest(attrs=attrs):
                body = self.create_spoke_as(expected=400, **attrs)
                message = self.error(body)
                self.assertIn(field, message)
                self.assertNotIn('binding:profile', message)
        self.assertEqual(ports, len(self._list('ports')['ports']))
        body = self.api_update(SPOKE, spoke['id'], context=base.member(),
                               expected=400, public_key='AAAA')
        self.assertIn('public_key', self.error(body))
        self.assertEqual(spoke, self.api_show(SPOKE, spoke['id'],
                                              context=base.member()))

    def test_list_filters(self):
        a = self.create_spoke_as(name='a')
        self.create_spoke_as(name='b')
        self.assertEqual([a['id']], [s['id'] for s in self.api_list(
            SPOKE, context=base.member(), params='name=a')])
        self.assertEqual(2, len(self.api_list(
            SPOKE, params='hub_ids=%s' % self.hub['id'])))
        self.assertEqual([{'public_key': a['public_key']}], self.api_list(
            SPOKE, params=urllib.parse.urlencode(
                {'fields': 'public_key', 'public_key': a['public_key']})))

    def test_hub_deleted(self):
        spoke = self.create_spoke_as()
        self._delete('ports', self.hub['id'])
        spoke = self.api_show(SPOKE, spoke['id'], context=base.member())
        self.assertEqual(([], constants.SPOKE_STATUS_NO_HUB),
                         (spoke['hub_ids'], spoke['status']))
        config = self.spoke_config(spoke['id'], context=base.member())
        self.assertEqual([], config['peers'])
        self.assertIn('No hub', config['wg_quick'])


class TestSpokeConfig(ApiTestCase):

    def setUp(self):
        super().setUp()
        self.hub = self.create_hub_as(name='hub1')
        self.hub_key = self.hub_up(self.hub['id'])

    def test_complete_configuration(self):
        spoke = self.create_spoke_as(name='laptop', endpoint='198.51.100.7:51000')
        config = self.spoke_config(spoke['id'], context=base.member())
        address = spoke['fixed_ips'][0]['ip_address']
        self.assertEqual({
            'spoke_id': spoke['id'],
            'ready': True,
            'interface': {'addresses': ['%s/24' % address],
                          'mtu': min(self.network['mtu'], 1420),
                          'listen_port': 51000},
            'peers': [{'hub_id': self.hub['id'], 'name': 'hub1',
                       'status': n_const.PORT_STATUS_ACTIVE,
                       'public_key': self.hub_key,
                       'endpoint': '203.0.113.1:51820',
                       'allowed_ips': ['10.10.0.0/24'],
                       'persistent_keepalive': 25, 'ready': True}],
        }, {k: v for k, v in config.items() if k != 'wg_quick'})
        text = config['wg_quick']
        self.assertIn('[Interface]\nPrivateKey = __PRIVATE_KEY__\n'
                      'Address = %s/24\nMTU = %d\nListenPort = 51000\n'
                      % (address, min(self.network['mtu'], 1420)), text)
        self.assertIn('[Peer]\nPublicKey = %s\nEndpoint = 203.0.113.1:51820\n'
                      'AllowedIPs = 10.10.0.0/24\nPersistentKeepalive = 25\n'
                      % self.hub_key, text)
        self.assertNotIn('host', str(config))

    def test_hub_not_up_yet(self):
        waiting = self.create_hub_as()
        spoke = self.create_spoke_as(hub_ids=[waiting['id']],
                                     persistent_keepalive=0)
        config = self.spoke_config(spoke['id'], context=base.member())
        self.assertFalse(config['ready'])
        self.assertNotIn('[Peer]', config['wg_quick'])
        self.assertIn('not configured', config['wg_quick'])

    def test_router_subnets_and_a_second_hub(self):
        ext_api = test_extensions.setup_extensions_middleware(
            test_l3.L3TestExtensionManager())
        req = self.new_create_request('routers', {'router': {
            'name': 'r1', 'admin_state_up': True, 'tenant_id': base.PROJECT}})
        router = self.deserialize(self.fmt, req.get_response(ext_api))['router']
        lan_net = self._make_network(self.fmt, 'lan', True,
                                     tenant_id=base.PROJECT)['network']
        lan = self._make_subnet(self.fmt, {'network': lan_net}, '10.20.0.1',
                                '10.20.0.0/24', tenant_id=base.PROJECT)['subnet']
        for info in ({'subnet_id': lan['id']}, {'port_id': self.hub['id']}):
            req = self.new_action_request('routers', info, router['id'],
                                          'add_router_interface')
            self.assertEqual(200, req.get_response(ext_api).status_int)
        hub2 = self.create_hub_as(name='hub2')
        hub2_key = self.hub_up(hub2['id'])
        spoke = self.create_spoke_as(hub_ids=[self.hub['id'], hub2['id']])
        config = self.spoke_config(spoke['id'], context=base.member())
        self.assertEqual(self.hub['id'], config['peers'][0]['hub_id'])
        self.assertEqual(['10.10.0.0/24', '10.20.0.0/24'],
                         config['peers'][0]['allowed_ips'])
        # the same tunnel subnet goes to the first hub only (WireGuard routes a range to one
        # peer); the second one gets its own address
        self.assertEqual((hub2_key, ['%s/32' % hub2['fixed_ips'][0]['ip_address']]),
                         (config['peers'][1]['public_key'],
                          config['peers'][1]['allowed_ips']))

    def test_render_is_wg_quick(self):
        spoke = {'id': 's1', 'name': 'x', 'endpoint': None,
                 'persistent_keepalive': 0}
        config = spoke_config.make(spoke, {
            'addresses': [('10.0.0.5', '10.0.0.0/24'), ('fd00::5', 'fd00::/64')],
            'mtu': 9000,
            'hubs': [{'id': 'h1', 'name': 'hub', 'status': 'ACTIVE',
                      'vif_type': 'wireguard', 'public_key': 'K=',
                      'endpoint': '[2001:db8::1]:51820',
                      'ips': ['10.0.0.1', 'fd00::1'],
                      'cidrs': ['10.0.0.0/24', 'fd00::/64'],
                      'routed': ['192.168.0.0/16', '2001:db8:1::/64']}]})
        self.assertEqual(
            '[Interface]\nPrivateKey = __PRIVATE_KEY__\n'
            'Address = 10.0.0.5/24, fd00::5/64\nMTU = 1420\n\n'
            '# hub hub (h1), ACTIVE\n[Peer]\nPublicKey = K=\n'
            'Endpoint = [2001:db8::1]:51820\n'
            'AllowedIPs = 10.0.0.0/24, fd00::/64, 192.168.0.0/16, '
            '2001:db8:1::/64\n',
            config['wg_quick'].split('\n', 3)[3])


class TestPolicies(ApiTestCase):
    """Default policies: the owner (member or reader), another project's member, an admin."""

    def setUp(self):
        super().setUp()
        self.hub = self.create_hub_as()
        self.spoke = self.create_spoke_as()
        self.other = base.member(base.OTHER_PROJECT)
        self.other_net = self._make_network(
            self.fmt, 'other', True, tenant_id=base.OTHER_PROJECT)['network']
        self._make_subnet(self.fmt, {'network': self.other_net}, '10.30.0.1',
                          '10.30.0.0/24', tenant_id=base.OTHER_PROJECT)
        self.before = self.snapshot()

    def snapshot(self):
        return ({p['id']: (p['revision_number'], p[PROFILE], p['name'])
                 for p in self.driver.get_ports(self.admin)},
                self.roles(), self.peering_keys())

    def assert_unchanged(self):
        self.assertEqual(self.before, self.snapshot())

    def test_another_project_sees_nothing_and_changes_nothing(self):
        other = self.other
        for resource, id_ in ((HUB, self.hub['id']), (SPOKE, self.spoke['id'])):
            with self.subTest(resource=resource):
                self.api_show(resource, id_, context=other, expected=404)
                self.api_update(resource, id_, context=other, expected=404,
                                name='mine')
                self.request('DELETE', resource + 's', id_, context=other,
                             expected=404)
                self.assertEqual([], self.api_list(resource, context=other))
        self.spoke_config(self.spoke['id'], context=other, expected=404)
        self.request('GET', 'ports', self.hub['id'], context=other,
                     expected=404)
        # peering with another project's hub, or using its network
        body = self.create_spoke_as(context=other, expected=404,
                                    tenant_id=base.OTHER_PROJECT,
                                    hub_ids=[self.hub['id']])
        self.assertIn(self.hub['id'], self.error(body))
        self.create_hub_as(context=other, expected=404,
                           tenant_id=base.OTHER_PROJECT)
        self.api_update(SPOKE, self.spoke['id'], context=base.member(),
                        expected=404, hub_ids=[
                            self.hub['id'],
                            '00000000-0000-0000-0000-000000000000'])
        self.assert_unchanged()

    def test_member_never_sets_a_host_or_root_device(self):
        member = base.member()
        for attrs in ({'host': base.HOST}, {'root_device': True}):
            with self.subTest(attrs=attrs):
                self.create_hub_as(expected=403, **attrs)
                self.api_update(HUB, self.hub['id'], context=member,
                                expected=403, **attrs)
        # nor through the port API (Neutron's own binding policies)
        for attrs in ({PROFILE: {'root_device': True}},
                      {portbindings.HOST_ID: base.OTHER_HOST}):
            with self.subTest(attrs=attrs):
                self.request('PUT', 'ports', self.hub['id'], context=member,
                             body={'port': attrs}, expected=403)
        self.request('POST', 'ports', context=member, expected=403, body={
            'port': {'network_id': self.network['id'], 'tenant_id': base.PROJECT,
                     'device_owner': constants.DEVICE_OWNER_SPOKE,
                     PROFILE: {'public_key': base.new_key(),
                               'peers': [self.hub['id']]}}})
        self.assert_unchanged()

    def test_reader_reads_only_under_the_new_defaults(self):
        # Zed's default (enforce_new_defaults false) also applies the deprecated owner rules,
        # as for Neutron's own resources; the new ones hold on their own.
        cfg.CONF.set_override('enforce_new_defaults', True, 'oslo_policy')
        policy.reset()
        self.addCleanup(policy.reset)
        reader = base.member(roles=('reader',))
        self.api_show(HUB, self.hub['id'], context=reader)
        self.spoke_config(self.spoke['id'], context=reader)
        self.api_update(SPOKE, self.spoke['id'], context=reader, expected=403,
                        name='x')
        self.create_spoke_as(context=reader, expected=403)
        self.api_show(SPOKE, self.spoke['id'], context=self.other,
                      expected=404)
        self.assert_unchanged()
        self.create_spoke_as()  # a member still may

    def test_admin_does_everything(self):
        admin = base.admin()
        hub = self.api_show(HUB, self.hub['id'], context=admin)
        self.assertEqual((base.HOST, False), (hub['host'], hub['root_device']))
        self.spoke_config(self.spoke['id'], context=admin)
        root = self.create_hub_as(context=admin, root_device=True,
                                  host=base.HOST)
        self.assertTrue(root['root_device'])
        self.assertEqual({'root_device': True},
                         self.show_port(root['id'])[PROFILE])
        # on an up hub: its agent's key and endpoint stay the agent's, not ML2's profile
        key = self.hub_up(self.hub['id'])
        hub = self.api_update(HUB, self.hub['id'], context=admin, root_device=True)
        self.assertEqual((True, key), (hub['root_device'], hub['public_key']))
        self.assertEqual({'root_device': True},
                         self.binding_profile_row(self.hub['id']))
        spoke = self.create_spoke_as(context=admin, tenant_id=base.OTHER_PROJECT,
                                     network_id=self.other_net['id'],
                                     expected=400)
        self.assertIn('no WireGuard hub of project %s' % base.OTHER_PROJECT,
                      self.error(spoke))


class TestPlacement(ApiTestCase):

    def test_a_hub_placed_meanwhile_is_left_alone(self):
        # Two server processes may both try a waiting hub (an agent's report, a periodic check):
        # the second finds it placed and does nothing.
        helpers.kill_agent(self.agent['id'])
        hub = self.create_hub_as()
        helpers.revive_agent(self.agent['id'])
        self.assertTrue(scheduler.place_hub(self.admin, hub['id'], base.HOST))
        base.register_wireguard_agent(base.OTHER_HOST)
        revision = self.show_port(hub['id'])['revision_number']
        self.assertFalse(scheduler.place_hub(self.admin, hub['id'], base.OTHER_HOST))
        self.assertEqual([], scheduler.schedule_waiting_hubs(self.admin))
        port = self.show_port(hub['id'])
        self.assertEqual((base.HOST, revision),
                         (port[portbindings.HOST_ID], port['revision_number']))
        # nor a hub that is gone
        self.assertFalse(scheduler.place_hub(
            self.admin, '00000000-0000-0000-0000-000000000000', base.HOST))
