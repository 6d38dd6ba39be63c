import base64
import unittest

from networking_wireguard import validators


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
                ('-bad.example:51820', 'neither')):
            with self.subTest(value=value):
                self.assertIn(problem, validators.validate_endpoint(value))
