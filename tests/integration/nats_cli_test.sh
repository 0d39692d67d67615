#!/usr/bin/env bash
# Gateway and clients as separate processes over a real nats-server started
# on free ports by scripts/nats.sh: a replay completes exactly; a gateway
# killed with SIGKILL mid-stream is replaced and the replay resumes with
# nothing missing or doubled; a client with another client's credentials is
# refused; SIGTERM stops the gateway cleanly.
#   nats_cli_test.sh TICKFLOW_BINARY SOURCE_DIR
set -uo pipefail
bin="$1"; src="$2"
work=$(mktemp -d)
gw_pid=""
cleanup() {
  [ -n "$gw_pid" ] && kill -9 "$gw_pid" 2>/dev/null
  bash "$src/scripts/nats.sh" stop "$work/nats" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # ok, bad, bounded, wait_bounded, free_port, summary

port=$(free_port); http=$(free_port)
url="nats://127.0.0.1:$port"
"$bin" nats-config --dir "$work/nats" --clients 1-3 --port "$port" --http "$http" > "$work/conf.out" || bad "nats-config"
[ "$(stat -c %a "$work/nats/creds/client-1.creds")" = "600" ] && ok || bad "creds are not private"
bash "$src/scripts/nats.sh" start "$work/nats" > "$work/start.out" 2>&1 || { bad "nats.sh start: $(cat "$work/start.out")"; exit 1; }

"$bin" generate --out "$work/in" --symbols 2 --trades 60000 > /dev/null
"$bin" import "$work/in" --db "$work/store.db" > /dev/null 2>&1 || bad "import"
"$bin" trades XBTUSD ETHUSD --db "$work/store.db" --from 2023-01-01 --to 2023-07-01 --format csv > "$work/trades.csv" 2>/dev/null

start_gateway() {
  "$bin" gateway --bus "$url" --creds "$work/nats/creds/gateway.creds" --db "$work/store.db" \
    --metrics 127.0.0.1:0 --session-timeout-ms 3000 > "$work/gateway.$1.log" 2>&1 &
  gw_pid=$!
  for _ in $(seq 1 600); do grep -q "gateway serving" "$work/gateway.$1.log" && return 0; sleep 0.1; done
  bad "gateway $1 did not start within 60 s: $(cat "$work/gateway.$1.log")"
}
replay() {  # replay OUT ARGS...
  local out="$1"; shift
  bounded 120 "tickflow replay ($out)" "$bin" replay XBTUSD ETHUSD --db "$work/store.db" --from 2023-01-01 \
    --to 2023-07-01 --print csv --bus "$url" "$@" > "$out.csv" 2> "$out.err"
}
same_as_store() { diff <(tail -n +2 "$1") <(tail -n +2 "$work/trades.csv") > /dev/null; }

# 1. A complete replay across processes.
start_gateway 1
replay "$work/r1" --creds "$work/nats/creds/client-1.creds" && ok || bad "replay over NATS: $(cat "$work/r1.err")"
same_as_store "$work/r1.csv" && ok || bad "replayed trades differ from the store"
grep -q "missing 0, gaps 0" "$work/r1.err" && ok || bad "replay summary: $(cat "$work/r1.err")"

# 2. Another client's credentials: refused by the server, with a clear error.
out=$(replay "$work/r2" --creds "$work/nats/creds/client-2.creds" --client-id 1; cat "$work/r2.err")
grep -q "not permitted" <<<"$out" && ok || bad "client 2 posing as client 1 was not refused: $out"
out=$(bounded 60 "replay with missing creds" "$bin" replay XBTUSD --db "$work/store.db" --bus "$url" --creds /nonexistent.creds 2>&1)
grep -q "credentials file /nonexistent.creds cannot be read" <<<"$out" && ok || bad "missing creds: $out"

# 3. SIGKILL the gateway mid-stream, start another: the replay resumes exactly.
replay "$work/r3" --creds "$work/nats/creds/client-3.creds" --speed 2000000 --retries 10 &
replay_pid=$!
sleep 2
kill -9 "$gw_pid"; wait "$gw_pid" 2>/dev/null
start_gateway 2
wait_bounded "$replay_pid" 180 "the replay resuming after the gateway crash" && ok \
  || bad "replay after a gateway crash failed: $(cat "$work/r3.err")"
grep -q "resuming" "$work/r3.err" && ok || bad "the replay was not cut short (too fast?): $(cat "$work/r3.err")"
same_as_store "$work/r3.csv" && ok || bad "resumed replay differs from the store (missing or doubled trades)"

# 4. SIGTERM: graceful stop, exit 0.
kill -TERM "$gw_pid"; wait_bounded "$gw_pid" 30 "the gateway to stop on SIGTERM"; rc=$?; gw_pid=""
[ $rc -eq 0 ] && ok || bad "gateway exit code after SIGTERM: $rc"
grep -q "stopped" "$work/gateway.2.log" && ok || bad "gateway log lacks stopped"

summary nats_cli_test
