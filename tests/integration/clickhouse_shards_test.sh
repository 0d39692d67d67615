#!/usr/bin/env bash
# ClickHouse scale-out: a store sharded over two clickhouse-servers behind
# Distributed tables gives exactly what one server gives. Starts two servers on
# free ports (a cluster "two" of one shard each), imports the same files into
# the cluster and into a plain database of one server, and compares symbols,
# trades, bars and replay; checks the rows are spread over both shards, that a
# failed import and a crash's leftovers on a shard are cleaned, and that a
# writer given the wrong layout is refused with what to do. Stops both servers
# by their PIDs.
#   clickhouse_shards_test.sh TICKFLOW_BINARY SOURCE_DIR
set -uo pipefail
bin="$1"; src="$2"
work=$(mktemp -d)
cleanup() {
  for n in 1 2; do bash "$src/scripts/clickhouse.sh" stop "$work/ch$n" >/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # ok, bad, bounded, wait_bounded, free_port, summary

http1=$(free_port); tcp1=$(free_port); http2=$(free_port); tcp2=$(free_port)
for n in 1 2; do
  h="http$n"; t="tcp$n"
  bash "$src/scripts/clickhouse.sh" config "$work/ch$n" "${!h}" "${!t}"
  bash "$src/scripts/clickhouse.sh" cluster "$work/ch$n" two "127.0.0.1:$tcp1,127.0.0.1:$tcp2"
  bash "$src/scripts/clickhouse.sh" start "$work/ch$n" > "$work/start.out" 2>&1 || { cat "$work/start.out"; exit 1; }
done
cluster="clickhouse://127.0.0.1:$http1/sharded?cluster=two&shards=127.0.0.1:$http1,127.0.0.1:$http2"
single="clickhouse://127.0.0.1:$http1/single"
sql() { curl -sf "http://127.0.0.1:$1/" --data-binary "$2"; }

mkdir -p "$work/in"
"$bin" generate --out "$work/in" --symbols 5 --trades 20000 > /dev/null || bad "generate"
cp "$src/tests/data/kraken/XBTUSD.csv" "$work/in/XBTUSD.csv"  # real trades for one of them

out=$("$bin" db init --db "$cluster" 2>&1) && grep -qF "store ready: $cluster (0 symbols)" <<<"$out" && ok || bad "db init: $out"
for db in "$cluster" "$single"; do
  "$bin" import "$work/in" --db "$db" > "$work/import.out" 2>&1 || bad "import into $db: $(cat "$work/import.out")"
done
grep -q "imported 82,672 trades from 5 of 5 files" "$work/import.out" && ok || bad "import report: $(cat "$work/import.out")"

# Every shard holds whole symbols, and together all of them.
total=0
for port in "$http1" "$http2"; do
  rows=$(sql "$port" "SELECT count() FROM sharded.trades_local")
  split=$(sql "$port" "SELECT count() FROM (SELECT symbol_id FROM sharded.trades_local GROUP BY symbol_id)")
  [ "${rows:-0}" -gt 0 ] && [ "${split:-0}" -ge 2 ] && ok || bad "shard :$port holds $rows trades of $split symbols"
  total=$((total + ${rows:-0}))
done
[ "$total" -eq 82672 ] && ok || bad "the shards hold $total trades in all, not 82672"
[ "$(sql "$http1" "SELECT uniqExact(symbol_id) FROM sharded.trades_local")" -lt 5 ] && ok || bad "shard 1 holds every symbol"

same() {  # same "description" args...: output on the cluster equals output on one server
  local what="$1"; shift
  "$bin" "$@" --db "$cluster" > "$work/cluster.out" 2>&1 || { bad "$what on the cluster: $(head -3 "$work/cluster.out")"; return; }
  "$bin" "$@" --db "$single" > "$work/single.out" 2>&1
  if cmp -s "$work/cluster.out" "$work/single.out" && [ -s "$work/cluster.out" ]; then ok; else
    bad "$what differs: $(diff "$work/cluster.out" "$work/single.out" | head -5)"; fi
}
same "symbols" symbols --format csv
same "all trades merged" trades "*" --format csv
same "trades range" trades ETHUSD --from 2022-06-01T00:00:00Z --to 2022-09-01T00:00:00Z --format csv
same "1m bars" bars ADAUSD --res 1m --format csv
same "1h bars" bars XBTUSD --res 1h --format csv
same "daily bars" bars ETHEUR --res 1d --format csv
"$bin" replay --all --db "$cluster" --print csv > "$work/replay-cluster.csv" 2> "$work/replay.err" || bad "replay: $(cat "$work/replay.err")"
"$bin" replay --all --db "$single" --print csv > "$work/replay-single.csv" 2>/dev/null
cmp -s "$work/replay-cluster.csv" "$work/replay-single.csv" && [ "$(wc -l < "$work/replay-cluster.csv")" -eq 82673 ] && ok ||
  bad "replay differs or is short: $(wc -l < "$work/replay-cluster.csv") lines"
grep -q "missing 0, gaps 0" "$work/replay.err" && ok || bad "replay summary: $(cat "$work/replay.err")"

# A file that grows with a bad row fails whole and loses nothing.
printf '1704067300,300.5,1.5\n1704067301,oops,1\n' >> "$work/in/ETHUSD.csv"
out=$("$bin" import "$work/in" --db "$cluster" 2>&1)
[ $? -ne 0 ] && grep -q "ETHUSD.csv:20002" <<<"$out" && ok || bad "bad row: $out"
[ "$("$bin" trades ETHUSD --db "$cluster" --format csv | wc -l)" -eq 20001 ] && ok || bad "the failed file changed ETHUSD"

# A crash's leftovers on ETHUSD's shard (rows past the committed count) are removed
# there before the next import, which then appends exactly the good row.
sed -i '$d' "$work/in/ETHUSD.csv"
id=$(sql "$http1" "SELECT symbol_id FROM sharded.symbols WHERE name = 'ETHUSD'")
for port in "$http1" "$http2"; do
  [ "$(sql "$port" "SELECT count() FROM sharded.trades_local WHERE symbol_id = $id")" -gt 0 ] && home=$port
done
sql "$home" "INSERT INTO sharded.trades_local VALUES ($id, 1704067299000000000, 20000, 77700000000000000, 100000000000000000)" ||
  bad "insert leftover"
out=$("$bin" import "$work/in" --db "$cluster" 2>&1) || bad "import after the crash: $out"
"$bin" trades ETHUSD --db "$cluster" --format csv > "$work/eth.csv"
[ "$(wc -l < "$work/eth.csv")" -eq 20002 ] && [ "$(tail -1 "$work/eth.csv")" = "2024-01-01T00:01:40Z,300.5,1.5" ] && ok ||
  bad "after the crash: $(wc -l < "$work/eth.csv") lines, last $(tail -1 "$work/eth.csv")"
[ "$(sql "$home" "SELECT count() FROM sharded.trades_local WHERE symbol_id = $id")" -eq 20001 ] && ok ||
  bad "the leftover is still on its shard"

# A writer must be told the layout.
out=$("$bin" import "$work/in" --db "clickhouse://127.0.0.1:$http1/sharded" 2>&1)
[ $? -ne 0 ] && grep -q "holds Distributed tables" <<<"$out" && grep -q "cluster=NAME&shards=" <<<"$out" && ok ||
  bad "plain URL on a cluster: $out"
out=$("$bin" db init --db "clickhouse://127.0.0.1:$http1/other?cluster=three&shards=127.0.0.1:$http1" 2>&1)
[ $? -ne 0 ] && grep -q "no cluster 'three'" <<<"$out" && ok || bad "unknown cluster: $out"
out=$("$bin" db init --db "clickhouse://127.0.0.1:$http1/other?cluster=two&shards=127.0.0.1:$http1" 2>&1)
[ $? -ne 0 ] && grep -q "has 2 shards and the URL lists 1" <<<"$out" && ok || bad "shard count: $out"
out=$("$bin" symbols --db "clickhouse://127.0.0.1:$http1/sharded?cluster=two" 2>&1)
[ $? -ne 0 ] && grep -q "cluster= and shards= go together" <<<"$out" && ok || bad "cluster without shards: $out"
out=$("$bin" symbols --db "clickhouse://127.0.0.1:$http1/sharded?replicas=2" 2>&1)
[ $? -ne 0 ] && grep -q "unknown parameter 'replicas'" <<<"$out" && ok || bad "unknown parameter: $out"
# A reader needs no cluster parameters: the Distributed tables serve it.
"$bin" trades ETHUSD --db "clickhouse://127.0.0.1:$http1/sharded" --format csv > "$work/plain.csv" 2>&1
cmp -s "$work/plain.csv" "$work/eth.csv" && ok || bad "a reader of the plain URL: $(head -2 "$work/plain.csv")"

echo "clickhouse_shards_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
