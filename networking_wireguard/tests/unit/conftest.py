# The driver is loaded by ML2 through its entry point: the package must be installed (pip install -e .,
# or scripts/lib/neutron.sh neutron_install_package) from this checkout.

import importlib.metadata
import os

import pytest

import networking_wireguard


@pytest.fixture(scope='session', autouse=True)
def installed_from_this_checkout():
    eps = importlib.metadata.entry_points(group='neutron.ml2.mechanism_drivers',
                                          name='wireguard')
    if not list(eps):
        pytest.fail('entry point neutron.ml2.mechanism_drivers:wireguard not found: install the '
                    'package first (/usr/bin/python3 -m pip install --no-deps '
                    '--no-build-isolation --break-system-packages -e .)', pytrace=False)
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if os.path.dirname(networking_wireguard.__file__) != here:
        pytest.fail('networking_wireguard is imported from %s, not from this checkout'
                    % networking_wireguard.__file__, pytrace=False)
