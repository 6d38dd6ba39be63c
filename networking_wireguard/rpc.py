# The driver's RPC API (docs/rpc.md): the server endpoint that WireGuard agents call on topic
# q-wireguard, and the fanout notifier that tells them which hubs changed.

import datetime
import hashlib
import json

from neutron_lib import constants as n_const
from neutron_lib import context as n_context
from neutron_lib import exceptions as n_exc
from neutron_lib.plugins import directory
from neutron_lib import rpc as n_rpc
from oslo_log import log as logging
import oslo_messaging
from oslo_utils import timeutils
from oslo_utils import uuidutils

from networking_wireguard import constants
from networking_wireguard.db import wireguard_db as wg_db
from networking_wireguard import validators

LOG = logging.getLogger(__name__)


def hub_digest(hub):
    """Hex SHA-256 of a get_hubs entry's canonical JSON (docs/rpc.md); opaque to agents."""
    return hashlib.sha256(json.dumps(
        hub, sort_keys=True, separators=(',', ':')).encode()).hexdigest()


def _revision(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise n_exc.InvalidInput(error_message='revision: %r is not a non-negative integer'
                                 % (value,))
    return value


def _revisions(value):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise n_exc.InvalidInput(
            error_message='revisions: a mapping of hub ID to revision expected')
    return {hub_id: _revision(revision) for hub_id, revision in value.items()}


def _limit(value):
    if value is None:
        return constants.MAX_SPOKES_PER_ANSWER
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise n_exc.InvalidInput(error_message='spokes_limit: %r is not a positive integer'
                                 % (value,))
    return min(value, constants.MAX_SPOKES_PER_ANSWER)


_MAX_BYTES = 2 ** 63 - 1  # a BIGINT column; WireGuard's counters are u64


def _spoke_report(entry):
    """An update_spoke_status entry checked and converted for the database, or None."""
    if not isinstance(entry, dict):
        return None
    hub_id, spoke_id = entry.get('hub_id'), entry.get('spoke_id')
    active = entry.get('active')
    handshake = entry.get('latest_handshake')
    endpoint = entry.get('endpoint')
    counters = [entry.get('rx_bytes'), entry.get('tx_bytes')]
    if (not uuidutils.is_uuid_like(hub_id) or not uuidutils.is_uuid_like(spoke_id) or
            not isinstance(active, bool) or
            not (handshake is None or (type(handshake) is int and
                                       0 < handshake < 2 ** 40)) or
            not (endpoint is None or (isinstance(endpoint, str) and
                                      not validators.validate_endpoint(endpoint))) or
            not all(type(c) is int and c >= 0 for c in counters)):
        return None
    return {'hub_id': hub_id, 'spoke_id': spoke_id, 'active': active,
            'latest_handshake': (datetime.datetime.utcfromtimestamp(handshake)
                                 if handshake else None),
            'endpoint': endpoint,
            'rx_bytes': min(counters[0], _MAX_BYTES),
            'tx_bytes': min(counters[1], _MAX_BYTES)}


class WireGuardAgentNotifyAPI(object):
    """Server -> agents: fanout casts on q-wireguard-notifier.

    API version history:
        1.0 - hubs_changed(hub_ids)
    """

    def __init__(self):
        target = oslo_messaging.Target(topic=constants.NOTIFIER_TOPIC,
                                       version=constants.NOTIFIER_VERSION)
        self.client = n_rpc.get_client(target)

    def hubs_changed(self, context, hub_ids):
        """A hint: agents re-fetch these hubs with get_hubs."""
        cctxt = self.client.prepare(fanout=True)
        try:
            cctxt.cast(context, 'hubs_changed', hub_ids=sorted(hub_ids))
        except Exception:
            # A lost hint only delays the change until the agents' next full sync; it must not
            # fail (or, in create_port_postcommit, undo) the port operation.
            LOG.warning('Could not notify WireGuard agents of hubs %s',
                        sorted(hub_ids), exc_info=True)


class WireGuardRpcCallback(object):
    """Agent -> server, topic q-wireguard.

    API version history:
        1.2 - the original design's API: get_ports_for_agent, update_hub_port, get_subnet
        1.3 - get_hubs
        1.4 - get_hubs: a digest in every hub entry; digests argument (stubs)
        1.5 - update_spoke_status
        1.6 - get_hubs: a revision in every hub entry; revisions argument (deltas) and
              spokes_limit (paging); get_hub_spokes (docs/scale.md)
    The agent bus is trusted like Neutron's own agent RPC: every method reads with an admin context.
    """

    target = oslo_messaging.Target(version=constants.RPC_VERSION)

    def __init__(self, notifier):
        self.notifier = notifier

    @property
    def plugin(self):
        return directory.get_plugin()

    def get_ports_for_agent(self, context, agent):
        """[{'hub': port, 'spokes': [port, ...]}] for every hub bound to host `agent`."""
        admin = n_context.get_admin_context()
        hub_ids = wg_db.get_hub_ids(admin, agent)
        spoke_ids = wg_db.get_spoke_ids(admin, hub_ids)
        wanted = set(hub_ids).union(*spoke_ids.values())
        if not wanted:
            return []
        ports = {port['id']: port for port in self.plugin.get_ports(
            admin, filters={'id': sorted(wanted)})}
        return [{'hub': ports[hub_id],
                 'spokes': [ports[s] for s in spoke_ids[hub_id] if s in ports]}
                for hub_id in hub_ids if hub_id in ports]

    def update_hub_port(self, context, port_id, endpoint, public_key):
        """Store the hub's key and endpoint as reported by its agent.

        Written to the driver's own table (wireguard_ports), which the API shows in the hub's
        binding:profile; Ml2Plugin.update_port with a new binding:profile would unbind, rebind and
        reset the port to DOWN: the hub stays bound and keeps its status. A low-order key is
        refused like a malformed one.
        """
        for field, value, check in (
                (constants.PROFILE_PUBLIC_KEY, public_key,
                 validators.validate_public_key),
                (constants.PROFILE_ENDPOINT, endpoint,
                 validators.validate_endpoint)):
            error = value and check(value)
            if error:
                raise n_exc.InvalidInput(error_message='%s: %s' % (field, error))
        admin = n_context.get_admin_context()
        if wg_db.get_role(admin, port_id) != constants.ROLE_HUB:
            LOG.warning('update_hub_port: %s is not a WireGuard hub (deleted?); '
                        'ignored', port_id)
            return None
        if wg_db.set_hub_key_and_endpoint(admin, port_id, public_key, endpoint):
            LOG.info('Hub %s: public key and endpoint %s reported by its agent',
                     port_id, endpoint)
            self.notifier.hubs_changed(admin, [port_id])
        return None

    def get_subnet(self, context, subnet_id):
        try:
            return self.plugin.get_subnet(n_context.get_admin_context(),
                                          subnet_id)
        except n_exc.SubnetNotFound:
            return None

    def get_hubs(self, context, host, hub_ids=None, digests=None,
                 revisions=None, spokes_limit=None):
        """Everything the agent on `host` needs to realize its hubs (docs/rpc.md).

        digests (1.4): {hub_id: digest} of the agent's copies; a hub whose digest is the same
        comes back as a stub {'id', 'digest', 'unchanged': True}.
        revisions, spokes_limit (1.6, docs/scale.md): a hub whose revision the agent holds comes
        back as a delta (its fields, 'base_revision', the spokes changed since, 'removed_spokes');
        at most spokes_limit spokes in the answer, an entry that did not get them all has
        'spokes_next' (the rest through get_hub_spokes).
        """
        if digests is not None and not isinstance(digests, dict):
            raise n_exc.InvalidInput(
                error_message='digests: a mapping of hub ID to digest expected')
        admin = n_context.get_admin_context()
        self._bind_hubs(admin, host, hub_ids)
        if revisions is not None or spokes_limit is not None:
            return {'hubs': self._get_hubs_since(admin, host, hub_ids,
                                                 _revisions(revisions),
                                                 _limit(spokes_limit))}
        hubs = []
        for hub in wg_db.get_hub_details(admin, host, hub_ids):
            digest = hub_digest(hub)
            if digests and digests.get(hub['id']) == digest:
                hub = {'id': hub['id'], 'digest': digest, 'unchanged': True}
            else:
                hub['digest'] = digest
            hubs.append(hub)
        return {'hubs': hubs}

    @staticmethod
    def _get_hubs_since(admin, host, hub_ids, revisions, limit):
        # The answer's spokes are shared out so that it stays bounded: each hub gets at least one
        # page entry (so that a cut entry always has a real marker), and what is left of the limit.
        budget = limit
        hubs = []
        for hub in wg_db.get_hub_heads(admin, host, hub_ids):
            history_start = hub.pop('_history_start')
            since = revisions.get(hub['id'])
            page = max(1, budget)
            if (since is not None and history_start <= since <= hub['revision'] and
                    wg_db.count_removals(admin, hub['id'], since) <= limit):
                spokes, removed, next_marker = wg_db.get_hub_spokes(
                    admin, hub['id'], limit=page, since=since)
                hub.update(base_revision=since, spokes=spokes,
                           removed_spokes=removed)
            else:
                # A delta cannot be computed (history pruned, or more removals than an answer
                # holds): the whole entry, page by page.
                spokes, _, next_marker = wg_db.get_hub_spokes(admin, hub['id'],
                                                              limit=page)
                hub['spokes'] = spokes
            if next_marker:
                hub['spokes_next'] = next_marker
            budget = max(0, budget - len(spokes))
            hubs.append(hub)
        return hubs

    def get_hub_spokes(self, context, host, hub_id, marker=None, limit=None,
                       base_revision=None):
        """A page of a hub's spokes after `marker` (1.6, docs/scale.md): {'revision', 'spokes',
        'removed_spokes', 'spokes_next'}; with base_revision, only what changed since it. The hub
        must be bound to `host`."""
        admin = n_context.get_admin_context()
        heads = wg_db.get_hub_heads(admin, host, [hub_id])
        if not heads:
            raise n_exc.InvalidInput(
                error_message='hub_id: %s is not a hub bound to %s' % (hub_id, host))
        head = heads[0]
        since = None if base_revision is None else _revision(base_revision)
        if since is not None and since < head['_history_start']:
            raise n_exc.InvalidInput(
                error_message='base_revision: %d is older than the history of hub %s; '
                              'read it in full' % (since, hub_id))
        if marker is not None and not validators.is_port_id(marker):
            raise n_exc.InvalidInput(error_message='marker: not a port ID')
        spokes, removed, next_marker = wg_db.get_hub_spokes(
            admin, hub_id, marker=marker or None, limit=_limit(limit), since=since)
        return {'revision': head['revision'], 'spokes': spokes,
                'removed_spokes': removed if not marker else [],
                'spokes_next': next_marker}

    def update_spoke_status(self, context, host, spokes):
        """Spoke liveness from the agent on `host` (1.5, docs/rpc.md).

        spokes: [{'hub_id', 'spoke_id', 'active', 'latest_handshake' (unix seconds or None),
        'endpoint', 'rx_bytes', 'tx_bytes'}], what the hub's device says of each spoke. The agent
        sends a spoke when its status changed, or at most every spoke_report_interval otherwise.
        Peerings of hubs bound to other hosts are ignored. A spoke's port becomes ACTIVE when any
        of its hubs' agents reports it active, DOWN when none does; hubs are never touched.
        """
        if not isinstance(spokes, list) or len(spokes) > constants.MAX_SPOKE_REPORTS:
            raise n_exc.InvalidInput(
                error_message='spokes: a list of at most %d entries expected'
                % constants.MAX_SPOKE_REPORTS)
        reports = []
        for entry in spokes:
            report = _spoke_report(entry)
            if report is None:
                LOG.warning('update_spoke_status from %s: malformed entry %.200r '
                            'ignored', host, entry)
                continue
            reports.append(report)
        admin = n_context.get_admin_context()
        now = timeutils.utcnow().replace(microsecond=0)
        written, statuses = wg_db.set_spoke_liveness(admin, host, reports, now)
        if statuses:
            # Through ML2, one port at a time (its own transaction, callbacks, port revision):
            # only spokes whose status flips get here.
            self.plugin.update_port_statuses(admin, statuses)
            for status in (n_const.PORT_STATUS_ACTIVE, n_const.PORT_STATUS_DOWN):
                ids = sorted(s for s, v in statuses.items() if v == status)
                if ids:
                    LOG.info('Spokes now %s (agent on %s): %s', status, host,
                             ', '.join(ids))
        LOG.debug('update_spoke_status from %s: %d reported, %d written, %d '
                  'status changes', host, len(reports), written, len(statuses))
        return None

    def _bind_hubs(self, context, host, hub_ids):
        # A hub created while its agent was down stays binding_failed until something rebinds it.
        # Like ML2's get_device_details, retry the binding when the agent of that host asks and is
        # alive.
        unbound = wg_db.get_unbound_hub_ids(context, host, hub_ids)
        if not unbound:
            return
        agents = self.plugin.get_agents(context, filters={
            'host': [host], 'agent_type': [constants.AGENT_TYPE_WIREGUARD]})
        if not any(agent['alive'] for agent in agents):
            return
        for port_id in unbound:
            bound = self.plugin.get_bound_port_context(context, port_id, host)
            LOG.info('Hub %s on %s: binding retried, vif_type now %s', port_id,
                     host, bound.vif_type if bound else None)
