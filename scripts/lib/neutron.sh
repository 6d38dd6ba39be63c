# A real neutron-server (Debian's Zed) with the wireguard driver, for the server, e2e and l3 tests and
# the demo. Source after common.sh and rabbitmq.sh.
#
#   neutron_up                  start (or reuse) MariaDB + schema + neutron-server; installs our package
#   neutron_down                stop what neutron_up / neutron_l3_agent_start started (by pid)
#   neutron_env CMD...          run CMD (a command or a shell function) with the variables below
#   neutron_l3_agent_start HOST start a neutron-l3-agent for HOST ([agent] extensions = wireguard)
#   neutron_l3_agent_stop [HOST]  stop it (all of ours without HOST)
#   neutron_install_package     pip install -e the repository (offline) unless it is already installed
#
# NWG_NEUTRON_RUN, _API_PORT, _DB_PORT and _VHOST (set before sourcing) place a second stack beside this
# one; NWG_NEUTRON_CONFIG_HOOK names a function that adjusts the configuration files after they are
# written (in $_NWG_NEUTRON_ETC).
#
# neutron_env exports:
#   NWG_NEUTRON_URL          http://127.0.0.1:9696 (the API root; /v2.0 below it), auth_strategy=noauth
#   NWG_TEST_TRANSPORT_URL   rabbit://guest:guest@127.0.0.1:5672/nwg-neutron (the server's vhost;
#                            oslo.messaging clients must use control_exchange 'neutron')
#   NWG_NEUTRON_CONF         "--config-file .../neutron.conf --config-file .../ml2_conf.ini"
#   NWG_NEUTRON_DB_URL       mysql+pymysql://neutron:...@127.0.0.1:3307/neutron?charset=utf8
#   NWG_NEUTRON_RUN          the harness's folder (configs, logs, MariaDB data) under $NWG_RUN
#   NWG_NEUTRON_LOG          neutron-server's log file
#   NWG_ROOT, NWG_RUN        as in common.sh (so that a test can call these functions again)
#   OS_AUTH_TYPE=none OS_ENDPOINT=$NWG_NEUTRON_URL   for the openstack CLI
# Everything listens on 127.0.0.1 only. Only one stack per machine (fixed ports).

NWG_NEUTRON_RUN=${NWG_NEUTRON_RUN:-$NWG_RUN/neutron}
NWG_NEUTRON_API_PORT=${NWG_NEUTRON_API_PORT:-9696}
NWG_NEUTRON_DB_PORT=${NWG_NEUTRON_DB_PORT:-3307}
NWG_NEUTRON_VHOST=${NWG_NEUTRON_VHOST:-nwg-neutron}
NWG_NEUTRON_URL="http://127.0.0.1:$NWG_NEUTRON_API_PORT"
NWG_NEUTRON_DB_URL="mysql+pymysql://neutron:nwg-neutron@127.0.0.1:$NWG_NEUTRON_DB_PORT/neutron?charset=utf8"
_NWG_NEUTRON_ETC=$NWG_NEUTRON_RUN/etc
_NWG_MYSQL_SOCK=$NWG_NEUTRON_RUN/mysqlrun/mysqld.sock
NWG_NEUTRON_CONF="--config-file $_NWG_NEUTRON_ETC/neutron.conf --config-file $_NWG_NEUTRON_ETC/ml2_conf.ini"

