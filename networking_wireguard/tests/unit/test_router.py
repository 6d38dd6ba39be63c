from neutron.api.rpc.handlers import l3_rpc
from neutron.db.models import l3_attrs
from neutron.tests.unit.api import test_extensions
from neutron.tests.unit.extensions import test_l3
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as n_const
from neutron_lib.db import api as db_api

from networking_wireguard import constants
from networking_wireguard.tests.unit import base

PROFILE = portbindings.PROFILE


class TestRouterInterface(base.WireGuardTestCase):

    def setUp(self):
        super().setUp()
        self.ext_api = test_extensions.setup_extensions_middleware(
            test_l3.L3TestExtensionManager())
        self.hub = self.create_hub()
        self.spoke = self.create_spoke([self.hub])
        self.router = self._make_router()
        self.notified_hubs()

    def _make_router(self):
        req = self.new_create_request('routers', {'router': {
            'name': 'r1', 'admin_state_up': True, 'tenant_id': base.PROJECT}})
        res = req.get_response(self.ext_api)
        self.assertEqual(201, res.status_int)
        return self.deserialize(self.fmt, res)['router']

    def _interface(self, action, port_id, expected):
        req = self.new_action_request('routers', {'port_id': port_id},
                                      self.router['id'],
                                      '%s_router_interface' % action)
        res = req.get_response(self.ext_api)
        body = self.deserialize(self.fmt, res)
        self.assertEqual(expected, res.status_int, body)
        return body

    def test_hub_attach_keeps_role_binding_and_reports_router(self):
        before = self.rpc.get_hubs(None, base.HOST, [self.hub['id']])['hubs'][0]
        self._interface('add', self.hub['id'], 200)
        port = self.show_port(self.hub['id'])
        self.assertEqual(n_const.DEVICE_OWNER_ROUTER_INTF, port['device_owner'])
        self.assertEqual(self.router['id'], port['device_id'])
        self.assertEqual(constants.VIF_TYPE_WIREGUARD, port[portbindings.VIF_TYPE])
        self.assertEqual(constants.ROLE_HUB, self.roles()[self.hub['id']])
        self.assertIn([self.hub['id']], self.notified_hubs())
        hub = self.rpc.get_hubs(None, base.HOST, [self.hub['id']])['hubs'][0]
        self.assertEqual(self.router['id'], hub['router_id'])
        self.assertEqual([self.spoke['id']], [s['id'] for s in hub['spokes']])
        # get_hubs 1.4: the agent's old digest no longer matches
        self.assertNotEqual(before['digest'], hub['digest'])
        self.assertNotIn('unchanged', self.rpc.get_hubs(
            None, base.HOST, digests={self.hub['id']: before['digest']})['hubs'][0])

    def test_agents_told_once_the_router_is_recorded(self):
        # get_hubs' router_id comes from routerports, written after the port's updates: the last
        # notification must come after it
        seen = []
        self.notifier.hubs_changed.side_effect = lambda ctx, ids: seen.append(
            (sorted(ids), self.rpc.get_hubs(None, base.HOST, [self.hub['id']])[
                'hubs'][0]['router_id']))
        self._interface('add', self.hub['id'], 200)
        self.assertEqual(([self.hub['id']], self.router['id']), seen[-1])

    def test_put_of_router_owner_is_not_an_attachment(self):
        port = self.update_port(self.hub['id'],
                                device_owner=n_const.DEVICE_OWNER_ROUTER_INTF,
                                device_id=self.router['id'])
        self.assertEqual(n_const.DEVICE_OWNER_ROUTER_INTF, port['device_owner'])
        hub = self.rpc.get_hubs(None, base.HOST, [self.hub['id']])['hubs'][0]
        self.assertIsNone(hub['router_id'])
        self.assertEqual(constants.ROLE_HUB, self.roles()[self.hub['id']])
        # and back
        self.update_port(self.hub['id'], device_owner=constants.DEVICE_OWNER_HUB,
                         device_id='')

    def _assert_put_refused(self, port, reason, **attrs):
        before = self.show_port(port['id'])
        body = self.update_port(port['id'], expected=409, **attrs)
        self.assertIn(reason, body['NeutronError']['message'])
        after = self.show_port(port['id'])
        for attr in ('device_owner', 'device_id', PROFILE):
            self.assertEqual(before[attr], after[attr])

    def test_put_of_router_owner_runs_the_refusals(self):
        attach = {'device_owner': n_const.DEVICE_OWNER_ROUTER_INTF,
                  'device_id': self.router['id']}
        self._assert_put_refused(self.spoke, 'a spoke is a peer outside Neutron',
                                 **attach)
        root_hub = self.create_hub(**{PROFILE: {'root_device': True}})
        self._assert_put_refused(root_hub, 'root_device', **attach)
        self._assert_put_refused(root_hub, 'root_device', device_owner=
                                 n_const.DEVICE_OWNER_ROUTER_INTF)
        self._assert_put_refused(self.hub, 'distributed (DVR) routers',
                                 device_owner=n_const.DEVICE_OWNER_DVR_INTERFACE,
                                 device_id=self.router['id'])
        self._assert_put_refused(self.hub, 'HA routers',
                                 device_owner=n_const.DEVICE_OWNER_HA_REPLICATED_INT,
                                 device_id=self.router['id'])
        self._set_router_type('ha')
        self._assert_put_refused(self.hub, 'HA routers', **attach)
        # with the owner already set, naming the router later
        self.update_port(self.hub['id'],
                         device_owner=n_const.DEVICE_OWNER_ROUTER_INTF)
        self._assert_put_refused(self.hub, 'HA routers',
                                 device_id=self.router['id'])

    def test_attached_hub_cannot_take_root_device(self):
        self._interface('add', self.hub['id'], 200)
        self._assert_put_refused(self.hub, 'root_device',
                                 **{PROFILE: {'root_device': True}})

    def test_l3_agent_rebind_keeps_wireguard_binding(self):
        base.register_wireguard_agent(base.OTHER_HOST)
        self._interface('add', self.hub['id'], 200)
        self.notified_hubs()
        port = self.show_port(self.hub['id'])
        # what Zed's L3 RPC does in sync_routers for an L3 agent on OTHER_HOST
        l3_rpc.L3RpcCallback()._ensure_host_set_on_port(
            self.admin, base.OTHER_HOST, port, self.router['id'])
        port = self.show_port(self.hub['id'])
        self.assertEqual(base.OTHER_HOST, port[portbindings.HOST_ID])
        self.assertEqual(constants.VIF_TYPE_WIREGUARD, port[portbindings.VIF_TYPE])
        self.assertEqual('wg-' + self.hub['id'][:11],
                         port[portbindings.VIF_DETAILS]['device_name'])
        self.assertEqual([], self.rpc.get_hubs(None, base.HOST)['hubs'])
        self.assertEqual([self.hub['id']], [
            h['id'] for h in self.rpc.get_hubs(None, base.OTHER_HOST)['hubs']])
        self.assertIn([self.hub['id']], self.notified_hubs())

    def test_detach_deletes_hub_and_notifies(self):
        self._interface('add', self.hub['id'], 200)
        self.notified_hubs()
        self._interface('remove', self.hub['id'], 200)
        self._show('ports', self.hub['id'], expected_code=404)
        self.assertEqual([[self.hub['id']]], self.notified_hubs())
        self.assertEqual({self.spoke['id']: 'spoke'}, self.roles())
        self.assertEqual([], self.peerings())

    def _assert_vetoed(self, port, reason):
        body = self._interface('add', port['id'], 409)
        self.assertIn(reason, body['NeutronError']['message'])
        again = self.show_port(port['id'])
        # Zed restores the port when a BEFORE_CREATE callback refuses
        self.assertEqual(port['device_owner'], again['device_owner'])
        self.assertEqual('', again['device_id'])
        self.assertEqual(self.roles()[port['id']],
                         constants.ROLE_BY_DEVICE_OWNER[port['device_owner']])

    def test_spoke_attach_refused(self):
        self._assert_vetoed(self.spoke, 'a spoke is a peer outside Neutron')

    def _set_router_type(self, attribute):
        # The test L3 plugin has no HA scheduler: mark the router in the database, where
        # is_ha_router/is_distributed_router read it.
        with db_api.CONTEXT_WRITER.using(self.admin):
            self.admin.session.query(l3_attrs.RouterExtraAttributes).filter_by(
                router_id=self.router['id']).update({attribute: True})

    def test_ha_router_refused(self):
        self._set_router_type('ha')
        self._assert_vetoed(self.hub, 'HA routers are not supported')

    def test_dvr_router_refused(self):
        self._set_router_type('distributed')
        self._assert_vetoed(self.hub, 'distributed (DVR) routers')

    def test_root_device_hub_refused(self):
        hub = self.create_hub(**{PROFILE: {'root_device': True}})
        self._assert_vetoed(hub, 'root_device')

    def test_plain_port_attach_unaffected(self):
        port = self.create_port()
        self._interface('add', port['id'], 200)
        self.assertEqual(n_const.DEVICE_OWNER_ROUTER_INTF,
                         self.show_port(port['id'])['device_owner'])
        self.assertNotIn(port['id'], self.roles())
