# API definition of the extension "wireguard", in neutron-lib's style: the tenant's interface to
# WireGuard hubs and spokes (docs/api-design.md). A hub or spoke *is* a port (same ID): these
# resources are a view of it and of the driver's row, and the spoke's configuration is a member
# action. The ports' binding:profile stays the admin and compatibility interface.

from neutron_lib.api import converters
from neutron_lib.api.definitions import availability_zone as az_def
from neutron_lib.api.definitions import portbindings
from neutron_lib.api import validators
from neutron_lib import constants
from neutron_lib.db import constants as db_const

from networking_wireguard import constants as wg_const
from networking_wireguard import validators as wg_validators


def _validate_public_key(data, valid_values=None):
    return wg_validators.validate_public_key(data)


def _validate_endpoint_or_none(data, valid_values=None):
    if data is None:
        return None
    return wg_validators.validate_endpoint(data)


validators.add_validator('wireguard_public_key', _validate_public_key)
validators.add_validator('wireguard_endpoint_or_none',
                         _validate_endpoint_or_none)

ALIAS = 'wireguard'
IS_SHIM_EXTENSION = False
IS_STANDARD_ATTR_EXTENSION = False
NAME = 'WireGuard hubs and spokes'
API_PREFIX = ''
DESCRIPTION = ('WireGuard hubs (tunnel endpoints on network nodes, scheduled to a '
               'WireGuard agent) and spokes (devices outside Neutron), with the '
               'WireGuard configuration of a spoke\'s device')
UPDATED_TIMESTAMP = '2026-12-20T00:00:00-00:00'

HUB = 'wireguard_hub'
HUBS = HUB + 's'
SPOKE = 'wireguard_spoke'
SPOKES = SPOKE + 's'
CONFIG = 'config'  # GET /v2.0/wireguard_spokes/{id}/config
# The key of its answer ({"wireguard_config": {...}}). Not the action's name: Neutron's policy
# hook would then take the answer for a collection of resources to filter.
CONFIG_KEY = 'wireguard_config'

HOST = 'host'
ROOT_DEVICE = 'root_device'
HUB_IDS = 'hub_ids'
PUBLIC_KEY = 'public_key'
ENDPOINT = 'endpoint'
PERSISTENT_KEEPALIVE = 'persistent_keepalive'
# A spoke's connection, as its hubs' agents report it (read-only; docs/neutron-driver.md)
CONNECTION_STATUS = 'connection_status'
LATEST_HANDSHAKE_AT = 'latest_handshake_at'
LAST_ENDPOINT = 'last_endpoint'
RX_BYTES = 'rx_bytes'
TX_BYTES = 'tx_bytes'
CONNECTION_UPDATED_AT = 'connection_updated_at'
CONNECTION_ATTRIBUTES = (CONNECTION_STATUS, LATEST_HANDSHAKE_AT, LAST_ENDPOINT,
                         RX_BYTES, TX_BYTES, CONNECTION_UPDATED_AT)

_ID = {'allow_post': False, 'allow_put': False,
       'validate': {'type:uuid': None},
       'is_visible': True, 'is_filter': True, 'primary_key': True}
_NAME = {'allow_post': True, 'allow_put': True, 'default': '',
         'validate': {'type:string': db_const.NAME_FIELD_SIZE},
         'is_visible': True, 'is_filter': True}
_DESCRIPTION = {'allow_post': True, 'allow_put': True, 'default': '',
                'validate': {'type:string': db_const.DESCRIPTION_FIELD_SIZE},
                'is_visible': True}
_PROJECT = {'allow_post': True, 'allow_put': False,
            'validate': {'type:string': db_const.PROJECT_ID_FIELD_SIZE},
            'required_by_policy': True, 'is_visible': True,
            'is_filter': True}
_ADMIN_STATE = {'allow_post': True, 'allow_put': True, 'default': True,
                'convert_to': converters.convert_to_boolean,
                'is_visible': True}
_STATUS = {'allow_post': False, 'allow_put': False, 'is_visible': True,
           'is_filter': True}
_READ_ONLY = {'allow_post': False, 'allow_put': False, 'is_visible': True}
# Read-only, each with its own GET policy (get_wireguard_spoke:<attribute>)
_READ_ONLY_POLICED = dict(_READ_ONLY, enforce_policy=True)
_FIXED_IPS = {'allow_post': True, 'allow_put': False,
              'default': constants.ATTR_NOT_SPECIFIED,
              'convert_list_to': converters.convert_kvp_list_to_dict,
              'validate': {'type:fixed_ips': None},
              'is_visible': True}

