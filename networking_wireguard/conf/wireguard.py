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
    cfg.BoolOpt('reschedule_hubs',
                default=False,
                help='Move the hubs that the scheduler placed (created '
                     'through the WireGuard API without a host) away from a '
                     'WireGuard agent that has been dead for '
                     'reschedule_hubs_after seconds, to another alive agent. '
                     'A moved hub gets a new key and endpoint there, which '
                     'its spokes must fetch again (their configuration in '
                     'the API shows them at once). Hubs whose host a request '
                     'named, and hubs attached to routers, are never moved.'),
    cfg.IntOpt('reschedule_hubs_after',
               default=300,
               min=0,
               help='Seconds an agent must have been dead (no heartbeat for '
                    'agent_down_time) before its hubs are rescheduled; see '
                    'reschedule_hubs.'),
]


def register_wireguard_opts(conf=cfg.CONF):
    conf.register_opts(wireguard_opts, 'wireguard')


def list_opts():
    """For oslo-config-generator (entry point oslo.config.opts)."""
    return [('wireguard', wireguard_opts)]
