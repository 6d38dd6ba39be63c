# Test base: Neutron's own ML2 test case (in-memory sqlite, fake RPC transport, in-process API) with
# the wireguard mechanism driver loaded by its entry point, a WireGuard agent on HOST and a network
# with one subnet.

import base64
import ipaddress
import os
from unittest import mock

from neutron.db import agents_db
from neutron.tests.common import helpers
from neutron.tests.unit.plugins.ml2 import test_plugin
from neutron_lib.api.definitions import portbindings
from neutron_lib import context as n_context

from networking_wireguard import constants
from networking_wireguard.db import models
from networking_wireguard import rpc as wg_rpc

HOST = 'wg-host-a'
OTHER_HOST = 'wg-host-b'
PROJECT = 'project-wg'


def new_key():
    return base64.b64encode(os.urandom(32)).decode()


def register_wireguard_agent(host):
    return helpers._register_agent({
        'binary': constants.AGENT_BINARY,
        'host': host,
        'topic': 'N/A',
        'agent_type': constants.AGENT_TYPE_WIREGUARD,
        'configurations': {},
    })


class WireGuardTestCase(test_plugin.Ml2PluginV2TestCase):

    _mechanism_drivers = ['wireguard']

    def setUp(self):
        super().setUp()
        self.mech = self.driver.mechanism_manager.mech_drivers['wireguard'].obj
        self.notifier = mock.Mock(spec=wg_rpc.WireGuardAgentNotifyAPI)
        self.mech.notifier = self.notifier
        self.admin = n_context.get_admin_context()
        self.agent = register_wireguard_agent(HOST)
        self.network = self._make_network(self.fmt, 'wg-net', True,
                                          tenant_id=PROJECT)['network']
        self.subnet = self._make_subnet(self.fmt, {'network': self.network},
                                        '10.10.0.1', '10.10.0.0/24',
                                        tenant_id=PROJECT)['subnet']
        self.rpc = wg_rpc.WireGuardRpcCallback(self.notifier)

    # --- ports through the REST API ---

    def create_port(self, expected=201, network=None, **attrs):
        attrs.setdefault('tenant_id', PROJECT)
        network = network or self.network
        res = self._create_port(self.fmt, network['id'],
                                arg_list=(portbindings.HOST_ID,
                                          portbindings.PROFILE),
                                **attrs)
        body = self.deserialize(self.fmt, res)
        self.assertEqual(expected, res.status_int, body)
        return body.get('port') or body

    def create_hub(self, host=HOST, expected=201, **attrs):
        attrs.setdefault('device_owner', constants.DEVICE_OWNER_HUB)
        if host is not None:
            attrs[portbindings.HOST_ID] = host
        return self.create_port(expected=expected, **attrs)

    def create_spoke(self, peers, key=None, expected=201, **profile_extra):
        profile = {constants.PROFILE_PUBLIC_KEY: key or new_key(),
                   constants.PROFILE_PEERS: [hub['id'] for hub in peers]}
        profile.update(profile_extra)
        return self.create_port(expected=expected,
                                device_owner=constants.DEVICE_OWNER_SPOKE,
                                **{portbindings.PROFILE: profile})

    def update_port(self, port_id, expected=200, **attrs):
        req = self.new_update_request('ports', {'port': attrs}, port_id)
        res = req.get_response(self.api)
        body = self.deserialize(self.fmt, res)
        self.assertEqual(expected, res.status_int, body)
        return body.get('port') or body

    def show_port(self, port_id):
        return self._show('ports', port_id)['port']

    def free_ip(self, subnet=None):
        """An address of the subnet that no port holds yet.

        Neutron allocates fixed IPs at random, so a hard-coded address can
        collide with one it already gave out.
        """
        subnet = subnet or self.subnet
        used = {ip['ip_address'] for port in self._list('ports')['ports']
                for ip in port['fixed_ips']}
        used.add(subnet['gateway_ip'])
        for pool in subnet['allocation_pools']:
            first = ipaddress.ip_address(pool['start'])
            last = ipaddress.ip_address(pool['end'])
            address = first
            while address <= last:
                if str(address) not in used:
                    return str(address)
                address += 1
        self.fail('subnet %s has no free address' % subnet['id'])

    def assert_bad_request(self, body, field):
        """A 400 whose message names the field."""
        message = body['NeutronError']['message']
        self.assertIn(field, message)
        return message

    # --- the driver's tables ---

    def roles(self):
        return {row.port_id: row.role for row in
                self.admin.session.query(models.WireGuardPort)}

    def peerings(self):
        return sorted((row.spoke_id, row.hub_id) for row in
                      self.admin.session.query(models.WireGuardPeering))

    def notified_hubs(self):
        """The hub_ids of every hubs_changed call so far, then forget them."""
        calls = [sorted(c.args[1]) for c in
                 self.notifier.hubs_changed.call_args_list]
        self.notifier.hubs_changed.reset_mock()
        return calls

    def agent_ids(self):
        return [a['id'] for a in agents_db.AgentDbMixin().get_agents(
            self.admin)]
