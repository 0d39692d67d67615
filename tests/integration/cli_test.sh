#!/usr/bin/env bash
# End-to-end checks of the tickflow CLI on real files: exact round trip of the
# Kraken sample, bars, re-import, and clear non-zero errors for bad input.
#   cli_test.sh TICKFLOW_BINARY SOURCE_DIR
set -uo pipefail
bin="$1"; src="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
db="$work/store.db"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # ok, bad, bounded, wait_bounded, free_port, summary
expect_fail() {  # expect_fail "description" "message part" cmd...
  local what="$1" part="$2"; shift 2
  local out; out=$("$@" 2>&1); local rc=$?
  if [ $rc -eq 0 ]; then bad "$what: exit 0"; return; fi
  if ! grep -qF -- "$part" <<<"$out"; then bad "$what: message lacks '$part': $out"; return; fi
  ok
}

mkdir -p "$work/in"; cp "$src/tests/data/kraken/XBTUSD.csv" "$work/in/"
"$bin" import "$work/in" --db "$db" > "$work/import.out" 2>&1 || bad "import of the sample failed: $(cat "$work/import.out")"
grep -q "new symbol XBTUSD (id 1): 2,672 trades" "$work/import.out" && ok || bad "import report: $(cat "$work/import.out")"

# Every trade comes back identical: time ISO 8601 UTC, numbers as imported.
"$bin" trades XBTUSD --db "$db" --format csv > "$work/trades.csv"
[ "$(head -1 "$work/trades.csv")" = "time,price,volume" ] && ok || bad "trades csv header"
python3 - "$work/trades.csv" "$src/tests/data/kraken/XBTUSD.csv" <<'PY' && ok || bad "trades csv differs from the input"
import sys, datetime
out = open(sys.argv[1]).read().splitlines()[1:]
inp = open(sys.argv[2]).read().splitlines()
assert len(out) == len(inp) == 2672, (len(out), len(inp))
for o, i in zip(out, inp):
    t, p, v = o.split(","); ts, ip, iv = i.split(",")
    assert (p, v) == (ip, iv), (o, i)
    sec, ms = ts.split(".")
    want = datetime.datetime.fromtimestamp(int(sec), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    want += ("." + ms if int(ms) else "") + "Z"
    assert t == want, (t, want)
PY

# JSON Lines: the same trades and bars, decimals as exact strings.
"$bin" trades XBTUSD --db "$db" --format json > "$work/trades.jsonl"
/usr/bin/python3 - "$work/trades.jsonl" "$work/trades.csv" <<'PY' && ok || bad "trades json differs from trades csv"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
csv = open(sys.argv[2]).read().splitlines()[1:]
assert len(rows) == len(csv) == 2672, (len(rows), len(csv))
for r, c in zip(rows, csv):
    assert ",".join([r["time"], r["price"], r["volume"]]) == c, (r, c)
PY
/usr/bin/python3 - <("$bin" bars XBTUSD --res 5m --db "$db" --format json) <("$bin" bars XBTUSD --res 5m --db "$db" --format csv) <<'PY' && ok || bad "bars json differs from bars csv"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
csv = open(sys.argv[2]).read().splitlines()[1:]
assert len(rows) == len(csv) == 12, (len(rows), len(csv))
for r, c in zip(rows, csv):
    assert ",".join([r[k] for k in ("time", "open", "high", "low", "close", "volume")] + [str(r["trades"])]) == c, (r, c)
PY
"$bin" symbols --db "$db" --format json | /usr/bin/python3 -c "import json,sys; r=[json.loads(l) for l in sys.stdin]; assert r[0]['symbol']=='XBTUSD' and r[0]['trades']==2672, r" \
  && ok || bad "symbols json"

# The same trades through the gateway and a client: identical too.
"$bin" replay XBTUSD --db "$db" --print csv > "$work/replay.csv" 2> "$work/replay.err" || bad "replay failed: $(cat "$work/replay.err")"
[ "$(head -1 "$work/replay.csv")" = "symbol,time,price,volume" ] && ok || bad "replay csv header"
diff <(tail -n +2 "$work/replay.csv" | cut -d, -f2-) <(tail -n +2 "$work/trades.csv") > /dev/null && ok || bad "replayed trades differ from the stored ones"
[ "$(tail -n +2 "$work/replay.csv" | cut -d, -f1 | sort -u)" = "XBTUSD" ] && ok || bad "replay symbol column"
grep -q "stream end: completed, gateway sent 2,672, client received 2,672, missing 0, gaps 0" "$work/replay.err" && ok || bad "replay summary: $(cat "$work/replay.err")"
"$bin" replay XBTUSD --bars 5m --db "$db" --print csv 2>/dev/null | tail -n +2 | cut -d, -f2- > "$work/replay-bars.csv"
diff "$work/replay-bars.csv" <("$bin" bars XBTUSD --res 5m --db "$db" --format csv | tail -n +2) > /dev/null && ok || bad "replayed 5m bars differ from tickflow bars"
expect_fail "replay unknown symbol" "unknown symbol 'NOPE'" "$bin" replay NOPE --db "$db"
expect_fail "replay bad speed" "--speed 'fast'" "$bin" replay XBTUSD --speed fast --db "$db"
expect_fail "replay bad bars" "--bars: unknown resolution '3m'" "$bin" replay XBTUSD --bars 3m --db "$db"
if [ -n "${EXAMPLES_DIR:-}" ]; then
  out=$("$EXAMPLES_DIR/basic_data_stream" "$db" 1 2 2>&1)
  grep -q "trades end: completed, 2672 sent, 2672 received, 0 missing" <<<"$out" && grep -q "bars end: 12 bars received" <<<"$out" \
    && ok || bad "basic_data_stream: $out"
fi

"$bin" bars XBTUSD --res 1h --db "$db" --format csv > "$work/bars.csv"
[ "$(cat "$work/bars.csv")" = "time,open,high,low,close,volume,trades
$(python3 -c "
from decimal import Decimal
rows=[l.split(',') for l in open('$src/tests/data/kraken/XBTUSD.csv').read().split()]
prices=[Decimal(r[1]) for r in rows]
print('2019-07-01T00:00:00Z', rows[0][1], max(prices), min(prices), rows[-1][1], sum(Decimal(r[2]) for r in rows), len(rows), sep=',')")" ] && ok || bad "hourly bar: $(cat "$work/bars.csv")"
n=$("$bin" bars XBTUSD --res 5m --db "$db" --format csv --from 2019-07-01T00:10:00Z --to 2019-07-01T00:30:00Z | wc -l)
[ "$n" = 5 ] && ok || bad "5m bars in [00:10, 00:30) should be 4 rows + header, got $n"
out=$("$bin" trades XBTUSD --db "$db" --limit 3); grep -q "2019-07-01T00:00:03.172Z" <<<"$out" && ok || bad "trades table"
"$bin" symbols --db "$db" --format csv > "$work/symbols.csv"; grep -q "^1,XBTUSD,XBT,USD,2672,2019-07-01T00:00:03.172Z,2019-07-01T00:59:51.213Z,1,8$" "$work/symbols.csv" \
  && ok || bad "symbols: $(cat "$work/symbols.csv")"

out=$("$bin" import "$work/in" --db "$db"); grep -q "unchanged since its last import" <<<"$out" && ok || bad "re-import not recognised: $out"

expect_fail "unknown symbol" "unknown symbol 'NOPE'" "$bin" bars NOPE --res 1d --db "$db"
expect_fail "bad resolution" "unknown resolution '2m'" "$bin" bars XBTUSD --res 2m --db "$db"
expect_fail "bad time" "--from: bad time 'yesterday'" "$bin" trades XBTUSD --from yesterday --db "$db"
expect_fail "inverted range" "must be before --to" "$bin" trades XBTUSD --from 2020-01-02 --to 2020-01-01 --db "$db"
expect_fail "missing store" "no store at" "$bin" symbols --db "$work/none.db"
expect_fail "missing path" "no such file or folder" "$bin" import "$work/nowhere" --db "$db"
expect_fail "missing path, new store" "no such file or folder" "$bin" import "$work/nowhere" --db "$work/new.db"
[ ! -e "$work/new.db" ] && ok || bad "an import of a missing path created $work/new.db"
mkdir -p "$work/broken"; printf '1561939203,1,1\n1561939204,1.5.1,2\n' > "$work/broken/ETHUSD.csv"
expect_fail "bad row" "ETHUSD.csv:2:12: invalid price '1.5.1'" "$bin" import "$work/broken" --db "$db"
out=$("$bin" import "$work/broken" --db "$db" --skip-bad-rows); grep -q "1 bad rows skipped" <<<"$out" && ok || bad "--skip-bad-rows: $out"
out=$("$bin" --help); grep -q "tickflow demo" <<<"$out" && ok || bad "--help"
out=$("$bin" import --help); grep -q -- "--skip-bad-rows" <<<"$out" && ok || bad "import --help"

"$bin" generate --out "$work/gen" --symbols 2 --trades 5000 --seed 7 >/dev/null && ok || bad "generate"
if [ -n "${EXAMPLES_DIR:-}" ]; then
  out=$("$EXAMPLES_DIR/causal_data_inference" "$db" 1 2>&1)
  grep -q "summary: 2672 trades, 1 months, 0 breakout detections" <<<"$out" && ok || bad "causal example on one month: $out"
  "$bin" import "$work/gen" --db "$work/gen.db" > /dev/null
  out=$("$EXAMPLES_DIR/causal_data_inference" "$work/gen.db" 1 2>&1)
  n=$(grep -c "^breakout " <<<"$out")
  grep -q "summary: 5000 trades, 24 months, $n breakout detections" <<<"$out" && [ "$n" -gt 0 ] \
    && ok || bad "causal example on generated data: $(tail -1 <<<"$out")"
fi
"$bin" generate --out "$work/gen2" --symbols 2 --trades 5000 --seed 7 >/dev/null
cmp -s "$work/gen/XBTUSD.csv" "$work/gen2/XBTUSD.csv" && ok || bad "generate is not deterministic"

# Services: effective configuration, layering, redaction, validation.
printf '[gateway]\nmax_streams = 7\nlog_level = "warn"\n' > "$work/tickflow.toml"
out=$(TICKFLOW_GATEWAY_MAX_STREAMS=9 TICKFLOW_GATEWAY_BUS_PASSWORD=hunter2 "$bin" gateway --config "$work/tickflow.toml" \
      --messages-per-frame 64 --print-config 2>&1)
grep -q 'max_streams = "9" .*# env TICKFLOW_GATEWAY_MAX_STREAMS' <<<"$out" && grep -q 'log_level = "warn" .*# file' <<<"$out" \
  && grep -q 'messages_per_frame = "64" .*# flag --messages-per-frame' <<<"$out" && ! grep -q hunter2 <<<"$out" \
  && grep -q 'bus_password = "<redacted>"' <<<"$out" && ok || bad "gateway --print-config: $out"
out=$("$bin" gateway --bus nats://gw:hunter3@127.0.0.1:4222 --print-config 2>&1)
grep -q 'bus = "nats://gw:\*\*\*@127.0.0.1:4222"' <<<"$out" && ! grep -q hunter3 <<<"$out" && ok || bad "password in --bus printed: $out"
out=$("$bin" symdb --env cluster --print-config); grep -q 'listen = "0.0.0.0:50051" .*# default (cluster)' <<<"$out" && ok || bad "symdb --print-config: $out"
expect_fail "bad config value" "gateway.max_streams: 'lots' (from env TICKFLOW_GATEWAY_MAX_STREAMS) is not a positive integer" \
  env TICKFLOW_GATEWAY_MAX_STREAMS=lots "$bin" gateway --print-config
expect_fail "bad listen flag" "symdb.listen: 'nowhere' (from flag --listen) is not HOST:PORT" "$bin" symdb --listen nowhere --db "$db"

# Times past 2262-04-11 do not wrap into another date; a range without data and a
# stream that fails are errors of the backtest, never a report over part of the data.
expect_fail "--from past 2262" "outside what tickflow represents" "$bin" trades XBTUSD --from 3000-01-01 --db "$db"
expect_fail "--to past 2262" "outside what tickflow represents" "$bin" bars XBTUSD --res 1d --to 9999-12-31 --db "$db"
expect_fail "--from before 1677" "outside what tickflow represents" "$bin" replay XBTUSD --from 1000-01-01 --to 1500-01-01 --db "$db"
expect_fail "backtest on an empty range" "no trades of XBTUSD in [2030-01-01T00:00:00Z, 2031-01-01T00:00:00Z)" \
  "$bin" backtest --symbol XBTUSD --from 2030-01-01 --to 2031-01-01 --db "$db"
# Backtest inputs: each error names the thing and the value (and the file and line).
# Usage errors: exit 2, one "tickflow: error:" line naming the command, the way to --help.
usage_error() {  # usage_error "description" "message part" args...
  local what="$1" part="$2"; shift 2
  local out; out=$("$bin" "$@" 2>&1); local rc=$?
  if [ $rc -ne 2 ]; then bad "$what: exit $rc, not 2: $out"; return; fi
  if ! grep -qF -- "tickflow: error: $part" <<<"$out"; then bad "$what: message lacks 'tickflow: error: $part': $out"; return; fi
  ok
}
usage_error "mistyped command" "unknown command 'replya' (did you mean 'replay'?)" replya XBTUSD
usage_error "mistyped nested command" "unknown command 'db inti' (did you mean 'init'?)" db inti
usage_error "replay without symbols" "replay: SYMBOL... (names or globs such as '*USD') or --all is required" replay --db "$db"

# Globs and --all: a Kraken-shaped store of 30 markets with quarterly updates.
"$bin" generate --out "$work/ks" --symbols 30 --total 60000 --years 10 --quarters 1 --updates "$work/ksq" > "$work/ks.out" \
  && ok || bad "generate --total: $(cat "$work/ks.out")"
grep -q "market sizes: largest" "$work/ks.out" && ok || bad "generate --total reports the market sizes"
"$bin" import "$work/ks" --db "$work/ks.db" > /dev/null && "$bin" import "$work/ksq/2023Q4" --db "$work/ks.db" > /dev/null \
  && ok || bad "import of the Kraken-shaped history and its update"
out=$("$bin" replay --all --db "$work/ks.db" 2>&1)
grep -q "replayed trades of 30 markets (" <<<"$out" && grep -q "client received 60,000, missing 0" <<<"$out" \
  && ok || bad "replay --all: $out"
out=$("$bin" replay '*EUR' --db "$work/ks.db" 2>&1)
grep -q "replayed trades of ETHEUR, XBTEUR:" <<<"$out" && ok || bad "replay '*EUR': $out"
out=$("$bin" replay 'XBT*' XBTUSD --db "$work/ks.db" 2>&1)
grep -q "replayed trades of XBTEUR, XBTUSD:" <<<"$out" && ok || bad "a glob and a name it matches: $out"
expect_fail "a glob matching nothing" "symbol pattern '*XYZ' matches none of the 30 symbols" "$bin" replay '*XYZ' --db "$work/ks.db"
out=$("$bin" trades 'ETH*' --db "$work/ks.db" --format csv 2>&1 | head -1)
[ -n "$out" ] && ok || bad "trades with a glob: $out"
"$bin" trades --all --db "$work/ks.db" --format csv > "$work/all.csv" 2>&1
"$bin" trades '*' --db "$work/ks.db" --format csv > "$work/star.csv" 2>&1
cmp -s "$work/all.csv" "$work/star.csv" && [ "$(wc -l < "$work/all.csv")" -eq 60001 ] && ok ||
  bad "trades --all: $(wc -l < "$work/all.csv") lines, $(head -2 "$work/all.csv")"
usage_error "trades without symbols" "trades: SYMBOL... (names or globs such as '*USD') or --all is required" trades --db "$db"
out=$("$bin" backtest --strategy sma-cross --symbol 'SYN01*' --db "$work/ks.db" --json "$work/ks-bt.json" 2>&1)
grep -q "backtest sma-cross on 8 markets (SYN012USD, SYN013USD, SYN014USD, ...)" <<<"$out" && ok || bad "backtest with a glob: $out"
python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['config']['symbols']; assert sorted(s) == ['SYN0%dUSD' % i for i in range(12, 20)], s" \
  "$work/ks-bt.json" && ok || bad "the backtest's JSON lists the symbols a glob named"
expect_fail "generate --quarters without --updates" "--quarters needs --updates DIR" "$bin" generate --out "$work/x" --quarters 1
usage_error "unknown command" "unknown command 'frobnicate'" frobnicate
usage_error "missing argument" "import: PATH is required" import
usage_error "flag without its value" "trades: --limit" trades XBTUSD --limit
"$bin" --version | grep -q "^tickflow " && ok || bad "--version"
"$bin" replay --help > /dev/null && ok || bad "replay --help exits 0"
expect_fail "unknown strategy parameter" "unknown parameter 'fsat' for strategy sma-cross (it takes: fast, slow, fraction)" \
  "$bin" backtest --strategy sma-cross --param fsat=5 --symbol XBTUSD --db "$db"
expect_fail "parameter of the wrong type" "parameter fast of sma-cross: '2.5' is not an integer" \
  "$bin" backtest --strategy sma-cross --param fast=2.5 --symbol XBTUSD --db "$db"
expect_fail "parameters that contradict" "fast (40) must be less than slow (30)" \
  "$bin" backtest --strategy sma-cross --param fast=40 --symbol XBTUSD --db "$db"
printf '2020-01-01,0,0.16,0.26\n2020-01-01,50000,0.14,lots\n' > "$work/fees.csv"
expect_fail "fee file with a bad line" "fees.csv:2: taker_percent 'lots'" \
  "$bin" backtest --symbol XBTUSD --fees "$work/fees.csv" --db "$db"
printf '10\n12.5\nsoon\n' > "$work/latency.txt"
expect_fail "latency file with a bad line" "latency.txt:3: 'soon' is not a latency in milliseconds" \
  "$bin" backtest --symbol XBTUSD --latency-file "$work/latency.txt" --db "$db"
expect_fail "bad --cash" "--cash EUR:lots: 'lots' is not a decimal number" "$bin" backtest --symbol XBTUSD --cash EUR:lots --db "$db"
expect_fail "latency model without latency" "latency needs --latency" "$bin" backtest --symbol XBTUSD --model latency --db "$db"
expect_fail "a currency nothing values" "no pairs in the store value USD, XBT in EUR" "$bin" backtest --symbol XBTUSD --base EUR --db "$db"
out=$("$bin" backtest --strategy sma-cross --res 1m --param fast=5 --param slow=20 --symbol XBTUSD --latency 20 \
  --fills "$work/fills.csv" --trips "$work/trips.csv" --orders "$work/orders.csv" --json "$work/bt.json" --db "$db" 2>&1) \
  && grep -q "^  latency " <<<"$out" && grep -q "^  buy and hold" <<<"$out" && grep -q "^  band " <<<"$out" \
  && head -1 "$work/fills.csv" | grep -qx "time,model,symbol,order_id,side,price,quantity,fee,fee_currency,liquidity,realized_pnl" \
  && grep -q ",latency,XBTUSD," "$work/fills.csv" && [ "$(wc -l < "$work/trips.csv")" -gt 1 ] \
  && /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['config']['parameters']=={'fast':'5','slow':'20','fraction':'0.95'}; assert len(d['models'])==3" "$work/bt.json" \
  && ok || bad "backtest outputs: $out"
# Research: a sweep's configuration equals its own backtest; bad grids, ranges and folds are named.
"$bin" sweep --strategy sma-cross --symbol XBTUSD --res 1m --grid fast=3,5 --grid slow=20,40 --partitions 4 --json "$work/sweep.json" --db "$db" > "$work/sweep.txt" 2>&1 \
  && "$bin" backtest --strategy sma-cross --res 1m --param fast=5 --param slow=40 --symbol XBTUSD --json "$work/one.json" --db "$db" > /dev/null 2>&1 \
  && /usr/bin/python3 -c "
import json, sys
sweep = json.load(open(sys.argv[1])); one = json.load(open(sys.argv[2]))['models']['conservative']
trial = [t for t in sweep['trials'] if t['label'] == 'fast=5 slow=40'][0]['metrics']
assert all(trial[k] == one[k] for k in trial), [(k, trial[k], one[k]) for k in trial if trial[k] != one[k]]
assert 0 <= sweep['pbo']['probability_of_backtest_overfitting'] <= 1 and sweep['deflated_sharpe']['trials'] == 4
" "$work/sweep.json" "$work/one.json" && ok || bad "sweep vs backtest: $(cat "$work/sweep.txt")"
out=$("$bin" audit --strategy breakout --symbol XBTUSD --res 1h --prefixes 3 --db "$db" 2>&1) && grep -q "look-ahead    none found" <<<"$out" \
  && grep -q "identical decisions, fills and metrics" <<<"$out" && ok || bad "audit of breakout: $out"
expect_fail "sweep without a grid" "empty grid" "$bin" sweep --symbol XBTUSD --db "$db"
"$bin" import "$work/gen" --db "$work/gen-sweep.db" > /dev/null  # two years of generated trades
expect_fail "sweep too large to hold" "100 configurations x ~1051202 equity points (one per bar period) exceed 50 million" \
  "$bin" sweep --symbol XBTUSD --res 1m --random 100 --range fast=2:50 --range slow=51:400 --db "$work/gen-sweep.db"
expect_fail "sweep range upside down" "--range fast: the low end 50 is above the high end 5" \
  "$bin" sweep --symbol XBTUSD --random 10 --range fast=50:5 --db "$db"
expect_fail "sweep of an unknown parameter" "--grid speed: strategy sma-cross has no such parameter (it takes: fast, slow, fraction)" \
  "$bin" sweep --symbol XBTUSD --grid speed=1,2 --db "$db"
expect_fail "walk-forward with too few observations" "fewer observations than the folds need" \
  "$bin" walkforward --symbol XBTUSD --grid fast=3,5 --grid slow=20,40 --in-sample 30m --out-of-sample 20m --db "$db"
expect_fail "walk-forward window" "--in-sample 'soon': expected a positive whole number of w, d, h or m" \
  "$bin" walkforward --symbol XBTUSD --grid fast=3,5 --in-sample soon --db "$db"
cp "$db" "$work/damaged.db"
sqlite3 "$work/damaged.db" "UPDATE trade_blocks SET price = substr(price, 1, 3)"
expect_fail "backtest on a failed stream" "ended failed after DataError data unavailable" \
  "$bin" backtest --symbol XBTUSD --db "$work/damaged.db"
expect_fail "backtest names the cause" "has damaged columns" "$bin" backtest --symbol XBTUSD --db "$work/damaged.db"
out=$("$bin" replay XBTUSD --db "$work/damaged.db" 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q "gateway reported data unavailable on stream 1 (the gateway: stream 1 of client 1 failed: " <<<"$out" && ok \
  || bad "replay of a damaged store: rc=$rc $out"
# A symlink loop in an import folder is an error naming it, not an abort.
mkdir -p "$work/loop"; ln -s "$work/loop/LOOPUSD.csv" "$work/loop/LOOPUSD.csv"
expect_fail "symlink loop" "LOOPUSD.csv: Too many levels of symbolic links" "$bin" import "$work/loop" --db "$work/loop.db"
# Two imports at once: the second is refused naming the first (its lock held by a sleeping holder).
python3 - "$db-writer.lock" <<'PY' &
import fcntl, sys, time
f = open(sys.argv[1], "w"); fcntl.flock(f, fcntl.LOCK_EX); f.write("the test's holder"); f.flush(); time.sleep(5)
PY
lpid=$!; sleep 0.5
expect_fail "second writer" "another writer is importing into $db: the test's holder" "$bin" import "$work/in" --db "$db"
kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null

# Read commands never write: an empty file is not turned into a store, and a writer's
# open transaction does not block them.
: > "$work/empty.db"
expect_fail "empty file as a store" "is not a tickflow store" "$bin" symbols --db "$work/empty.db"
[ ! -s "$work/empty.db" ] && ok || bad "a read command wrote into $work/empty.db"
python3 - "$db" <<'PY' &
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN IMMEDIATE"); con.execute("INSERT INTO tickflow_meta VALUES('held', 'by the test')"); time.sleep(15)
PY
wpid=$!; sleep 0.5
out=$(timeout 8 "$bin" symbols --db "$db" --format csv 2>&1) && grep -q "^1,XBTUSD" <<<"$out" && ok \
  || bad "symbols while a writer holds a transaction: $out"
kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
# Arguments out of range are refused, naming the parameter.
expect_fail "--limit -1" "--limit" "$bin" trades XBTUSD --limit -1 --db "$db"
expect_fail "--speed 1e-30" "--speed '1e-30' is slower than the slowest pace, 0.001" "$bin" replay XBTUSD --speed 1e-30 --db "$db"
expect_fail "a symbol twice" "symbol XBTUSD is given twice" "$bin" replay XBTUSD XBTUSD --db "$db"
expect_fail "a symbol twice (trades)" "symbol XBTUSD is given twice" "$bin" trades XBTUSD XBTUSD --db "$db"
expect_fail "--db in a missing folder" "there is no folder $work/nowhere" "$bin" import "$work/in" --db "$work/nowhere/x.db"
[ ! -e "$work/nowhere" ] && ok || bad "import created the folder of --db"
expect_fail "ClickHouse's system database" "is ClickHouse's own database" "$bin" symbols --db clickhouse://127.0.0.1:1/system
mkdir -p "$work/names"; echo "1561939203,1,1" > "$work/names/..csv"
expect_fail "'.' as a symbol" "a symbol starts with a letter or digit" "$bin" import "$work/names" --db "$work/names.db"
rm "$work/names/..csv"; echo "1561939203,1,1" > "$work/names/--help.csv"
expect_fail "'--help' as a symbol" "a symbol starts with a letter or digit" "$bin" import "$work/names" --db "$work/names.db"
# Nothing importable: every skipped entry is named and the exit is non-zero.
mkdir -p "$work/nested/2019" "$work/nested/XBTUSD.csv"; cp "$src/tests/data/kraken/XBTUSD.csv" "$work/nested/2019/"
out=$("$bin" import "$work/nested" --db "$work/nested.db" 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q "skipped  $work/nested/2019/ (a folder: only the top level is read" <<<"$out" \
  && grep -q "skipped  $work/nested/XBTUSD.csv (a folder named like a CSV file" <<<"$out" \
  && grep -q "nothing imported: $work/nested holds no SYMBOL.csv file at its top level" <<<"$out" && ok \
  || bad "import of subfolders only: rc=$rc $out"
python3 -c "import zipfile,sys; zipfile.ZipFile(sys.argv[1], 'w').close()" "$work/empty.zip"
expect_fail "an empty zip" "nothing imported: $work/empty.zip holds no files" "$bin" import "$work/empty.zip" --db "$work/nested.db"
# A failed import says where it stopped and what was not run; the --skip-bad-rows hint only for bad rows.
mkdir -p "$work/stop"; echo "1561939203,1,1" > "$work/stop/AAAUSD.csv"; echo "16725225600,1,1" > "$work/stop/BBBUSD.csv"
echo "1561939203,1,1" > "$work/stop/CCCUSD.csv"
out=$("$bin" import "$work/stop" --db "$work/stop.db" 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q "not run  $work/stop/CCCUSD.csv" <<<"$out" \
  && grep -q "timestamp '16725225600' is too large" <<<"$out" \
  && grep -q "the import stopped at $work/stop/BBBUSD.csv: 1 file(s) imported before it are kept, 1 after it were not run; fix the rows shown above, or rerun with --skip-bad-rows" <<<"$out" \
  && ok || bad "a stopped import: rc=$rc $out"
python3 - "$work/forged.zip" <<'PY'
import struct, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("XBTUSD.csv", "1561939203,1,1\n" * 1000)
b = bytearray(open(sys.argv[1], "rb").read())
for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
    i = b.find(sig)
    b[i + off:i + off + 4] = struct.pack("<I", 0xFFFFFFF0)
open(sys.argv[1], "wb").write(b)
PY
out=$("$bin" import "$work/forged.zip" --db "$work/forged.db" 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q "XBTUSD.csv" <<<"$out" && ! grep -q -- "--skip-bad-rows" <<<"$out" && ok \
  || bad "a forged zip entry: rc=$rc $out"

# A bar volume beyond a Decimal (60 bits) is exact in the store, in bars and on the wire.
mkdir -p "$work/wide"; printf '1561939203,1,99999999\n1561939204,1,0.000000000000001\n' > "$work/wide/XBTUSD.csv"
"$bin" import "$work/wide" --db "$work/wide.db" > /dev/null 2>&1 || bad "import of a wide-volume minute"
out=$("$bin" bars XBTUSD --res 1d --db "$work/wide.db" --format csv 2>&1)
grep -q ",99999999.000000000000001,2$" <<<"$out" && ok || bad "1d bar of a wide volume: $out"
out=$("$bin" replay XBTUSD --bars 1h --db "$work/wide.db" --print csv 2>/dev/null)
grep -q "^XBTUSD,2019-07-01T00:00:00Z,1,1,1,1,99999999.000000000000001,2$" <<<"$out" && ok || bad "replayed wide bar: $out"

# Shell completion from the command tree, and the man page built beside the program.
"$bin" completion bash > "$work/completion.bash" && ok || bad "completion bash"
out=$(bash -c 'source "$1"; COMP_WORDS=(tickflow tra); COMP_CWORD=1; _tickflow; echo "${COMPREPLY[*]}";
  COMP_WORDS=(tickflow trades XBTUSD --f); COMP_CWORD=3; _tickflow; echo "${COMPREPLY[*]}";
  COMP_WORDS=(tickflow db ""); COMP_CWORD=2; _tickflow; echo "${COMPREPLY[*]}"' sh "$work/completion.bash")
[ "$out" = $'trades\n--from --format\ninit --help -h' ] && ok || bad "bash completion: $out"
"$bin" completion zsh | head -1 | grep -q "bashcompinit" && ok || bad "completion zsh"
man_page="$(dirname "$bin")/share/tickflow.1"
grep -q '^\.SH NAME' "$man_page" 2>/dev/null && grep -q "tickflow $("$bin" --version | cut -d' ' -f2)" "$man_page" && ok \
  || bad "no man page of this version at $man_page"

# Times as integer nanoseconds since the epoch (a string in JSON: beyond a double's 2^53).
out=$("$bin" trades XBTUSD --db "$db" --ts ns --format csv --limit 1 2>&1)
[ "$(tail -1 <<<"$out")" = "1561939203172000000,10749.4,0.004" ] && ok || bad "trades --ts ns: $out"
out=$("$bin" bars XBTUSD --res 1h --db "$db" --ts ns --format json 2>&1)
grep -q '^{"time":"1561939200000000000","open":"10749.4",' <<<"$out" && ok || bad "bars --ts ns: $out"
expect_fail "--ts ms" "--ts: ms not in {iso,ns}" "$bin" trades XBTUSD --db "$db" --ts ms

# The gateway service: metrics and health, then a graceful stop on SIGTERM.
"$bin" gateway --db "$db" --metrics 127.0.0.1:0 > "$work/gateway.log" 2>&1 &
gpid=$!
for _ in $(seq 100); do grep -q "metrics=" "$work/gateway.log" && break; sleep 0.1; done
mport=$(grep -o 'metrics=127.0.0.1:[0-9]*' "$work/gateway.log" | cut -d: -f2)
scrape() { python3 -c "import urllib.request,sys;print(urllib.request.urlopen('http://127.0.0.1:$mport'+sys.argv[1]).read().decode())" "$1"; }
[ "$(scrape /healthz)" = "ok" ] && ok || bad "gateway /healthz"
metrics=$(scrape /metrics)  # captured first: grep -q on a pipe can break the writer
grep -q "^tickflow_gateway_sessions 0$" <<<"$metrics" && ok || bad "gateway /metrics: $(head -5 <<<"$metrics")"
grep -q '^tickflow_build_info{version="[0-9.]*",component="gateway"} 1$' <<<"$metrics" && grep -q "^process_resident_memory_bytes [0-9]" <<<"$metrics" \
  && grep -q '^tickflow_gateway_request_seconds_bucket{le="+Inf"} 0$' <<<"$metrics" && ok || bad "gateway build info, process and histogram metrics: $(grep -E 'build_info|process_|_bucket' <<<"$metrics" | head -5)"
kill -TERM "$gpid"; wait "$gpid"; rc=$?
[ "$rc" -eq 0 ] && grep -q 'level=info component=gateway msg="stopped"' "$work/gateway.log" && ok || bad "gateway stop rc=$rc: $(cat "$work/gateway.log")"

# Log lines as JSON Lines, and only from the level asked for.
"$bin" gateway --db "$db" --metrics 127.0.0.1:0 --log-format json > "$work/gateway.json" 2>&1 &
gpid=$!
for _ in $(seq 100); do grep -q '"msg":"gateway serving"' "$work/gateway.json" && break; sleep 0.1; done
kill -TERM "$gpid"; wait "$gpid"
python3 -c 'import json,sys; lines=[json.loads(l) for l in open(sys.argv[1])]; assert lines and all(l["component"]=="gateway" and l["level"] in ("info","warn","error") for l in lines), lines; assert any(l["msg"]=="stopped" for l in lines)' "$work/gateway.json" \
  && ok || bad "gateway --log-format json: $(cat "$work/gateway.json")"
"$bin" gateway --db "$db" --metrics 127.0.0.1:0 --log-level warn > "$work/gateway.warn" 2>&1 &
gpid=$!
sleep 1; kill -TERM "$gpid"; wait "$gpid"
grep -q "level=info" "$work/gateway.warn" && bad "--log-level warn printed info lines: $(cat "$work/gateway.warn")" || ok
expect_fail "bad log format" "gateway.log_format: 'xml' (from flag --log-format) is not logfmt or json" \
  "$bin" gateway --print-config --log-format xml

summary cli_test
