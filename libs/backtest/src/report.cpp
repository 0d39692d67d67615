// The HTML tearsheet: one self-contained file (no network). uPlot (npm, MIT,
// third_party/uplot) is embedded at build time; the run's data goes in as
// JSON. Candles are reduced to one OHLC per pixel column of the visible range
// on every draw, so years of 1-minute bars render and stay zoomable; long
// curves are downsampled in C++ keeping each bucket's extremes.
#include <cmath>
#include <cstdio>
#include <string>

#include "tickflow/backtest/outputs.hpp"
#include "tickflow/core/text.hpp"
#include "uplot.inc"  // kUplotJs, kUplotCss, kUplotLicense, kUplotVersion

namespace tickflow::backtest {
namespace {


constexpr std::size_t kCurvePoints = 8000;  // per drawn curve
constexpr std::size_t kMaxTripRows = 5000;

std::string Num(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}
std::string Secs(UnixNanos t) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(t.ns / kNanosPerSecond),
                static_cast<long long>((t.ns % kNanosPerSecond) / 1000000));
  return buf;
}
std::string Pct(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, "%.2f %%", *v * 100);
  return b;
}
std::string Fix(const std::optional<double>& v, int d) {
  if (!v || !std::isfinite(*v)) return "n/a";
  char b[48];
  std::snprintf(b, sizeof b, "%.*f", d, *v);
  return b;
}
std::string Date(UnixNanos t) {
  return t == UnixNanos::Max() ? std::string("not yet") : FormatIso8601(t).substr(0, 10);
}
// [[t, v], ...] of a curve, downsampled.
std::string Curve(const std::vector<EquityPoint>& pts) {
  const std::vector<EquityPoint> d = Downsample(pts, kCurvePoints);
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? ",[" : "[") + Secs(d[i].time) + "," + Num(d[i].equity.ToDouble()) + "]";
  return s + "]";
}
std::string Points(const std::vector<Tearsheet::Point>& pts) {
  const std::size_t step = std::max<std::size_t>(1, pts.size() / kCurvePoints);
  std::string s = "[";
  for (std::size_t i = 0; i < pts.size(); i += step) {
    s += (s.size() > 1 ? ",[" : "[") + Secs(pts[i].time) + "," + Num(pts[i].value) + "]";
  }
  return s + "]";
}
// A background for a return: green up, red down, stronger with size (saturating at 20 %).
std::string Heat(double r) {
  const double a = std::min(1.0, std::abs(r) / 0.2) * 0.75 + 0.08;
  char b[64];
  std::snprintf(b, sizeof b, r >= 0 ? "rgba(26,152,80,%.2f)" : "rgba(215,48,39,%.2f)", a);
  return b;
}

