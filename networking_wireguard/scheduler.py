# The hub scheduler: a hub created through the WireGuard API without a host goes to an alive
# WireGuard agent (within its availability zone hints, if any) with the fewest hubs; with no such
# agent it waits without a host and is placed as soon as one reports. Opt-in ([wireguard]
# reschedule_hubs): hubs the scheduler placed on an agent dead for long move to another agent.
# Placing a hub is an ordinary update of its binding:host_id, so ML2 binds it and the driver
# notifies the agents.

import datetime

from neutron.objects import agent as agent_obj
from neutron_lib.api.definitions import portbindings
from neutron_lib.api.validators import availability_zone as az_validator
from neutron_lib import context as n_context
from neutron_lib import exceptions as n_exc
from neutron_lib.exceptions import availability_zone as az_exc
from neutron_lib.plugins import directory
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils

from networking_wireguard import constants
from networking_wireguard.db import wireguard_db as wg_db
from networking_wireguard.ml2 import ovn
from networking_wireguard.ml2 import validation

LOG = logging.getLogger(__name__)


def agents(context):
    return agent_obj.Agent.get_objects(
        context, agent_type=constants.AGENT_TYPE_WIREGUARD)


def validate_hints(context, hints):
    """Every hint must be the availability zone of a WireGuard agent (as Neutron's networks)."""
    zones = {agent.availability_zone for agent in agents(context)}
    for zone in hints or ():
        if zone not in zones:
            raise az_exc.AvailabilityZoneNotFound(availability_zone=zone)


def choose_host(context, hints=None, exclude=()):
    """The host of the alive, enabled WireGuard agent with the fewest hubs, or None.

    hints: availability zones to choose from (empty: any); ties go to the first host by name. On
    ML2/OVN only hosts that are OVN chassis too (a hub attached to a router plugs into the host's
    integration bridge).
    """
    chassis = ovn.chassis_hosts(context)
    candidates = [agent.host for agent in agents(context)
                  if agent.admin_state_up and agent.is_active and
                  agent.host not in exclude and
                  (not hints or agent.availability_zone in hints) and
                  (chassis is None or agent.host in chassis)]
    if not candidates:
        return None
    counts = wg_db.count_hubs(context, candidates)
    return min(candidates, key=lambda host: (counts.get(host, 0), host))


def place_hub(context, hub_id, host, current_host=None):
    """Bind the hub on host as the scheduler's choice, if it is still on current_host (None: it
    waits); False if it is gone or was placed meanwhile (by another server process, an admin)."""
    found, host_now = wg_db.get_hub_host(context, hub_id)
    if not found or host_now != current_host:
        return False
    with validation.row_values(context, scheduled=True):
        try:
            directory.get_plugin().update_port(
                context, hub_id, {'port': {portbindings.HOST_ID: host}})
        except n_exc.PortNotFound:
            return False
    return True


def _hints(row):
    return az_validator.convert_az_string_to_list(
        row.availability_zone_hints) if row.availability_zone_hints else []


def schedule_waiting_hubs(context=None):
    """Place every hub that waits for an agent, where an agent can take it now."""
    context = context or n_context.get_admin_context()
    placed = []
    for row in wg_db.get_waiting_hubs(context):
        host = choose_host(context, _hints(row))
        if host is None:
            continue
        if place_hub(context, row.port_id, host):
            LOG.info('Hub %s scheduled to WireGuard agent %s', row.port_id, host)
            placed.append((row.port_id, host))
    return placed


def dead_hosts(context, dead_for):
    """Hosts of WireGuard agents without a heartbeat for agent_down_time + dead_for seconds."""
    cutoff = timeutils.utcnow() - datetime.timedelta(
        seconds=cfg.CONF.agent_down_time + dead_for)
    return sorted(agent.host for agent in agents(context)
                  if agent.heartbeat_timestamp < cutoff)


def reschedule_hubs(context=None):
    """Move the scheduled hubs of long-dead agents ([wireguard] reschedule_hubs_after)."""
    context = context or n_context.get_admin_context()
    dead = dead_hosts(context, cfg.CONF.wireguard.reschedule_hubs_after)
    moved = []
    if not dead:
        return moved
    for row in wg_db.get_scheduled_hubs(context, dead):
        host = choose_host(context, _hints(row), exclude=dead)
        if host is None:
            LOG.warning('Hub %s: its agent on %s is dead and no other WireGuard '
                        'agent can take it', row.port_id, row.host)
            continue
        if place_hub(context, row.port_id, host, current_host=row.host):
            LOG.warning('Hub %s rescheduled from dead WireGuard agent %s to %s; '
                        'it gets a new key there', row.port_id, row.host, host)
            moved.append((row.port_id, row.host, host))
    return moved
