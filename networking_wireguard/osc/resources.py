# openstacksdk resources of the WireGuard API (Neutron extension "wireguard"):
# /v2.0/wireguard_hubs, /v2.0/wireguard_spokes and GET /v2.0/wireguard_spokes/{id}/config.

from openstack import exceptions
from openstack import resource


class WireGuardHub(resource.Resource):
    resource_key = 'wireguard_hub'
    resources_key = 'wireguard_hubs'
    base_path = '/wireguard_hubs'

    allow_create = True
    allow_fetch = True
    allow_commit = True
    allow_delete = True
    allow_list = True

    _query_mapping = resource.QueryParameters(
        'name', 'network_id', 'project_id', 'status')

    name = resource.Body('name')
    description = resource.Body('description')
    project_id = resource.Body('project_id')
    network_id = resource.Body('network_id')
    fixed_ips = resource.Body('fixed_ips', type=list)
    admin_state_up = resource.Body('admin_state_up', type=bool)
    status = resource.Body('status')
    public_key = resource.Body('public_key')
    endpoint = resource.Body('endpoint')
    host = resource.Body('host')
    root_device = resource.Body('root_device', type=bool)
    availability_zone_hints = resource.Body('availability_zone_hints',
                                            type=list)
    availability_zones = resource.Body('availability_zones', type=list)
    router_id = resource.Body('router_id')


class WireGuardSpoke(resource.Resource):
    resource_key = 'wireguard_spoke'
    resources_key = 'wireguard_spokes'
    base_path = '/wireguard_spokes'

    allow_create = True
    allow_fetch = True
    allow_commit = True
    allow_delete = True
    allow_list = True

    _query_mapping = resource.QueryParameters(
        'name', 'network_id', 'project_id', 'status', 'public_key', 'hub_ids')

    name = resource.Body('name')
    description = resource.Body('description')
    project_id = resource.Body('project_id')
    network_id = resource.Body('network_id')
    subnet_id = resource.Body('subnet_id')  # create only: where to choose the hub
    fixed_ips = resource.Body('fixed_ips', type=list)
    hub_ids = resource.Body('hub_ids', type=list)
    public_key = resource.Body('public_key')
    endpoint = resource.Body('endpoint')
    persistent_keepalive = resource.Body('persistent_keepalive', type=int)
    admin_state_up = resource.Body('admin_state_up', type=bool)
    status = resource.Body('status')
    # the device's connection as its hubs see it (read-only)
    connection_status = resource.Body('connection_status')
    latest_handshake_at = resource.Body('latest_handshake_at')
    last_endpoint = resource.Body('last_endpoint')
    rx_bytes = resource.Body('rx_bytes', type=int)
    tx_bytes = resource.Body('tx_bytes', type=int)
    connection_updated_at = resource.Body('connection_updated_at')

    def fetch_config(self, session):
        """The device's WireGuard configuration (the API's wireguard_config object)."""
        response = session.get('%s/%s/config' % (self.base_path, self.id))
        exceptions.raise_from_response(response)
        return response.json()['wireguard_config']
