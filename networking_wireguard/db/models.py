# The driver's own tables: the WireGuard role of each port and the spoke -> hub peerings.
# They survive Neutron's own rewrites of device_owner (router attach) and make "the hubs of host H with
# their spokes" an indexed query instead of a scan of every port.

from neutron_lib.db import model_base
import sqlalchemy as sa

from networking_wireguard import constants


class WireGuardPort(model_base.BASEV2):
    """The WireGuard role of a port, kept for the port's whole life."""

    __tablename__ = 'wireguard_ports'

    port_id = sa.Column(sa.String(36),
                        sa.ForeignKey('ports.id', ondelete='CASCADE'),
                        primary_key=True)
    role = sa.Column(sa.Enum(constants.ROLE_HUB, constants.ROLE_SPOKE,
                             name='wireguard_port_roles'),
                     nullable=False)
    # Hubs: the binding host (binding:host_id); NULL for spokes, which have no host.
    host = sa.Column(sa.String(255), nullable=True, index=True)
    # A copy of binding:profile public_key, indexed for the "one key per hub" rule.
    public_key = sa.Column(sa.String(44), nullable=True, index=True)


class WireGuardPeering(model_base.BASEV2):
    """A spoke lists a hub in binding:profile peers."""

    __tablename__ = 'wireguard_peerings'

    spoke_id = sa.Column(sa.String(36),
                         sa.ForeignKey('ports.id', ondelete='CASCADE'),
                         primary_key=True)
    hub_id = sa.Column(sa.String(36),
                       sa.ForeignKey('ports.id', ondelete='CASCADE'),
                       primary_key=True, index=True)
