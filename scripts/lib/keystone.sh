# A real Keystone (Debian's keystone under uwsgi) and a second neutron-server that authenticates
# with it (keystonemiddleware, Neutron's default policies), for the tenant API's tests (layer
# selfservice) and the demo. Source after common.sh, rabbitmq.sh and neutron.sh, and call
# neutron_up first: Keystone keeps its database in neutron.sh's MariaDB, and the second
# neutron-server shares neutron_up's database and RabbitMQ vhost (agents talk to either server).
# The first neutron-server stays noauth for the other layers.
#
#   keystone_up            start (or reuse) Keystone on 127.0.0.1:5000, bootstrapped: admin (project
#                          admin), projects nwg-alpha and nwg-beta with a member each (alice, bob),
#                          the neutron service user, the network endpoint of the second server.
#                          The bootstrapped database is cached as a dump (like neutron.sh's schema).
#   neutron_keystone_up    start (or reuse) neutron-server with auth_strategy = keystone on :9697
#                          (service plugin wireguard; [wireguard] reschedule_hubs on; a short
#                          agent_down_time, so that the tests see a stopped agent dead quickly)
#   keystone_down          stop both (by pid); safe when nothing runs
#   keystone_env CMD...    run CMD with the variables below
#
# keystone_env exports:
#   OS_CLIENT_CONFIG_FILE        clouds.yaml with the clouds nwg-admin, nwg-alice, nwg-bob
#   NWG_KEYSTONE_URL             http://127.0.0.1:5000/v3
#   NWG_NEUTRON_KEYSTONE_URL     http://127.0.0.1:9697 (the API root of the second server)
#   NWG_NEUTRON_KEYSTONE_LOG     its log file
#   NWG_KEYSTONE_AGENT_DOWN_TIME, NWG_KEYSTONE_RESCHEDULE_AFTER   its agent_down_time and
#                                [wireguard] reschedule_hubs_after (seconds)

NWG_KEYSTONE_RUN=${NWG_KEYSTONE_RUN:-$NWG_RUN/keystone}
NWG_KEYSTONE_PORT=${NWG_KEYSTONE_PORT:-5000}
NWG_NEUTRON_KEYSTONE_PORT=${NWG_NEUTRON_KEYSTONE_PORT:-9697}
NWG_KEYSTONE_AGENT_DOWN_TIME=${NWG_KEYSTONE_AGENT_DOWN_TIME:-15}
NWG_KEYSTONE_RESCHEDULE_AFTER=${NWG_KEYSTONE_RESCHEDULE_AFTER:-5}
NWG_KEYSTONE_URL="http://127.0.0.1:$NWG_KEYSTONE_PORT/v3"
NWG_NEUTRON_KEYSTONE_URL="http://127.0.0.1:$NWG_NEUTRON_KEYSTONE_PORT"
# Throwaway passwords of a test cloud on 127.0.0.1.
_NWG_KS_ADMIN_PASSWORD=nwg-admin
_NWG_KS_SERVICE_PASSWORD=nwg-neutron-service
_NWG_KS_DB_URL="mysql+pymysql://keystone:nwg-keystone@127.0.0.1:$NWG_NEUTRON_DB_PORT/keystone?charset=utf8"
_NWG_KS_CONF=$NWG_KEYSTONE_RUN/keystone.conf
_NWG_NEUTRON_KS_CONF=$NWG_KEYSTONE_RUN/neutron-keystone.conf

_keystone_ok() { curl -sf -o /dev/null "$NWG_KEYSTONE_URL"; }

