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