constexpr const char* kScript = R"js(
const W = 1100, DPR = window.devicePixelRatio || 1;
const colors = ['#2166ac', '#d6604d', '#4d9221', '#8073ac', '#e08214'];
// Index range of xs within the x scale (binary search).
function visible(u, xs) {
  const lo = u.scales.x.min, hi = u.scales.x.max;
  let a = 0, b = xs.length;
  while (a < b) { const m = (a + b) >> 1; if (xs[m] < lo) a = m + 1; else b = m; }
  let c = a, d = xs.length;
  while (c < d) { const m = (c + d) >> 1; if (xs[m] <= hi) c = m + 1; else d = m; }
  return [a, c - 1];
}
function counted(el) {
  return u => {
    let n = 0;
    for (let s = 1; s < u.data.length; s++) {
      const [i0, i1] = visible(u, u.data[0]);
      for (let i = i0; i <= i1; i++) if (u.data[s][i] != null) n++;
    }
    el.dataset.drawn = n;
  };
}
function columns(pairs) {  // [[x, y], ...] -> [xs, ys]
  return [pairs.map(p => p[0]), pairs.map(p => p[1])];
}
// Several [[t, v]] series on one time axis: union of the times, nulls elsewhere.
function align(list) {
  const xs = [...new Set(list.flatMap(s => s.map(p => p[0])))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  return [xs, ...list.map(s => { const ys = new Array(xs.length).fill(null); for (const [t, v] of s) ys[at.get(t)] = v; return ys; })];
}
function chart(id, height, series, data, extra) {
  const el = document.getElementById(id);
  const opts = Object.assign({width: W, height, series: [{}, ...series], cursor: {drag: {x: true, y: false}},
                              hooks: {draw: [counted(el)]}, scales: {x: {time: true}}, axes: [{}, {size: 80}]},
                             extra || {});
  return new uPlot(opts, data, el);
}
// Candles reduced to one OHLC per pixel column of what is visible; fills to one marker per column and side.
function candles(el, s) {
  const draw = u => {
    const ctx = u.ctx, t = s.t, [i0, i1] = visible(u, t), cols = new Map();
    for (let i = i0; i <= i1; i++) {
      const px = Math.round(u.valToPos(t[i], 'x', true)), c = cols.get(px);
      if (!c) cols.set(px, [s.o[i], s.h[i], s.l[i], s.c[i]]);
      else { if (s.h[i] > c[1]) c[1] = s.h[i]; if (s.l[i] < c[2]) c[2] = s.l[i]; c[3] = s.c[i]; }
    }
    const bw = Math.max(1, Math.min(12 * DPR, u.bbox.width / Math.max(1, cols.size) * 0.7));
    ctx.save(); ctx.beginPath(); ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height); ctx.clip();
    for (const [px, [o, h, l, c]] of cols) {
      ctx.fillStyle = c >= o ? '#1a9850' : '#d73027';
      const yo = u.valToPos(o, 'y', true), yc = u.valToPos(c, 'y', true);
      const yh = u.valToPos(h, 'y', true), yl = u.valToPos(l, 'y', true);
      ctx.fillRect(px - DPR / 2, yh, DPR, Math.max(DPR, yl - yh));
      ctx.fillRect(px - bw / 2, Math.min(yo, yc), bw, Math.max(DPR, Math.abs(yo - yc)));
    }
    const marks = new Map();
    for (const [ft, p, side] of s.fills) {
      if (ft < u.scales.x.min || ft > u.scales.x.max) continue;
      marks.set(Math.round(u.valToPos(ft, 'x', true)) + side, [ft, p, side]);
    }
    for (const [ft, p, side] of marks.values()) {
      const x = u.valToPos(ft, 'x', true), y = u.valToPos(p, 'y', true), d = side === 'buy' ? 1 : -1;
      ctx.fillStyle = side === 'buy' ? '#2166ac' : '#762a83';
      ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x - 5 * DPR, y + 10 * d * DPR); ctx.lineTo(x + 5 * DPR, y + 10 * d * DPR); ctx.fill();
    }
    ctx.fillStyle = '#f39c12';
    for (const [st, p] of s.signals) {
      if (st < u.scales.x.min || st > u.scales.x.max) continue;
      ctx.beginPath(); ctx.arc(u.valToPos(st, 'x', true), u.valToPos(p, 'y', true), 2.5 * DPR, 0, 7); ctx.fill();
    }
    ctx.restore();
    el.dataset.drawn = cols.size; el.dataset.bars = t.length; el.dataset.fills = s.fills.length;
  };
  const hidden = {stroke: 'transparent', points: {show: false}};
  return new uPlot({width: W, height: 420, title: s.name + ' (' + s.t.length + ' bars; drag to zoom, double-click to reset)',
                    series: [{}, Object.assign({label: 'high'}, hidden), Object.assign({label: 'low'}, hidden)],
                    scales: {x: {time: true}}, axes: [{}, {size: 80}], cursor: {drag: {x: true, y: false}}, legend: {show: false},
                    hooks: {draw: [draw]}}, [s.t, s.h, s.l], el);
}
const charts = document.getElementById('charts');
DATA.symbols.forEach((s, i) => {
  const el = document.createElement('div'); el.className = 'candles'; el.id = 'candles-' + i;
  charts.append(el); candles(el, s);
});
const eqSeries = DATA.models.map((m, i) => ({label: m.name, stroke: colors[i % colors.length], width: 1.5}));
eqSeries.push({label: 'buy and hold', stroke: '#888', dash: [6, 4], width: 1.5});
chart('equity', 320, eqSeries, align([...DATA.models.map(m => m.equity), DATA.benchmark]));
const dd = DATA.models.map(m => { let peak = -Infinity; return m.equity.map(([t, e]) => { peak = Math.max(peak, e); return [t, peak > 0 ? (e - peak) / peak * 100 : 0]; }); });
chart('drawdown', 220, DATA.models.map((m, i) => ({label: m.name + ' %', stroke: colors[i % colors.length], fill: i ? null : 'rgba(215,48,39,0.15)'})), align(dd));
chart('rolling', 240, [{label: 'rolling Sharpe', stroke: '#2166ac', scale: 's'}, {label: 'rolling volatility %', stroke: '#d6604d', scale: 'v'}],
      align([DATA.rolling.sharpe, DATA.rolling.vol.map(([t, v]) => [t, v * 100])]),
      {axes: [{}, {scale: 's', size: 80}, {scale: 'v', side: 1, size: 60, grid: {show: false}}], scales: {x: {time: true}, s: {}, v: {}}});
