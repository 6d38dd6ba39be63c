from neutron.conf.policies import base as n_base

from networking_wireguard.policies import base

COLLECTION_PATH = '/wireguard_hubs'
RESOURCE_PATH = '/wireguard_hubs/{id}'
WHAT = 'WireGuard hub'

rules = [
    base.rule('create_wireguard_hub', base.ADMIN_OR_PROJECT_MEMBER,
              'Create a %s (scheduled to a WireGuard agent)' % WHAT,
              [{'method': 'POST', 'path': COLLECTION_PATH}],
              deprecated=n_base.RULE_ANY),
    base.rule('get_wireguard_hub', base.ADMIN_OR_PROJECT_READER,
              'Get a %s' % WHAT,
              [{'method': 'GET', 'path': COLLECTION_PATH},
               {'method': 'GET', 'path': RESOURCE_PATH}],
              deprecated=n_base.RULE_ADMIN_OR_OWNER),
    base.rule('update_wireguard_hub', base.ADMIN_OR_PROJECT_MEMBER,
              'Update a %s' % WHAT,
              [{'method': 'PUT', 'path': RESOURCE_PATH}],
              deprecated=n_base.RULE_ADMIN_OR_OWNER),
    base.rule('delete_wireguard_hub', base.ADMIN_OR_PROJECT_MEMBER,
              'Delete a %s' % WHAT,
              [{'method': 'DELETE', 'path': RESOURCE_PATH}],
              deprecated=n_base.RULE_ADMIN_OR_OWNER),
    # The network node that runs the hub (its binding:host_id)
    *base.attribute_rules('wireguard_hub', RESOURCE_PATH, 'host', WHAT),
    # A device in the network node's root namespace, with its addresses and routes
    *base.attribute_rules('wireguard_hub', RESOURCE_PATH, 'root_device', WHAT),
]


def list_rules():
    return rules
