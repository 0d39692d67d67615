#include "tickflow/research/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "tickflow/backtest/outputs.hpp"
#include "tickflow/core/text.hpp"

namespace tickflow::research {
namespace {

std::string Num(double v, int digits = 6) {
  if (!std::isfinite(v)) return "null";
  char b[48];
  std::snprintf(b, sizeof b, "%.*g", digits, v);
  return b;
}
std::string Secs(UnixNanos t) { return std::to_string(t.ns / kNanosPerSecond); }
std::string Heat(double v, double lo, double hi) {
  const double x = hi > lo ? (v - lo) / (hi - lo) : 0.5;  // 0 = worst, 1 = best
  char b[64];
  std::snprintf(b, sizeof b, "rgb(%d,%d,%d)", static_cast<int>(215 - 189 * x), static_cast<int>(48 + 104 * x),
                static_cast<int>(39 + 41 * x));
  return b;
}
std::string ValueOf(const Trial& t, const std::string& name) {
  for (const auto& [k, v] : t.params.items()) {
    if (k == name) return v;
  }
  return "";
}

constexpr const char* kScript = R"js(
const W = 1100;
function mark(el) { return u => { let n = 0; for (let s = 1; s < u.data.length; s++) for (const v of u.data[s]) if (v != null) n++; el.dataset.drawn = n; }; }
const hist = document.getElementById('sharpes');
if (hist && DATA.sharpes.counts.length) {
  const centers = DATA.sharpes.counts.map((_, i) => (DATA.sharpes.edges[i] + DATA.sharpes.edges[i + 1]) / 2);
  const lines = u => {
    const ctx = u.ctx;
    for (const [x, color] of [[DATA.sharpes.threshold, '#d73027'], [DATA.sharpes.best, '#2166ac']]) {
      const px = u.valToPos(x, 'x', true);
      ctx.save(); ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.setLineDash([6, 4]);
      ctx.beginPath(); ctx.moveTo(px, u.bbox.top); ctx.lineTo(px, u.bbox.top + u.bbox.height); ctx.stroke(); ctx.restore();
    }
  };
  new uPlot({width: W, height: 260, scales: {x: {time: false}},
             series: [{label: 'Sharpe per period'}, {label: 'trials', stroke: '#8073ac', fill: 'rgba(128,115,172,0.5)',
                       paths: uPlot.paths.bars({size: [0.9, 60]}), points: {show: false}}],
             hooks: {draw: [mark(hist), lines]}}, [centers, DATA.sharpes.counts], hist);
}
const oos = document.getElementById('oos');
if (oos && DATA.oos.length) {
  new uPlot({width: W, height: 300, scales: {x: {time: true}}, axes: [{}, {size: 80}],
             series: [{}, {label: 'stitched out-of-sample equity', stroke: '#2166ac', width: 1.5}],
             hooks: {draw: [mark(oos)]}}, [DATA.oos.map(p => p[0]), DATA.oos.map(p => p[1])], oos);
}
document.body.dataset.ready = 'yes';
)js";

}  // namespace