# Our package with every entry point (a checkout installed before the WireGuard API existed
# has an egg-info without the service plugin and the CLI plugin).
_keystone_package() {
  (cd / && $PY -c 'import importlib.metadata as m, sys
sys.exit(0 if all(list(m.entry_points(group=g, name="wireguard")) for g in
    ("neutron.service_plugins", "openstack.cli.extension")) else 1)') && return 0
  log "installing networking-wireguard (pip -e, offline): new entry points"
  (cd "$NWG_ROOT" && $PY -m pip install -q --no-deps --no-build-isolation --no-index \
     --break-system-packages -e .) >"$NWG_RUN/log/pip-networking-wireguard.log" 2>&1 ||
    { cat "$NWG_RUN/log/pip-networking-wireguard.log" >&2; return 1; }
}

_keystone_write_config() {
  mkdir -p "$NWG_KEYSTONE_RUN/fernet-keys" "$NWG_KEYSTONE_RUN/credential-keys"
  cat >"$_NWG_KS_CONF" <<EOF
[DEFAULT]
# logs go to stderr, which start_bg writes to \$NWG_RUN/log/keystone.log
use_stderr = true

[database]
connection = $_NWG_KS_DB_URL

[token]
provider = fernet

[fernet_tokens]
key_repository = $NWG_KEYSTONE_RUN/fernet-keys

[fernet_receipts]
key_repository = $NWG_KEYSTONE_RUN/fernet-keys

[credential]
key_repository = $NWG_KEYSTONE_RUN/credential-keys
EOF
}

# The bootstrapped database is cached, keyed by Keystone's version and this file (which says
# what the bootstrap makes).
_keystone_cache() {
  echo "$NWG_KEYSTONE_RUN/keystone-$({ dpkg-query -W -f='${Version}' keystone
    cat "${BASH_SOURCE[0]}"; } | sha1sum | cut -c1-16).sql"
}

_keystone_db() {
  mariadb -S "$_NWG_MYSQL_SOCK" -uroot -e "
    DROP DATABASE IF EXISTS keystone;
    CREATE DATABASE keystone CHARACTER SET utf8mb4;
    CREATE USER IF NOT EXISTS 'keystone'@'127.0.0.1' IDENTIFIED BY 'nwg-keystone';
    GRANT ALL ON keystone.* TO 'keystone'@'127.0.0.1';" || return 1
  [ -s "$NWG_KEYSTONE_RUN/fernet-keys/0" ] ||
    keystone-manage --config-file "$_NWG_KS_CONF" fernet_setup --keystone-user root \
      --keystone-group root >>"$NWG_RUN/log/keystone-manage.log" 2>&1 || return 1
  [ -s "$NWG_KEYSTONE_RUN/credential-keys/0" ] ||
    keystone-manage --config-file "$_NWG_KS_CONF" credential_setup --keystone-user root \
      --keystone-group root >>"$NWG_RUN/log/keystone-manage.log" 2>&1 || return 1
  local cache; cache=$(_keystone_cache)
  if [ -s "$cache" ]; then
    mariadb -S "$_NWG_MYSQL_SOCK" -uroot keystone <"$cache" && return 0
    log "cached Keystone database $cache did not load; bootstrapping"
  fi
  log "keystone-manage db_sync and bootstrap"
  { keystone-manage --config-file "$_NWG_KS_CONF" db_sync &&
    keystone-manage --config-file "$_NWG_KS_CONF" bootstrap \
      --bootstrap-password "$_NWG_KS_ADMIN_PASSWORD" --bootstrap-region-id RegionOne \
      --bootstrap-admin-url "$NWG_KEYSTONE_URL" --bootstrap-public-url "$NWG_KEYSTONE_URL" \
      --bootstrap-internal-url "$NWG_KEYSTONE_URL"; } >>"$NWG_RUN/log/keystone-manage.log" 2>&1 ||
    { tail -20 "$NWG_RUN/log/keystone-manage.log" >&2; return 1; }
  echo bootstrap
}

