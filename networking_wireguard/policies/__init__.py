# Default policies of the WireGuard API (extension "wireguard"), registered in code through the
# neutron.policies entry point, in Neutron's style: members of a project manage its hubs and
# spokes, readers read them, admins everything; what could make a network node act on something
# not the project's (the host of a hub, root_device) is for admins only. The deprecated rules are
# the pre-Wallaby style owner-or-admin, as Neutron's own resources keep them (both apply while
# [oslo_policy] enforce_new_defaults is false, Zed's default).

import itertools

from networking_wireguard.policies import wireguard_hub
from networking_wireguard.policies import wireguard_spoke


def list_rules():
    return itertools.chain(wireguard_hub.list_rules(),
                           wireguard_spoke.list_rules())
