from neutron.conf.policies import base as n_base

from networking_wireguard.api.definitions import wireguard as wg_apidef
from networking_wireguard.policies import base

COLLECTION_PATH = '/wireguard_spokes'
RESOURCE_PATH = '/wireguard_spokes/{id}'
WHAT = 'WireGuard spoke'

rules = [
    base.rule('create_wireguard_spoke', base.ADMIN_OR_PROJECT_MEMBER,
              'Create a %s (a device outside Neutron, peer of a hub of the '
              'same project)' % WHAT,
              [{'method': 'POST', 'path': COLLECTION_PATH}],
              deprecated=n_base.RULE_ANY),
    base.rule('get_wireguard_spoke', base.ADMIN_OR_PROJECT_READER,
              'Get a %s' % WHAT,
              [{'method': 'GET', 'path': COLLECTION_PATH},
               {'method': 'GET', 'path': RESOURCE_PATH}],
              deprecated=n_base.RULE_ADMIN_OR_OWNER),
    base.rule('update_wireguard_spoke', base.ADMIN_OR_PROJECT_MEMBER,
              'Update a %s (a new public key rotates its key)' % WHAT,
              [{'method': 'PUT', 'path': RESOURCE_PATH}],
              deprecated=n_base.RULE_ADMIN_OR_OWNER),
    base.rule('delete_wireguard_spoke', base.ADMIN_OR_PROJECT_MEMBER,
              'Delete a %s' % WHAT,
              [{'method': 'DELETE', 'path': RESOURCE_PATH}],
              deprecated=n_base.RULE_ADMIN_OR_OWNER),
    base.rule('get_wireguard_spoke_config', base.ADMIN_OR_PROJECT_READER,
              'Get the WireGuard configuration of a spoke\'s device (no '
              'private key: the server never has it)',
              [{'method': 'GET', 'path': RESOURCE_PATH + '/config'}],
              deprecated=n_base.RULE_ADMIN_OR_OWNER),
    # The device's connection as its hubs see it: the spoke's owner (and admins) by default
    *[base.rule('get_wireguard_spoke:%s' % attribute,
                base.ADMIN_OR_PROJECT_READER,
                'Get ``%s`` of a %s (its connection, as its hubs see it)' % (
                    attribute, WHAT),
                [{'method': 'GET', 'path': COLLECTION_PATH},
                 {'method': 'GET', 'path': RESOURCE_PATH}],
                deprecated=n_base.RULE_ADMIN_OR_OWNER)
      for attribute in wg_apidef.CONNECTION_ATTRIBUTES],
]


def list_rules():
    return rules
