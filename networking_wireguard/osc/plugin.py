# The `openstack` CLI plugin (osc-lib / cliff): `openstack wireguard hub ...` and `openstack
# wireguard spoke ...` (v2/wireguard.py). The commands talk to Neutron through openstacksdk's
# network proxy, as python-openstackclient's own network commands do.

from osc_lib import utils

API_NAME = 'wireguard'
API_VERSION_OPTION = 'os_wireguard_api_version'
API_VERSIONS = {'2': 'openstack.connection.Connection'}
DEFAULT_API_VERSION = '2'


def make_client(instance):
    """The network proxy of openstacksdk (Neutron's endpoint, the user's session)."""
    return instance.sdk_connection.network


def build_option_parser(parser):
    parser.add_argument(
        '--os-wireguard-api-version',
        metavar='<wireguard-api-version>',
        default=utils.env('OS_WIREGUARD_API_VERSION',
                          default=DEFAULT_API_VERSION),
        help='WireGuard API version (the Neutron API, v2), default=%s '
             '(Env: OS_WIREGUARD_API_VERSION)' % DEFAULT_API_VERSION)
    return parser
