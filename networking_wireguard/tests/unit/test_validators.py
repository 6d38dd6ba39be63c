import base64
import os
import unittest

import netaddr

from networking_wireguard import validators

P = 2 ** 255 - 19


def x25519(scalar, u_bytes):
    """RFC 7748 section 5, written out: the reference the small-order list is checked against."""
    k = bytearray(scalar)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    k = int.from_bytes(k, 'little')
    u = int.from_bytes(u_bytes, 'little') & ((1 << 255) - 1)
    x1, x2, z2, x3, z3, swap = u, 1, 0, u, 1, 0
    for t in reversed(range(255)):
        bit = (k >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = (x2 + z2) % P, (x2 - z2) % P
        aa, bb = a * a % P, b * b % P
        e = (aa - bb) % P
        c, d = (x3 + z3) % P, (x3 - z3) % P
        da, cb = d * a % P, c * b % P
        x3, z3 = (da + cb) ** 2 % P, x1 * (da - cb) ** 2 % P
        x2, z2 = aa * bb % P, e * (aa + 121665 * e) % P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, P - 2, P) % P).to_bytes(32, 'little')


def key(raw):
    return base64.b64encode(raw).decode()


class TestPublicKey(unittest.TestCase):

    def test_valid(self):
        key = base64.b64encode(bytes(range(32))).decode()
        self.assertIsNone(validators.validate_public_key(key))

    def test_invalid(self):
        for value, problem in (
                (None, 'string'),
                (42, 'string'),
                ('', 'decode to 32 bytes'),
                ('not base64!', 'not valid base64'),
                (base64.b64encode(bytes(31)).decode(), 'decodes to 31'),
                (base64.b64encode(bytes(33)).decode(), 'decodes to 33'),
                (base64.b64encode(bytes(32)).decode().rstrip('='),
                 'not valid base64'),
                # same bytes, non-zero padding bits: not what wg would print
                (base64.b64encode(bytes(32)).decode()[:42] + 'B=',
                 'not canonical')):
            with self.subTest(value=value):
                self.assertIn(problem, validators.validate_public_key(value))


class TestSmallOrderKeys(unittest.TestCase):
    """libsodium's list, each entry with bit 255 clear and set (X25519 ignores that bit)."""

    def encodings(self):
        for point in validators.SMALL_ORDER_POINTS:
            yield point
            yield point[:31] + bytes([point[31] | 0x80])

    def test_every_entry_refused(self):
        self.assertEqual(7, len(validators.SMALL_ORDER_POINTS))
        for raw in self.encodings():
            with self.subTest(point=raw.hex()):
                self.assertIn('small order', validators.validate_public_key(key(raw)))

    def test_entries_are_small_order(self):
        # any private key gives the all-zero shared secret with each of them
        scalar = os.urandom(32)
        for raw in self.encodings():
            with self.subTest(point=raw.hex()):
                self.assertEqual(bytes(32), x25519(scalar, raw))

    def test_entries_are_what_libsodium_refuses(self):
        try:
            from nacl import bindings
        except ImportError:
            self.skipTest('PyNaCl (libsodium) is not installed')
        scalar = os.urandom(32)
        for raw in self.encodings():
            with self.subTest(point=raw.hex()):
                self.assertRaises(Exception, bindings.crypto_scalarmult, scalar,
                                  raw)

    def test_ordinary_keys_accepted(self):
        scalar = os.urandom(32)
        base = bytes([9]) + bytes(31)
        public = x25519(scalar, base)
        self.assertIsNone(validators.validate_public_key(key(public)))
        # neighbours of the listed points are ordinary
        for point in validators.SMALL_ORDER_POINTS:
            near = bytes([point[0] ^ 0x10]) + point[1:]
            self.assertIsNone(validators.validate_public_key(key(near)))


