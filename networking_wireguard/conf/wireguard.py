# Server options of the wireguard mechanism driver, group [wireguard] of neutron-server's configuration
# (neutron.conf or ml2_conf.ini). The agent's own [wireguard] options live in its ini file.

from oslo_config import cfg

wireguard_opts = [
    cfg.ListOpt('denied_endpoint_cidrs',
                default=[],
                help='Comma-separated CIDRs (IPv4 or IPv6) that a spoke\'s '
                     'binding:profile endpoint may not name, e.g. the '
                     'underlay, management and storage networks of the '
                     'network nodes. Loopback, link-local, multicast, '
                     'broadcast and unspecified addresses and the '
                     'endpoint_address that each WireGuard agent reports are '
                     'always refused.'),
]


def register_wireguard_opts(conf=cfg.CONF):
    conf.register_opts(wireguard_opts, 'wireguard')


def list_opts():
    """For oslo-config-generator (entry point oslo.config.opts)."""
    return [('wireguard', wireguard_opts)]
