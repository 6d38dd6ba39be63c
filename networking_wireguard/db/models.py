# The driver's own tables: the WireGuard role of each port, the hub's key and endpoint as its agent
# reported them, and the spoke -> hub peerings. They survive Neutron's own rewrites of device_owner
# (router attach) and make "the hubs of host H with their spokes" an indexed query instead of a scan
# of every port.

from neutron.db import models_v2
from neutron_lib.db import model_base
import sqlalchemy as sa
from sqlalchemy import orm

from networking_wireguard import constants

PUBLIC_KEY_LEN = 44  # base64 of 32 bytes
# host (at most 253 characters) + ':' + port, or '[' IPv6 ']:' port
ENDPOINT_LEN = 260
AZ_HINTS_LEN = 255  # as networks.availability_zone_hints


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
    # Hubs: the key and endpoint that the hub's agent reported (update_hub_port), or that the hub
    # was created with; the API shows them in binding:profile. Spokes: a copy of the profile's key.
    public_key = sa.Column(sa.String(PUBLIC_KEY_LEN), nullable=True,
                           index=True)
    endpoint = sa.Column(sa.String(ENDPOINT_LEN), nullable=True)
    # Hubs: the scheduler chose the current host (or will: a hub without a host waits for an
    # agent); false when a request named it. Only scheduled hubs are rescheduled.
    scheduled = sa.Column(sa.Boolean(), nullable=False, default=False,
                          server_default=sa.sql.false())
    # Hubs: the availability zones the scheduler may choose from (comma-separated, as Neutron
    # stores a network's or router's hints); NULL: any.
    availability_zone_hints = sa.Column(sa.String(AZ_HINTS_LEN),
                                        nullable=True)
    # Spokes: PersistentKeepalive of the device's configuration (0: off); NULL: the default.
    persistent_keepalive = sa.Column(sa.Integer(), nullable=True)
    # Hubs: counts the changes of the hub's spokes (docs/scale.md); agents ask for what changed since
    # the revision they hold. Written with plain UPDATEs (not through the ORM): a spoke's change is not
    # a change of the hub's Neutron port.
    revision = sa.Column(sa.BigInteger(), nullable=False, default=0,
                         server_default='0')
    # Hubs: deltas from revisions below this can no longer be computed (removals pruned).
    history_start = sa.Column(sa.BigInteger(), nullable=False, default=0,
                              server_default='0')

    # Loaded with the port (one join), so that the port dict can show the hub's key and endpoint;
    # a change here is a change of the port (its revision_number is bumped).
    port = orm.relationship(models_v2.Port, load_on_pending=True,
                            backref=orm.backref('wireguard', lazy='joined',
                                                uselist=False,
                                                cascade='delete'))
    revises_on_change = ('port', )


class WireGuardPeering(model_base.BASEV2):
    """A spoke lists a hub in binding:profile peers."""

    __tablename__ = 'wireguard_peerings'
    # No two spokes of a hub with the same key, whatever races the validation loses.
    __table_args__ = (
        sa.UniqueConstraint('hub_id', 'public_key',
                            name='uniq_wireguard_peerings0hub_id0public_key'),
        sa.Index('ix_wireguard_peerings_hub_id_revision', 'hub_id', 'revision'),
        model_base.BASEV2.__table_args__,
    )

    spoke_id = sa.Column(sa.String(36),
                         sa.ForeignKey('ports.id', ondelete='CASCADE'),
                         primary_key=True)
    hub_id = sa.Column(sa.String(36),
                       sa.ForeignKey('ports.id', ondelete='CASCADE'),
                       primary_key=True, index=True)
    # A copy of the spoke's public key. NULL only for rows the migration could not fill (two spokes
    # of a hub that already shared a key).
    public_key = sa.Column(sa.String(PUBLIC_KEY_LEN), nullable=True)

    # The spoke as the hub's agent last reported it (update_spoke_status, docs/rpc.md): whether it
    # is connected to this hub (a handshake within the agent's spoke_active_window), when it last
    # handshook, from which endpoint, and the hub's byte counters for it. Written when the status
    # changes and otherwise at most every spoke_report_interval; reset when the spoke's key changes.
    active = sa.Column(sa.Boolean(), nullable=False, default=False,
                       server_default=sa.sql.false())
    latest_handshake = sa.Column(sa.DateTime(), nullable=True)
    endpoint = sa.Column(sa.String(ENDPOINT_LEN), nullable=True)
    rx_bytes = sa.Column(sa.BigInteger(), nullable=False, default=0,
                         server_default='0')
    tx_bytes = sa.Column(sa.BigInteger(), nullable=False, default=0,
                         server_default='0')
    reported_at = sa.Column(sa.DateTime(), nullable=True)

    # The hub's revision when this peering or its spoke last changed (deltas select by it).
    revision = sa.Column(sa.BigInteger(), nullable=False, default=0,
                         server_default='0')


class WireGuardPeerRemoval(model_base.BASEV2):
    """A spoke that left a hub (deleted, disabled or re-peered), at the hub's revision then: what
    a delta since an older revision reports as removed. Pruned beyond a window of revisions."""

    __tablename__ = 'wireguard_peer_removals'
    __table_args__ = (
        sa.Index('ix_wireguard_peer_removals_hub_id_revision', 'hub_id', 'revision'),
        model_base.BASEV2.__table_args__,
    )

    hub_id = sa.Column(sa.String(36),
                       sa.ForeignKey('ports.id', ondelete='CASCADE'),
                       primary_key=True)
    spoke_id = sa.Column(sa.String(36), primary_key=True)  # no foreign key: the spoke may be gone
    revision = sa.Column(sa.BigInteger(), nullable=False)


class WireGuardOvnPlug(model_base.BASEV2):
    """The plug port of a hub attached to an OVN router (docs/ovn.md): a Neutron port on the hub's
    network, owned by this driver, that the hub's agent plugs into OVN's integration bridge; the
    router's two half-subnet routes per hub subnet lead to its IPs. Gone with either port."""

    __tablename__ = 'wireguard_ovn_plugs'
    __table_args__ = (
        sa.UniqueConstraint('port_id', name='uniq_wireguard_ovn_plugs0port_id'),
        model_base.BASEV2.__table_args__,
    )

    hub_id = sa.Column(sa.String(36),
                       sa.ForeignKey('ports.id', ondelete='CASCADE'),
                       primary_key=True)
    port_id = sa.Column(sa.String(36),
                        sa.ForeignKey('ports.id', ondelete='CASCADE'),
                        nullable=False)
