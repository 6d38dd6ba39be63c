# Extension descriptor of "wireguard" (api/definitions/wireguard.py): the resources
# /v2.0/wireguard_hubs and /v2.0/wireguard_spokes, served by the service plugin "wireguard"
# (services/plugin.py), with the member action GET /v2.0/wireguard_spokes/{id}/config.

from neutron.api import extensions
from neutron.api.v2 import base
from neutron_lib.api import extensions as api_extensions
from neutron_lib.plugins import directory

from networking_wireguard.api.definitions import wireguard as wg_apidef


class Wireguard(api_extensions.APIExtensionDescriptor):

    api_definition = wg_apidef

    @classmethod
    def get_resources(cls):
        plugin = directory.get_plugin(wg_apidef.ALIAS)
        resources = []
        for collection, resource in ((wg_apidef.HUBS, wg_apidef.HUB),
                                     (wg_apidef.SPOKES, wg_apidef.SPOKE)):
            params = wg_apidef.RESOURCE_ATTRIBUTE_MAP[collection]
            member_actions = wg_apidef.ACTION_MAP.get(resource, {})
            controller = base.create_resource(collection, resource, plugin,
                                              params,
                                              member_actions=member_actions)
            resources.append(extensions.ResourceExtension(
                collection, controller, member_actions=member_actions,
                attr_map=params))
        return resources