chart('exposure', 180, [{label: 'exposure %', stroke: '#4d9221', fill: 'rgba(77,146,33,0.15)'}], columns(DATA.exposure.map(([t, v]) => [t, v * 100])));
if (DATA.hist.counts.length) {
  const centers = DATA.hist.counts.map((_, i) => (DATA.hist.edges[i] + DATA.hist.edges[i + 1]) / 2);
  chart('pnl-hist', 220, [{label: 'round trips by PnL (' + DATA.base + ')', stroke: '#8073ac', fill: 'rgba(128,115,172,0.5)',
                           paths: uPlot.paths.bars({size: [0.9, 60]}), points: {show: false}}],
        [centers, DATA.hist.counts], {scales: {x: {time: false}}});
}
document.body.dataset.ready = 'yes';
)js";

}  // namespace

std::string ChartLibraryHtml() {
  return "<!-- Charts: " + EscapeHtml(kUplotVersion) + "\n" + EscapeHtml(kUplotLicense) + "-->\n<style>" + kUplotCss +
         "</style>\n<script>\n" + kUplotJs + "\n</script>\n";
}

std::string HtmlReport(const Results& r, const RunConfig& config, const SymbolNames& names) {
  const ModelRun& main = r.main();
  const Tearsheet ts = Analyze(main);
  const std::string base = config.base_currency;
  // The data the charts draw.
  std::string data = "{\"base\":" + JsonString(base) + ",\"symbols\":[";
  bool first_symbol = true;
  for (const auto& [symbol, bars] : r.bars) {
    data += std::string(first_symbol ? "" : ",") + "{\"name\":" + JsonString(NameOf(names, symbol));
    first_symbol = false;
    const auto column = [&](const char* key, auto get) {
      data += std::string(",\"") + key + "\":[";
      for (std::size_t i = 0; i < bars.size(); ++i) data += (i ? "," : "") + get(bars[i]);
      data += "]";
    };
    column("t", [](const Bar& b) { return Secs(b.time); });
    column("o", [](const Bar& b) { return Num(b.open.ToDouble()); });
    column("h", [](const Bar& b) { return Num(b.high.ToDouble()); });
    column("l", [](const Bar& b) { return Num(b.low.ToDouble()); });
    column("c", [](const Bar& b) { return Num(b.close.ToDouble()); });
    // One marker per order: at its first fill, at its volume-weighted price.
    struct Marker {
      UnixNanos time;
      Amount notional, quantity;
      Side side;
    };
    std::map<OrderId, Marker> markers;
    for (const Fill& f : main.fills) {
      if (f.symbol != symbol) continue;
      auto [it, fresh] = markers.try_emplace(f.order, Marker{f.time, Amount(), Amount(), f.side});
      Amount notional;
      (void)Amount::Mul(f.quantity, f.price, &notional);
      (void)Amount::Add(it->second.notional, notional, &it->second.notional);
      (void)Amount::Add(it->second.quantity, f.quantity, &it->second.quantity);
    }
    data += ",\"fills\":[";
    bool first = true;
    for (const auto& [id, m] : markers) {
      Amount vwap;
      (void)Amount::Div(m.notional, m.quantity, 8, Rounding::kHalfEven, &vwap);
      data += (first ? "" : ",") + std::string("[") + Secs(m.time) + "," + Num(vwap.ToDouble()) + ",\"" +
              std::string(ToString(m.side)) + "\"]";
      first = false;
    }
    data += "],\"signals\":[";
    first = true;
    for (const Signal& s : main.signals) {
      if (s.symbol != symbol) continue;
      data += (first ? "" : ",") + std::string("[") + Secs(s.time) + "," + Num(s.price.ToDouble()) + "]";
      first = false;
    }
    data += "]}";
  }
  data += "],\"models\":[";
  for (std::size_t i = 0; i < r.runs.size(); ++i) {
    data += (i ? "," : "") + std::string("{\"name\":") + JsonString(r.runs[i].model.name) +
            ",\"equity\":" + Curve(r.runs[i].equity) + "}";
  }
  data += "],\"benchmark\":" + Curve(r.benchmark);
  data += ",\"rolling\":{\"sharpe\":" + Points(ts.rolling_sharpe) + ",\"vol\":" + Points(ts.rolling_volatility) + "}";
  data += ",\"exposure\":" + Points(ts.exposure) + ",\"hist\":{\"edges\":[";
  for (std::size_t i = 0; i < ts.pnl_edges.size(); ++i) data += (i ? "," : "") + Num(ts.pnl_edges[i]);
  data += "],\"counts\":[";
  for (std::size_t i = 0; i < ts.pnl_counts.size(); ++i) data += (i ? "," : "") + std::to_string(ts.pnl_counts[i]);
  data += "]}}";

  std::string title = "tickflow backtest: " + config.strategy + " on ";
  for (std::size_t i = 0; i < config.symbols.size(); ++i) title += (i ? ", " : "") + config.symbols[i];
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + EscapeHtml(title) +
                     "</title>\n" + ChartLibraryHtml() +
                     "<style>body{font-family:sans-serif;margin:24px;color:#222;max-width:1140px}table{border-collapse:"
                     "collapse;font-size:13px;margin-bottom:16px}td,th{border:1px solid #ddd;padding:3px 8px;"
                     "text-align:right}th{background:#f4f4f4}.kpi td:first-child{text-align:left}.candles,.chart{margin:"
                     "6px 0 18px}h2{margin-top:28px}.note{color:#666;font-size:12px}</style></head>\n<body>\n<h1>" +
                     EscapeHtml(title) + "</h1>\n";
  // The execution models side by side, their band, and buy and hold.
  html += "<h2>Results by execution model</h2>\n<table class=\"kpi\" id=\"metrics\"><tr><th>metric</th>";
  for (const ModelRun& run : r.runs) html += "<th>" + EscapeHtml(run.model.name) + "</th>";
  html += "<th>buy and hold</th></tr>\n";
  const auto row = [&](const char* label, auto value) {
    html += "<tr><td>" + std::string(label) + "</td>";
    for (const ModelRun& run : r.runs) html += "<td>" + EscapeHtml(value(run.metrics)) + "</td>";
    html += "<td>" + EscapeHtml(value(r.benchmark_metrics)) + "</td></tr>\n";
  };
  const auto money = [](const std::optional<Amount>& a) { return a ? a->ToFixed(2) : std::string("n/a"); };
  row("Period", [](const Metrics& m) { return Date(m.first) + " .. " + Date(m.last); });
  row("Initial equity", [&](const Metrics& m) { return m.initial_equity.ToFixed(2) + " " + base; });
  row("Final equity", [&](const Metrics& m) { return m.final_equity.ToFixed(2) + " " + base; });
  row("Total return", [](const Metrics& m) { return Pct(m.total_return); });
  row("CAGR", [](const Metrics& m) { return Pct(m.cagr); });
  row("Sharpe", [](const Metrics& m) { return Fix(m.sharpe, 2); });
  row("Sortino", [](const Metrics& m) { return Fix(m.sortino, 2); });
  row("Volatility", [](const Metrics& m) { return Pct(m.volatility); });
  row("Max drawdown", [](const Metrics& m) { return Pct(m.max_drawdown); });
  row("Calmar", [](const Metrics& m) { return Fix(m.calmar, 2); });
  row("Win rate", [](const Metrics& m) { return Pct(m.win_rate); });
  row("Profit factor", [](const Metrics& m) { return Fix(m.profit_factor, 2); });
  row("Expectancy / trip", [&](const Metrics& m) { return money(m.expectancy); });
  row("Average win", [&](const Metrics& m) { return money(m.average_win); });
  row("Average loss", [&](const Metrics& m) { return money(m.average_loss); });
  row("Round trips", [](const Metrics& m) { return std::to_string(m.round_trips); });
  row("Fills", [](const Metrics& m) { return std::to_string(m.fills); });
  row("Orders (rejected)", [](const Metrics& m) { return std::to_string(m.orders) + " (" + std::to_string(m.rejected) + ")"; });
  row("Fees paid", [&](const Metrics& m) { return m.fees_paid.ToFixed(2) + " " + base; });
  row("Exposure", [](const Metrics& m) { return Pct(m.exposure); });
  html += "</table>\n";
  if (r.runs.size() > 1) {
    const auto band = [&](const char* label, auto get, bool pct) {
      double lo = 1e300, hi = -1e300;
      for (const ModelRun& run : r.runs) {
        const std::optional<double> v = get(run.metrics);
        if (!v) continue;
        lo = std::min(lo, *v);
        hi = std::max(hi, *v);
      }
      html += "<tr><td>" + std::string(label) + "</td><td>" +
              (hi >= lo ? (pct ? Pct(lo) + " .. " + Pct(hi) : Fix(lo, 2) + " .. " + Fix(hi, 2)) : "n/a") + "</td></tr>\n";
    };
    html += "<h2>Execution-model band</h2>\n<p class=\"note\">How much of the result depends on how fills are "
            "modelled: the range across the models of this run (docs/backtest.md, \"Execution models\").</p>\n"
            "<table class=\"kpi\" id=\"band\"><tr><th>metric</th><th>lowest .. highest</th></tr>\n";
    band("Total return", [](const Metrics& m) { return m.total_return; }, true);
    band("Sharpe", [](const Metrics& m) { return m.sharpe; }, false);
    band("Max drawdown", [](const Metrics& m) { return std::optional<double>(m.max_drawdown); }, true);
    html += "</table>\n";
  }
  html += "<div id=\"charts\"></div>\n<h2>Equity (" + EscapeHtml(base) +
          ") of every model and buy and hold</h2><div class=\"chart\" id=\"equity\"></div>\n"
          "<h2>Drawdown (%)</h2><div class=\"chart\" id=\"drawdown\"></div>\n"
          "<h2>Rolling Sharpe and volatility (" + EscapeHtml(main.model.name) + ", " + std::to_string(ts.rolling_window) +
          " periods)</h2><div class=\"chart\" id=\"rolling\"></div>\n<h2>Exposure (share of equity not in " +
          EscapeHtml(base) + " cash)</h2><div class=\"chart\" id=\"exposure\"></div>\n"
          "<h2>Distribution of round-trip PnL</h2><div class=\"chart\" id=\"pnl-hist\"></div>\n";
  // Monthly returns heatmap and yearly returns.
  html += "<h2>Monthly returns (" + EscapeHtml(main.model.name) + ")</h2>\n<table id=\"monthly\"><tr><th>year</th>";
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (const char* m : kMonths) html += std::string("<th>") + m + "</th>";
  html += "<th>year</th></tr>\n";
  for (const auto& y : ts.yearly) {
    html += "<tr><th>" + std::to_string(y.year) + "</th>";
    for (int month = 1; month <= 12; ++month) {
      const Tearsheet::PeriodReturn* cell = nullptr;
      for (const auto& m : ts.monthly) {
        if (m.year == y.year && m.month == month) cell = &m;
      }
      html += cell ? "<td style=\"background:" + Heat(cell->ret) + "\">" + Fix(cell->ret * 100, 1) + "</td>" : "<td></td>";
    }
    html += "<td style=\"background:" + Heat(y.ret) + "\"><b>" + Fix(y.ret * 100, 1) + "</b></td></tr>\n";
  }
  html += "</table>\n<p class=\"note\">Percent; each month from the equity at the previous month's end.</p>\n";
  // Worst drawdowns.
  html += "<h2>Worst drawdowns</h2>\n<table id=\"drawdowns\"><tr><th>#</th><th>depth</th><th>peak</th><th>trough</th>"
          "<th>recovered</th><th>days to recover</th></tr>\n";
  for (std::size_t i = 0; i < ts.worst_drawdowns.size(); ++i) {
    const auto& d = ts.worst_drawdowns[i];
    const std::string days = d.recovered == UnixNanos::Max()
                                 ? "-"
                                 : std::to_string((d.recovered.ns - d.peak.ns) / kNanosPerDay);
    html += "<tr><td>" + std::to_string(i + 1) + "</td><td>" + Pct(-d.depth) + "</td><td>" + Date(d.peak) + "</td><td>" +
            Date(d.trough) + "</td><td>" + Date(d.recovered) + "</td><td>" + days + "</td></tr>\n";
  }
  html += "</table>\n";
  // Per-symbol attribution.
  html += "<h2>By symbol (" + EscapeHtml(main.model.name) + ")</h2>\n<table id=\"attribution\"><tr><th>symbol</th>"
          "<th>round trips</th><th>win rate</th><th>fills</th><th>PnL (quote)</th><th>fees (quote)</th><th>PnL (" +
          EscapeHtml(base) + ")</th></tr>\n";
  for (const auto& a : ts.by_symbol) {
    html += "<tr><td>" + EscapeHtml(NameOf(names, a.symbol)) + "</td><td>" + std::to_string(a.trips) + "</td><td>" +
            (a.trips ? Pct(static_cast<double>(a.wins) / static_cast<double>(a.trips)) : "n/a") + "</td><td>" +
            std::to_string(a.fills) + "</td><td>" + a.pnl_quote.ToFixed(4) + "</td><td>" + a.fees_quote.ToFixed(4) +
            "</td><td>" + a.pnl_base.ToFixed(2) + "</td></tr>\n";
  }
  html += "</table>\n";
  // Round trips.
  html += "<h2>Round trips (" + EscapeHtml(main.model.name) +
          ")</h2>\n<table id=\"trades\"><tr><th>#</th><th>symbol</th><th>opened</th><th>closed</th>"
          "<th>quantity</th><th>entry (VWAP)</th><th>exit (VWAP)</th><th>fills</th><th>fees</th><th>PnL (fees incl.)</th></tr>\n";
  for (std::size_t i = 0; i < main.round_trips.size() && i < kMaxTripRows; ++i) {
    const RoundTrip& t = main.round_trips[i];
    html += "<tr><td>" + std::to_string(i + 1) + "</td><td>" + EscapeHtml(NameOf(names, t.symbol)) + "</td><td>" +
            FormatIso8601(t.opened) + "</td><td>" + FormatIso8601(t.closed) + "</td><td>" + t.quantity.ToString() +
            "</td><td>" + t.EntryPrice().ToFixed(4) + "</td><td>" + t.ExitPrice().ToFixed(4) + "</td><td>" +
            std::to_string(t.fills) + "</td><td>" + t.fees_quote.ToFixed(4) + "</td><td>" + t.pnl.ToFixed(4) +
            "</td></tr>\n";
  }
  html += "</table>\n";
  if (main.round_trips.size() > kMaxTripRows) {
    html += "<p class=\"note\">The first " + std::to_string(kMaxTripRows) + " of " +
            std::to_string(main.round_trips.size()) + " round trips; --trips writes them all.</p>\n";
  }
  html += "<h2>Configuration</h2>\n<pre id=\"config\">" + EscapeHtml(ResultsJson(r, config, names)) + "</pre>\n";
  html += "<script>\nconst DATA = " + data + ";\n" + kScript + "</script>\n</body></html>\n";
  return html;
}

}  // namespace tickflow::backtest
