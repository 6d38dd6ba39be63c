# Errors of the WireGuard API (extension "wireguard"), as neutron-lib defines its extensions'.

from neutron_lib import exceptions as n_exc


class WireGuardHubNotFound(n_exc.NotFound):
    message = 'WireGuard hub %(hub_id)s could not be found.'


class WireGuardSpokeNotFound(n_exc.NotFound):
    message = 'WireGuard spoke %(spoke_id)s could not be found.'


class NoHubForSpoke(n_exc.BadRequest):
    message = ('hub_ids: no WireGuard hub of project %(project_id)s %(where)s; '
               'create one first (openstack wireguard hub create)')


class SeveralHubsForSpoke(n_exc.BadRequest):
    message = ('hub_ids: several WireGuard hubs of project %(project_id)s '
               '%(where)s (%(hub_ids)s); name the spoke\'s hub(s)')


class SpokeHubsOnSeveralNetworks(n_exc.BadRequest):
    message = ('hub_ids: the hubs of a spoke must be on one network; '
               '%(hub_ids)s are on %(network_ids)s')


class NetworkOfAnotherProject(n_exc.BadRequest):
    message = ('network_id: network %(network_id)s belongs to another project; '
               'a WireGuard %(role)s is on a network of its own project')
