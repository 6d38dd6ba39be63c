# Hubs attached to OVN routers (ml2/ovn.py, docs/ovn.md): the plug port, the half-subnet routes,
# their removal, the repair pass and get_hubs' ovn_plug. ML2/OVN itself cannot run here (it needs
# OVN's databases): the server's OVN mode is patched on, with an L3 plugin that has extraroutes;
# the real ML2/OVN server is tests/functional/test_ovn.py's.

from unittest import mock

from neutron.db.models import l3_attrs
from neutron.plugins.ml2 import models as ml2_models
from neutron.tests.unit.api import test_extensions
from neutron.tests.unit.extensions import test_l3
from neutron_lib.api.definitions import portbindings
from neutron_lib.callbacks import events
from neutron_lib.callbacks import registry
from neutron_lib.callbacks import resources
from neutron_lib import constants as n_const
from neutron_lib.db import api as db_api
from neutron_lib import exceptions as n_exc
from neutron_lib.plugins import constants as plugin_constants
from neutron_lib.plugins import directory
from oslo_config import cfg

from networking_wireguard import constants
from networking_wireguard.db import models
from networking_wireguard.ml2 import ovn
from networking_wireguard.tests.unit import base


def test_half_routes_v4_and_v6():
    assert ovn.half_routes('10.10.0.0/24', '10.10.0.3') == [
        {'destination': '10.10.0.0/25', 'nexthop': '10.10.0.3'},
        {'destination': '10.10.0.128/25', 'nexthop': '10.10.0.3'}]
    assert ovn.half_routes('2001:db8:1::/64', '2001:db8:1::5') == [
        {'destination': '2001:db8:1::/65', 'nexthop': '2001:db8:1::5'},
        {'destination': '2001:db8:1:0:8000::/65', 'nexthop': '2001:db8:1::5'}]


def test_ovn_mode_follows_mechanism_drivers():
    cfg.CONF.set_override('mechanism_drivers', ['wireguard', 'ovn'], group='ml2')
    try:
        assert ovn.ovn_mode()
        assert not ovn.ovn_listed_before_wireguard()
        cfg.CONF.set_override('mechanism_drivers', ['ovn', 'wireguard'], group='ml2')
        assert ovn.ovn_listed_before_wireguard()
        cfg.CONF.set_override('mechanism_drivers', ['wireguard', 'openvswitch'],
                              group='ml2')
        assert not ovn.ovn_mode()
    finally:
        cfg.CONF.clear_override('mechanism_drivers', group='ml2')


class OvnRouterTestCase(base.WireGuardTestCase):

    l3_plugin = ('neutron.tests.unit.extensions.test_extraroute.'
                 'TestExtraRouteL3NatServicePlugin')
    ovn_mode = True

    def setUp(self):
        cfg.CONF.set_override('extension_drivers', ['port_security'], group='ml2')
        mode = mock.patch.object(ovn, 'ovn_mode', return_value=self.ovn_mode)
        mode.start()
        self.addCleanup(mode.stop)
        super().setUp()
        self.ext_api = test_extensions.setup_extensions_middleware(
            test_l3.L3TestExtensionManager())
        self.l3 = directory.get_plugin(plugin_constants.L3)
        self.hub = self.create_hub()
        self.spoke = self.create_spoke([self.hub])
        self.router = self.l3.create_router(self.admin, {'router': {
            'name': 'r1', 'admin_state_up': True, 'tenant_id': base.PROJECT}})
        self.notified_hubs()

    def interface(self, action, port_id, expected=200):
        req = self.new_action_request('routers', {'port_id': port_id},
                                      self.router['id'],
                                      '%s_router_interface' % action)
        res = req.get_response(self.ext_api)
        body = self.deserialize(self.fmt, res)
        self.assertEqual(expected, res.status_int, body)
        return body

    def routes(self):
        return sorted((r['destination'], r['nexthop']) for r in
                      self.l3.get_router(self.admin, self.router['id'])['routes'])

    def plug_ports(self):
        return self._list('ports', query_params='device_owner=%s' %
                          constants.DEVICE_OWNER_OVN_PLUG)['ports']

    def plug_rows(self):
        self.admin.session.expire_all()
        return {row.hub_id: row.port_id for row in
                self.admin.session.query(models.WireGuardOvnPlug)}

    def hub_entry(self, **kwargs):
        return self.rpc.get_hubs(None, base.HOST, [self.hub['id']], **kwargs)['hubs'][0]