# neutron_install_package : make the package (entry points included) importable by Debian's python
neutron_install_package() {
  local where
  where=$(cd / && $PY -c 'import importlib.metadata as m, networking_wireguard as w
eps = m.entry_points(group="neutron.ml2.mechanism_drivers", name="wireguard")
print(w.__file__ if list(eps) else "")' 2>/dev/null)
  [ "$where" = "$NWG_ROOT/networking_wireguard/__init__.py" ] && return 0
  mkdir -p "$NWG_RUN/log"
  log "installing networking-wireguard (pip -e, offline)"
  (cd "$NWG_ROOT" && $PY -m pip install -q --no-deps --no-build-isolation --no-index \
     --break-system-packages -e .) >"$NWG_RUN/log/pip-networking-wireguard.log" 2>&1 ||
    { cat "$NWG_RUN/log/pip-networking-wireguard.log" >&2; return 1; }
}

_neutron_api_ok() { curl -sf -o /dev/null "$NWG_NEUTRON_URL/v2.0/networks"; }

_neutron_queue_consumers() {  # QUEUE -> number of consumers (0 if absent)
  rabbit_ctl list_queues -p "$NWG_NEUTRON_VHOST" name consumers 2>/dev/null |
    awk -v q="$1" '$1 == q { print $2; found = 1 } END { if (!found) print 0 }'
}

_neutron_rpc_ok() {
  [ "$(_neutron_queue_consumers q-wireguard)" -ge 1 ] && [ "$(_neutron_queue_consumers q-plugin)" -ge 1 ]
}

_neutron_write_configs() {  # TRANSPORT_URL
  mkdir -p "$_NWG_NEUTRON_ETC" "$NWG_NEUTRON_RUN/state" "$NWG_NEUTRON_RUN/lock" "$NWG_RUN/log"
  cat >"$_NWG_NEUTRON_ETC/neutron.conf" <<EOF
[DEFAULT]
core_plugin = ml2
service_plugins = router
auth_strategy = noauth
bind_host = 127.0.0.1
bind_port = $NWG_NEUTRON_API_PORT
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 0
transport_url = $1
api_paste_config = /etc/neutron/api-paste.ini
state_path = $NWG_NEUTRON_RUN/state
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
debug = true
# logs go to stderr, which start_bg writes to \$NWG_RUN/log/neutron-server.log
use_stderr = true

[database]
connection = $NWG_NEUTRON_DB_URL

[oslo_concurrency]
lock_path = $NWG_NEUTRON_RUN/lock

[oslo_policy]
policy_file = $_NWG_NEUTRON_ETC/policy.yaml
EOF
  echo '{}' >"$_NWG_NEUTRON_ETC/policy.yaml"
  # Only our mechanism driver: hubs are bound by it, spokes are never bound, and the L3 tests'
  # other router ports need no binding (the L3 agent plugs them all the same).
  cat >"$_NWG_NEUTRON_ETC/ml2_conf.ini" <<EOF
[ml2]
type_drivers = local,flat,vxlan
tenant_network_types = vxlan
mechanism_drivers = wireguard
extension_drivers = port_security

[ml2_type_flat]
flat_networks = *

[ml2_type_vxlan]
vni_ranges = 1:10000
EOF
  # A harness that runs another flavour of this stack (scripts/lib/ovn.sh: ML2/OVN) adjusts these files.
  [ -z "${NWG_NEUTRON_CONFIG_HOOK:-}" ] || "$NWG_NEUTRON_CONFIG_HOOK"
}

_neutron_db_up() {
  local datadir=$NWG_NEUTRON_RUN/mysql
  mkdir -p "$NWG_NEUTRON_RUN/mysqlrun" && chown mysql: "$NWG_NEUTRON_RUN/mysqlrun"
  if ! is_running mariadb; then
    if [ ! -d "$datadir/mysql" ]; then
      mkdir -p "$datadir" && chown mysql: "$datadir"
      mariadb-install-db --no-defaults --user=mysql --datadir="$datadir" --skip-test-db \
        >"$NWG_RUN/log/mariadb-install-db.log" 2>&1 || { log "mariadb-install-db failed"; return 1; }
    fi
    start_bg mariadb /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$datadir" \
      --socket="$_NWG_MYSQL_SOCK" --pid-file="$NWG_NEUTRON_RUN/mysqlrun/mysqld.pid" \
      --bind-address=127.0.0.1 --port="$NWG_NEUTRON_DB_PORT" --skip-name-resolve \
      --log-error="$NWG_NEUTRON_RUN/mysqlrun/mysqld.err" \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
      --innodb-buffer-pool-size=128M \
      --innodb-file-per-table=0 --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
      --innodb-flush-method=nosync
  fi
  # (a throwaway test database: durability traded for speed, DDL especially)
  wait_for 60 mariadb -S "$_NWG_MYSQL_SOCK" -uroot -e 'select 1' ||
    { log "MariaDB did not start (see $NWG_NEUTRON_RUN/mysqlrun/mysqld.err)"; return 1; }
  # A fresh, empty database for each new stack: tests never see a previous run's ports.
  mariadb -S "$_NWG_MYSQL_SOCK" -uroot -e "
    DROP DATABASE IF EXISTS neutron;
    CREATE DATABASE neutron CHARACTER SET utf8mb4;
    CREATE USER IF NOT EXISTS 'neutron'@'127.0.0.1' IDENTIFIED BY 'nwg-neutron';
    GRANT ALL ON neutron.* TO 'neutron'@'127.0.0.1';"
}

# The schema that `neutron-db-manage upgrade heads` makes is cached as a dump, keyed by Neutron's
# package version and our migration scripts: a fresh database then takes a second, not half a minute.
_neutron_schema_key() {
  { dpkg-query -W -f='${Version}' python3-neutron
    find "$NWG_ROOT/networking_wireguard/db/migration" -type f \( -name '*.py' -o -name '*_HEAD' \) |
      sort | xargs cat; } | sha1sum | cut -c1-16
}

_neutron_schema() {
  local cache
  cache=$NWG_NEUTRON_RUN/schema-$(_neutron_schema_key).sql
  if [ -s "$cache" ]; then
    mariadb -S "$_NWG_MYSQL_SOCK" -uroot neutron <"$cache" && return 0
    log "cached schema $cache did not load; migrating"
  fi
  log "neutron-db-manage upgrade heads"
  # shellcheck disable=SC2086
  neutron-db-manage $NWG_NEUTRON_CONF upgrade heads >"$NWG_RUN/log/neutron-db-manage.log" 2>&1 ||
    { tail -20 "$NWG_RUN/log/neutron-db-manage.log" >&2; log "neutron-db-manage failed"; return 1; }
  rm -f "$NWG_NEUTRON_RUN"/schema-*.sql
  mariadb-dump -S "$_NWG_MYSQL_SOCK" -uroot --skip-dump-date neutron >"$cache.tmp" &&
    mv "$cache.tmp" "$cache"
}

# neutron_up : idempotent; reuses the stack it started if neutron-server still answers
neutron_up() {
  local t0=$SECONDS url
  if is_running neutron-server && _neutron_api_ok && _neutron_rpc_ok; then
    log "neutron-server already running (pid $(pid_of neutron-server)), reusing it"
    return 0
  fi
  stop_bg neutron-server
  mkdir -p "$NWG_RUN/log"
  neutron_install_package || return 1
  rabbit_start || return 1
  url=$(rabbit_vhost "$NWG_NEUTRON_VHOST") || return 1
  _neutron_write_configs "$url"
  _neutron_db_up || return 1
  log "MariaDB ready ($((SECONDS - t0)) s)"
  _neutron_schema || return 1
  log "schema ready ($((SECONDS - t0)) s); starting neutron-server"
  # shellcheck disable=SC2086
  start_bg neutron-server neutron-server $NWG_NEUTRON_CONF
  local deadline=$((SECONDS + 120))
  while ((SECONDS < deadline)); do
    _neutron_api_ok && _neutron_rpc_ok && break
    is_running neutron-server || { tail -30 "$NWG_RUN/log/neutron-server.log" >&2; log "neutron-server died"; return 1; }
    sleep 0.5
  done
  _neutron_api_ok && _neutron_rpc_ok ||
    { log "neutron-server not ready after 120 s (see $NWG_RUN/log/neutron-server.log)"; return 1; }
  log "neutron-server ready: API $NWG_NEUTRON_URL, q-wireguard consumer up (bring-up $((SECONDS - t0)) s)"
}

# neutron_down : stop our L3 agents, neutron-server and MariaDB (by pid); safe when nothing runs
neutron_down() {
  neutron_l3_agent_stop
  stop_bg neutron-server 30
  if is_running mariadb; then
    stop_bg mariadb 60
  else
    rm -f "$NWG_RUN/pid/mariadb.pid"
  fi
}

neutron_env() {
  (
    export NWG_ROOT NWG_RUN NWG_NEUTRON_URL NWG_NEUTRON_CONF NWG_NEUTRON_DB_URL NWG_NEUTRON_RUN
    export NWG_TEST_TRANSPORT_URL="rabbit://guest:guest@127.0.0.1:5672/$NWG_NEUTRON_VHOST"
    export NWG_NEUTRON_LOG="$NWG_RUN/log/neutron-server.log"
    export OS_AUTH_TYPE=none OS_ENDPOINT="$NWG_NEUTRON_URL"
    "$@"
  )
}

_neutron_agent_alive() {  # AGENT_TYPE HOST
  curl -sf -G "$NWG_NEUTRON_URL/v2.0/agents" --data-urlencode "agent_type=$1" \
    --data-urlencode "host=$2" | jq -e '.agents[0].alive == true' >/dev/null
}

# neutron_l3_agent_start HOST : a legacy L3 agent for HOST with the wireguard extension
neutron_l3_agent_start() {
  local host=$1 dir
  [ -n "$host" ] || { log "usage: neutron_l3_agent_start HOST"; return 1; }
  is_running "neutron-l3-agent-$host" && return 0
  dir=$NWG_NEUTRON_RUN/l3-$host
  mkdir -p "$dir/state" "$dir/lock"
  cat >"$dir/l3_agent.ini" <<EOF
[DEFAULT]
host = $host
transport_url = rabbit://guest:guest@127.0.0.1:5672/$NWG_NEUTRON_VHOST
state_path = $dir/state
debug = true
use_stderr = true
agent_mode = legacy
# veths for ordinary router ports (no bridge needed); WireGuard hubs are left to
# neutron-wireguard-agent by the extension
interface_driver = linuxbridge
enable_metadata_proxy = false

[agent]
root_helper =
report_interval = 10
extensions = wireguard

[oslo_concurrency]
lock_path = $dir/lock
EOF
  start_bg "neutron-l3-agent-$host" neutron-l3-agent --config-file "$dir/l3_agent.ini"
  echo "$host" >>"$NWG_NEUTRON_RUN/l3-agents"
  wait_for 60 _neutron_agent_alive "L3 agent" "$host" ||
    { log "L3 agent for $host not alive (see $NWG_RUN/log/neutron-l3-agent-$host.log)"; return 1; }
  log "neutron-l3-agent for $host is alive"
}

# neutron_l3_agent_stop [HOST] : stop it, then delete the qrouter- namespaces of our database's routers
neutron_l3_agent_stop() {
  local hosts host id
  [ -f "$NWG_NEUTRON_RUN/l3-agents" ] || return 0
  if [ -n "${1:-}" ]; then hosts=$1; else hosts=$(sort -u "$NWG_NEUTRON_RUN/l3-agents"); fi
  for host in $hosts; do
    stop_bg "neutron-l3-agent-$host" 30
    sed -i "/^$host\$/d" "$NWG_NEUTRON_RUN/l3-agents"
  done
  if [ ! -s "$NWG_NEUTRON_RUN/l3-agents" ] && [ -S "$_NWG_MYSQL_SOCK" ]; then
    for id in $(mariadb -S "$_NWG_MYSQL_SOCK" -uroot -N -e 'select id from neutron.routers' 2>/dev/null); do
      ip netns delete "qrouter-$id" 2>/dev/null && log "deleted namespace qrouter-$id"
    done
    rm -f "$NWG_NEUTRON_RUN/l3-agents"
  fi
}

# neutron_server_stop / neutron_server_start : neutron-server alone (MariaDB, RabbitMQ and the
# configuration stay as they are), for tests of a server outage
neutron_server_stop() { stop_bg neutron-server 30; }
neutron_server_start() {
  is_running neutron-server && return 0
  # shellcheck disable=SC2086
  start_bg neutron-server neutron-server $NWG_NEUTRON_CONF
  wait_for 120 _neutron_api_ok && wait_for 60 _neutron_rpc_ok ||
    { log "neutron-server did not come back (see $NWG_RUN/log/neutron-server.log)"; return 1; }
}
