# Open vSwitch + OVN with the userspace (netdev) datapath, and a neutron-server with ML2/OVN beside the
# ML2/OVS one, for the ovn layer (issue #15). Source after common.sh, rabbitmq.sh and neutron.sh.
# The kernel here has no openvswitch module: ovs-vswitchd runs the netdev datapath
# (../shared/reference/ovn-userspace-notes.md has the measured recipe and its pitfalls).
#
#   ovn_up              start (or reuse) ovsdb-server, ovs-vswitchd, NB + SB, ovn-northd and ovn-controller,
#                       everything under $NWG_OVN_RUN; chassis hostname $NWG_OVN_HOST, bridge br-int (netdev)
#   ovn_down            stop all of it in the right order (by pid, monitors too); remove br-int's taps
#   ovn_neutron_up      ovn_up, then start (or reuse) neutron-server with [ml2] mechanism_drivers =
#                       $NWG_OVN_MECHANISM_DRIVERS and ovn-router, its own MariaDB, API port and vhost
#                       (neutron.sh's functions with the NWG_NEUTRON_* variables below); a new server gets a
#                       new, empty OVN too (its database is new: NB must not keep a previous run's objects)
#   ovn_neutron_down    stop that neutron-server and its MariaDB
#   ovn_env CMD...      run CMD with neutron_env's variables for the ML2/OVN server and those below
#
# Only one userspace OVS can run on a machine (the netdev datapath's tap `ovs-netdev` has a fixed name):
# callers hold `flock /tmp/nwg-ovn.lock` around anything that starts, uses or stops it.
#
# ovn_env exports, beside neutron_env's (NWG_NEUTRON_URL is the ML2/OVN server's):
#   NWG_OVN_RUN        the run folder; OVS's db.sock is $NWG_OVN_RUN/db.sock
#   NWG_OVN_HOST       the chassis hostname = the binding:host_id of ports plugged here = the agent's host
#   NWG_OVN_BRIDGE     the integration bridge (br-int)
#   NWG_OVSDB          unix:$NWG_OVN_RUN/db.sock (the agent's [ovs] ovsdb_connection)
#   NWG_OVN_NB, NWG_OVN_SB   the NB and SB connections (tcp:127.0.0.1:...)
#   OVS_RUNDIR, OVN_RUNDIR   so that ovs-vsctl, ovs-appctl, ovn-appctl find our daemons

NWG_OVN_RUN=${NWG_OVN_RUN:-$NWG_RUN/ovn}
NWG_OVN_HOST=${NWG_OVN_HOST:-nwg-ovn-chassis}
NWG_OVN_BRIDGE=br-int
NWG_OVN_NB_PORT=${NWG_OVN_NB_PORT:-16641}
NWG_OVN_SB_PORT=${NWG_OVN_SB_PORT:-16642}
NWG_OVN_NB=tcp:127.0.0.1:$NWG_OVN_NB_PORT
NWG_OVN_SB=tcp:127.0.0.1:$NWG_OVN_SB_PORT
NWG_OVSDB=unix:$NWG_OVN_RUN/db.sock
# Ours first: ML2/OVN binds every normal port on a host with a chassis, hubs included (vif_type ovs) if
# it is asked first, even when a WireGuard agent there is alive (measured: /tmp/nwg/OVN-FINDINGS.md).
NWG_OVN_MECHANISM_DRIVERS=${NWG_OVN_MECHANISM_DRIVERS:-wireguard,ovn}
NWG_OVN_NEUTRON_API_PORT=${NWG_OVN_NEUTRON_API_PORT:-9896}
NWG_OVN_NEUTRON_DB_PORT=${NWG_OVN_NEUTRON_DB_PORT:-3327}
NWG_OVN_NEUTRON_VHOST=${NWG_OVN_NEUTRON_VHOST:-nwg-neutron-ovn}
_NWG_OVN_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)  # neutron.sh beside this file has the hook
_NWG_OVS_CTL=/usr/share/openvswitch/scripts/ovs-ctl
_NWG_OVN_CTL=/usr/share/ovn/scripts/ovn-ctl
# OVS in $NWG_OVN_RUN itself (db.sock there), OVN in ovn/ below it.
_NWG_OVN_DIR=$NWG_OVN_RUN/ovn
_NWG_OVN_PIDS=$NWG_OVN_RUN/pids   # "name pid" per line: every daemon and --monitor parent we started

