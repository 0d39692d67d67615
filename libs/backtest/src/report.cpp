// The HTML tearsheet: one self-contained file (no network). Data goes into the
// page as JSON; a small script draws the charts on canvases, reducing candles to
// one OHLC per pixel column so years of 1-minute bars draw (no argument spreads:
// Math.min(...xs) overflows the stack on large arrays).
#include <cstdio>
#include <string>

#include "tickflow/backtest/outputs.hpp"

namespace tickflow::backtest {
namespace {

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}
std::string Ms(UnixNanos t) { return std::to_string(t.ns / 1000000); }
std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}
std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '<') {
      out += "\\u003c";
      continue;
    }
    out += c;
  }
  return out + "\"";
}
std::string Pct(const std::optional<double>& v) {
  if (!v) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, "%.2f %%", *v * 100);
  return b;
}
std::string Fix(const std::optional<double>& v, int d) {
  if (!v) return "n/a";
  char b[48];
  std::snprintf(b, sizeof b, "%.*f", d, *v);
  return b;
}
std::string Curve(const std::vector<EquityPoint>& pts) {
  std::string s = "[";
  for (std::size_t i = 0; i < pts.size(); ++i) {
    s += (i ? ",[" : "[") + Ms(pts[i].time) + "," + Num(pts[i].equity.ToDouble()) + "]";
  }
  return s + "]";
}

constexpr const char* kScript = R"js(
function extent(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
  if (!(hi > lo)) hi = lo + 1;
  return [lo, hi];
}
function frame(canvas, x0, x1, y0, y1, pad) {
  const ctx = canvas.getContext('2d');
  const w = canvas.width, h = canvas.height;
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, w, h);
  const X = x => pad + (x - x0) / (x1 - x0) * (w - 2 * pad);
  const Y = y => h - pad - (y - y0) / (y1 - y0) * (h - 2 * pad);
  ctx.strokeStyle = '#ccc'; ctx.strokeRect(pad, pad, w - 2 * pad, h - 2 * pad);
  ctx.fillStyle = '#555'; ctx.font = '11px sans-serif';
  ctx.fillText(y1.toPrecision(6), 2, pad + 4); ctx.fillText(y0.toPrecision(6), 2, h - pad);
  ctx.fillText(new Date(x0).toISOString().slice(0, 10), pad, h - 4);
  ctx.fillText(new Date(x1).toISOString().slice(0, 10), w - pad - 70, h - 4);
  return {ctx, X, Y};
}
// Candles reduced to one OHLC per pixel column, fills to one marker per column and side.
function candles(canvas, s) {
  if (!s.bars.length) return 0;
  const pad = 60, cols = canvas.width - 2 * pad;
  const [x0, x1] = extent(s.bars.map(b => b[0]));
  let lo = Infinity, hi = -Infinity;
  for (const b of s.bars) { if (b[3] < lo) lo = b[3]; if (b[2] > hi) hi = b[2]; }
  if (!(hi > lo)) hi = lo + 1;
  const {ctx, X, Y} = frame(canvas, x0, x1, lo, hi, pad);
  const col = t => Math.min(cols - 1, Math.floor((t - x0) / (x1 - x0) * cols));
  const reduced = new Map();
  for (const [t, o, h, l, c] of s.bars) {
    const k = col(t), r = reduced.get(k);
    if (!r) reduced.set(k, [t, o, h, l, c]);
    else { r[2] = Math.max(r[2], h); r[3] = Math.min(r[3], l); r[4] = c; }
  }
  const bw = Math.max(1, Math.min(12, cols / s.bars.length * 0.7));
  for (const [t, o, h, l, c] of reduced.values()) {
    ctx.strokeStyle = ctx.fillStyle = c >= o ? '#1a9850' : '#d73027';
    ctx.beginPath(); ctx.moveTo(X(t), Y(h)); ctx.lineTo(X(t), Y(l)); ctx.stroke();
    ctx.fillRect(X(t) - bw / 2, Math.min(Y(o), Y(c)), bw, Math.max(1, Math.abs(Y(o) - Y(c))));
  }
  const marks = new Map();
  for (const [t, p, side] of s.fills) marks.set(col(t) + side, [t, p, side]);
  for (const [t, p, side] of marks.values()) {
    ctx.fillStyle = side === 'buy' ? '#2166ac' : '#762a83';
    const x = X(t), y = Y(p), d = side === 'buy' ? 1 : -1;
    ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x - 5, y + 10 * d); ctx.lineTo(x + 5, y + 10 * d); ctx.fill();
  }
  ctx.fillStyle = '#f39c12';
  for (const [t, p] of s.signals) { ctx.beginPath(); ctx.arc(X(t), Y(p), 2.5, 0, 7); ctx.fill(); }
  canvas.dataset.drawn = reduced.size;
  canvas.dataset.bars = s.bars.length;
  canvas.dataset.fills = s.fills.length;
  return reduced.size;
}
function lines(canvas, series, fillZero) {
  const all = series.filter(s => s.pts.length > 1);
  if (!all.length) return 0;
  const [x0, x1] = extent(all.flatMap(s => s.pts.map(p => p[0])));
  const [y0, y1] = extent(all.flatMap(s => s.pts.map(p => p[1])).concat(fillZero ? [0] : []));
  const {ctx, X, Y} = frame(canvas, x0, x1, y0, y1, 60);
  let drawn = 0;
  all.forEach((s, i) => {
    ctx.strokeStyle = s.color; ctx.lineWidth = 1.5; ctx.setLineDash(s.dash || []); ctx.beginPath();
    s.pts.forEach(([t, v], j) => j ? ctx.lineTo(X(t), Y(v)) : ctx.moveTo(X(t), Y(v)));
    ctx.stroke();
    ctx.setLineDash([]); ctx.fillStyle = s.color; ctx.fillText(s.name, 70 + i * 160, 14);
    drawn += s.pts.length;
  });
  canvas.dataset.drawn = drawn;
  return drawn;
}
const colors = ['#2166ac', '#d6604d', '#4d9221', '#8073ac'];
const charts = document.getElementById('charts');
for (const s of DATA.symbols) {
  const h = document.createElement('h2'); h.textContent = s.name + ' (' + s.bars.length + ' bars)';
  const c = document.createElement('canvas'); c.width = 1100; c.height = 420; c.className = 'candles';
  charts.append(h, c); candles(c, s);
}
const series = DATA.models.map((m, i) => ({name: m.name, pts: m.equity, color: colors[i % colors.length]}));
series.push({name: 'buy and hold', pts: DATA.benchmark, color: '#999', dash: [4, 3]});
lines(document.getElementById('equity'), series, false);
const dd = DATA.models.map((m, i) => {
  let peak = -Infinity;
  return {name: m.name, color: colors[i % colors.length],
          pts: m.equity.map(([t, e]) => { peak = Math.max(peak, e); return [t, peak > 0 ? (e - peak) / peak * 100 : 0]; })};
});
lines(document.getElementById('drawdown'), dd, true);
document.body.dataset.ready = 'yes';
)js";

}  // namespace

