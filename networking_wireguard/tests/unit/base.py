# Test base: Neutron's own ML2 test case (in-memory sqlite, fake RPC transport, in-process API) with
# the wireguard mechanism driver loaded by its entry point, a WireGuard agent on HOST and a network
# with one subnet.

import base64
import ipaddress
import os
from unittest import mock

from neutron.db import agents_db
from neutron.plugins.ml2 import models as ml2_models
from neutron import policy
from neutron.tests.common import helpers
from neutron.tests.unit import testlib_api
from neutron.tests.unit.plugins.ml2 import test_plugin
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as n_const
from neutron_lib import context as n_context
from oslo_policy import policy as oslo_policy
from oslo_serialization import jsonutils

from networking_wireguard import constants
from networking_wireguard.db import models
from networking_wireguard.ml2 import mech_driver
from networking_wireguard import rpc as wg_rpc

HOST = 'wg-host-a'
OTHER_HOST = 'wg-host-b'
PROJECT = 'project-wg'


def new_key():
    return base64.b64encode(os.urandom(32)).decode()


def register_wireguard_agent(host, endpoint_address=None,
                             availability_zone=None):
    configurations = {}
    if endpoint_address is not None:
        configurations[constants.AGENT_ENDPOINT_ADDRESS] = endpoint_address
    state = {
        'binary': constants.AGENT_BINARY,
        'host': host,
        'topic': 'N/A',
        'agent_type': constants.AGENT_TYPE_WIREGUARD,
        'configurations': configurations,
    }
    if availability_zone is not None:
        state['availability_zone'] = availability_zone
    return helpers._register_agent(state)


class WireGuardTestCase(test_plugin.Ml2PluginV2TestCase):

    _mechanism_drivers = ['wireguard']

    def get_additional_service_plugins(self):
        # revision_number, as on a real server (a change of our tables bumps the port's)
        return dict(super().get_additional_service_plugins(),
                    revisions='revisions')

    def setUp(self):
        # What the driver spawns off an agent's report (scheduling the hubs that wait for an
        # agent) runs at once: a greenthread would run at an arbitrary later yield.
        spawn = mock.patch.object(mech_driver.n_utils, 'spawn_n',
                                  side_effect=lambda f, *a, **k: f(*a, **k))
        spawn.start()
        self.addCleanup(spawn.stop)
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

    def update_port(self, port_id, expected=200, as_member=False, **attrs):
        req = self.new_update_request('ports', {'port': attrs}, port_id)
        if as_member:
            req.environ['neutron.context'] = n_context.Context('', PROJECT)
        res = req.get_response(self.api)
        body = self.deserialize(self.fmt, res)
        self.assertEqual(expected, res.status_int, body)
        return body.get('port') or body

    def create_port_as_member(self, expected=201, **attrs):
        """A project member's request (not an admin), with the given attributes."""
        res = self._create_port(self.fmt, self.network['id'],
                                arg_list=(portbindings.HOST_ID,
                                          portbindings.PROFILE),
                                set_context=True, tenant_id=PROJECT, **attrs)
        body = self.deserialize(self.fmt, res)
        self.assertEqual(expected, res.status_int, body)
        return body.get('port') or body

    def allow_members_binding_attributes(self):
        """Policies under which members may write binding:profile and binding:host_id.

        Zed's defaults keep both admin-only; an operator may open them (and the tenant-facing API
        will write profiles for members), so the driver's own rules must hold without them.
        """
        rules = {'%s_port:%s' % (action, attr): '@'
                 for action in ('create', 'update', 'get')
                 for attr in (portbindings.PROFILE, portbindings.HOST_ID)}
        policy.set_rules(oslo_policy.Rules.from_dict(rules), overwrite=False)

    def show_port(self, port_id):
        return self._show('ports', port_id)['port']

    def binding_profile_row(self, port_id):
        """ML2's own copy of binding:profile (ml2_port_bindings), as stored."""
        row = self.admin.session.query(ml2_models.PortBinding).filter_by(
            port_id=port_id, status=n_const.ACTIVE).one()
        return jsonutils.loads(row.profile) if row.profile else {}

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

    def peering_keys(self):
        return sorted((row.spoke_id, row.hub_id, row.public_key) for row in
                      self.admin.session.query(models.WireGuardPeering))

    def wg_row(self, port_id):
        self.admin.session.expire_all()
        return self.admin.session.query(models.WireGuardPort).get(port_id)

    def notified_hubs(self):
        """The hub_ids of every hubs_changed call so far, then forget them."""
        calls = [sorted(c.args[1]) for c in
                 self.notifier.hubs_changed.call_args_list]
        self.notifier.hubs_changed.reset_mock()
        return calls

    def agent_ids(self):
        return [a['id'] for a in agents_db.AgentDbMixin().get_agents(
            self.admin)]


OTHER_PROJECT = 'project-other'


def member(project=PROJECT, roles=('member', 'reader')):
    """A project member's context, as keystonemiddleware makes it (implied roles included)."""
    return n_context.Context('user-' + project, project, roles=list(roles))


def admin():
    return n_context.Context('admin', 'admin-project', is_admin=True,
                             roles=['admin', 'member', 'reader'])


class WireGuardApiTestCase(WireGuardTestCase):
    """With the service plugin "wireguard" (the tenant API) and its policies in code."""

    def get_additional_service_plugins(self):
        return dict(super().get_additional_service_plugins(),
                    wireguard='wireguard')

    def request(self, method, collection, id=None, body=None, context=None,
                action=None, params=None, expected=None):
        """(status, body) of a request to /v2.0/<collection>[/id[/action]]."""
        path = '/%s' % collection
        if id:
            path += '/%s' % id
        if action:
            path += '/%s' % action
        req = testlib_api.create_request(
            path + '.' + self.fmt,
            self.serialize(body) if body is not None else '',
            'application/' + self.fmt, method=method, query_string=params)
        req.environ['neutron.context'] = context or admin()
        res = req.get_response(self.api)
        data = self.deserialize(self.fmt, res) if res.body else None
        if expected is not None:
            self.assertEqual(expected, res.status_int, data)
        return res.status_int, data

    def api_create(self, resource, context=None, expected=201, **attrs):
        status, body = self.request('POST', resource + 's',
                                    body={resource: attrs}, context=context,
                                    expected=expected)
        return body[resource] if status == 201 else body

    def api_show(self, resource, id, context=None, expected=200):
        status, body = self.request('GET', resource + 's', id, context=context,
                                    expected=expected)
        return body[resource] if status == 200 else body

    def api_update(self, resource, id, context=None, expected=200, **attrs):
        status, body = self.request('PUT', resource + 's', id,
                                    body={resource: attrs}, context=context,
                                    expected=expected)
        return body[resource] if status == 200 else body

    def api_list(self, resource, context=None, params=None):
        return self.request('GET', resource + 's', context=context,
                            params=params, expected=200)[1][resource + 's']

    def spoke_config(self, spoke_id, context=None, expected=200):
        status, body = self.request('GET', 'wireguard_spokes', spoke_id,
                                    context=context, action='config',
                                    expected=expected)
        return body['wireguard_config'] if status == 200 else body

    def hub_up(self, hub_id, key=None, endpoint='203.0.113.1:51820',
               host=HOST):
        """What the hub's agent does: report its key and endpoint, set the device up."""
        key = key or new_key()
        self.rpc.update_hub_port(None, hub_id, endpoint, key)
        self.driver.update_port_status(self.admin, hub_id,
                                       n_const.PORT_STATUS_ACTIVE, host)
        return key