_ovn_exports() {
  export OVS_RUNDIR=$NWG_OVN_RUN OVS_LOGDIR=$NWG_OVN_RUN OVS_DBDIR=$NWG_OVN_RUN
  export OVS_SYSCONFDIR=$NWG_OVN_RUN/etc
  export OVN_RUNDIR=$_NWG_OVN_DIR OVN_LOGDIR=$_NWG_OVN_DIR OVN_DBDIR=$_NWG_OVN_DIR
  export OVN_SYSCONFDIR=$NWG_OVN_RUN/etc
}

# _ovn_clean CMD... : run CMD (the ctl scripts, which leave daemons behind) with no descriptor of ours
# beyond 0-2, as start_bg does: a lock held around a test run must not live as long as the daemons.
_ovn_clean() {
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
    done
    exec "$@"
  ) </dev/null >>"$NWG_OVN_RUN/ctl.log" 2>&1
}

_ovn_alive() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat")" != Z ]; }
# _ovn_ours PID : alive and still an OVS/OVN daemon or monitor (not a process that reused a stale pid)
_ovn_ours() {
  _ovn_alive "$1" && case $(cat "/proc/$1/comm" 2>/dev/null) in
    monitor | ovsdb-server | ovs-vswitchd | ovn-northd | ovn-controller) return 0 ;;
    *) return 1 ;;
  esac
}

# _ovn_record NAME PIDFILE : record the daemon's pid and, if it runs under --monitor, its monitor's
_ovn_record() {
  local p pp
  p=$(cat "$2" 2>/dev/null) && [ -n "$p" ] || { log "no pid file $2"; return 1; }
  echo "$1 $p" >>"$_NWG_OVN_PIDS"
  pp=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)
  [ -n "$pp" ] && [ "$(cat "/proc/$pp/comm" 2>/dev/null)" = monitor ] &&
    echo "$1-monitor $pp" >>"$_NWG_OVN_PIDS"
  return 0
}

_ovn_vsctl() { ovs-vsctl --db="$NWG_OVSDB" --timeout=10 "$@"; }
_ovn_sbctl() { ovn-sbctl --db="$NWG_OVN_SB" --timeout=10 "$@"; }

_ovn_chassis_up() {
  [ "$(_ovn_sbctl --bare --columns=hostname find Chassis hostname="$NWG_OVN_HOST")" = "$NWG_OVN_HOST" ]
}

# ovn_running : every daemon we recorded is alive and the chassis is registered
ovn_running() {
  local p n=0
  [ -s "$_NWG_OVN_PIDS" ] || return 1
  while read -r _ p; do
    _ovn_ours "$p" || return 1
    n=$((n + 1))
  done <"$_NWG_OVN_PIDS"
  ((n >= 6)) && _ovn_exports && _ovn_chassis_up >/dev/null 2>&1
}

