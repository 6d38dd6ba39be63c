# RabbitMQ for tests and the demo: one broker on 127.0.0.1:5672 (node rabbit@localhost), started by
# hand, reused if it already runs. Each suite works in its own vhost.
# Source after common.sh.

NWG_RABBIT_NODE=${NWG_RABBIT_NODE:-rabbit@localhost}

rabbit_ctl() { rabbitmqctl -q -n "$NWG_RABBIT_NODE" "$@"; }

rabbit_alive() { rabbit_ctl await_startup --timeout 1 >/dev/null 2>&1 && rabbit_ctl status >/dev/null 2>&1; }

# rabbit_start : start the broker unless it runs (we only stop what we started)
rabbit_start() {
  if rabbit_alive; then return 0; fi
  log "starting RabbitMQ (node $NWG_RABBIT_NODE, 127.0.0.1:5672)"
  RABBITMQ_NODENAME=$NWG_RABBIT_NODE NODE_IP_ADDRESS=127.0.0.1 NODE_PORT=5672 \
    start_bg rabbitmq /usr/sbin/rabbitmq-server
  wait_for 90 rabbit_alive || die "RabbitMQ did not start (see $NWG_RUN/log/rabbitmq.log, /var/log/rabbitmq/)"
}

# rabbit_stop : stop the broker only if this harness started it
rabbit_stop() {
  [ -n "$(pid_of rabbitmq)" ] || return 0
  rabbit_ctl stop >/dev/null 2>&1
  stop_bg rabbitmq 30
}

# rabbit_vhost NAME : (re)create an empty vhost for guest and print its transport_url
rabbit_vhost() {
  rabbit_ctl delete_vhost "$1" >/dev/null 2>&1
  rabbit_ctl add_vhost "$1" >/dev/null || die "cannot add vhost $1"
  rabbit_ctl set_permissions -p "$1" guest '.*' '.*' '.*' >/dev/null || die "cannot set permissions on $1"
  echo "rabbit://guest:guest@127.0.0.1:5672/$1"
}

# A private RabbitMQ node for tests that stop or restart a broker, so the shared rabbit@localhost is never
# disturbed: its own node name, AMQP port (Erlang distribution port = port + 20000), data and logs under
# DIR, run as the rabbitmq user as /usr/sbin/rabbitmq-server does, in its own session.
# rabbit_private_start DIR NODE PORT : start it (reusing DIR's data; DIR/rabbitmq.conf, if present, is its
# configuration, e.g. a TLS listener) and wait until it accepts clients
rabbit_private_start() {
  local dir=$1 node=$2 port=$3
  mkdir -p "$dir/mnesia" "$dir/log" || return 1
  [ -f "$dir/enabled_plugins" ] || echo '[].' >"$dir/enabled_plugins"
  chown -R rabbitmq:rabbitmq "$dir" || return 1
  setsid runuser -u rabbitmq -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/var/lib/rabbitmq \
    RABBITMQ_NODENAME="$node" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$port" \
    RABBITMQ_DIST_PORT=$((port + 20000)) RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" RABBITMQ_PID_FILE="$dir/rabbitmq.pid" \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" RABBITMQ_ADVANCED_CONFIG_FILE="$dir/no-advanced.config" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}' \
    /usr/lib/rabbitmq/bin/rabbitmq-server >>"$dir/server.log" 2>&1 </dev/null &
  echo $! >"$dir/launcher.pid"
  # The AMQP listener opens last; one rabbitmqctl call then confirms (each one costs a second of CPU).
  wait_for 120 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" &&
    rabbitmqctl -q -n "$node" await_startup --timeout 60 >/dev/null 2>&1 ||
    { log "private RabbitMQ $node did not start (see $dir/server.log, $dir/log)"; tail -20 "$dir/server.log" >&2; return 1; }
}

# rabbit_private_stop DIR NODE : stop it by node name, then make sure the process group we started is gone
rabbit_private_stop() {
  local dir=$1 node=$2 p i
  p=$(cat "$dir/launcher.pid" 2>/dev/null) || return 0
  rabbitmqctl -q -n "$node" stop >/dev/null 2>&1
  for ((i = 0; i < 300; i++)); do
    pgrep -g "$p" >/dev/null 2>&1 || break
    sleep 0.1
  done
  pgrep -g "$p" >/dev/null 2>&1 && kill -KILL -- "-$p" 2>/dev/null
  rm -f "$dir/launcher.pid"
}
