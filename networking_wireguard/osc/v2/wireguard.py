# `openstack wireguard hub create|list|show|delete` and `openstack wireguard spoke
# create|list|show|set|delete|config`: the WireGuard API of Neutron from the command line.
# `spoke config` prints the device's wg-quick file; with --private-key-file the key is put in
# locally (it never leaves this machine), with --qr as a QR code for the WireGuard phone apps.

import base64
import binascii

from cliff import columns as cliff_columns
from osc_lib.cli import format_columns
from osc_lib.cli import parseractions
from osc_lib.command import command
from osc_lib import exceptions
from osc_lib import utils

from networking_wireguard.osc import resources

PLACEHOLDER = '__PRIVATE_KEY__'

HUB_COLUMNS = ('id', 'name', 'description', 'project_id', 'network_id',
               'fixed_ips', 'admin_state_up', 'status', 'public_key',
               'endpoint', 'availability_zone_hints', 'availability_zones',
               'router_id', 'host', 'root_device')
SPOKE_COLUMNS = ('id', 'name', 'description', 'project_id', 'network_id',
                 'fixed_ips', 'hub_ids', 'public_key', 'endpoint',
                 'persistent_keepalive', 'admin_state_up', 'status',
                 'connection_status', 'latest_handshake_at', 'last_endpoint',
                 'rx_bytes', 'tx_bytes', 'connection_updated_at')
# Shown only when the API returns them (admins, by the default policies).
ADMIN_COLUMNS = ('host', 'root_device')
FORMATTERS = {
    'fixed_ips': format_columns.ListDictColumn,
    'hub_ids': format_columns.ListColumn,
    'availability_zone_hints': format_columns.ListColumn,
    'availability_zones': format_columns.ListColumn,
}


def _show(obj, columns):
    body = obj.to_dict(computed=False, ignore_none=False)
    columns = tuple(c for c in columns
                    if c not in ADMIN_COLUMNS or body.get(c) is not None)
    return columns, utils.get_dict_properties(body, columns,
                                              formatters=FORMATTERS)


def _project_id(app, parsed_args):
    if not getattr(parsed_args, 'project', None):
        return None
    try:
        from openstackclient.identity import common as identity_common
        return identity_common.find_project(
            app.client_manager.identity, parsed_args.project,
            parsed_args.project_domain).id
    except Exception:  # no identity service (noauth): take it as an ID
        return parsed_args.project


def _add_project(parser):
    parser.add_argument('--project', metavar='<project>',
                        help='Owner\'s project (name or ID; admins only)')
    parser.add_argument('--project-domain', metavar='<project-domain>',
                        help='Domain the project belongs to (name or ID)')


def _fixed_ips(client, fixed_ips):
    result = []
    for ip in fixed_ips or []:
        entry = {}
        if 'subnet' in ip:
            entry['subnet_id'] = client.find_subnet(
                ip['subnet'], ignore_missing=False).id
        if 'ip-address' in ip:
            entry['ip_address'] = ip['ip-address']
        result.append(entry)
    return result


def _add_fixed_ip(parser, what):
    parser.add_argument(
        '--fixed-ip', metavar='subnet=<subnet>,ip-address=<ip-address>',
        action=parseractions.MultiKeyValueAction, dest='fixed_ip',
        optional_keys=['subnet', 'ip-address'],
        help='Desired IP and/or subnet of the %s (name or ID): '
             'subnet=<subnet>,ip-address=<ip-address> (repeat for several)'
             % what)


def read_private_key(path):
    """The base64 private key in path (as `wg genkey` writes it), checked."""
    try:
        with open(path) as f:
            key = f.read().strip()
    except OSError as e:
        raise exceptions.CommandError('cannot read %s: %s' % (path, e))
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raw = b''
    if len(raw) != 32:
        raise exceptions.CommandError(
            '%s does not hold a WireGuard private key (44 characters of base64, '
            'as `wg genkey` writes it)' % path)
    return key