std::string HtmlResearchReport(const ResearchPage& p) {
  const auto& trials = *p.trials;
  const auto& runs = *p.runs;
  const SweepSummary& s = *p.summary;
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + EscapeHtml(p.title) +
                     "</title>\n" + backtest::ChartLibraryHtml() +
                     "<style>body{font-family:sans-serif;margin:24px;color:#222;max-width:1140px}table{border-collapse:"
                     "collapse;font-size:13px;margin-bottom:16px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:"
                     "right}th{background:#f4f4f4}td:first-child{text-align:left}.note{color:#666;font-size:12px}"
                     "</style></head>\n<body>\n<h1>" + EscapeHtml(p.title) + "</h1>\n<table id=\"config\">";
  for (const auto& [k, v] : p.config) html += "<tr><td>" + EscapeHtml(k) + "</td><td>" + EscapeHtml(v) + "</td></tr>";
  html += "</table>\n";
  // The statistics, with every input.
  const DeflatedSharpe& d = s.deflated;
  html += "<h2>Overfitting statistics</h2>\n<table id=\"stats\"><tr><th>statistic</th><th>value</th><th>inputs</th></tr>"
          "<tr><td>deflated Sharpe ratio of the best (" + EscapeHtml(trials[s.best].label) + ")</td><td>" + Num(d.probability, 4) +
          "</td><td>Sharpe " + Num(d.sharpe) + " per period; expected best of " + std::to_string(d.trials) +
          " by chance " + Num(d.expected_max_sharpe) + "; " + std::to_string(d.observations) + " returns, skewness " +
          Num(d.skewness, 3) + ", kurtosis " + Num(d.kurtosis, 3) + ", variance of the trials' Sharpe ratios " +
          Num(d.trials_sharpe_variance) + "</td></tr><tr><td>probability of backtest overfitting</td><td>" +
          Num(s.pbo.probability, 3) + "</td><td>CSCV, S = " + std::to_string(s.pbo.partitions) + " partitions of " +
          std::to_string(s.pbo.rows_per_partition) + " returns, " + std::to_string(s.pbo.combinations) +
          " combinations, median logit " + Num(s.pbo.median_logit, 3) + "</td></tr></table>\n"
          "<p class=\"note\">docs/research.md explains both and how to read them.</p>\n";
  // Heatmap of two parameters.
  std::vector<std::string> names;
  for (const auto& [k, v] : trials.front().params.items()) names.push_back(k);
  const std::string hx = p.heat_x.empty() && !names.empty() ? names[0] : p.heat_x;
  const std::string hy = p.heat_y.empty() && names.size() > 1 ? names[1] : p.heat_y;
  // Parameter values are validated decimals: order them by value.
  const auto numeric_less = [](const std::string& a, const std::string& b) {
    Decimal x, y;
    (void)Decimal::Parse(a, &x);
    (void)Decimal::Parse(b, &y);
    return x < y;
  };
  std::set<std::string, decltype(numeric_less)> xs(numeric_less), ys(numeric_less);
  std::map<std::pair<std::string, std::string>, double> cell;
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const std::string x = ValueOf(trials[i], hx), y = ValueOf(trials[i], hy);
    if (x.empty() || y.empty()) continue;
    xs.insert(x);
    ys.insert(y);
    auto [it, fresh] = cell.try_emplace({x, y}, s.scores[i]);
    if (!fresh) it->second = std::max(it->second, s.scores[i]);  // several draws in one cell: the best
  }
  if (!cell.empty()) {
    double lo = 1e300, hi = -1e300;
    for (const auto& [k, v] : cell) lo = std::min(lo, v), hi = std::max(hi, v);
    html += "<h2>" + EscapeHtml(std::string(ToString(s.metric))) + " by " + EscapeHtml(hx) + " and " + EscapeHtml(hy) +
            "</h2>\n<table id=\"heatmap\"><tr><th>" + EscapeHtml(hy) + " \\ " + EscapeHtml(hx) + "</th>";
    for (const auto& x : xs) html += "<th>" + EscapeHtml(x) + "</th>";
    html += "</tr>";
    for (const auto& y : ys) {
      html += "<tr><th>" + EscapeHtml(y) + "</th>";
      for (const auto& x : xs) {
        auto it = cell.find({x, y});
        html += it == cell.end() ? "<td></td>"
                                 : "<td style=\"background:" + Heat(it->second, lo, hi) + ";color:#fff\">" +
                                       Num(it->second, 4) + "</td>";
      }
      html += "</tr>";
    }
    html += "</table>\n";
  }
  // The trials' Sharpe ratios against the deflated threshold.
  std::string data = "{\"sharpes\":{\"edges\":[";
  double lo = 1e300, hi = -1e300;
  for (const auto& m : s.moments) lo = std::min(lo, m.sharpe), hi = std::max(hi, m.sharpe);
  lo = std::min(lo, d.expected_max_sharpe), hi = std::max(hi, d.expected_max_sharpe);
  if (!(hi > lo)) hi = lo + 1e-9;
  constexpr int kBins = 24;
  std::vector<int> counts(kBins);
  for (const auto& m : s.moments) ++counts[std::min(kBins - 1, static_cast<int>((m.sharpe - lo) / (hi - lo) * kBins))];
  for (int i = 0; i <= kBins; ++i) data += (i ? "," : "") + Num(lo + (hi - lo) * i / kBins, 8);
  data += "],\"counts\":[";
  for (int i = 0; i < kBins; ++i) data += (i ? "," : "") + std::to_string(counts[i]);
  data += "],\"threshold\":" + Num(d.expected_max_sharpe, 8) + ",\"best\":" + Num(d.sharpe, 8) + "},\"oos\":[";
  html += "<h2>The trials' Sharpe ratios (per period)</h2>\n<p class=\"note\">Red: the Sharpe ratio expected of the best of " +
          std::to_string(d.trials) + " trials by chance (the deflated threshold); blue: the best trial.</p>\n"
          "<div id=\"sharpes\"></div>\n";
  if (p.walkforward != nullptr) {
    const WalkForward& w = *p.walkforward;
    for (std::size_t i = 0; i < w.stitched.size(); ++i) {
      data += (i ? ",[" : "[") + Secs(w.stitched[i].time) + "," + Num(w.stitched[i].equity.ToDouble(), 10) + "]";
    }
    html += "<h2>Walk-forward folds</h2>\n<table id=\"folds\"><tr><th>fold</th><th>in-sample</th><th>out-of-sample</th>"
            "<th>chosen</th><th>in-sample " + EscapeHtml(std::string(ToString(s.metric))) + "</th><th>out-of-sample return</th></tr>";
    for (std::size_t k = 0; k < w.folds.size(); ++k) {
      const Fold& f = w.folds[k];
      html += "<tr><td>" + std::to_string(k + 1) + "</td><td>" + FormatIso8601(f.is_from).substr(0, 10) + " .. " +
              FormatIso8601(f.is_to).substr(0, 10) + "</td><td>" + FormatIso8601(f.oos_from).substr(0, 10) + " .. " +
              FormatIso8601(f.oos_to).substr(0, 10) + "</td><td>" + EscapeHtml(trials[f.chosen].label) + "</td><td>" +
              Num(f.in_sample_score, 4) + "</td><td>" + Num(f.out_of_sample_return * 100, 4) + " %</td></tr>";
    }
    html += "</table>\n<h2>Stitched out-of-sample equity (" + Num(w.out_of_sample_return * 100, 4) +
            " %)</h2>\n<div id=\"oos\"></div>\n";
  }
  data += "]}";
  // Every trial.
  html += "<h2>Trials</h2>\n<table id=\"trials\"><tr><th>configuration</th><th>" +
          EscapeHtml(std::string(ToString(s.metric))) + "</th><th>total return</th><th>max drawdown</th><th>round trips</th></tr>";
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const auto& m = runs[i].metrics;
    html += "<tr><td>" + EscapeHtml(trials[i].label) + "</td><td>" + Num(s.scores[i], 4) + "</td><td>" +
            (m.total_return ? Num(*m.total_return * 100, 4) + " %" : "n/a") + "</td><td>" + Num(m.max_drawdown * 100, 4) +
            " %</td><td>" + std::to_string(m.round_trips) + "</td></tr>";
  }
  html += "</table>\n<script>\nconst DATA = " + data + ";\n" + kScript + "</script>\n</body></html>\n";
  return html;
}

}  // namespace tickflow::research