ovn_up() {
  local t0=$SECONDS
  _ovn_exports
  if ovn_running; then
    log "OVS/OVN already running (chassis $NWG_OVN_HOST), reusing it"
    return 0
  fi
  ovn_down  # whatever a previous run left
  # Only one netdev datapath fits on a machine (its tap ovs-netdev has a fixed name): another run folder's
  # ovs-vswitchd (another checkout, another NWG_OVN_RUN) must be stopped by whoever started it.
  if pgrep -x ovs-vswitchd >/dev/null; then
    log "an ovs-vswitchd that is not ours runs (pids $(pgrep -x ovs-vswitchd | tr '\n' ' ')): only one" \
      "userspace OVS fits on a machine; stop it with its own ovn_down (its NWG_OVN_RUN)"
    return 1
  fi
  rm -rf "$_NWG_OVN_DIR" "$NWG_OVN_RUN"/conf.db "$NWG_OVN_RUN"/.conf.db.~lock~ "$NWG_OVN_RUN"/*.log
  mkdir -p "$_NWG_OVN_DIR" "$NWG_OVN_RUN/etc/openvswitch" "$NWG_OVN_RUN/etc/ovn"
  : >"$_NWG_OVN_PIDS"
  # ovsdb-server first: userspace TSO is read when ovs-vswitchd starts (without it, the netdev
  # datapath sends veths' TCP and UDP on with bad checksums: the notes' pitfall 1).
  _ovn_clean "$_NWG_OVS_CTL" start --no-ovs-vswitchd --system-id="$NWG_OVN_HOST" --no-mlockall \
    --no-record-hostname || { log "ovsdb-server did not start (see $NWG_OVN_RUN/ctl.log)"; return 1; }
  _ovn_record ovsdb-server "$NWG_OVN_RUN/ovsdb-server.pid" || return 1
  _ovn_vsctl --no-wait set Open_vSwitch . other_config:userspace-tso-enable=true \
    external_ids:hostname="$NWG_OVN_HOST" external_ids:ovn-remote="$NWG_OVN_SB" \
    external_ids:ovn-encap-type=geneve external_ids:ovn-encap-ip=127.0.0.1 \
    external_ids:ovn-bridge="$NWG_OVN_BRIDGE" external_ids:ovn-bridge-datapath-type=netdev || return 1
  _ovn_clean "$_NWG_OVS_CTL" start --no-ovsdb-server --system-id="$NWG_OVN_HOST" --no-mlockall \
    --no-record-hostname || { log "ovs-vswitchd did not start (see $NWG_OVN_RUN/ctl.log)"; return 1; }
  _ovn_record ovs-vswitchd "$NWG_OVN_RUN/ovs-vswitchd.pid" || return 1
  grep -q 'userspace_tso.*enabled' "$NWG_OVN_RUN/ovs-vswitchd.log" ||
    { log "ovs-vswitchd started without userspace TSO (see $NWG_OVN_RUN/ovs-vswitchd.log)"; return 1; }
  _ovn_vsctl --may-exist add-br "$NWG_OVN_BRIDGE" -- set Bridge "$NWG_OVN_BRIDGE" datapath_type=netdev \
    fail_mode=secure other_config:disable-in-band=true || return 1
  _ovn_clean "$_NWG_OVN_CTL" start_northd --no-monitor \
    --db-nb-create-insecure-remote=yes --db-nb-addr=127.0.0.1 --db-nb-port="$NWG_OVN_NB_PORT" \
    --db-sb-create-insecure-remote=yes --db-sb-addr=127.0.0.1 --db-sb-port="$NWG_OVN_SB_PORT" ||
    { log "OVN NB/SB/northd did not start (see $NWG_OVN_RUN/ctl.log)"; return 1; }
  _ovn_record ovn-nb "$_NWG_OVN_DIR/ovnnb_db.pid" && _ovn_record ovn-sb "$_NWG_OVN_DIR/ovnsb_db.pid" &&
    _ovn_record ovn-northd "$_NWG_OVN_DIR/ovn-northd.pid" || return 1
  _ovn_clean "$_NWG_OVN_CTL" start_controller --no-monitor --db-sock="$NWG_OVN_RUN/db.sock" ||
    { log "ovn-controller did not start (see $NWG_OVN_RUN/ctl.log)"; return 1; }
  _ovn_record ovn-controller "$_NWG_OVN_DIR/ovn-controller.pid" || return 1
  wait_for 30 _ovn_chassis_up ||
    { log "chassis $NWG_OVN_HOST not in SB (see $_NWG_OVN_DIR/ovn-controller.log)"; return 1; }
  ovn-nbctl --db="$NWG_OVN_NB" --timeout=30 --wait=hv sync ||
    { log "ovn-nbctl --wait=hv sync failed"; return 1; }
  [ "$(_ovn_vsctl get Bridge "$NWG_OVN_BRIDGE" datapath_type)" = netdev ] ||
    { log "$NWG_OVN_BRIDGE is not a netdev bridge"; return 1; }
  log "OVS/OVN ready: chassis $NWG_OVN_HOST, $NWG_OVN_BRIDGE (netdev), NB $NWG_OVN_NB, SB $NWG_OVN_SB," \
    "ovsdb $NWG_OVSDB ($((SECONDS - t0)) s)"
}

# _ovn_exit NAME CTL_TARGET : ask a daemon to exit through its control socket, wait for its pid
_ovn_exit() {
  local p
  p=$(awk -v n="$1" '$1 == n { print $2 }' "$_NWG_OVN_PIDS" 2>/dev/null)
  _ovn_ours "$p" || return 0
  ovs-appctl -t "$2" exit >/dev/null 2>&1
  wait_for 10 bash -c "! [ -r /proc/$p/stat ] || [ \"\$(awk '{print \$3}' /proc/$p/stat)\" = Z ]"
}

# ovn_down : stop what ovn_up started, in an order that leaves nothing behind; safe when nothing runs
ovn_down() {
  local p i started=0
  _ovn_exports
  [ -d "$NWG_OVN_RUN" ] || return 0
  [ -s "$_NWG_OVN_PIDS" ] && started=1
  # ovn-controller before del-br (it would re-create the bridge), and del-br while ovs-vswitchd runs
  # (the netdev datapath's taps br-int and ovs-netdev are persistent: they outlive a vswitchd that
  # exits with the bridge still there).
  _ovn_exit ovn-controller "$_NWG_OVN_DIR/ovn-controller.$(awk '$1 == "ovn-controller" { print $2 }' \
    "$_NWG_OVN_PIDS" 2>/dev/null).ctl"
  [ -S "$NWG_OVN_RUN/db.sock" ] && _ovn_vsctl --timeout=5 --if-exists del-br "$NWG_OVN_BRIDGE" >/dev/null 2>&1
  _ovn_exit ovn-northd "$_NWG_OVN_DIR/ovn-northd.$(awk '$1 == "ovn-northd" { print $2 }' \
    "$_NWG_OVN_PIDS" 2>/dev/null).ctl"
  _ovn_exit ovn-nb "$_NWG_OVN_DIR/ovnnb_db.ctl"
  _ovn_exit ovn-sb "$_NWG_OVN_DIR/ovnsb_db.ctl"
  _ovn_exit ovs-vswitchd "$NWG_OVN_RUN/ovs-vswitchd.$(awk '$1 == "ovs-vswitchd" { print $2 }' \
    "$_NWG_OVN_PIDS" 2>/dev/null).ctl"
  _ovn_exit ovsdb-server "$NWG_OVN_RUN/ovsdb-server.$(awk '$1 == "ovsdb-server" { print $2 }' \
    "$_NWG_OVN_PIDS" 2>/dev/null).ctl"
  # Whatever we recorded and still runs (a monitor, a daemon that did not answer): TERM, then KILL.
  if [ -s "$_NWG_OVN_PIDS" ]; then
    while read -r _ p; do
      _ovn_ours "$p" && kill -TERM "$p" 2>/dev/null
    done <"$_NWG_OVN_PIDS"
    for ((i = 0; i < 50; i++)); do
      p=$(while read -r _ p; do _ovn_ours "$p" && echo "$p"; done <"$_NWG_OVN_PIDS")
      [ -z "$p" ] && break
      sleep 0.1
    done
    for p in $p; do log "KILL ovs/ovn pid $p"; kill -KILL "$p" 2>/dev/null; done
  fi
  rm -f "$_NWG_OVN_PIDS"
  # The taps of a netdev datapath that exited with its bridge still there (a crash): only after
  # stopping a stack of ours, and only when no ovs-vswitchd at all could own them any more.
  [ $started = 1 ] && ! pgrep -x ovs-vswitchd >/dev/null || return 0
  for i in "$NWG_OVN_BRIDGE" ovs-netdev; do
    [ -e "/sys/class/net/$i/tun_flags" ] && ip tuntap del dev "$i" mode tap 2>/dev/null &&
      log "removed the leftover tap $i"
  done
  return 0
}

# The ML2/OVN neutron-server: neutron.sh's functions, run with its variables pointed at our own run
# folder, ports and vhost, and _ovn_neutron_config as its configuration hook.
# shellcheck disable=SC2034  # the NWG_NEUTRON_* variables are read by the neutron.sh sourced here
_ovn_neutron() {
  (
    NWG_RUN=$NWG_OVN_RUN
    NWG_NEUTRON_RUN=$NWG_OVN_RUN/neutron
    NWG_NEUTRON_API_PORT=$NWG_OVN_NEUTRON_API_PORT
    NWG_NEUTRON_DB_PORT=$NWG_OVN_NEUTRON_DB_PORT
    NWG_NEUTRON_VHOST=$NWG_OVN_NEUTRON_VHOST
    NWG_NEUTRON_CONFIG_HOOK=_ovn_neutron_config
    # shellcheck source=scripts/lib/neutron.sh
    source "$_NWG_OVN_LIB/neutron.sh"
    # The server (and neutron-db-manage) import our package from this checkout whichever checkout
    # `pip install -e` last pointed at (several worktrees share the machine); pip runs only when no
    # checkout is installed at all.
    export PYTHONPATH=$NWG_ROOT${PYTHONPATH:+:$PYTHONPATH}
    _ovn_exports
    "$@"
  )
}

# neutron.sh's configuration with ML2/OVN: geneve networks, our driver beside ovn, ovn-router in place
# of the L3 agent's router plugin (the other service plugins stay) and our tenant API (service plugin
# wireguard), as docs/ovn.md configures a cloud; NB/SB, no metadata agent.
_ovn_neutron_config() {
  sed -i -E -e 's/^(service_plugins = (.*,)?)router(,|$)/\1ovn-router\3/' \
    -e '/^service_plugins = /{/[ ,]wireguard(,|$)/!s/$/,wireguard/}' "$_NWG_NEUTRON_ETC/neutron.conf" &&
    grep -qE '^service_plugins = (.*,)?ovn-router(,.*)?,wireguard' "$_NWG_NEUTRON_ETC/neutron.conf" ||
    return 1
  cat >"$_NWG_NEUTRON_ETC/ml2_conf.ini" <<EOF
[ml2]
type_drivers = local,flat,geneve
tenant_network_types = geneve
mechanism_drivers = $NWG_OVN_MECHANISM_DRIVERS
extension_drivers = port_security
overlay_ip_version = 4

[ml2_type_flat]
flat_networks = *

[ml2_type_geneve]
vni_ranges = 1:10000
max_header_size = 38

[ovn]
ovn_nb_connection = $NWG_OVN_NB
ovn_sb_connection = $NWG_OVN_SB
ovn_metadata_enabled = false
neutron_sync_mode = off
EOF
}

_ovn_neutron_is_up() { is_running neutron-server && _neutron_api_ok && _neutron_rpc_ok; }

ovn_neutron_up() {
  rabbit_start || return 1  # started (and recorded) in the caller's run folder, not ours
  if ovn_running && _ovn_neutron _ovn_neutron_is_up &&
    grep -qx "mechanism_drivers = $NWG_OVN_MECHANISM_DRIVERS" "$NWG_OVN_RUN/neutron/etc/ml2_conf.ini" &&
    grep -q '^service_plugins = .*wireguard' "$NWG_OVN_RUN/neutron/etc/neutron.conf"; then
    log "ML2/OVN neutron-server already running on :$NWG_OVN_NEUTRON_API_PORT, reusing it"
    return 0
  fi
  # A new server gets a new database: give it an empty OVN as well.
  _ovn_neutron neutron_down
  ovn_down
  ovn_up || return 1
  _ovn_neutron neutron_up || return 1
  local names; names="['$(sed "s/,/', '/g" <<<"$NWG_OVN_MECHANISM_DRIVERS")']"
  grep -qF "Loaded mechanism driver names: $names" "$NWG_OVN_RUN/log/neutron-server.log" ||
    { log "neutron-server did not load the mechanism drivers $names"; return 1; }
  log "ML2/OVN neutron-server ready: http://127.0.0.1:$NWG_OVN_NEUTRON_API_PORT" \
    "(mechanism_drivers = $NWG_OVN_MECHANISM_DRIVERS)"
}

ovn_neutron_down() { _ovn_neutron neutron_down; }

ovn_env() {
  _ovn_neutron _ovn_env_inner "$@"
}
_ovn_env_inner() {
  export NWG_OVN_RUN NWG_OVN_HOST NWG_OVN_BRIDGE NWG_OVSDB NWG_OVN_NB NWG_OVN_SB
  neutron_env "$@"
}
