# Syntax checks of WireGuard values, shared by the mechanism driver (user input) and the RPC endpoint
# (agent input). Like neutron_lib.api.validators, each returns None when the value is valid, else a
# sentence saying what is wrong (the caller names the field).

import base64
import binascii
import re

import netaddr

from networking_wireguard import constants

_HOST_LABEL = re.compile(r'^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$')


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
    return None


def _validate_hostname(host):
    if len(host) > 253:
        return 'host name is longer than 253 characters'
    labels = host.rstrip('.').split('.')
    if not all(_HOST_LABEL.match(label) for label in labels):
        return "'%s' is neither an IPv4 address nor a host name" % host
    if labels[-1].isdigit():
        return "'%s' is not a valid IPv4 address" % host
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
