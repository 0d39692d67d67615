#!/usr/bin/env bash
# The backtest report in a real browser: headless Chromium renders it, the DOM
# shows the charts were drawn and the trade table is complete, and a
# screenshot is not blank. Also: metrics JSON is valid and deterministic.
#   report_test.sh TICKFLOW_BINARY
set -uo pipefail
bin="$1"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # ok, bad, bounded, wait_bounded, free_port, summary

"$bin" generate --out "$work/data" --symbols 2 --trades 20000 --years 2 --seed 3 > /dev/null || bad "generate"
"$bin" import "$work/data" --db "$work/s.db" > /dev/null || bad "import"
"$bin" backtest --strategy sma-cross --symbol XBTUSD --symbol ETHUSD --db "$work/s.db" \
  --out "$work/report.html" --json "$work/m1.json" > "$work/out.txt" 2>&1 || bad "backtest: $(cat "$work/out.txt")"
"$bin" backtest --strategy sma-cross --symbol XBTUSD --symbol ETHUSD --db "$work/s.db" --json "$work/m2.json" > /dev/null 2>&1
cmp -s "$work/m1.json" "$work/m2.json" && ok || bad "metrics differ between identical runs"
"$bin" backtest --strategy breakout --symbol XBTUSD --db "$work/s.db" --json "$work/m3.json" > /dev/null 2>&1 && ok || bad "breakout backtest"
# Years of 1-minute bars (the chart reduces candles to pixel columns; a spread of them overflowed the stack).
"$bin" generate --out "$work/data1m" --symbols 1 --trades 200000 --years 1 --seed 5 > /dev/null || bad "generate 1m"
"$bin" import "$work/data1m" --db "$work/m.db" > /dev/null || bad "import 1m"
"$bin" backtest --strategy sma-cross --param fast=30 --param slow=240 --res 1m --symbol XBTUSD --db "$work/m.db" \
  --out "$work/report1m.html" > "$work/out1m.txt" 2>&1 || bad "1m backtest: $(cat "$work/out1m.txt")"
out=$("$bin" backtest --strategy nope --symbol XBTUSD --db "$work/s.db" 2>&1); [ $? -ne 0 ] && grep -q "nope" <<<"$out" && ok || bad "bad strategy accepted"

if [ -n "${EXAMPLES_DIR:-}" ]; then
  "$EXAMPLES_DIR/backtest" "$work/s.db" 1 > "$work/example.json" 2>&1 && python3 -c "
import json, sys
m = json.load(open(sys.argv[1]))
assert m['events'] == 20000 and float(m['final_equity']) > 0, m" "$work/example.json" && ok || bad "examples/backtest: $(head -3 "$work/example.json")"
fi

browser() {  # browser PAGE ARGS...
  local page="$1"; shift
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
    --user-data-dir="$work/profile" --window-size=1200,1800 --virtual-time-budget=10000 "$@" "file://$work/$page" 2>/dev/null
}
# The research page of a walk-forward over a sweep.
"$bin" walkforward --strategy sma-cross --symbol XBTUSD --grid fast=3,5,10 --grid slow=30,50,80 --in-sample 180d \
  --out-of-sample 60d --partitions 8 --db "$work/s.db" --out "$work/research.html" > "$work/wf.txt" 2>&1 || bad "walkforward: $(cat "$work/wf.txt")"
browser research.html --dump-dom > "$work/domr.html" || bad "chromium --dump-dom (research) failed"
browser report.html --dump-dom > "$work/dom.html" || bad "chromium --dump-dom failed"
browser report.html --screenshot="$work/shot.png" > /dev/null || bad "chromium --screenshot failed"
browser report1m.html --dump-dom > "$work/dom1m.html" || bad "chromium --dump-dom (1m) failed"
browser report1m.html --screenshot="$work/shot1m.png" > /dev/null || bad "chromium --screenshot (1m) failed"

