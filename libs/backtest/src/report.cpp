#include <cstdio>
#include <string>

#include "tickflow/backtest/backtest.hpp"

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
      out += "\\u003c";  // never close the script element early
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// Draws the charts from DATA; each canvas records what it drew in data-drawn.
constexpr const char* kScript = R"js(
function frame(canvas, xs, ys, pad) {
  const ctx = canvas.getContext('2d');
  const w = canvas.width, h = canvas.height;
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, w, h);
  let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y1 = y0 + 1; }
  const X = x => pad + (x - x0) / (x1 - x0) * (w - 2 * pad);
  const Y = y => h - pad - (y - y0) / (y1 - y0) * (h - 2 * pad);
  ctx.strokeStyle = '#ccc'; ctx.strokeRect(pad, pad, w - 2 * pad, h - 2 * pad);
  ctx.fillStyle = '#555'; ctx.font = '11px sans-serif';
  ctx.fillText(y1.toPrecision(6), 2, pad + 4); ctx.fillText(y0.toPrecision(6), 2, h - pad);
  ctx.fillText(new Date(x0).toISOString().slice(0, 10), pad, h - 4);
  ctx.fillText(new Date(x1).toISOString().slice(0, 10), w - pad - 70, h - 4);
  return {ctx, X, Y};
}
function candles(canvas, s) {
  if (!s.bars.length) return 0;
  const xs = s.bars.map(b => b[0]), ys = s.bars.flatMap(b => [b[2], b[3]]);
  const {ctx, X, Y} = frame(canvas, xs, ys, 60);
  const bw = Math.max(1, (canvas.width - 120) / s.bars.length * 0.7);
  let drawn = 0;
  for (const [t, o, h, l, c] of s.bars) {
    ctx.strokeStyle = ctx.fillStyle = c >= o ? '#1a9850' : '#d73027';
    ctx.beginPath(); ctx.moveTo(X(t), Y(h)); ctx.lineTo(X(t), Y(l)); ctx.stroke();
    ctx.fillRect(X(t) - bw / 2, Math.min(Y(o), Y(c)), bw, Math.max(1, Math.abs(Y(o) - Y(c))));
    drawn++;
  }
  for (const [t, p, side] of s.fills) {
    ctx.fillStyle = side === 'buy' ? '#2166ac' : '#762a83';
    ctx.beginPath();
    const x = X(t), y = Y(p), d = side === 'buy' ? 1 : -1;
    ctx.moveTo(x, y); ctx.lineTo(x - 6, y + 12 * d); ctx.lineTo(x + 6, y + 12 * d); ctx.fill();
  }
  ctx.fillStyle = '#f39c12';
  for (const [t, p] of s.signals) { ctx.beginPath(); ctx.arc(X(t), Y(p), 2.5, 0, 7); ctx.fill(); }
  canvas.dataset.drawn = drawn;
  canvas.dataset.fills = s.fills.length;
  return drawn;
}
function line(canvas, pts, color, fill) {
  if (pts.length < 2) return 0;
  const {ctx, X, Y} = frame(canvas, pts.map(p => p[0]), pts.map(p => p[1]), 60);
  ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.beginPath();
  pts.forEach(([t, v], i) => i ? ctx.lineTo(X(t), Y(v)) : ctx.moveTo(X(t), Y(v)));
  ctx.stroke();
  if (fill) { ctx.lineTo(X(pts[pts.length - 1][0]), Y(0)); ctx.lineTo(X(pts[0][0]), Y(0)); ctx.fillStyle = fill; ctx.fill(); }
  canvas.dataset.drawn = pts.length;
  return pts.length;
}
const charts = document.getElementById('charts');
for (const s of DATA.symbols) {
  const h = document.createElement('h2'); h.textContent = s.name + ' (' + s.bars.length + ' bars)';
  const c = document.createElement('canvas'); c.width = 1100; c.height = 420; c.className = 'candles';
  charts.append(h, c); candles(c, s);
}
let peak = -Infinity;
const dd = DATA.equity.map(([t, e]) => { peak = Math.max(peak, e); return [t, peak > 0 ? (e - peak) / peak * 100 : 0]; });
line(document.getElementById('equity'), DATA.equity, '#2166ac', null);
line(document.getElementById('drawdown'), dd, '#d73027', 'rgba(215,48,39,0.2)');
document.body.dataset.ready = 'yes';
)js";

}  // namespace

