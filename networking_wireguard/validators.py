# Syntax checks of WireGuard values, shared by the mechanism driver (user input) and the RPC endpoint
# (agent input). Like neutron_lib.api.validators, each returns None when the value is valid, else a
# sentence saying what is wrong (the caller names the field).

import base64
import binascii
import re
import uuid

import netaddr

from networking_wireguard import constants

_HOST_LABEL = re.compile(r'^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$')
# One part of an IPv4 address as inet_aton(3) reads it: decimal, octal (0...) or hexadecimal (0x...).
_INET_ATON_PART = re.compile(r'^(0[xX][0-9A-Fa-f]*|[0-9]+)$')

# Curve25519 public keys of small order, as encoded in 32 bytes with bit 255 ignored (X25519 masks
# it): with any of them every private key gives the same, publicly known shared secret. The list is
# libsodium's (src/libsodium/crypto_scalarmult/curve25519/ref10/x25519_ref10.c, has_small_order(),
# which WireGuard's implementations mirror): 0 and 1, the two points of order 8, and the
# non-canonical encodings p-1, p and p+1 of -1, 0 and 1 (p = 2^255 - 19).
SMALL_ORDER_POINTS = tuple(bytes.fromhex(h) for h in (
    '0000000000000000000000000000000000000000000000000000000000000000',  # 0 (order 4)
    '0100000000000000000000000000000000000000000000000000000000000000',  # 1 (order 1)
    'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',  # order 8
    '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',  # order 8
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',  # p-1 (order 2)
    'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',  # p (= 0)
    'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',  # p+1 (= 1)
))

# Endpoint addresses no spoke may name: they would make a hub send its traffic to the network node
# itself or to its link, never to a remote device.
FORBIDDEN_ENDPOINT_NETWORKS = tuple((netaddr.IPNetwork(cidr), what) for cidr, what in (
    ('0.0.0.0/8', 'an unspecified address'),
    ('127.0.0.0/8', 'a loopback address'),
    ('169.254.0.0/16', 'a link-local address'),
    ('224.0.0.0/4', 'a multicast address'),
    ('255.255.255.255/32', 'the broadcast address'),
    ('::/128', 'the unspecified address'),
    ('::1/128', 'the loopback address'),
    ('fe80::/10', 'a link-local address'),
    ('ff00::/8', 'a multicast address'),
))


def validate_public_key(value):
    """A WireGuard key: canonical base64 of exactly 32 bytes (44 characters)."""
    if not isinstance(value, str):
        return 'must be a base64 string, not %s' % type(value).__name__
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return "'%s' is not valid base64" % value
    if len(raw) != constants.PUBLIC_KEY_BYTES:
        return ('must decode to %d bytes, %r decodes to %d' %
                (constants.PUBLIC_KEY_BYTES, value, len(raw)))
    if base64.b64encode(raw).decode() != value:
        return "'%s' is not canonical base64" % value
    if raw[:31] + bytes([raw[31] & 0x7f]) in SMALL_ORDER_POINTS:
        return ("'%s' is a Curve25519 point of small order: every shared "
                "secret with it is publicly known" % value)
    return None


def _validate_hostname(host):
    if len(host) > 253:
        return 'host name is longer than 253 characters'
    labels = host.rstrip('.').split('.')
    if not all(_HOST_LABEL.match(label) for label in labels):
        return "'%s' is neither an IPv4 address nor a host name" % host
    if labels[-1].isdigit():
        return "'%s' is not a valid IPv4 address" % host
    if len(labels) <= 4 and all(_INET_ATON_PART.match(label)
                                for label in labels):
        # getaddrinfo() would read it as an address (0x7f000001 is 127.0.0.1)
        return ("'%s' is an IPv4 address in inet_aton form; write it as four "
                "decimal numbers" % host)
    return None


def parse_endpoint(value):
    """Split 'host:port' or '[v6]:port'; returns (host, port, error)."""
    if not isinstance(value, str):
        return None, None, ("must be a string 'host:port' or '[ipv6]:port', "
                            "not %s" % type(value).__name__)
    if value.startswith('['):
        host, sep, port = value[1:].partition(']:')
        if not sep:
            return None, None, ("'%s' must be '[ipv6]:port'" % value)
        if not netaddr.valid_ipv6(host):
            return None, None, ("'%s' is not an IPv6 address" % host)
    else:
        host, sep, port = value.rpartition(':')
        if not sep or not host:
            return None, None, ("'%s' must be 'host:port' or '[ipv6]:port'" %
                                value)
        if ':' in host:
            return None, None, ("IPv6 address '%s' must be written in "
                                "brackets: '[%s]:port'" % (host, host))
        if not netaddr.valid_ipv4(host, netaddr.INET_PTON):
            error = _validate_hostname(host)
            if error:
                return None, None, error
    if not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        return None, None, ("port '%s' is not an integer from 1 to 65535" %
                            port)
    return host, int(port), None


def validate_endpoint(value):
    return parse_endpoint(value)[2]


def parse_networks(cidrs):
    """netaddr.IPNetwork of each CIDR; raises ValueError naming a bad one."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(netaddr.IPNetwork(cidr.strip()))
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise ValueError('%r is not a CIDR' % (cidr,))
    return networks


def _unmapped(address):
    # ::ffff:127.0.0.1 reaches 127.0.0.1
    return address.ipv4() if address.is_ipv4_mapped() else address


def check_endpoint_host(host, denied_networks=(), node_addresses=()):
    """Whether a spoke's endpoint host may be used; None or what is wrong.

    An IP address may not be loopback, link-local, multicast, broadcast or unspecified (nor the
    IPv4-mapped IPv6 form of one), lie in one of denied_networks or be one of node_addresses (the
    network nodes' own WireGuard endpoints). A host name is left to the agent, which resolves it and
    applies the same rules to the addresses it gets.
    """
    if not (netaddr.valid_ipv4(host, netaddr.INET_PTON) or
            netaddr.valid_ipv6(host)):
        if host.rstrip('.').lower().split('.')[-1] == 'localhost':
            return "'%s' is a loopback name" % host
        return None
    address = _unmapped(netaddr.IPAddress(host))
    for network, what in FORBIDDEN_ENDPOINT_NETWORKS:
        if address in network:
            return "'%s' is %s" % (host, what)
    for network in denied_networks:
        if address.version == network.version and address in network:
            return "'%s' is in %s, which this cloud does not allow" % (
                host, network)
    for node in node_addresses:
        if address == node:
            return ("'%s' is a network node's own WireGuard endpoint" % host)
    return None


def parse_address(value):
    """netaddr.IPAddress (IPv4-mapped forms unmapped) of a string, else None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if value.startswith('[') and value.endswith(']'):
        value = value[1:-1]
    if not value:
        return None
    if not (netaddr.valid_ipv4(value, netaddr.INET_PTON) or
            netaddr.valid_ipv6(value)):
        return None
    return _unmapped(netaddr.IPAddress(value))


def is_port_id(value):
    """A Neutron port ID as Neutron writes it: a lowercase UUID string."""
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False
