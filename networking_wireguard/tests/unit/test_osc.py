# The CLI plugin's local parts: keys read and derived on the user's machine, the QR code. (Its
# commands run against the real API in the selfservice layer, tests/selfservice.)

import base64
import io
import os
import tempfile
import unittest

from osc_lib import exceptions

from networking_wireguard.osc.v2 import wireguard as cli

# RFC 7748, 6.1: Alice's X25519 key pair
PRIVATE = base64.b64encode(bytes.fromhex(
    '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')).decode()
PUBLIC = base64.b64encode(bytes.fromhex(
    '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a')).decode()


class TestKeys(unittest.TestCase):

    def key_file(self, text):
        fd, path = tempfile.mkstemp()
        self.addCleanup(os.unlink, path)
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        return path

    def test_public_key_as_wg_pubkey_prints_it(self):
        self.assertEqual(PUBLIC, cli.public_key_of(
            cli.read_private_key(self.key_file(PRIVATE + '\n'))))

    def test_not_a_key(self):
        for text in ('', 'not a key', base64.b64encode(b'x' * 31).decode()):
            with self.subTest(text=text):
                with self.assertRaises(exceptions.CommandError):
                    cli.read_private_key(self.key_file(text))
        with self.assertRaises(exceptions.CommandError):
            cli.read_private_key('/nonexistent/key')

    def test_qr_code(self):
        out = io.StringIO()
        cli._print_qr('[Interface]\nPrivateKey = %s\n' % PRIVATE, out)
        lines = out.getvalue().splitlines()
        self.assertGreater(len(lines), 20)
        self.assertEqual(1, len({len(line) for line in lines if line}))