std::string HtmlReport(const Results& r, const RunConfig& config, const SymbolNames& names) {
  const ModelRun& main = r.main();
  std::string data = "{\"symbols\":[";
  bool first_symbol = true;
  for (const auto& [symbol, bars] : r.bars) {
    if (!first_symbol) data += ",";
    first_symbol = false;
    data += "{\"name\":" + JsonString(NameOf(names, symbol)) + ",\"bars\":[";
    for (std::size_t i = 0; i < bars.size(); ++i) {
      const Bar& b = bars[i];
      data += (i ? "," : "") + std::string("[") + Ms(b.time) + "," + Num(b.open.ToDouble()) + "," +
              Num(b.high.ToDouble()) + "," + Num(b.low.ToDouble()) + "," + Num(b.close.ToDouble()) + "]";
    }
    data += "],\"fills\":[";
    bool first = true;
    for (const Fill& f : main.fills) {
      if (f.symbol != symbol) continue;
      data += (first ? "" : ",") + std::string("[") + Ms(f.time) + "," + Num(f.price.ToDouble()) + ",\"" +
              std::string(ToString(f.side)) + "\"]";
      first = false;
    }
    data += "],\"signals\":[";
    first = true;
    for (const Signal& s : main.signals) {
      if (s.symbol != symbol) continue;
      data += (first ? "" : ",") + std::string("[") + Ms(s.time) + "," + Num(s.price.ToDouble()) + "]";
      first = false;
    }
    data += "]}";
  }
  data += "],\"models\":[";
  for (std::size_t i = 0; i < r.runs.size(); ++i) {
    data += (i ? "," : "") + std::string("{\"name\":") + JsonString(r.runs[i].model.name) +
            ",\"equity\":" + Curve(r.runs[i].equity) + "}";
  }
  data += "],\"benchmark\":" + Curve(r.benchmark) + "}";

  std::string title = "tickflow backtest: " + config.strategy + " on ";
  for (std::size_t i = 0; i < config.symbols.size(); ++i) title += (i ? ", " : "") + config.symbols[i];
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + Escape(title) +
                     "</title>\n<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;"
                     "font-size:13px;margin-bottom:16px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}"
                     "th{background:#f4f4f4}canvas{border:1px solid #eee;display:block;margin:6px 0 18px}"
                     ".kpi td:first-child{text-align:left}</style></head>\n<body>\n<h1>" +
                     Escape(title) + "</h1>\n";
  // The execution models side by side, and buy and hold.
  html += "<h2>Results by execution model</h2>\n<table class=\"kpi\" id=\"metrics\"><tr><th>metric</th>";
  for (const ModelRun& run : r.runs) html += "<th>" + Escape(run.model.name) + "</th>";
  html += "<th>buy and hold</th></tr>\n";
  const auto row = [&](const char* label, auto value) {
    html += "<tr><td>" + std::string(label) + "</td>";
    for (const ModelRun& run : r.runs) html += "<td>" + Escape(value(run.metrics)) + "</td>";
    html += "<td>" + Escape(value(r.benchmark_metrics)) + "</td></tr>\n";
  };
  const std::string base = config.base_currency;
  row("Period", [](const Metrics& m) { return FormatIso8601(m.first).substr(0, 10) + " .. " + FormatIso8601(m.last).substr(0, 10); });
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
  row("Expectancy", [](const Metrics& m) { return m.expectancy ? m.expectancy->ToFixed(2) : "n/a"; });
  row("Round trips", [](const Metrics& m) { return std::to_string(m.round_trips); });
  row("Fills", [](const Metrics& m) { return std::to_string(m.fills); });
  row("Orders (rejected)", [](const Metrics& m) { return std::to_string(m.orders) + " (" + std::to_string(m.rejected) + ")"; });
  row("Fees paid", [&](const Metrics& m) { return m.fees_paid.ToFixed(2) + " " + base; });
  row("Exposure", [](const Metrics& m) { return Pct(m.exposure); });
  html += "</table>\n<div id=\"charts\"></div>\n<h2>Equity (" + Escape(base) +
          ")</h2><canvas id=\"equity\" width=\"1100\" height=\"300\"></canvas>\n"
          "<h2>Drawdown (%)</h2><canvas id=\"drawdown\" width=\"1100\" height=\"200\"></canvas>\n";
  html += "<h2>Round trips (" + Escape(main.model.name) +
          ")</h2>\n<table id=\"trades\"><tr><th>#</th><th>symbol</th><th>opened</th><th>closed</th>"
          "<th>quantity</th><th>entry (VWAP)</th><th>exit (VWAP)</th><th>fills</th><th>fees</th><th>PnL (fees incl.)</th></tr>\n";
  for (std::size_t i = 0; i < main.round_trips.size(); ++i) {
    const RoundTrip& t = main.round_trips[i];
    html += "<tr><td>" + std::to_string(i + 1) + "</td><td>" + Escape(NameOf(names, t.symbol)) + "</td><td>" +
            FormatIso8601(t.opened) + "</td><td>" + FormatIso8601(t.closed) + "</td><td>" + t.quantity.ToString() +
            "</td><td>" + t.EntryPrice().ToFixed(4) + "</td><td>" + t.ExitPrice().ToFixed(4) + "</td><td>" +
            std::to_string(t.fills) + "</td><td>" + t.fees_quote.ToFixed(4) + "</td><td>" + t.pnl.ToFixed(4) +
            "</td></tr>\n";
  }
  html += "</table>\n<h2>Configuration</h2>\n<pre id=\"config\">" + Escape(ResultsJson(r, config, names)) + "</pre>\n";
  html += "<script>\nconst DATA = " + data + ";\n" + kScript + "</script>\n</body></html>\n";
  return html;
}

}  // namespace tickflow::backtest
