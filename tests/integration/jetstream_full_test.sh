#!/usr/bin/env bash
# JetStream's store runs out of space mid-stream (a real full file system: a
# small tmpfs under the server's store_dir), and then space comes back:
# - the client gets an exact prefix of its trades and fails saying why;
# - the gateway's /healthz turns 503 naming JetStream, its log says why at
#   level=error, and a new login is refused at once with BusUnavailable
#   (not a timeout);
# - once space is freed and nats-server restarted (it keeps JetStream off
#   after running out of space), the same gateway recovers by itself: /healthz
#   200, logins served, a replay exact.
# Needs root to mount the tmpfs; exits 77 (skipped) where mounting is refused.
#   jetstream_full_test.sh TICKFLOW_BINARY SOURCE_DIR
set -uo pipefail
bin="$1"; src="$2"
work=$(mktemp -d)
gw_pid=""; mnt="$work/nats/js"
cleanup() {
  [ -n "$gw_pid" ] && kill -9 "$gw_pid" 2>/dev/null
  bash "$src/scripts/nats.sh" stop "$work/nats" >/dev/null 2>&1
  mountpoint -q "$mnt" && [ -z "${KEEP:-}" ] && umount "$mnt"
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # ok, bad, bounded, wait_bounded, free_port, summary
until_true() {  # until_true SECONDS WHAT CMD...: polls CMD every 0.2 s
  local secs="$1" what="$2"; shift 2
  for _ in $(seq 1 $((secs * 5))); do "$@" && return 0; sleep 0.2; done
  echo "timed out after $secs s waiting for $what" >&2
  return 1
}

port=$(free_port); http=$(free_port); metrics=$(free_port)
url="nats://127.0.0.1:$port"
# The store limit is set far above the tmpfs so that streams are accepted and
# the file system itself runs out, as a full disk does.
"$bin" nats-config --dir "$work/nats" --clients 1-3 --port "$port" --http "$http" --max-store 4G > /dev/null \
  || { echo "nats-config failed"; exit 1; }
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=48m tmpfs "$mnt" 2>/dev/null; then
  echo "jetstream_full_test: cannot mount a tmpfs here (needs root): skipped"
  exit 77
fi
bash "$src/scripts/nats.sh" start "$work/nats" > "$work/start.out" 2>&1 || { bad "nats.sh start: $(cat "$work/start.out")"; exit 1; }

"$bin" generate --out "$work/in" --symbols 1 --trades 200000 > /dev/null
"$bin" import "$work/in" --db "$work/store.db" > /dev/null 2>&1 || bad "import"
"$bin" trades XBTUSD --db "$work/store.db" --format csv > "$work/trades.csv" 2>/dev/null

"$bin" gateway --bus "$url" --creds "$work/nats/creds/gateway.creds" --db "$work/store.db" \
  --metrics "127.0.0.1:$metrics" --session-timeout-ms 5000 > "$work/gateway.log" 2>&1 &
gw_pid=$!
until_true 60 "the gateway to start" grep -q "gateway serving" "$work/gateway.log" || { bad "gateway: $(cat "$work/gateway.log")"; exit 1; }
health() { curl -s -m 10 -o "$work/health.body" -w '%{http_code}' "http://127.0.0.1:$metrics/healthz"; }
health_is() { [ "$(health)" = "$1" ]; }
[ "$(health)" = "200" ] && ok || bad "/healthz before: $(cat "$work/health.body")"

replay() {  # replay OUT CLIENT ARGS...
  local out="$1" client="$2"; shift 2
  bounded 120 "tickflow replay ($out)" "$bin" replay XBTUSD --db "$work/store.db" --print csv --bus "$url" \
    --creds "$work/nats/creds/client-$client.creds" "$@" > "$out.csv" 2> "$out.err"
}
# A slow replay, so that the disk fills while it runs.
replay "$work/r1" 1 --speed 2000000 &
r1=$!
until_true 30 "the first trades of the replay" test -s "$work/r1.csv" || bad "replay 1 never started: $(cat "$work/r1.err")"
dd if=/dev/zero of="$mnt/filler" bs=1M > /dev/null 2>&1  # until the file system is full
wait "$r1"; rc=$?
[ $rc -ne 0 ] && ok || bad "replay 1 exited 0 on a full JetStream store: $(tail -3 "$work/r1.err")"
rows=$(($(wc -l < "$work/r1.csv") - 1))
[ "$rows" -lt 200000 ] && ok || bad "replay 1 got all $rows trades: the disk did not fill in time"
# (replay prints a symbol column first; trades of one symbol do not)
cmp -s <(cut -d, -f2- "$work/r1.csv" | tail -n +2) <(tail -n +2 "$work/trades.csv" | head -n "$rows") && ok \
  || bad "replay 1 is not an exact prefix of the store"
echo "replay 1: $rows of 200000 trades, then: $(tail -1 "$work/r1.err")"

until_true 30 "/healthz to report the bus" health_is 503 && ok || bad "/healthz stayed $(health) with JetStream out of space"
grep -q "JetStream" "$work/health.body" && ok || bad "/healthz does not name JetStream: $(cat "$work/health.body")"
grep -q "level=error.*bus unhealthy" "$work/gateway.log" && ok || bad "the gateway did not log why: $(tail -5 "$work/gateway.log")"
curl -s -m 10 "http://127.0.0.1:$metrics/metrics" | grep -q "^tickflow_gateway_bus_up 0" && ok || bad "tickflow_gateway_bus_up is not 0"

start=$(date +%s)
replay "$work/r2" 2; rc=$?
took=$(($(date +%s) - start))
[ $rc -ne 0 ] && ok || bad "replay 2 exited 0 with the bus down"
grep -q "bus is unavailable" "$work/r2.err" && ok || bad "replay 2 does not say the bus is unavailable: $(tail -3 "$work/r2.err")"
echo "replay 2 refused after $took s: $(tail -1 "$work/r2.err")"

# Space comes back; nats-server keeps JetStream off until it is restarted.
rm -f "$mnt/filler"
bash "$src/scripts/nats.sh" stop "$work/nats" > "$work/stop.out" 2>&1
bash "$src/scripts/nats.sh" start "$work/nats" > "$work/start2.out" 2>&1 || bad "nats.sh restart: $(cat "$work/start2.out")"
until_true 60 "/healthz to recover" health_is 200 && ok || bad "/healthz stayed $(health): $(cat "$work/health.body")"
grep -q "bus healthy again" "$work/gateway.log" && ok || bad "the gateway did not log its recovery"
replay "$work/r3" 3 && ok || bad "replay 3 after recovery: $(tail -3 "$work/r3.err")"
cmp -s <(cut -d, -f2- "$work/r3.csv" | tail -n +2) <(tail -n +2 "$work/trades.csv") && ok || bad "replay 3 differs from the store"
kill -0 "$gw_pid" 2>/dev/null && ok || bad "the gateway died"
kill -TERM "$gw_pid"
for _ in $(seq 1 300); do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$gw_pid" 2>/dev/null; then bad "the gateway did not stop within 30 s of SIGTERM"; else wait "$gw_pid"; rc=$?; gw_pid=""
  [ $rc -eq 0 ] && ok || bad "gateway exit code after SIGTERM: $rc"; fi

if [ $fail -ne 0 ]; then
  echo "--- gateway log (last 30 lines):"; grep -v "level=debug" "$work/gateway.log" | tail -30
  echo "--- nats-server log (errors):"; grep -E "\[(ERR|FTL)\]" "$work/nats/nats.log" | tail -10
fi
summary jetstream_full_test
