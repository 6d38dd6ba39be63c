"""adopt WireGuard ports made before these tables, fill the new columns

Revision ID: a376af683ca4
Revises: e1a5b9c2d7f3
Create Date: 2026-12-14

Ports made by the original implementation (no tables of ours) or by a server that predates the
columns of 3f31b15966de get what this driver keeps for them:
- hubs (device_owner channel:wireguard:hub, or a router interface bound with vif_type wireguard)
  and spokes (channel:wireguard:spoke) without a wireguard_ports row get one: role, hub host, key
  and hub endpoint from the port's binding;
- rows of ours whose key, hub endpoint or hub host is missing get them from the binding;
- each spoke gets a peering for every hub in its binding:profile peers that exists, with its key
  (left NULL, with a warning, where another spoke of that hub already has the key); peers that are
  not hubs are dropped from the profile, as a hub's deletion now drops itself from its spokes.
Existing rows are never changed otherwise, so running it again changes nothing.

A data migration, hence in the contract branch: contract runs with every neutron-server stopped, so
it sees every port the previous servers made and none are made behind its back.
"""

import base64
import binascii
import json
import logging

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'a376af683ca4'
down_revision = 'e1a5b9c2d7f3'
depends_on = ('3f31b15966de',)

LOG = logging.getLogger('alembic.runtime.migration')

HUB_OWNER = 'channel:wireguard:hub'
SPOKE_OWNER = 'channel:wireguard:spoke'
ROUTER_OWNER = 'network:router_interface'

_meta = sa.MetaData()
ports = sa.Table('ports', _meta,
                 sa.Column('id', sa.String(36)),
                 sa.Column('device_owner', sa.String(255)))
bindings = sa.Table('ml2_port_bindings', _meta,
                    sa.Column('port_id', sa.String(36)),
                    sa.Column('host', sa.String(255)),
                    sa.Column('vif_type', sa.String(64)),
                    sa.Column('profile', sa.String(4095)),
                    sa.Column('status', sa.String(16)))
wg_ports = sa.Table('wireguard_ports', _meta,
                    sa.Column('port_id', sa.String(36)),
                    sa.Column('role', sa.String(16)),
                    sa.Column('host', sa.String(255)),
                    sa.Column('public_key', sa.String(44)),
                    sa.Column('endpoint', sa.String(260)))
peerings = sa.Table('wireguard_peerings', _meta,
                    sa.Column('spoke_id', sa.String(36)),
                    sa.Column('hub_id', sa.String(36)),
                    sa.Column('public_key', sa.String(44)))


def _key(value):
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return None
    if len(raw) != 32 or base64.b64encode(raw).decode() != value:
        return None
    return value


def _endpoint(value):
    return value if isinstance(value, str) and 0 < len(value) <= 260 else None


def _profile(text):
    try:
        profile = json.loads(text) if text else {}
    except ValueError:
        return {}
    return profile if isinstance(profile, dict) else {}


def upgrade():
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(ports.c.id, ports.c.device_owner, bindings.c.host,
                  bindings.c.vif_type, bindings.c.profile).
        select_from(ports.outerjoin(bindings, sa.and_(
            bindings.c.port_id == ports.c.id, bindings.c.status == 'ACTIVE'))).
        where(sa.or_(ports.c.device_owner.in_((HUB_OWNER, SPOKE_OWNER)),
                     sa.and_(ports.c.device_owner == ROUTER_OWNER,
                             bindings.c.vif_type == 'wireguard'))).
        order_by(ports.c.id)).fetchall()
    ours = {row.port_id: row for row in conn.execute(sa.select(wg_ports))}

    roles, profiles, spoke_keys = {}, {}, {}
    for row in rows:
        profile = profiles[row.id] = _profile(row.profile)
        role = 'spoke' if row.device_owner == SPOKE_OWNER else 'hub'
        key = _key(profile.get('public_key'))
        wanted = {'host': row.host or None if role == 'hub' else None,
                  'public_key': key,
                  'endpoint': (_endpoint(profile.get('endpoint'))
                               if role == 'hub' else None)}
        mine = ours.get(row.id)
        if mine is None:
            conn.execute(wg_ports.insert().values(port_id=row.id, role=role,
                                                  **wanted))
        else:
            role = mine.role
            missing = {column: value for column, value in wanted.items()
                       if value and getattr(mine, column) is None and
                       (role == 'hub' or column == 'public_key')}
            if missing:
                conn.execute(wg_ports.update().where(
                    wg_ports.c.port_id == row.id).values(**missing))
            key = mine.public_key or key
        roles[row.id] = role
        if role == 'spoke':
            spoke_keys[row.id] = key
    # Rows of ours whose port is no longer WireGuard-owned (a hub on a router) count too.
    for port_id, mine in ours.items():
        roles.setdefault(port_id, mine.role)

    existing = {}
    taken = set()
    for row in conn.execute(sa.select(peerings)):
        existing.setdefault(row.spoke_id, {})[row.hub_id] = row.public_key
        if row.public_key:
            taken.add((row.hub_id, row.public_key))

    for spoke_id in sorted(spoke_keys):
        profile = profiles[spoke_id]
        peers = profile.get('peers')
        if not isinstance(peers, list):
            continue
        hubs = []
        for peer in peers:
            if (isinstance(peer, str) and roles.get(peer) == 'hub' and
                    peer not in hubs):
                hubs.append(peer)
        key = spoke_keys[spoke_id]
        have = existing.get(spoke_id, {})
        for hub_id in hubs:
            if hub_id in have and have[hub_id]:
                continue
            unique_key = key if key and (hub_id, key) not in taken else None
            if key and not unique_key:
                LOG.warning('WireGuard spoke %s shares its public key with '
                            'another spoke of hub %s; the peering keeps no '
                            'key copy', spoke_id, hub_id)
            if unique_key:
                taken.add((hub_id, unique_key))
            if hub_id in have:
                if unique_key:
                    conn.execute(peerings.update().where(sa.and_(
                        peerings.c.spoke_id == spoke_id,
                        peerings.c.hub_id == hub_id)).values(
                        public_key=unique_key))
            else:
                conn.execute(peerings.insert().values(
                    spoke_id=spoke_id, hub_id=hub_id, public_key=unique_key))
        if hubs != peers:
            LOG.info('WireGuard spoke %s: peers %s are not hubs, removed from '
                     'its binding:profile', spoke_id,
                     [peer for peer in peers if peer not in hubs])
            conn.execute(bindings.update().where(sa.and_(
                bindings.c.port_id == spoke_id,
                bindings.c.status == 'ACTIVE')).values(
                profile=json.dumps(dict(profile, peers=hubs))))
