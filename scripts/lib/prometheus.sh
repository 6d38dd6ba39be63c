# A real Prometheus (Debian's `prometheus`) for the e2e tests of the agent's metrics: started by hand
# like the other services (start_bg: its own session, log in $NWG_RUN/log/prometheus.log), its data
# in $NWG_RUN/prometheus (wiped at each start), stopped by pid. Source common.sh first.
#
#   prometheus_start CONFIG   start with this prometheus.yml; returns once it is ready
#   prometheus_stop

NWG_PROMETHEUS_PORT=${NWG_PROMETHEUS_PORT:-19090}
NWG_PROMETHEUS_URL="http://127.0.0.1:$NWG_PROMETHEUS_PORT"

prometheus_start() {
  local config=$1
  command -v prometheus >/dev/null || { log "prometheus is not installed (Debian package prometheus)"; return 1; }
  [ -r "$config" ] || { log "no Prometheus configuration at $config"; return 1; }
  stop_bg prometheus
  rm -rf "$NWG_RUN/prometheus"
  mkdir -p "$NWG_RUN/prometheus"
  start_bg prometheus prometheus --config.file="$config" --storage.tsdb.path="$NWG_RUN/prometheus" \
    --web.listen-address="127.0.0.1:$NWG_PROMETHEUS_PORT" --log.level=info
  wait_for 60 curl -sf "$NWG_PROMETHEUS_URL/-/ready" ||
    { log "Prometheus did not become ready (see $NWG_RUN/log/prometheus.log)"; stop_bg prometheus; return 1; }
}

prometheus_stop() {
  stop_bg prometheus
}