# Projects, users and the network endpoint, through Keystone's API (once; then cached).
_keystone_populate() {
  NWG_KS_URL=$NWG_KEYSTONE_URL NWG_KS_PASSWORD=$_NWG_KS_ADMIN_PASSWORD \
  NWG_KS_SERVICE_PASSWORD=$_NWG_KS_SERVICE_PASSWORD NWG_NEUTRON_URL=$NWG_NEUTRON_KEYSTONE_URL \
    $PY - <<'EOF'
import os

import openstack

conn = openstack.connect(
    auth_url=os.environ['NWG_KS_URL'], username='admin', password=os.environ['NWG_KS_PASSWORD'],
    project_name='admin', user_domain_id='default', project_domain_id='default',
    region_name='RegionOne', identity_api_version='3')
ident = conn.identity
roles = {role.name: role for role in ident.roles()}


def member(user, password, project, role):
    p = ident.find_project(project) or ident.create_project(name=project, domain_id='default')
    u = ident.find_user(user) or ident.create_user(name=user, password=password,
                                                   domain_id='default', default_project_id=p.id)
    ident.assign_project_role_to_user(p, u, roles[role])


# keystonemiddleware's service user (it validates the users' tokens), as install guides make it
member('neutron', os.environ['NWG_KS_SERVICE_PASSWORD'], 'service', 'admin')
member('alice', 'nwg-alice', 'nwg-alpha', 'member')
member('bob', 'nwg-bob', 'nwg-beta', 'member')
service = ident.find_service('neutron') or ident.create_service(name='neutron', type='network')
for interface in ('public', 'internal', 'admin'):
    ident.create_endpoint(service_id=service.id, interface=interface, region_id='RegionOne',
                          url=os.environ['NWG_NEUTRON_URL'])
EOF
}

_keystone_clouds() {
  local name user password project
  {
    echo 'clouds:'
    for spec in "nwg-admin admin $_NWG_KS_ADMIN_PASSWORD admin" "nwg-alice alice nwg-alice nwg-alpha" \
                "nwg-bob bob nwg-bob nwg-beta"; do
      read -r name user password project <<<"$spec"
      cat <<EOF
  $name:
    auth:
      auth_url: $NWG_KEYSTONE_URL
      username: $user
      password: $password
      project_name: $project
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    identity_api_version: 3
    interface: public
EOF
    done
  } >"$NWG_KEYSTONE_RUN/clouds.yaml"
}

# keystone_up : idempotent; reuses the Keystone it started if it still answers
keystone_up() {
  local t0=$SECONDS state
  if is_running keystone && _keystone_ok; then
    log "Keystone already running (pid $(pid_of keystone)), reusing it"
    return 0
  fi
  stop_bg keystone
  is_running mariadb || { log "keystone_up needs neutron_up first (MariaDB)"; return 1; }
  _keystone_package || return 1
  _keystone_write_config
  state=$(_keystone_db) || { log "Keystone's database could not be made"; return 1; }
  # uwsgi's plain HTTP socket closes each connection after its answer: "Connection: close" keeps
  # clients from reusing it (a reused one is reset). Single-threaded workers, and no Python
  # teardown at exit: greenlet crashes in uwsgi's threads and at interpreter shutdown.
  start_bg keystone env OS_KEYSTONE_CONFIG_FILES="$_NWG_KS_CONF" uwsgi --plugins python3 \
    --http-socket "127.0.0.1:$NWG_KEYSTONE_PORT" --add-header 'Connection: close' \
    --wsgi-file /usr/bin/keystone-wsgi-public --master --die-on-term --lazy-apps --processes 3 \
    --skip-atexit-teardown --buffer-size 65535 --need-app
  wait_for 60 _keystone_ok ||
    { tail -30 "$NWG_RUN/log/keystone.log" >&2; log "Keystone did not start"; return 1; }
  if [ "$state" = bootstrap ]; then
    _keystone_populate >>"$NWG_RUN/log/keystone-manage.log" 2>&1 ||
      { tail -20 "$NWG_RUN/log/keystone-manage.log" >&2; log "populating Keystone failed"; return 1; }
    rm -f "$NWG_KEYSTONE_RUN"/keystone-*.sql
    local cache; cache=$(_keystone_cache)
    mariadb-dump -S "$_NWG_MYSQL_SOCK" -uroot --skip-dump-date --single-transaction keystone \
      >"$cache.tmp" && mv "$cache.tmp" "$cache"
  fi
  _keystone_clouds
  log "Keystone ready: $NWG_KEYSTONE_URL ($((SECONDS - t0)) s)"
}

