#!/usr/bin/env bash
# The CLI on a ClickHouse store, against the same commands on a SQLite file:
# db init, import, symbols, trades, bars and replay must give identical output;
# a bad file fails with file:line and loses nothing already stored; re-import
# changes nothing. Starts its own clickhouse-server on free ports and stops it
# by its PID.
#   clickhouse_cli_test.sh TICKFLOW_BINARY SOURCE_DIR
set -uo pipefail
bin="$1"; src="$2"
work=$(mktemp -d)
ch="$work/clickhouse"
gw_pid=""
cleanup() {
  [ -n "$gw_pid" ] && kill -9 "$gw_pid" 2>/dev/null
  bash "$src/scripts/nats.sh" stop "$work/nats" >/dev/null 2>&1
  bash "$src/scripts/clickhouse.sh" stop "$ch" >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # ok, bad, bounded, wait_bounded, free_port, summary

http=$(free_port); tcp=$(free_port)
bash "$src/scripts/clickhouse.sh" start "$ch" "$http" "$tcp" > "$work/start.out" 2>&1 || { cat "$work/start.out"; exit 1; }
url="clickhouse://127.0.0.1:$http/cli_test"
sq="$work/store.db"

out=$("$bin" db init --db "$url" 2>&1) && grep -q "store ready: $url (0 symbols)" <<<"$out" && ok || bad "db init: $out"
out=$("$bin" db init --db "$url" 2>&1) && ok || bad "db init twice: $out"
out=$("$bin" symbols --db "clickhouse://127.0.0.1:$http/missing" 2>&1)
[ $? -ne 0 ] && grep -qF "tickflow db init --db clickhouse://127.0.0.1:$http/missing" <<<"$out" && ok || bad "missing database: $out"
out=$("$bin" symbols --db "clickhouse://127.0.0.1:$(free_port)/x" 2>&1)
[ $? -ne 0 ] && grep -q "cannot reach ClickHouse" <<<"$out" && ok || bad "unreachable server: $out"

mkdir -p "$work/in"
cp "$src/tests/data/kraken/XBTUSD.csv" "$work/in/"
python3 - "$work/in/ETHUSD.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(20000):
        f.write(f"{1561939203 + i // 3}.{(i % 3) * 100},{290 + i % 7}.5,1.{i}\n")
PY
for db in "$url" "$sq"; do
  "$bin" import "$work/in" --db "$db" > "$work/import.out" 2>&1 || bad "import into $db: $(cat "$work/import.out")"
done
grep -q "new symbol XBTUSD" "$work/import.out" && ok || bad "import report: $(cat "$work/import.out")"

same() {  # same "description" args...: output on ClickHouse equals output on SQLite
  local what="$1"; shift
  "$bin" "$@" --db "$url" > "$work/ch.out" 2>&1 || { bad "$what on ClickHouse: $(head -3 "$work/ch.out")"; return; }
  "$bin" "$@" --db "$sq" > "$work/sq.out" 2>&1
  if cmp -s "$work/ch.out" "$work/sq.out" && [ -s "$work/ch.out" ]; then ok; else bad "$what differs: $(diff "$work/ch.out" "$work/sq.out" | head -5)"; fi
}
same "symbols" symbols --format csv
same "trades" trades XBTUSD --format csv
same "merged trades" trades XBTUSD ETHUSD --format csv
same "trades range" trades ETHUSD --from 2019-07-01T00:10:00Z --to 2019-07-01T00:20:00Z --format csv
same "1m bars" bars ETHUSD --res 1m --format csv
same "1h bars" bars XBTUSD --res 1h --format csv
same "daily bars" bars XBTUSD --res 1d --format csv
"$bin" replay XBTUSD ETHUSD --db "$url" --print csv > "$work/replay-ch.csv" 2> "$work/replay.err" || bad "replay: $(cat "$work/replay.err")"
"$bin" replay XBTUSD ETHUSD --db "$sq" --print csv > "$work/replay-sq.csv" 2>/dev/null
cmp -s "$work/replay-ch.csv" "$work/replay-sq.csv" && [ "$(wc -l < "$work/replay-ch.csv")" -eq 22673 ] && ok || bad "replay differs"
grep -q "missing 0, gaps 0" "$work/replay.err" && ok || bad "replay summary: $(cat "$work/replay.err")"

# The gateway as its own process on the ClickHouse store, a client over nats-server.
nport=$(free_port); nhttp=$(free_port)
"$bin" nats-config --dir "$work/nats" --clients 1 --port "$nport" --http "$nhttp" > /dev/null || bad "nats-config"
if bash "$src/scripts/nats.sh" start "$work/nats" > "$work/nats.out" 2>&1; then
  "$bin" gateway --bus "nats://127.0.0.1:$nport" --creds "$work/nats/creds/gateway.creds" --db "$url" \
    --metrics 127.0.0.1:0 > "$work/gateway.log" 2>&1 &
  gw_pid=$!
  for _ in $(seq 1 100); do grep -q "gateway serving" "$work/gateway.log" && break; sleep 0.1; done
  grep -q "\"db\":\"$url\"\|db=$url" "$work/gateway.log" && ok || bad "gateway log does not name the store: $(cat "$work/gateway.log")"
  "$bin" replay XBTUSD ETHUSD --db "$url" --bus "nats://127.0.0.1:$nport" --creds "$work/nats/creds/client-1.creds" \
    --print csv > "$work/replay-nats.csv" 2> "$work/replay-nats.err" || bad "replay over NATS: $(cat "$work/replay-nats.err")"
  cmp -s "$work/replay-nats.csv" "$work/replay-sq.csv" && ok || bad "replay over NATS from the ClickHouse gateway differs"
  kill "$gw_pid"; wait "$gw_pid" 2>/dev/null; gw_pid=""
else
  bad "nats.sh start: $(cat "$work/nats.out")"
fi

# Re-import changes nothing.
"$bin" import "$work/in" --db "$url" > "$work/again.out" 2>&1 || bad "re-import failed"
"$bin" symbols --db "$url" --format csv > "$work/after.csv"
"$bin" symbols --db "$sq" --format csv > "$work/before.csv"
cmp -s "$work/after.csv" "$work/before.csv" && ok || bad "re-import changed the symbols"

# A file that grows with a bad row fails whole, names file and line, and loses nothing.
printf '1561990000,300.5,1.5\n1561990001,oops,1\n' >> "$work/in/ETHUSD.csv"
out=$("$bin" import "$work/in" --db "$url" 2>&1)
[ $? -ne 0 ] && grep -q "ETHUSD.csv:20002" <<<"$out" && ok || bad "bad row: $out"
"$bin" trades ETHUSD --db "$url" --format csv > "$work/eth.csv"
[ "$(wc -l < "$work/eth.csv")" -eq 20001 ] && ok || bad "the failed file changed ETHUSD: $(wc -l < "$work/eth.csv") lines"
# Fixed, it appends exactly the new row.
sed -i '$d' "$work/in/ETHUSD.csv"
"$bin" import "$work/in" --db "$url" > /dev/null 2>&1 || bad "import after the fix"
[ "$("$bin" trades ETHUSD --db "$url" --format csv | tail -1)" = "2019-07-01T14:06:40Z,300.5,1.5" ] && ok || bad "appended trade"

echo "clickhouse_cli_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