class TestEndpoint(unittest.TestCase):

    def test_valid(self):
        for value, host, port in (
                ('198.51.100.2:51820', '198.51.100.2', 51820),
                ('[2001:db8::1]:1', '2001:db8::1', 1),
                ('vpn.example.org:65535', 'vpn.example.org', 65535),
                ('gw-1:443', 'gw-1', 443)):
            with self.subTest(value=value):
                self.assertEqual((host, port, None),
                                 validators.parse_endpoint(value))

    def test_invalid(self):
        for value, problem in (
                (None, 'must be a string'),
                ('198.51.100.2', "must be 'host:port'"),
                (':51820', "must be 'host:port'"),
                ('198.51.100.2:0', 'from 1 to 65535'),
                ('198.51.100.2:65536', 'from 1 to 65535'),
                ('198.51.100.2:-1', 'from 1 to 65535'),
                ('198.51.100.2:port', 'from 1 to 65535'),
                ('198.51.100.2:', 'from 1 to 65535'),
                ('2001:db8::1:51820', 'in brackets'),
                ('[2001:db8::1]51820', "must be '[ipv6]:port'"),
                ('[zz::1]:51820', 'not an IPv6 address'),
                ('[198.51.100.2]:51820', 'not an IPv6 address'),
                ('999.1.1.1:51820', 'not a valid IPv4 address'),
                ('bad_host:51820', 'neither an IPv4 address nor a host name'),
                ('-bad.example:51820', 'neither'),
                # what inet_aton (so getaddrinfo) reads as 127.0.0.1
                ('0x7f000001:51820', 'inet_aton form'),
                ('0x7f.0x1:51820', 'inet_aton form'),
                ('127.1:51820', 'not a valid IPv4 address'),
                ('2130706433:51820', 'not a valid IPv4 address')):
            with self.subTest(value=value):
                self.assertIn(problem, validators.validate_endpoint(value))


class TestEndpointHost(unittest.TestCase):

    def test_refused_addresses(self):
        for host, problem in (
                ('127.0.0.1', 'loopback'), ('127.3.4.5', 'loopback'),
                ('::1', 'loopback'), ('::ffff:127.0.0.1', 'loopback'),
                ('169.254.169.254', 'link-local'), ('fe80::1', 'link-local'),
                ('febf::1', 'link-local'), ('::ffff:169.254.0.1', 'link-local'),
                ('224.0.0.1', 'multicast'), ('239.255.255.250', 'multicast'),
                ('ff02::1', 'multicast'), ('::ffff:224.0.0.5', 'multicast'),
                ('255.255.255.255', 'broadcast'),
                ('::ffff:255.255.255.255', 'broadcast'),
                ('0.0.0.0', 'unspecified'), ('0.1.2.3', 'unspecified'),
                ('::', 'unspecified'), ('::ffff:0.0.0.0', 'unspecified'),
                ('localhost', 'loopback name'), ('a.localhost.', 'loopback')):
            with self.subTest(host=host):
                self.assertIn(problem, validators.check_endpoint_host(host))

    def test_allowed(self):
        for host in ('198.51.100.2', '10.0.0.1', '2001:db8::1',
                     '::ffff:198.51.100.2', 'vpn.example.org', 'gw-1'):
            with self.subTest(host=host):
                self.assertIsNone(validators.check_endpoint_host(host))

    def test_denied_networks(self):
        denied = validators.parse_networks(['10.0.0.0/8', ' 2001:db8:1::/48'])
        for host in ('10.1.2.3', '::ffff:10.1.2.3', '2001:db8:1::9'):
            with self.subTest(host=host):
                self.assertIn('which this cloud does not allow',
                              validators.check_endpoint_host(host, denied))
        for host in ('11.0.0.1', '2001:db8:2::1', 'ten.example'):
            with self.subTest(host=host):
                self.assertIsNone(validators.check_endpoint_host(host, denied))
        self.assertRaises(ValueError, validators.parse_networks, ['10.0.0.0/33'])
        self.assertRaises(ValueError, validators.parse_networks, ['nope'])

    def test_node_addresses(self):
        nodes = {validators.parse_address('198.51.100.1'),
                 validators.parse_address('::ffff:203.0.113.1'),
                 validators.parse_address('[2001:db8::1]')}
        self.assertEqual({netaddr.IPAddress('198.51.100.1'),
                          netaddr.IPAddress('203.0.113.1'),
                          netaddr.IPAddress('2001:db8::1')}, nodes)
        for host in ('198.51.100.1', '::ffff:198.51.100.1', '203.0.113.1',
                     '2001:db8:0::1'):
            with self.subTest(host=host):
                self.assertIn("network node's own",
                              validators.check_endpoint_host(host, (), nodes))
        self.assertIsNone(validators.check_endpoint_host('198.51.100.2', (),
                                                         nodes))
        for value in (None, '', 'node-1', '198.51.100.1:51820', 7):
            self.assertIsNone(validators.parse_address(value))
