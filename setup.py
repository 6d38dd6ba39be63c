# Packaging is declarative (setup.cfg); this shim lets Debian's setuptools and pip build it offline.
import setuptools

setuptools.setup()