def public_key_of(private_key):
    """The public key of a base64 private key (X25519), as `wg pubkey` prints it."""
    from cryptography.hazmat.primitives.asymmetric import x25519
    from cryptography.hazmat.primitives import serialization
    key = x25519.X25519PrivateKey.from_private_bytes(
        base64.b64decode(private_key))
    return base64.b64encode(key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()


class _Find(object):
    """Name-or-ID lookups of hubs and spokes (openstacksdk's find)."""

    def find(self, resource, name_or_id):
        client = self.app.client_manager.wireguard
        found = resource.find(client, name_or_id, ignore_missing=True)
        if found is None:
            what = 'hub' if resource is resources.WireGuardHub else 'spoke'
            raise exceptions.CommandError(
                'No WireGuard %s %s could be found (or it is not yours)' % (
                    what, name_or_id))
        return found


# --- hubs ---

class CreateHub(command.ShowOne, _Find):
    """Create a WireGuard hub on a network; it is scheduled to a WireGuard agent"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='<name>', help='Name of the hub')
        parser.add_argument('--network', metavar='<network>', required=True,
                            help='Network of the hub (name or ID): a subnet '
                                 'set aside for the tunnel')
        _add_fixed_ip(parser, 'hub')
        parser.add_argument('--description', metavar='<description>')
        parser.add_argument(
            '--availability-zone-hint', metavar='<availability-zone>',
            action='append', dest='availability_zone_hints',
            help='Availability zone for the hub\'s agent (repeat for several)')
        parser.add_argument('--host', metavar='<host>',
                            help='Run the hub on this WireGuard agent\'s host '
                                 'instead of scheduling it (admins only)')
        parser.add_argument('--root-device', action='store_true',
                            help='Keep the device in the network node\'s root '
                                 'namespace (admins only)')
        parser.add_argument('--disable', action='store_true',
                            help='Create it administratively down')
        _add_project(parser)
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.wireguard
        attrs = {'name': parsed_args.name,
                 'network_id': client.find_network(parsed_args.network,
                                                   ignore_missing=False).id}
        if parsed_args.fixed_ip:
            attrs['fixed_ips'] = _fixed_ips(client, parsed_args.fixed_ip)
        if parsed_args.description is not None:
            attrs['description'] = parsed_args.description
        if parsed_args.availability_zone_hints:
            attrs['availability_zone_hints'] = parsed_args.availability_zone_hints
        if parsed_args.host:
            attrs['host'] = parsed_args.host
        if parsed_args.root_device:
            attrs['root_device'] = True
        if parsed_args.disable:
            attrs['admin_state_up'] = False
        project_id = _project_id(self.app, parsed_args)
        if project_id:
            attrs['project_id'] = project_id
        hub = resources.WireGuardHub.new(**attrs).create(client)
        return _show(hub, HUB_COLUMNS)


class ListHub(command.Lister):
    """List WireGuard hubs"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--network', metavar='<network>',
                            help='Only the hubs of this network (name or ID)')
        parser.add_argument('--long', action='store_true',
                            help='List additional fields')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.wireguard
        query = {}
        if parsed_args.network:
            query['network_id'] = client.find_network(
                parsed_args.network, ignore_missing=False).id
        columns = ('id', 'name', 'network_id', 'status', 'endpoint')
        if parsed_args.long:
            columns += ('public_key', 'fixed_ips', 'availability_zones',
                        'router_id', 'project_id')
        hubs = resources.WireGuardHub.list(client, **query)
        return columns, (utils.get_dict_properties(
            hub.to_dict(computed=False), columns, formatters=FORMATTERS)
            for hub in hubs)


class ShowHub(command.ShowOne, _Find):
    """Show a WireGuard hub: its state, and its key and endpoint for spokes"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('hub', metavar='<hub>', help='Hub (name or ID)')
        return parser

    def take_action(self, parsed_args):
        return _show(self.find(resources.WireGuardHub, parsed_args.hub),
                     HUB_COLUMNS)


class DeleteHub(command.Command, _Find):
    """Delete WireGuard hub(s); their spokes lose them"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('hubs', metavar='<hub>', nargs='+',
                            help='Hub(s) to delete (name or ID)')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.wireguard
        failed = 0
        for name_or_id in parsed_args.hubs:
            try:
                self.find(resources.WireGuardHub, name_or_id).delete(client)
            except Exception as e:
                failed += 1
                self.app.stderr.write('Failed to delete hub %s: %s\n'
                                      % (name_or_id, e))
        if failed:
            raise exceptions.CommandError('%d of %d hubs failed to delete' % (
                failed, len(parsed_args.hubs)))


# --- spokes ---

def _add_key_args(parser, required):
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument('--public-key', metavar='<public-key>',
                       help='Public key of the device (base64, as `wg pubkey` '
                            'prints it)')
    group.add_argument('--private-key-file', metavar='<file>',
                       help='Take the public key from the device\'s private key '
                            'in this local file (the private key is not sent)')