RESOURCE_ATTRIBUTE_MAP = {
    HUBS: {
        'id': _ID,
        'name': _NAME,
        'description': _DESCRIPTION,
        'project_id': _PROJECT,
        'tenant_id': _PROJECT,
        'network_id': {'allow_post': True, 'allow_put': False,
                       'validate': {'type:uuid': None},
                       'is_visible': True, 'is_filter': True},
        'fixed_ips': _FIXED_IPS,
        'admin_state_up': _ADMIN_STATE,
        # WAITING_FOR_AGENT, or the port's: DOWN until its agent has set the device up, ACTIVE
        'status': _STATUS,
        # What a spoke needs: reported by the hub's agent
        PUBLIC_KEY: _READ_ONLY,
        ENDPOINT: _READ_ONLY,
        # binding:host_id: admins only (default policies); without it the scheduler chooses
        HOST: {'allow_post': True, 'allow_put': True,
               'default': constants.ATTR_NOT_SPECIFIED,
               'validate': {'type:string_or_none': db_const.NAME_FIELD_SIZE},
               'enforce_policy': True, 'is_visible': True},
        # keep the device in the network node's root namespace: admins only
        ROOT_DEVICE: {'allow_post': True, 'allow_put': True, 'default': False,
                      'convert_to': converters.convert_to_boolean,
                      'enforce_policy': True, 'is_visible': True},
        az_def.AZ_HINTS: {'allow_post': True, 'allow_put': False,
                          'default': [],
                          'validate': {'type:availability_zone_hint_list':
                                       None},
                          'is_visible': True},
        'availability_zones': _READ_ONLY,
        'router_id': _READ_ONLY,
    },
    SPOKES: {
        'id': _ID,
        'name': _NAME,
        'description': _DESCRIPTION,
        'project_id': _PROJECT,
        'tenant_id': _PROJECT,
        PUBLIC_KEY: {'allow_post': True, 'allow_put': True,
                     'validate': {'type:wireguard_public_key': None},
                     'is_visible': True, 'is_filter': True},
        # default: the hub of network_id / subnet_id / fixed_ips, or the project's only hub
        HUB_IDS: {'allow_post': True, 'allow_put': True,
                  'default': constants.ATTR_NOT_SPECIFIED,
                  'convert_to': converters.convert_to_list,
                  'validate': {'type:uuid_list': None},
                  'is_visible': True, 'is_filter': True},
        'network_id': {'allow_post': True, 'allow_put': False,
                       'default': constants.ATTR_NOT_SPECIFIED,
                       'validate': {'type:uuid': None},
                       'is_visible': True, 'is_filter': True},
        'subnet_id': {'allow_post': True, 'allow_put': False,
                      'default': constants.ATTR_NOT_SPECIFIED,
                      'validate': {'type:uuid': None},
                      'is_visible': False},
        'fixed_ips': _FIXED_IPS,
        ENDPOINT: {'allow_post': True, 'allow_put': True, 'default': None,
                   'validate': {'type:wireguard_endpoint_or_none': None},
                   'is_visible': True},
        PERSISTENT_KEEPALIVE: {
            'allow_post': True, 'allow_put': True,
            'default': wg_const.DEFAULT_PERSISTENT_KEEPALIVE,
            'convert_to': converters.convert_to_int,
            'validate': {'type:range': [0, 65535]},
            'is_visible': True},
        'admin_state_up': _ADMIN_STATE,
        # ACTIVE (its hubs are up: the configuration is complete), DOWN, NO_HUB
        'status': _STATUS,
        # Is the device connected? ACTIVE while its latest handshake with one of its hubs is
        # recent (the agents' spoke_active_window, 180 s by default), else DOWN
        CONNECTION_STATUS: _READ_ONLY_POLICED,
        # When it last handshook with a hub (ISO 8601, UTC) and from which address:port (what
        # the hub sees: a NAT's public address), or null if never
        LATEST_HANDSHAKE_AT: _READ_ONLY_POLICED,
        LAST_ENDPOINT: _READ_ONLY_POLICED,
        # Bytes its hubs received from it and sent to it (since each hub's device started)
        RX_BYTES: _READ_ONLY_POLICED,
        TX_BYTES: _READ_ONLY_POLICED,
        # When the agents last reported a change of the above (at most every
        # spoke_report_interval, 300 s by default, while the status stays the same)
        CONNECTION_UPDATED_AT: _READ_ONLY_POLICED,
    },
}

SUB_RESOURCE_ATTRIBUTE_MAP = {}
ACTION_MAP = {SPOKE: {CONFIG: 'GET'}}
ACTION_STATUS = {}
REQUIRED_EXTENSIONS = [portbindings.ALIAS]
OPTIONAL_EXTENSIONS = []
