# Shared shell helpers for scripts/test, scripts/demo and the test harnesses. Source it; do not run it.
# Every process we start runs in its own process group with a pid file, and is stopped by that pid:
# never pkill/killall.

NWG_ROOT=${NWG_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
NWG_RUN=${NWG_RUN:-$NWG_ROOT/build/run}   # pid files, logs, data dirs of the services we start
PY=/usr/bin/python3                         # Debian's python (python3 on PATH may be pyenv's)

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# start_bg NAME CMD... : start CMD in its own session, stdout/stderr to $NWG_RUN/log/NAME.log
# The service gets no descriptor of ours beyond 0-2: one inherited from the caller (a `flock` lock
# held around a test run, a pipe) would otherwise live as long as the service.
start_bg() {
  local name=$1; shift
  mkdir -p "$NWG_RUN/log" "$NWG_RUN/pid"
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
    done
    exec setsid "$@"
  ) >"$NWG_RUN/log/$name.log" 2>&1 < /dev/null &
  echo $! >"$NWG_RUN/pid/$name.pid"
}

pid_of() { cat "$NWG_RUN/pid/$1.pid" 2>/dev/null; }

# is_running NAME : the process we started under NAME is alive (a zombie counts as dead)
is_running() {
  local p; p=$(pid_of "$1") || return 1
  [ -n "$p" ] && [ -r "/proc/$p/stat" ] && [ "$(awk '{print $3}' "/proc/$p/stat")" != Z ]
}

# stop_bg NAME [SECONDS] : TERM the process group we started, KILL it after SECONDS (default 20)
stop_bg() {
  local name=$1 wait=${2:-20} p i
  p=$(pid_of "$name") || return 0
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
    kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null
    for ((i = 0; i < wait * 10; i++)); do
      pgrep -g "$p" >/dev/null 2>&1 || break
      sleep 0.1
    done
    pgrep -g "$p" >/dev/null 2>&1 && kill -KILL -- "-$p" 2>/dev/null
  fi
  rm -f "$NWG_RUN/pid/$name.pid"
}

# wait_for SECONDS CMD... : poll CMD every 0.2 s until it succeeds
wait_for() {
  local secs=$1 i; shift
  for ((i = 0; i < secs * 5; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}