std::string HtmlReport(const Results& r, const std::string& title, const std::map<SymbolId, std::string>& names) {
  const auto name_of = [&](SymbolId s) {
    auto it = names.find(s);
    return it == names.end() ? "symbol " + std::to_string(s) : it->second;
  };
  std::string data = "{\"symbols\":[";
  bool first_symbol = true;
  for (const auto& [symbol, bars] : r.bars) {
    if (!first_symbol) data += ",";
    first_symbol = false;
    data += "{\"name\":" + JsonString(name_of(symbol)) + ",\"bars\":[";
    for (std::size_t i = 0; i < bars.size(); ++i) {
      const Bar& b = bars[i];
      data += (i ? "," : "") + std::string("[") + Ms(b.time) + "," + Num(b.open.ToDouble()) + "," +
              Num(b.high.ToDouble()) + "," + Num(b.low.ToDouble()) + "," + Num(b.close.ToDouble()) + "]";
    }
    data += "],\"fills\":[";
    bool first = true;
    OrderId last_order = 0;
    for (const Fill& f : r.fills) {
      if (f.symbol != symbol || f.order == last_order) continue;  // one marker per order, at its first fill
      last_order = f.order;
      data += (first ? "" : ",") + std::string("[") + Ms(f.time) + "," + Num(f.price.ToDouble()) + ",\"" +
              (f.side == Side::kBuy ? "buy" : "sell") + "\"]";
      first = false;
    }
    data += "],\"signals\":[";
    first = true;
    for (const Signal& s : r.signals) {
      if (s.symbol != symbol) continue;
      data += (first ? "" : ",") + std::string("[") + Ms(s.time) + "," + Num(s.price.ToDouble()) + "]";
      first = false;
    }
    data += "]}";
  }
  data += "],\"equity\":[";
  for (std::size_t i = 0; i < r.equity.size(); ++i) {
    data += (i ? "," : "") + std::string("[") + Ms(r.equity[i].time) + "," + Num(r.equity[i].equity) + "]";
  }
  data += "]}";

  const Metrics& m = r.metrics;
  const auto pct = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2f %%", v * 100);
    return std::string(b);
  };
  const auto fix = [](double v, int d) {
    char b[48];
    std::snprintf(b, sizeof b, "%.*f", d, v);
    return std::string(b);
  };
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + Escape(title) +
                     "</title>\n<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;"
                     "font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f4f4f4}"
                     "canvas{border:1px solid #eee;display:block;margin:6px 0 18px}.kpi td:first-child{text-align:left}"
                     "</style></head>\n<body>\n<h1>" +
                     Escape(title) + "</h1>\n<table class=\"kpi\" id=\"metrics\">\n";
  const std::pair<const char*, std::string> rows[] = {
      {"Period", FormatIso8601(m.first) + " .. " + FormatIso8601(m.last)},
      {"Initial equity", fix(m.initial_equity, 2)},
      {"Final equity", fix(m.final_equity, 2)},
      {"Total return", pct(m.total_return)},
      {"CAGR", pct(m.cagr)},
      {"Sharpe", fix(m.sharpe, 2)},
      {"Sortino", fix(m.sortino, 2)},
      {"Max drawdown", pct(m.max_drawdown)},
      {"Win rate", pct(m.win_rate)},
      {"Round trips", std::to_string(m.round_trips)},
      {"Fills", std::to_string(m.fills)},
      {"Fees paid", fix(m.fees_paid, 2)},
      {"Exposure", pct(m.exposure)},
  };
  for (const auto& [k, v] : rows) html += "<tr><td>" + std::string(k) + "</td><td>" + Escape(v) + "</td></tr>\n";
  html += "</table>\n<div id=\"charts\"></div>\n<h2>Equity</h2><canvas id=\"equity\" width=\"1100\" height=\"260\"></canvas>\n"
          "<h2>Drawdown (%)</h2><canvas id=\"drawdown\" width=\"1100\" height=\"200\"></canvas>\n"
          "<h2>Trades</h2>\n<table id=\"trades\"><tr><th>#</th><th>symbol</th><th>opened</th><th>closed</th>"
          "<th>quantity</th><th>entry</th><th>exit</th><th>PnL (fees incl.)</th></tr>\n";
  for (std::size_t i = 0; i < r.round_trips.size(); ++i) {
    const RoundTrip& t = r.round_trips[i];
    html += "<tr><td>" + std::to_string(i + 1) + "</td><td>" + Escape(name_of(t.symbol)) + "</td><td>" +
            FormatIso8601(t.opened) + "</td><td>" + FormatIso8601(t.closed) + "</td><td>" + fix(t.quantity, 8) +
            "</td><td>" + fix(t.entry_price, 2) + "</td><td>" + fix(t.exit_price, 2) + "</td><td>" + fix(t.pnl, 2) +
            "</td></tr>\n";
  }
  html += "</table>\n<script>\nconst DATA = " + data + ";\n" + kScript + "</script>\n</body></html>\n";
  return html;
}

}  // namespace tickflow::backtest