def _public_key(parsed_args):
    if parsed_args.private_key_file:
        return public_key_of(read_private_key(parsed_args.private_key_file))
    return parsed_args.public_key


class CreateSpoke(command.ShowOne, _Find):
    """Create a WireGuard spoke (a device) with its public key"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='<name>', help='Name of the spoke')
        _add_key_args(parser, required=True)
        parser.add_argument(
            '--hub', metavar='<hub>', action='append', dest='hubs',
            help='Hub of the spoke (name or ID; repeat for several). Default: '
                 'the hub of --network / --subnet, or the project\'s only hub')
        parser.add_argument('--network', metavar='<network>',
                            help='Choose the hub of this network (name or ID)')
        parser.add_argument('--subnet', metavar='<subnet>',
                            help='Choose the hub of this subnet and take the '
                                 'spoke\'s address from it (name or ID)')
        _add_fixed_ip(parser, 'spoke')
        parser.add_argument('--endpoint', metavar='<host:port>',
                            help='Where hubs reach the device, if it has a '
                                 'stable address (host:port or [v6]:port)')
        parser.add_argument('--persistent-keepalive', metavar='<seconds>',
                            type=int,
                            help='PersistentKeepalive of the device (default '
                                 '25; 0: off)')
        parser.add_argument('--description', metavar='<description>')
        parser.add_argument('--disable', action='store_true',
                            help='Create it administratively down')
        _add_project(parser)
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.wireguard
        attrs = {'name': parsed_args.name,
                 'public_key': _public_key(parsed_args)}
        if parsed_args.hubs:
            attrs['hub_ids'] = [self.find(resources.WireGuardHub, hub).id
                                for hub in parsed_args.hubs]
        if parsed_args.network:
            attrs['network_id'] = client.find_network(
                parsed_args.network, ignore_missing=False).id
        if parsed_args.subnet:
            attrs['subnet_id'] = client.find_subnet(
                parsed_args.subnet, ignore_missing=False).id
        if parsed_args.fixed_ip:
            attrs['fixed_ips'] = _fixed_ips(client, parsed_args.fixed_ip)
        for key in ('endpoint', 'persistent_keepalive', 'description'):
            if getattr(parsed_args, key) is not None:
                attrs[key] = getattr(parsed_args, key)
        if parsed_args.disable:
            attrs['admin_state_up'] = False
        project_id = _project_id(self.app, parsed_args)
        if project_id:
            attrs['project_id'] = project_id
        spoke = resources.WireGuardSpoke.new(**attrs).create(client)
        return _show(spoke, SPOKE_COLUMNS)


class ListSpoke(command.Lister, _Find):
    """List WireGuard spokes"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--hub', metavar='<hub>',
                            help='Only the spokes of this hub (name or ID)')
        parser.add_argument('--network', metavar='<network>',
                            help='Only the spokes of this network (name or ID)')
        parser.add_argument('--long', action='store_true',
                            help='List additional fields')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.wireguard
        query = {}
        if parsed_args.hub:
            query['hub_ids'] = self.find(resources.WireGuardHub,
                                         parsed_args.hub).id
        if parsed_args.network:
            query['network_id'] = client.find_network(
                parsed_args.network, ignore_missing=False).id
        columns = ('id', 'name', 'fixed_ips', 'hub_ids', 'status')
        if parsed_args.long:
            columns += ('public_key', 'endpoint', 'persistent_keepalive',
                        'network_id', 'project_id', 'connection_status',
                        'latest_handshake_at')
        spokes = resources.WireGuardSpoke.list(client, **query)
        return columns, (utils.get_dict_properties(
            spoke.to_dict(computed=False), columns, formatters=FORMATTERS)
            for spoke in spokes)


