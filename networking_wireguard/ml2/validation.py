# Validation of WireGuard hub and spoke ports, run in create_port_precommit/update_port_precommit.
# Every failure is an InvalidInput (HTTP 400, the transaction rolls back) whose message starts with
# the field at fault, e.g. "binding:profile.peers: port ... is not a WireGuard hub".

import uuid

from neutron_lib.api.definitions import portbindings
from neutron_lib import exceptions as n_exc

from networking_wireguard import constants
from networking_wireguard.db import wireguard_db as wg_db
from networking_wireguard import validators

PROFILE = portbindings.PROFILE


def _invalid(field, problem):
    return n_exc.InvalidInput(error_message='%s: %s' % (field, problem))


def _profile_field(key):
    return '%s.%s' % (PROFILE, key)


def _is_port_id(value):
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False


def validate_port(context, port, role):
    """Check a hub or spoke port dict (as ML2 gives it to precommit) before it is stored."""
    profile = port.get(PROFILE) or {}
    allowed = (constants.HUB_PROFILE_KEYS if role == constants.ROLE_HUB
               else constants.SPOKE_PROFILE_KEYS)
    unknown = sorted(set(profile) - allowed)
    if unknown:
        raise _invalid(PROFILE, 'unknown key(s) %s for a WireGuard %s; allowed: '
                       '%s' % (', '.join(unknown), role, ', '.join(sorted(allowed))))
    if not port.get('fixed_ips'):
        raise _invalid('fixed_ips', 'a WireGuard %s needs at least one fixed IP '
                       '(create it on a network with a subnet)' % role)
    public_key = profile.get(constants.PROFILE_PUBLIC_KEY)
    if public_key is not None:
        error = validators.validate_public_key(public_key)
        if error:
            raise _invalid(_profile_field(constants.PROFILE_PUBLIC_KEY), error)
    if constants.PROFILE_ENDPOINT in profile:
        error = validators.validate_endpoint(profile[constants.PROFILE_ENDPOINT])
        if error:
            raise _invalid(_profile_field(constants.PROFILE_ENDPOINT), error)
    if role == constants.ROLE_HUB:
        _validate_hub(context, port, profile, public_key)
    else:
        _validate_spoke(context, port, profile, public_key)


def _validate_hub(context, port, profile, public_key):
    if not port.get(portbindings.HOST_ID):
        raise _invalid(portbindings.HOST_ID, 'a WireGuard hub needs the host of a '
                       'WireGuard agent (the host that will run its device)')
    root_device = profile.get(constants.PROFILE_ROOT_DEVICE, False)
    if not isinstance(root_device, bool):
        raise _invalid(_profile_field(constants.PROFILE_ROOT_DEVICE),
                       'must be true or false, not %r' % (root_device,))
    if public_key:
        for spoke_id, spoke_key in sorted(wg_db.get_spoke_keys(
                context, port['id']).items()):
            if spoke_key == public_key:
                raise _invalid(_profile_field(constants.PROFILE_PUBLIC_KEY),
                               'equals the public key of spoke %s of this hub'
                               % spoke_id)


def _validate_spoke(context, port, profile, public_key):
    if port.get(portbindings.HOST_ID):
        raise _invalid(portbindings.HOST_ID, 'a WireGuard spoke is a peer outside '
                       'Neutron and has no host; leave binding:host_id empty')
    if public_key is None:
        raise _invalid(_profile_field(constants.PROFILE_PUBLIC_KEY),
                       'required for a WireGuard spoke (the base64 public key '
                       'of the device)')
    field = _profile_field(constants.PROFILE_PEERS)
    peers = profile.get(constants.PROFILE_PEERS)
    if not isinstance(peers, list) or not peers:
        raise _invalid(field, 'must be a non-empty list of hub port IDs, not %r'
                       % (peers,))
    for peer in peers:
        if not _is_port_id(peer):
            raise _invalid(field, '%r is not a port ID' % (peer,))
    if len(set(peers)) != len(peers):
        raise _invalid(field, 'lists a hub more than once')

    spoke_subnets = {ip['subnet_id'] for ip in port['fixed_ips']}
    hubs = wg_db.get_peer_candidates(context, peers)
    for peer in peers:
        hub = hubs.get(peer)
        if hub is None:
            raise _invalid(field, 'port %s does not exist' % peer)
        if hub['role'] != constants.ROLE_HUB:
            raise _invalid(field, 'port %s is not a WireGuard hub' % peer)
        if hub['project_id'] != port['project_id']:
            raise _invalid(field, 'hub %s belongs to another project' % peer)
        if not hub['subnet_ids'] & spoke_subnets:
            raise _invalid(field, 'hub %s has no fixed IP on a subnet where this '
                           'spoke has one' % peer)
        if hub['public_key'] == public_key:
            raise _invalid(_profile_field(constants.PROFILE_PUBLIC_KEY),
                           'equals the public key of hub %s' % peer)
    taken = wg_db.get_hubs_with_spoke_key(context, peers, public_key,
                                          port['id'])
    if taken:
        raise _invalid(_profile_field(constants.PROFILE_PUBLIC_KEY),
                       'another spoke of hub %s already uses this key'
                       % ', '.join(taken))
