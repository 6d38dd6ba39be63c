# The WireGuard configuration of a spoke's device, as GET /v2.0/wireguard_spokes/{id}/config
# answers it: structured, and as a wg-quick file. The private key is never on the server: the file
# carries PRIVATE_KEY_PLACEHOLDER, which the device's owner (or `openstack wireguard spoke config
# --private-key-file`) replaces.

from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as n_const
import netaddr

from networking_wireguard import constants
from networking_wireguard import validators

PRIVATE_KEY_PLACEHOLDER = '__PRIVATE_KEY__'


def hub_status(port_status, vif_type):
    """A hub's status in the API: its port's, or WAITING_FOR_AGENT while it is not bound."""
    if vif_type in (portbindings.VIF_TYPE_UNBOUND,
                    portbindings.VIF_TYPE_BINDING_FAILED):
        return constants.HUB_STATUS_WAITING
    return port_status


def _hub_ready(hub):
    return (hub['status'] == n_const.PORT_STATUS_ACTIVE and
            bool(hub['public_key']) and bool(hub['endpoint']))


def make(spoke, details):
    """The configuration: spoke is the API's spoke dict; details from get_spoke_config_details.

    One peer per hub. AllowedIPs: the hub's tunnel subnets, then the subnets of the other
    interfaces of the router the hub is attached to, of the IP versions the spoke has addresses
    of. WireGuard routes a destination to one peer only, so a range already given to an earlier
    hub (in the order of the spoke's hub_ids) is not repeated: a later hub on the same subnet
    gets its own addresses instead.
    """
    addresses = ['%s/%d' % (ip, netaddr.IPNetwork(cidr).prefixlen)
                 for ip, cidr in details['addresses']]
    versions = {netaddr.IPNetwork(cidr).version
                for _ip, cidr in details['addresses']}
    mtu = min(details['mtu'] or constants.SPOKE_MAX_MTU,
              constants.SPOKE_MAX_MTU)
    listen_port = None
    if spoke.get('endpoint'):
        listen_port = validators.parse_endpoint(spoke['endpoint'])[1]
    taken = set()
    peers = []
    for hub in details['hubs']:
        allowed = []
        for cidr in hub['cidrs'] + hub['routed']:
            network = netaddr.IPNetwork(cidr)
            if network.version not in versions:
                continue
            if network not in taken:
                taken.add(network)
                allowed.append(str(network))
            elif cidr in hub['cidrs']:
                allowed += [str(netaddr.IPNetwork(ip)) for ip in hub['ips']
                            if netaddr.IPAddress(ip) in network]
        peers.append({
            'hub_id': hub['id'],
            'name': hub['name'],
            'status': hub_status(hub['status'], hub['vif_type']),
            'public_key': hub['public_key'],
            'endpoint': hub['endpoint'],
            'allowed_ips': allowed,
            'persistent_keepalive': spoke['persistent_keepalive'],
            'ready': _hub_ready(hub),
        })
    config = {
        'spoke_id': spoke['id'],
        'ready': bool(peers) and all(p['ready'] for p in peers),
        'interface': {'addresses': addresses, 'mtu': mtu,
                      'listen_port': listen_port},
        'peers': peers,
    }
    config['wg_quick'] = render(spoke, config)
    return config


def render(spoke, config):
    """The wg-quick file of a configuration made by make()."""
    iface = config['interface']
    lines = ['# WireGuard configuration of spoke %s (%s), from Neutron.'
             % (spoke['name'] or '-', spoke['id']),
             '# The private key of the device is never on the server: replace '
             '%s with it' % PRIVATE_KEY_PLACEHOLDER,
             '# (openstack wireguard spoke config --private-key-file FILE does).',
             '[Interface]',
             'PrivateKey = %s' % PRIVATE_KEY_PLACEHOLDER,
             'Address = %s' % ', '.join(iface['addresses']),
             'MTU = %d' % iface['mtu']]
    if iface['listen_port']:
        lines.append('ListenPort = %d' % iface['listen_port'])
    if not config['peers']:
        lines += ['', '# No hub: this spoke takes part in no tunnel until it is '
                  'given one.']
    for peer in config['peers']:
        lines += ['', '# hub %s (%s), %s' % (peer['name'] or '-', peer['hub_id'],
                                            peer['status'])]
        if not (peer['public_key'] and peer['endpoint']):
            lines.append('# not configured: the hub has no key and endpoint '
                         'yet (its agent reports them when the hub is up)')
            continue
        lines += ['[Peer]',
                  'PublicKey = %s' % peer['public_key'],
                  'Endpoint = %s' % peer['endpoint'],
                  'AllowedIPs = %s' % ', '.join(peer['allowed_ips'])]
        if peer['persistent_keepalive']:
            lines.append('PersistentKeepalive = %d'
                         % peer['persistent_keepalive'])
    return '\n'.join(lines) + '\n'