class ShowSpoke(command.ShowOne, _Find):
    """Show a WireGuard spoke"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('spoke', metavar='<spoke>',
                            help='Spoke (name or ID)')
        return parser

    def take_action(self, parsed_args):
        return _show(self.find(resources.WireGuardSpoke, parsed_args.spoke),
                     SPOKE_COLUMNS)


class SetSpoke(command.Command, _Find):
    """Change a WireGuard spoke; a new public key rotates the device's key"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('spoke', metavar='<spoke>',
                            help='Spoke (name or ID)')
        parser.add_argument('--name', metavar='<name>')
        parser.add_argument('--description', metavar='<description>')
        _add_key_args(parser, required=False)
        endpoint = parser.add_mutually_exclusive_group()
        endpoint.add_argument('--endpoint', metavar='<host:port>')
        endpoint.add_argument('--no-endpoint', action='store_true',
                              help='The device has no stable address')
        parser.add_argument('--persistent-keepalive', metavar='<seconds>',
                            type=int)
        parser.add_argument('--hub', metavar='<hub>', action='append',
                            dest='hubs',
                            help='Hub(s) of the spoke instead of its current '
                                 'ones (repeat for several)')
        state = parser.add_mutually_exclusive_group()
        state.add_argument('--enable', action='store_true')
        state.add_argument('--disable', action='store_true')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.wireguard
        spoke = self.find(resources.WireGuardSpoke, parsed_args.spoke)
        attrs = {}
        for key in ('name', 'description', 'endpoint', 'persistent_keepalive'):
            if getattr(parsed_args, key) is not None:
                attrs[key] = getattr(parsed_args, key)
        if parsed_args.public_key or parsed_args.private_key_file:
            attrs['public_key'] = _public_key(parsed_args)
        if parsed_args.no_endpoint:
            attrs['endpoint'] = None
        if parsed_args.hubs:
            attrs['hub_ids'] = [self.find(resources.WireGuardHub, hub).id
                                for hub in parsed_args.hubs]
        if parsed_args.enable or parsed_args.disable:
            attrs['admin_state_up'] = parsed_args.enable
        if attrs:
            for key, value in attrs.items():
                setattr(spoke, key, value)
            spoke.commit(client)


class DeleteSpoke(command.Command, _Find):
    """Delete WireGuard spoke(s)"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('spokes', metavar='<spoke>', nargs='+',
                            help='Spoke(s) to delete (name or ID)')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.wireguard
        failed = 0
        for name_or_id in parsed_args.spokes:
            try:
                self.find(resources.WireGuardSpoke, name_or_id).delete(client)
            except Exception as e:
                failed += 1
                self.app.stderr.write('Failed to delete spoke %s: %s\n'
                                      % (name_or_id, e))
        if failed:
            raise exceptions.CommandError('%d of %d spokes failed to delete' % (
                failed, len(parsed_args.spokes)))


class _ConfigText(cliff_columns.FormattableColumn):
    """The wg-quick file as it is (one value, several lines)."""

    def human_readable(self):
        return self._value

    def machine_readable(self):
        return self._value


class ShowSpokeConfig(command.ShowOne, _Find):
    """Show a spoke device's WireGuard configuration (a wg-quick file)

    By default the file itself, ready for `wg-quick up`; with -f json or -f yaml the
    structured configuration as the API gives it. The private key is never on the server:
    the file says __PRIVATE_KEY__ unless --private-key-file puts in the device's key from a
    local file (which must match the spoke's public key).
    """

    formatter_default = 'value'

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('spoke', metavar='<spoke>',
                            help='Spoke (name or ID)')
        parser.add_argument('--private-key-file', metavar='<file>',
                            help='Put the device\'s private key from this '
                                 'local file into the configuration')
        parser.add_argument('--qr', action='store_true',
                            help='Print the configuration as a QR code for '
                                 'the WireGuard apps of phones')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.wireguard
        spoke = self.find(resources.WireGuardSpoke, parsed_args.spoke)
        config = spoke.fetch_config(client)
        text = config['wg_quick']
        if parsed_args.private_key_file:
            private = read_private_key(parsed_args.private_key_file)
            if public_key_of(private) != spoke.public_key:
                raise exceptions.CommandError(
                    'the private key in %s does not belong to spoke %s (its '
                    'public key is %s)' % (parsed_args.private_key_file,
                                           spoke.id, spoke.public_key))
            text = text.replace('PrivateKey = %s' % PLACEHOLDER,
                                'PrivateKey = %s' % private)
            config['interface']['private_key'] = private
        config['wg_quick'] = text
        if not config['ready']:
            self.app.stderr.write(
                'warning: not every hub of spoke %s is up yet (see the comments '
                'in the file); fetch the configuration again later\n' % spoke.id)
        if parsed_args.qr:
            _print_qr(text, self.app.stdout)
            return (), ()
        if parsed_args.formatter in ('value', 'table'):
            return ('wg_quick',), (_ConfigText(text.rstrip('\n')),)
        columns = tuple(sorted(config))
        return columns, tuple(config[c] for c in columns)


def _print_qr(text, out):
    try:
        import qrcode
    except ImportError:
        raise exceptions.CommandError('--qr needs python3-qrcode')
    code = qrcode.QRCode(border=2)
    code.add_data(text)
    code.make(fit=True)
    code.print_ascii(out=out, invert=True)