_neutron_keystone_ok() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$NWG_NEUTRON_KEYSTONE_URL/v2.0/networks")" = 401 ]
}

_neutron_keystone_write_config() {
  # neutron_up's configuration, authenticating with Keystone, on its own port
  sed -e 's/^auth_strategy = .*/auth_strategy = keystone/' \
      -e "s/^bind_port = .*/bind_port = $NWG_NEUTRON_KEYSTONE_PORT/" \
      -e 's/^service_plugins = \(.*\)/service_plugins = \1,wireguard/' \
      -e "/^\[DEFAULT\]/a agent_down_time = $NWG_KEYSTONE_AGENT_DOWN_TIME" \
      "$_NWG_NEUTRON_ETC/neutron.conf" >"$_NWG_NEUTRON_KS_CONF" || return 1
  cat >>"$_NWG_NEUTRON_KS_CONF" <<EOF

[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:$NWG_KEYSTONE_PORT
auth_url = http://127.0.0.1:$NWG_KEYSTONE_PORT
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = neutron
password = $_NWG_KS_SERVICE_PASSWORD
region_name = RegionOne

[wireguard]
reschedule_hubs = true
reschedule_hubs_after = $NWG_KEYSTONE_RESCHEDULE_AFTER
EOF
}

# neutron_keystone_up : idempotent; needs neutron_up and keystone_up
neutron_keystone_up() {
  local t0=$SECONDS
  if is_running neutron-server-keystone && _neutron_keystone_ok; then
    log "neutron-server (keystone) already running (pid $(pid_of neutron-server-keystone)), reusing it"
    return 0
  fi
  stop_bg neutron-server-keystone
  [ -f "$_NWG_NEUTRON_ETC/neutron.conf" ] && is_running neutron-server ||
    { log "neutron_keystone_up needs neutron_up first"; return 1; }
  _keystone_package || return 1
  _neutron_keystone_write_config || return 1
  start_bg neutron-server-keystone neutron-server --config-file "$_NWG_NEUTRON_KS_CONF" \
    --config-file "$_NWG_NEUTRON_ETC/ml2_conf.ini"
  local deadline=$((SECONDS + 120))
  while ((SECONDS < deadline)); do
    _neutron_keystone_ok && break
    is_running neutron-server-keystone ||
      { tail -30 "$NWG_RUN/log/neutron-server-keystone.log" >&2; log "neutron-server (keystone) died"; return 1; }
    sleep 0.5
  done
  _neutron_keystone_ok ||
    { log "neutron-server (keystone) not ready after 120 s (see $NWG_RUN/log/neutron-server-keystone.log)"; return 1; }
  log "neutron-server (keystone) ready: API $NWG_NEUTRON_KEYSTONE_URL ($((SECONDS - t0)) s)"
}

keystone_down() {
  stop_bg neutron-server-keystone 30
  stop_bg keystone 30
}

keystone_env() {
  (
    export OS_CLIENT_CONFIG_FILE="$NWG_KEYSTONE_RUN/clouds.yaml"
    export NWG_KEYSTONE_URL NWG_NEUTRON_KEYSTONE_URL NWG_KEYSTONE_AGENT_DOWN_TIME NWG_KEYSTONE_RESCHEDULE_AFTER
    export NWG_NEUTRON_KEYSTONE_LOG="$NWG_RUN/log/neutron-server-keystone.log"
    "$@"
  )
}
