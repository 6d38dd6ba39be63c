from unittest import mock

from neutron.agent.l3 import agent as l3_agent
from neutron.agent.l3 import l3_agent_extension_api
from neutron.agent.l3 import legacy_router
from neutron.agent.linux import ip_lib
from neutron.conf.agent import common as agent_config
from neutron.conf.agent.l3 import config as l3_config
from neutron.tests import base as n_base
from neutron_lib import constants as lib_constants
from neutron_lib.api.definitions import portbindings

from networking_wireguard.l3 import extension

ROUTER_ID = '0f0c9e35-0000-4000-8000-000000000001'


def _port(port_id, vif_type):
    return {'id': port_id, 'network_id': 'net-1', 'mac_address': 'fa:16:3e:00:00:01',
            'fixed_ips': [{'ip_address': '10.10.0.1', 'prefixlen': 24,
                           'subnet_id': 'sub-1'}],
            'mtu': 1420, 'subnets': [], portbindings.VIF_TYPE: vif_type}


class TestWireGuardLegacyRouter(n_base.BaseTestCase):

    def setUp(self):
        super().setUp()
        conf = agent_config.setup_conf()
        l3_config.register_l3_agent_config_opts(l3_config.OPTS, conf)
        mock.patch.object(ip_lib, 'send_ip_addr_adv_notif').start()
        self.driver = mock.Mock(DEV_NAME_LEN=14)
        self.router = extension.WireGuardLegacyRouter(
            mock.Mock(), ROUTER_ID, {}, agent_conf=conf,
            interface_driver=self.driver)
        self.wg_port = _port('a1b2c3d4-0000-4000-8000-00000000000a', 'wireguard')
        self.ovs_port = _port('a1b2c3d4-0000-4000-8000-00000000000b', 'ovs')

    def test_is_a_legacy_router(self):
        self.assertIsInstance(self.router, legacy_router.LegacyRouter)

    def test_wireguard_port_is_not_plugged(self):
        self.router.internal_network_added(self.wg_port)
        self.driver.plug.assert_not_called()
        self.driver.init_router_port.assert_not_called()

    def test_other_port_is_plugged(self):
        self.router.internal_network_added(self.ovs_port)
        self.driver.plug.assert_called_once_with(
            'net-1', self.ovs_port['id'], 'qr-a1b2c3d4-00', 'fa:16:3e:00:00:01',
            namespace='qrouter-' + ROUTER_ID, prefix='qr-', mtu=1420)
        self.driver.init_router_port.assert_called_once()

    def test_wireguard_port_is_not_unplugged(self):
        with mock.patch.object(ip_lib, 'device_exists', return_value=True):
            self.router.internal_network_removed(self.wg_port)
            self.driver.unplug.assert_not_called()
            self.router.internal_network_removed(self.ovs_port)
            self.driver.unplug.assert_called_once_with(
                'qr-a1b2c3d4-00', namespace='qrouter-' + ROUTER_ID, prefix='qr-')

    def test_wireguard_port_is_not_updated(self):
        self.router.internal_network_updated(self.wg_port)
        self.driver.set_mtu.assert_not_called()
        self.driver.init_router_port.assert_not_called()
        self.router.internal_network_updated(self.ovs_port)
        self.driver.set_mtu.assert_called_once()

    def test_internal_device_of_a_hub_is_its_wireguard_device(self):
        self.router.router = {'_interfaces': [
            dict(self.wg_port, admin_state_up=True),
            dict(self.ovs_port, admin_state_up=True)]}
        self.assertEqual('wg-a1b2c3d4-00',
                         self.router.get_internal_device_name(self.wg_port['id']))
        self.assertEqual('qr-a1b2c3d4-00',
                         self.router.get_internal_device_name(self.ovs_port['id']))

    def test_address_scope_rules_name_the_wireguard_device(self):
        self.router.router = {'_interfaces': [
            dict(self.wg_port, admin_state_up=True, address_scopes={'4': None, '6': None}),
            dict(self.ovs_port, admin_state_up=True, address_scopes={'4': None, '6': None})]}
        self.router.internal_ports = list(self.router.router['_interfaces'])
        devices = self.router._get_port_devicename_scopemark(
            self.router.internal_ports, self.router.get_internal_device_name)
        # Without the override both ports would share one name (qr- + the same 11 characters).
        self.assertEqual({'wg-a1b2c3d4-00', 'qr-a1b2c3d4-00'},
                         set(devices[lib_constants.IP_VERSION_4]))

    def test_process_internal_ports_skips_only_wireguard(self):
        self.router.router = {'_interfaces': [
            dict(self.wg_port, admin_state_up=True),
            dict(self.ovs_port, admin_state_up=True)]}
        with mock.patch.object(self.router, '_get_existing_devices',
                               return_value=[]):
            self.router._process_internal_ports()
        plugged = [c.args[1] for c in self.driver.plug.call_args_list]
        self.assertEqual([self.ovs_port['id']], plugged)
        # both are the router's interfaces as far as the L3 agent is concerned
        self.assertEqual({self.wg_port['id'], self.ovs_port['id']},
                         {p['id'] for p in self.router.internal_ports})


class TestExtension(n_base.BaseTestCase):

    def test_registers_router_class_for_legacy_routers(self):
        factory = l3_agent.RouterFactory()
        factory.register([], legacy_router.LegacyRouter)
        api = l3_agent_extension_api.L3AgentExtensionAPI({}, factory)
        ext = extension.WireGuardL3AgentExtension()
        ext.initialize(mock.Mock(), 'l3')
        ext.consume_api(api)
        self.assertIs(extension.WireGuardLegacyRouter, factory._routers[frozenset()])

    def test_entry_point(self):
        from stevedore import driver
        mgr = driver.DriverManager('neutron.agent.l3.extensions', 'wireguard')
        self.assertIs(extension.WireGuardL3AgentExtension, mgr.driver)