class TestOvnAttach(OvnRouterTestCase):

    def test_attach_makes_plug_port_and_half_routes(self):
        before = self.hub_entry()
        before_rev = self.hub_entry(revisions={})['revision']
        self.assertIsNone(before['ovn_plug'])
        self.interface('add', self.hub['id'])
        [plug] = self.plug_ports()
        self.assertEqual(self.hub['id'], plug['device_id'])
        self.assertEqual(self.hub['network_id'], plug['network_id'])
        self.assertEqual(base.PROJECT, plug['project_id'])
        self.assertEqual(base.HOST, plug[portbindings.HOST_ID])
        self.assertFalse(plug['port_security_enabled'])
        self.assertEqual([], plug['security_groups'])
        [plug_ip] = plug['fixed_ips']
        self.assertEqual(self.subnet['id'], plug_ip['subnet_id'])
        address = plug_ip['ip_address']
        self.assertEqual([('10.10.0.0/25', address), ('10.10.0.128/25', address)],
                         self.routes())
        self.assertEqual({self.hub['id']: plug['id']}, self.plug_rows())
        # not ours: no role, never bound by the wireguard driver
        self.assertNotIn(plug['id'], self.roles())
        self.assertNotEqual(constants.VIF_TYPE_WIREGUARD, plug[portbindings.VIF_TYPE])
        # the hub itself stays a WireGuard hub, bound by us
        hub = self.show_port(self.hub['id'])
        self.assertEqual(constants.VIF_TYPE_WIREGUARD, hub[portbindings.VIF_TYPE])
        self.assertEqual(n_const.DEVICE_OWNER_ROUTER_INTF, hub['device_owner'])

        entry = self.hub_entry()
        hub_ip = self.hub['fixed_ips'][0]['ip_address']
        self.assertEqual({'port_id': plug['id'], 'mac_address': plug['mac_address'],
                          'fixed_ips': [{'ip_address': address, 'cidr': '10.10.0.0/24',
                                         'ip_version': 4, 'router_ip': hub_ip}]},
                         entry['ovn_plug'])
        self.assertEqual(self.router['id'], entry['router_id'])
        self.assertNotEqual(before['digest'], entry['digest'])
        # 1.6: full entries and deltas carry it, and the hub's revision moved
        full = self.hub_entry(revisions={})
        self.assertEqual(entry['ovn_plug'], full['ovn_plug'])
        self.assertGreater(full['revision'], before_rev)
        delta = self.hub_entry(revisions={self.hub['id']: before_rev})
        self.assertEqual(before_rev, delta['base_revision'])
        self.assertEqual(entry['ovn_plug'], delta['ovn_plug'])
        self.assertIn([self.hub['id']], self.notified_hubs())

    def test_attach_is_idempotent(self):
        self.interface('add', self.hub['id'])
        [plug] = self.plug_ports()
        routes = self.routes()
        hub = self.show_port(self.hub['id'])
        plug_again, changed = ovn.ensure(self.admin, hub, self.router['id'])
        self.assertFalse(changed)
        self.assertEqual(plug['id'], plug_again['id'])
        self.assertEqual(routes, self.routes())
        self.assertEqual(1, len(self.plug_ports()))

    def test_other_routes_are_left_alone(self):
        self.interface('add', self.hub['id'])
        [plug] = self.plug_ports()
        other = self.create_port()
        user_route = {'destination': '192.0.2.0/24',
                      'nexthop': other['fixed_ips'][0]['ip_address']}
        self.l3.add_extraroutes(self.admin, self.router['id'],
                                {'router': {'routes': [user_route]}})
        self.assertEqual(3, len(self.routes()))
        ovn.remove_routes(self.admin, self.router['id'], plug['fixed_ips'])
        self.assertEqual([(user_route['destination'], user_route['nexthop'])],
                         self.routes())

    def test_detach_removes_routes_and_plug(self):
        self.interface('add', self.hub['id'])
        [plug] = self.plug_ports()
        self.notified_hubs()
        self.interface('remove', self.hub['id'])
        self._show('ports', self.hub['id'], expected_code=404)
        self._show('ports', plug['id'], expected_code=404)
        self.assertEqual([], self.routes())
        self.assertEqual({}, self.plug_rows())
        self.assertEqual({self.spoke['id']: 'spoke'}, self.roles())
        self.assertIn([self.hub['id']], self.notified_hubs())

    def test_detach_by_subnet(self):
        self.interface('add', self.hub['id'])
        [plug] = self.plug_ports()
        req = self.new_action_request('routers', {'subnet_id': self.subnet['id']},
                                      self.router['id'], 'remove_router_interface')
        res = req.get_response(self.ext_api)
        self.assertEqual(200, res.status_int, res.body)
        self._show('ports', self.hub['id'], expected_code=404)
        self._show('ports', plug['id'], expected_code=404)
        self.assertEqual([], self.routes())

    def test_dual_stack_hub_and_detach_of_one_subnet(self):
        subnet6 = self._make_subnet(self.fmt, {'network': self.network}, '2001:db8:5::1',
                                    '2001:db8:5::/64', ip_version=6,
                                    tenant_id=base.PROJECT)['subnet']
        hub = self.create_hub(fixed_ips=[{'subnet_id': self.subnet['id']},
                                         {'subnet_id': subnet6['id']}])
        self.interface('add', hub['id'])
        [plug] = [p for p in self.plug_ports() if p['device_id'] == hub['id']]
        ips = {ip['subnet_id']: ip['ip_address'] for ip in plug['fixed_ips']}
        self.assertEqual({self.subnet['id'], subnet6['id']}, set(ips))
        self.assertEqual(sorted([('10.10.0.0/25', ips[self.subnet['id']]),
                                 ('10.10.0.128/25', ips[self.subnet['id']]),
                                 ('2001:db8:5::/65', ips[subnet6['id']]),
                                 ('2001:db8:5:0:8000::/65', ips[subnet6['id']])]),
                         self.routes())
        entry = self.rpc.get_hubs(None, base.HOST, [hub['id']])['hubs'][0]['ovn_plug']
        self.assertEqual({4, 6}, {ip['ip_version'] for ip in entry['fixed_ips']})
        # Zed removes one (IPv6) subnet of a multi-subnet interface by updating its fixed IPs
        req = self.new_action_request('routers', {'subnet_id': subnet6['id']},
                                      self.router['id'], 'remove_router_interface')
        res = req.get_response(self.ext_api)
        self.assertEqual(200, res.status_int, res.body)
        self.assertEqual([self.subnet['id']], [ip['subnet_id'] for ip in
                                               self.show_port(hub['id'])['fixed_ips']])
        [plug] = [p for p in self.plug_ports() if p['device_id'] == hub['id']]
        self.assertEqual([self.subnet['id']], [ip['subnet_id'] for ip in plug['fixed_ips']])
        self.assertEqual([('10.10.0.0/25', ips[self.subnet['id']]),
                          ('10.10.0.128/25', ips[self.subnet['id']])], self.routes())
        self.assertEqual([4], [ip['ip_version'] for ip in self.rpc.get_hubs(
            None, base.HOST, [hub['id']])['hubs'][0]['ovn_plug']['fixed_ips']])

    def test_failed_detach_keeps_the_attachment_repairable(self):
        # a route removal whose detach then fails (here: another check refuses it)
        self.interface('add', self.hub['id'])
        routes = self.routes()

        def refuse(resource, event, trigger, payload):
            raise n_exc.Conflict()
        registry.subscribe(refuse, resources.ROUTER_INTERFACE, events.BEFORE_DELETE,
                           priority=2 ** 31)
        try:
            self.interface('remove', self.hub['id'], expected=409)
        finally:
            registry.unsubscribe(refuse, resources.ROUTER_INTERFACE, events.BEFORE_DELETE)
        self.show_port(self.hub['id'])
        self.assertEqual([self.hub['id']], ovn.repair(self.admin))
        self.assertEqual(routes, self.routes())
        self.assertEqual([], ovn.repair(self.admin))

    def test_plug_port_is_not_the_projects_to_change(self):
        self.interface('add', self.hub['id'])
        [plug] = self.plug_ports()
        body = self.update_port(plug['id'], expected=409, as_member=True, name='mine')
        self.assertIn('OVN plug port of WireGuard hub', body['NeutronError']['message'])
        req = self.new_delete_request('ports', plug['id'])
        req.environ['neutron.context'] = base.member()
        self.assertEqual(409, req.get_response(self.api).status_int)
        self.show_port(plug['id'])
        # an admin may (the repair pass makes a new one)
        self.update_port(plug['id'], name='admin')
        self._delete('ports', plug['id'])

    def test_ha_and_dvr_refusals_do_not_apply(self):
        with db_api.CONTEXT_WRITER.using(self.admin):
            self.admin.session.query(l3_attrs.RouterExtraAttributes).filter_by(
                router_id=self.router['id']).update({'ha': True, 'distributed': True})
        self.interface('add', self.hub['id'])
        self.assertEqual(1, len(self.plug_ports()))

    def test_root_device_hub_still_refused(self):
        hub = self.create_hub(**{portbindings.PROFILE: {'root_device': True}})
        body = self.interface('add', hub['id'], expected=409)
        self.assertIn('root_device', body['NeutronError']['message'])
        self.assertEqual([], self.plug_ports())

    def test_single_address_subnet_refused(self):
        network = self._make_network(self.fmt, 'wg-net32', True,
                                     tenant_id=base.PROJECT)['network']
        subnet = self._make_subnet(self.fmt, {'network': network}, None,
                                   '10.20.0.5/32', enable_dhcp=False,
                                   tenant_id=base.PROJECT)['subnet']
        hub = self.create_hub(network=network,
                              fixed_ips=[{'subnet_id': subnet['id']}])
        body = self.interface('add', hub['id'], expected=409)
        message = body['NeutronError']['message']
        self.assertIn('fixed_ips', message)
        self.assertIn(subnet['id'], message)
        self.assertIn('single address', message)
        hub = self.show_port(hub['id'])
        self.assertEqual(constants.DEVICE_OWNER_HUB, hub['device_owner'])
        self.assertEqual([], self.plug_ports())

    def test_attached_hub_cannot_gain_a_single_address_subnet(self):
        subnet6 = self._make_subnet(self.fmt, {'network': self.network}, None,
                                    '2001:db8:6::7/128', ip_version=6, enable_dhcp=False,
                                    tenant_id=base.PROJECT)['subnet']
        self.interface('add', self.hub['id'])
        body = self.update_port(self.hub['id'], expected=400, fixed_ips=self.hub['fixed_ips'] + [
            {'subnet_id': subnet6['id']}])
        self.assertIn('fixed_ips: subnet %s' % subnet6['id'], body['NeutronError']['message'])
        self.assertEqual(self.hub['fixed_ips'], self.show_port(self.hub['id'])['fixed_ips'])

    def test_plug_that_cannot_be_made_refuses_the_attach(self):
        cfg.CONF.set_override('max_routes', 1)
        body = self.interface('add', self.hub['id'], expected=409)
        message = body['NeutronError']['message']
        self.assertIn('OVN plug port or the router routes', message)
        hub = self.show_port(self.hub['id'])
        self.assertEqual(constants.DEVICE_OWNER_HUB, hub['device_owner'])
        self.assertEqual('', hub['device_id'])
        self.assertEqual([], self.plug_ports())
        self.assertEqual({}, self.plug_rows())
        self.assertEqual([], self.routes())
        self.assertIsNone(self.hub_entry()['ovn_plug'])

    def test_refusal_after_ours_undoes_the_plug(self):
        def refuse(resource, event, trigger, payload):
            raise RuntimeError('refused by another check')
        registry.subscribe(refuse, resources.ROUTER_INTERFACE, events.BEFORE_CREATE,
                           priority=2 ** 31)
        try:
            self.interface('add', self.hub['id'], expected=409)
        finally:
            registry.unsubscribe(refuse, resources.ROUTER_INTERFACE, events.BEFORE_CREATE)
        self.assertEqual([], self.plug_ports())
        self.assertEqual({}, self.plug_rows())
        self.assertEqual([], self.routes())

    def test_repair_remakes_a_deleted_plug_and_its_routes(self):
        self.interface('add', self.hub['id'])
        [plug] = self.plug_ports()
        self.l3.remove_extraroutes(self.admin, self.router['id'], {'router': {
            'routes': self.l3.get_router(self.admin, self.router['id'])['routes']}})
        self._delete('ports', plug['id'])
        self.assertIsNone(self.hub_entry()['ovn_plug'])
        self.notified_hubs()
        self.mech._check_hubs()
        self.assertEqual([[self.hub['id']]], self.notified_hubs())
        [new_plug] = self.plug_ports()
        address = new_plug['fixed_ips'][0]['ip_address']
        self.assertEqual([('10.10.0.0/25', address), ('10.10.0.128/25', address)],
                         self.routes())
        self.assertEqual(new_plug['id'], self.hub_entry()['ovn_plug']['port_id'])

    def test_repair_removes_a_plug_whose_hub_is_not_attached(self):
        # an attach that failed after its plug was made (Zed restored the hub)
        plug, _ = ovn._make_plug(self.admin, self.show_port(self.hub['id']))
        self.assertEqual({self.hub['id']: plug['id']}, self.plug_rows())
        self.assertEqual([self.hub['id']], ovn.repair(self.admin))
        self._show('ports', plug['id'], expected_code=404)
        self.assertEqual({}, self.plug_rows())
        self.assertEqual([], ovn.repair(self.admin))

    def test_plug_follows_the_hub_host(self):
        base.register_wireguard_agent(base.OTHER_HOST)
        self.interface('add', self.hub['id'])
        self.update_port(self.hub['id'], **{portbindings.HOST_ID: base.OTHER_HOST})
        [plug] = self.plug_ports()
        self.assertEqual(base.OTHER_HOST, plug[portbindings.HOST_ID])

    def test_hub_without_agent_is_claimed_as_failed(self):
        # no WireGuard agent on OTHER_HOST: the hub must not fall through to another driver
        # (ovn binds any port of a chassis host)
        hub = self.create_hub(host=base.OTHER_HOST)
        self.assertEqual(portbindings.VIF_TYPE_BINDING_FAILED, hub[portbindings.VIF_TYPE])
        levels = self.admin.session.query(ml2_models.PortBindingLevel).filter_by(
            port_id=hub['id']).all()
        self.assertEqual(['wireguard'], [level.driver for level in levels])
        # the agent comes: its get_hubs binds the hub
        base.register_wireguard_agent(base.OTHER_HOST)
        self.rpc.get_hubs(None, base.OTHER_HOST)
        self.assertEqual(constants.VIF_TYPE_WIREGUARD,
                         self.show_port(hub['id'])[portbindings.VIF_TYPE])


class TestNotOvn(OvnRouterTestCase):
    """ML2/OVS with the L3 agent: nothing of the above."""

    ovn_mode = False

    def test_attach_makes_no_plug_and_no_routes(self):
        self.interface('add', self.hub['id'])
        self.assertEqual([], self.plug_ports())
        self.assertEqual([], self.routes())
        self.assertIsNone(self.hub_entry()['ovn_plug'])
        self.mech._check_hubs()
        self.assertEqual([], self.plug_ports())

    def test_hub_without_agent_is_not_claimed(self):
        hub = self.create_hub(host=base.OTHER_HOST)
        self.assertEqual(portbindings.VIF_TYPE_BINDING_FAILED, hub[portbindings.VIF_TYPE])
        self.assertEqual([], self.admin.session.query(ml2_models.PortBindingLevel).filter_by(
            port_id=hub['id']).all())

    def test_ha_router_still_refused(self):
        with db_api.CONTEXT_WRITER.using(self.admin):
            self.admin.session.query(l3_attrs.RouterExtraAttributes).filter_by(
                router_id=self.router['id']).update({'ha': True})
        body = self.interface('add', self.hub['id'], expected=409)
        self.assertIn('HA routers', body['NeutronError']['message'])