python3 - "$work" <<'PY' && ok || bad "report checks"
import json, re, struct, sys, zlib
work = sys.argv[1]
doc = json.load(open(work + "/m1.json"))
assert list(doc["models"]) == ["conservative", "optimistic"], list(doc["models"])
assert doc["config"]["strategy"] == "sma-cross" and doc["config"]["parameters"]["slow"] == "30", doc["config"]
m = doc["models"]["conservative"]
for key in ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "win_rate", "trades", "fees_paid", "exposure",
            "profit_factor", "calmar", "final_balances"):
    assert key in m, key
assert isinstance(m["final_equity"], str) and float(m["final_equity"]) > 0, m["final_equity"]
assert "total_return" in doc["benchmark"]["metrics"]
# 1-minute bars: every chart drawn, the candles reduced to at most one per pixel column.
dom1m = open(work + "/dom1m.html").read()
assert 'data-ready="yes"' in dom1m, "the 1m report script did not finish"
c1m = re.search(r'class="candles"[^>]*data-drawn="(\d+)"[^>]*data-bars="(\d+)"', dom1m)
assert c1m and 500 < int(c1m.group(1)) <= 1100 and int(c1m.group(2)) > 100000, c1m and c1m.groups()
assert re.search(r'id="equity"[^>]*data-drawn="(\d{3,})"', dom1m), "1m equity curve not drawn"
# The research page: the Sharpe distribution and the stitched equity drawn, the heatmap and folds there.
domr = open(work + "/domr.html").read()
assert 'data-ready="yes"' in domr, "the research page script did not finish"
for chart, least in (("sharpes", 2), ("oos", 100)):
    found = re.search(r'id="%s"[^>]*data-drawn="(\d+)"' % chart, domr)
    assert found and int(found.group(1)) >= least, (chart, found and found.group(1))
assert domr.count("<td style=\"background:rgb(") == 9, "a 3 x 3 heatmap"
for table in ("config", "stats", "heatmap", "folds", "trials"):
    assert 'id="%s"' % table in domr, table
dom = open(work + "/dom.html").read()
assert 'data-ready="yes"' in dom, "the report script did not finish"
candles = [int(x) for x in re.findall(r'class="candles"[^>]*data-drawn="(\d+)"', dom)]
assert len(candles) == 2 and min(candles) > 300, candles       # two symbols, ~730 daily bars each
for chart, least in (("equity", 1000), ("drawdown", 700), ("rolling", 100), ("exposure", 300), ("pnl-hist", 2)):
    found = re.search(r'id="%s"[^>]*data-drawn="(\d+)"' % chart, dom)
    assert found and int(found.group(1)) >= least, (chart, found and found.group(1))
for table in ("metrics", "band", "monthly", "drawdowns", "attribution", "trades", "config"):
    assert 'id="%s"' % table in dom, table
fills = sum(int(x) for x in re.findall(r'data-fills="(\d+)"', dom))
assert fills > 0, "no fills marked"
table = dom[dom.index('id="trades"'):]
rows = table.count("<tr><td>")
assert rows == m["trades"], (rows, m["trades"])

# The screenshots: decode each PNG (8-bit RGB/RGBA, non-interlaced) with the standard library.
def check_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), (depth, ctype)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    colors, ink, total = set(), 0, 0
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        if y % 3: continue
        for x in range(0, width, 3):
            px = tuple(line[x * bpp:x * bpp + 3])
            colors.add(px); total += 1
            ink += px != (255, 255, 255)
    assert len(colors) > 30, "too few colours: %d" % len(colors)
    assert ink / total > 0.03, "the page is nearly blank: %.3f" % (ink / total)
    red = any(r > 180 and g < 90 and b < 80 for r, g, b in colors)
    green = any(g > 120 and r < 60 and b < 110 for r, g, b in colors)
    assert red and green, "no red/green candles in the screenshot"
    return colors, ink, total
colors, ink, total = check_png(work + "/shot.png")
check_png(work + "/shot1m.png")
print("report: %d+%d candles, %d fill markers, %d trade rows, %d colours, %.1f %% ink" % (candles[0], candles[1], fills, rows, len(colors), 100 * ink / total))
PY
summary report_test
