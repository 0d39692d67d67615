#!/usr/bin/env bash
# Starts and stops a nats-server (JetStream on) for tickflow.
#   scripts/nats.sh start DIR     DIR/nats.conf from `tickflow nats-config --dir DIR`; waits until healthy
#   scripts/nats.sh stop DIR      stops the server started from DIR (by its PID)
#   scripts/nats.sh reload DIR    re-reads DIR/nats.conf (users added or changed)
#   scripts/nats.sh status DIR
#   scripts/nats.sh wait DIR      waits until a started server is healthy
# With DIR from `tickflow nats-config --nodes N`, every node DIR/node-*/ is acted on.
# The PID is kept in DIR/nats.pid and the log in DIR/nats.log.
set -euo pipefail
cmd="${1:-}"
dir="${2:-}"
if [[ -z "$cmd" || -z "$dir" ]]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
# A cluster written by `tickflow nats-config --nodes N`: act on every node.
# A clustered node reports healthy only once a quorum runs, so all are
# started before any is polled.
if [[ ! -f "$dir/nats.conf" ]] && compgen -G "$dir/node-*/nats.conf" >/dev/null; then
  rc=0
  if [[ "$cmd" == start ]]; then
    for node in "$dir"/node-*/; do NATS_SH_NO_WAIT=1 "$0" start "${node%/}" || rc=$?; done
    [[ $rc -ne 0 ]] && exit $rc
    cmd=wait
  fi
  for node in "$dir"/node-*/; do "$0" "$cmd" "${node%/}" || rc=$?; done
  exit $rc
fi
pidfile="$dir/nats.pid"
running() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
case "$cmd" in
  start)
    command -v nats-server >/dev/null || { echo "nats-server is not installed: run scripts/install-deps.sh" >&2; exit 1; }
    [[ -f "$dir/nats.conf" ]] || { echo "$dir/nats.conf missing: run tickflow nats-config --dir $dir" >&2; exit 1; }
    if running; then echo "nats-server already running (pid $(cat "$pidfile"))"; exit 0; fi
    nats-server -c "$dir/nats.conf" -l "$dir/nats.log" &
    echo $! > "$pidfile"
    [[ -n "${NATS_SH_NO_WAIT:-}" ]] && exit 0
    exec "$0" wait "$dir"
    ;;
  wait)
    running || { echo "nats-server is not running (see $dir/nats.log)" >&2; exit 1; }
    http=$(sed -n 's/^http: "\(.*\)"$/\1/p' "$dir/nats.conf")
    for _ in $(seq 1 100); do
      if [[ -n "$http" ]] && curl -sf "http://$http/healthz" >/dev/null 2>&1; then
        echo "nats-server running (pid $(cat "$pidfile"), $(sed -n 's/^listen: "\(.*\)"$/\1/p' "$dir/nats.conf"))"
        exit 0
      fi
      running || { echo "nats-server exited; see $dir/nats.log:" >&2; tail -5 "$dir/nats.log" >&2; exit 1; }
      [[ -z "$http" ]] && { sleep 0.5; echo "nats-server started (pid $(cat "$pidfile")); no monitoring port"; exit 0; }
      sleep 0.1
    done
    echo "nats-server did not become healthy within 10 s; see $dir/nats.log" >&2
    exit 1
    ;;
  stop)
    if running; then
      pid=$(cat "$pidfile")
      kill "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then
        # Seen with nats-server 2.9 after its JetStream store ran out of space:
        # JetStream wedges and SIGTERM is never acted on.
        echo "nats-server (pid $pid) did not stop within 10 s of SIGTERM: killed (SIGKILL)" >&2
        kill -9 "$pid" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
      echo "nats-server stopped"
    else
      echo "nats-server not running"
    fi
    rm -f "$pidfile"
    ;;
  reload)
    running || { echo "nats-server not running" >&2; exit 1; }
    nats-server --signal "reload=$(cat "$pidfile")"
    ;;
  status)
    if running; then echo "running (pid $(cat "$pidfile"))"; else echo "not running"; exit 1; fi
    ;;
  *)
    echo "unknown command '$cmd' (start, stop, reload, status, wait)" >&2
    exit 2
    ;;
esac
