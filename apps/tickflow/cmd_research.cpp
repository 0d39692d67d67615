// tickflow sweep / walkforward / audit: many configurations of a strategy in one replay,
// with the overfitting statistics; walk-forward validation over the sweep.
// The work is in libs/research; this wires flags, the replay and the output.
#include <fstream>
#include <thread>

#include "backtest_run.hpp"
#include "common.hpp"
#include "tickflow/core/text.hpp"
#include "tickflow/research/audit.hpp"
#include "tickflow/research/report.hpp"
#include "tickflow/research/stats.hpp"
#include "tickflow/research/sweep.hpp"
#include "tickflow/research/walkforward.hpp"

namespace tickflow::cli {
namespace {

struct TrialArgs {
  std::string strategy = "sma-cross", from, to, res = "1d", db, base = "USD", model = "conservative", metric = "sharpe";
  std::vector<std::string> symbols, grid, ranges, cash;
  std::size_t random = 0, partitions = 16, workers = 0;
  std::uint64_t seed = 1;
  std::string json, csv, out, heatmap;
};

void AddTrialOptions(CLI::App* cmd, TrialArgs* a) {
  AddStrategyOption(cmd, &a->strategy, "Strategy (see tickflow backtest --help)");
  cmd->add_option("--symbol", a->symbols, "Symbol to trade (repeat for several)")->required();
  cmd->add_option("--grid", a->grid, "NAME=V1,V2,... (repeat): every combination");
  cmd->add_option("--random", a->random, "Draw this many configurations from the --range bounds instead of a grid");
  cmd->add_option("--range", a->ranges, "NAME=LOW:HIGH (repeat) for --random");
  cmd->add_option("--seed", a->seed, "Seed of --random (the same seed draws the same)")->capture_default_str();
  cmd->add_option("--model", a->model, "Execution model: conservative or optimistic")
      ->check(CLI::IsMember({"conservative", "optimistic"}))->capture_default_str();
  cmd->add_option("--metric", a->metric, "Choose the best by: sharpe or return")->capture_default_str();
  cmd->add_option("--partitions", a->partitions, "S for the probability of backtest overfitting (even)")->capture_default_str();
  cmd->add_option("--workers", a->workers, "Worker threads (default: the cores, at most the configurations)");
  cmd->add_option("--from", a->from, "Start time, inclusive");
  cmd->add_option("--to", a->to, "End time, exclusive");
  cmd->add_option("--res", a->res, "Bar resolution: the strategies' bars and the return periods")->capture_default_str();
  cmd->add_option("--cash", a->cash, "Initial balance: AMOUNT (of --base) or CURRENCY:AMOUNT (repeat)");
  cmd->add_option("--base", a->base, "Currency the accounts are valued in")->capture_default_str();
  cmd->add_option("--json", a->json, "Write every configuration's metrics and the statistics (with their inputs) here");
  cmd->add_option("--csv", a->csv, "Write one row per configuration here");
  cmd->add_option("--out", a->out, "Write the research page (heatmap, Sharpe distribution, statistics) here");
  cmd->add_option("--heatmap", a->heatmap, "Two parameters for the page's heatmap: X,Y (default: the first two)");
  AddDbOption(cmd, &a->db);
}

struct Sweep {
  std::vector<research::Trial> trials;
  std::size_t refused = 0;
  BacktestOutcome outcome;
  research::Metric metric = research::Metric::kSharpe;
  store::TimeRange range;
};

Result<Sweep> RunTrials(const TrialArgs& a) {
  Sweep s;
  TICKFLOW_ASSIGN_OR_RETURN(const TimeResolution res, ParseResolution(a.res));
  TICKFLOW_ASSIGN_OR_RETURN(s.range, ParseRange(a.from, a.to));
  TICKFLOW_ASSIGN_OR_RETURN(s.metric, research::ParseMetric(a.metric));
  const backtest::StrategyInfo* info = backtest::FindStrategy(a.strategy);
  if (a.random > 0) {
    TICKFLOW_ASSIGN_OR_RETURN(s.trials, research::RandomTrials(*info, a.ranges, a.random, a.seed, &s.refused));
  } else {
    if (!a.ranges.empty()) return MakeError(ErrorCode::kInvalidArgument, "--range needs --random N");
    TICKFLOW_ASSIGN_OR_RETURN(s.trials, research::GridTrials(*info, a.grid, &s.refused));
  }
  if (s.trials.size() < 2) return MakeError(ErrorCode::kInvalidArgument, "a sweep needs at least 2 configurations");
  BacktestJob job;
  job.db = a.db;
  job.symbols = a.symbols;
  job.range = s.range;
  job.strategy = info;
  job.params = s.trials.front().params;
  job.options.bar_resolution = res;
  job.options.base_currency = a.base;
  TICKFLOW_ASSIGN_OR_RETURN(job.options.initial_cash, ParseCash(a.cash, a.base));
  const backtest::ExecutionModel model{a.model, a.model == "optimistic" ? backtest::FillRule::kTouch
                                                                        : backtest::FillRule::kConservative, {}};
  for (const research::Trial& t : s.trials) {
    job.runs.push_back({t.label, [info, p = t.params] { return info->make(p); }, model});
  }
  job.workers = a.workers != 0 ? a.workers : std::max(1u, std::thread::hardware_concurrency());
  job.config.resolution = a.res;
  TICKFLOW_ASSIGN_OR_RETURN(s.outcome, RunBacktest(std::move(job)));
  return s;
}

std::string Num(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : "null"; }


Status WritePage(const TrialArgs& a, const Sweep& s, const research::SweepSummary& summary, const research::WalkForward* w) {
  if (a.out.empty()) return {};
  research::ResearchPage page;
  page.title = std::string(w ? "tickflow walkforward: " : "tickflow sweep: ") + a.strategy + " on " +
               fmt::format("{}", fmt::join(a.symbols, ", "));
  page.config = {{"strategy", a.strategy},
                 {"configurations", std::to_string(s.trials.size()) + " (" + std::to_string(s.refused) + " refused)"},
                 {"execution model", a.model},
                 {"metric", a.metric},
                 {"bar resolution", a.res},
                 {"data", s.outcome.config.data_fingerprint}};
  page.trials = &s.trials;
  page.runs = &s.outcome.results.runs;
  page.summary = &summary;
  page.walkforward = w;
  if (!a.heatmap.empty()) {
    const std::size_t comma = a.heatmap.find(',');
    if (comma == std::string::npos) return MakeError(ErrorCode::kInvalidArgument, "--heatmap '" + a.heatmap + "': expected X,Y");
    page.heat_x = a.heatmap.substr(0, comma);
    page.heat_y = a.heatmap.substr(comma + 1);
  }
  return WriteText(a.out, research::HtmlResearchReport(page));
}

std::string TrialsJson(const Sweep& s, const research::SweepSummary& summary) {
  std::string out = "[";
  const auto& runs = s.outcome.results.runs;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    std::string params = "{";
    for (const auto& [k, v] : s.trials[i].params.items()) params += (params.size() > 1 ? ", " : "") + JsonString(k) + ": " + JsonString(v);
    params += "}";
    out += fmt::format("{}\n    {{\"label\": {}, \"parameters\": {}, \"score\": {}, \"metrics\": {}}}", i ? "," : "",
                       JsonString(s.trials[i].label), params, Num(summary.scores[i]), runs[i].metrics.ToJson(4));
  }
  return out + "\n  ]";
}

int PrintSweep(const TrialArgs& a, const Sweep& s, const research::SweepSummary& summary) {
  const auto& runs = s.outcome.results.runs;
  fmt::print("sweep {} on {}: {} configurations ({} refused by the strategy's check) over {} trades in {:.2f} s, one "
             "replay\n",
             a.strategy, fmt::join(a.symbols, ", "), s.trials.size(), s.refused, Thousands(runs[0].metrics.events),
             s.outcome.seconds);
  std::vector<std::size_t> order(runs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](auto x, auto y) { return summary.scores[x] > summary.scores[y]; });
  fmt::print("  {:<30} {:>12} {:>10} {:>8} {:>9} {:>6}\n", "configuration", research::ToString(s.metric), "return",
             "Sharpe", "max DD", "trips");
  for (std::size_t k = 0; k < std::min<std::size_t>(10, order.size()); ++k) {
    const auto& m = runs[order[k]].metrics;
    fmt::print("  {:<30} {:>12.6f} {:>9.2f}% {:>8} {:>8.2f}% {:>6}\n", s.trials[order[k]].label, summary.scores[order[k]],
               m.total_return.value_or(0) * 100, m.sharpe ? fmt::format("{:.2f}", *m.sharpe) : "n/a",
               m.max_drawdown * 100, m.round_trips);
  }
  if (order.size() > 10) fmt::print("  ({} more; --csv writes them all)\n", order.size() - 10);
  const auto& d = summary.deflated;
  fmt::print("  deflated Sharpe ratio of the best: {:.4f} (its Sharpe {:.4f} per period vs {:.4f} expected from the "
             "best of {} trials by chance; {} returns, skew {:.2f}, kurtosis {:.2f})\n",
             d.probability, d.sharpe, d.expected_max_sharpe, d.trials, d.observations, d.skewness, d.kurtosis);
  fmt::print("  probability of backtest overfitting: {:.3f} (CSCV, S = {}, {} combinations; 0.5 is a coin flip)\n",
             summary.pbo.probability, summary.pbo.partitions, summary.pbo.combinations);
  return 0;
}

}  // namespace

Command AddSweep(CLI::App& app) {
  auto* cmd = app.add_subcommand("sweep", "Run many configurations of a strategy in one replay, with overfitting statistics");
  cmd->footer(
      "The data is replayed once and fanned out to every configuration (each with its own account and virtual\n"
      "exchange) on worker threads; each configuration's metrics equal one `tickflow backtest` with its parameters\n"
      "and model. Reports the deflated Sharpe ratio of the best (Bailey & Lopez de Prado 2014) and the probability\n"
      "of backtest overfitting (CSCV, Bailey et al. 2015). See docs/research.md.\n\n"
      "Examples:\n"
      "  tickflow sweep --strategy sma-cross --symbol XBTUSD --grid fast=5,10,20 --grid slow=50,100,200\n"
      "  tickflow sweep --strategy sma-cross --symbol XBTUSD --random 200 --range fast=5:50 --range slow=20:400 --json s.json");
  auto a = std::make_shared<TrialArgs>();
  AddTrialOptions(cmd, a.get());
  return {cmd, [a] {
            auto s = RunTrials(*a);
            if (!s.ok()) return Fail(s.error());
            auto summary = research::Summarize(s->outcome.results.runs, s->metric, a->partitions);
            if (!summary.ok()) return Fail(summary.error());
            PrintSweep(*a, *s, *summary);
            if (Status st = WritePage(*a, *s, *summary, nullptr); !st.ok()) return Fail(st.error());
            if (!a->json.empty()) {
              std::vector<std::string> symbols;
              for (const auto& sym : a->symbols) symbols.push_back(JsonString(sym));
              const std::string json = "{\n  \"config\": " +
                                       fmt::format("{{\"strategy\": {}, \"symbols\": [{}], \"model\": {}, \"metric\": {}, "
                                                   "\"configurations\": {}, \"refused\": {}, \"data_fingerprint\": {}}}",
                                                   JsonString(a->strategy), fmt::join(symbols, ", "), JsonString(a->model),
                                                   JsonString(a->metric), s->trials.size(), s->refused,
                                                   JsonString(s->outcome.config.data_fingerprint)) +
                                       ",\n  \"best\": " + JsonString(s->trials[summary->best].label) + ",\n  \"deflated_sharpe\": " +
                                       summary->deflated.ToJson() + ",\n  \"pbo\": " + summary->pbo.ToJson() +
                                       ",\n  \"trials\": " + TrialsJson(*s, *summary) + "\n}\n";
              if (Status st = WriteText(a->json, json); !st.ok()) return Fail(st.error());
            }
            if (!a->csv.empty()) {
              std::string csv = "configuration,score,total_return,sharpe,max_drawdown,round_trips,fills,final_equity\n";
              for (std::size_t i = 0; i < s->trials.size(); ++i) {
                const auto& m = s->outcome.results.runs[i].metrics;
                csv += fmt::format("\"{}\",{},{},{},{},{},{},{}\n", s->trials[i].label, Num(summary->scores[i]),
                                   Num(m.total_return.value_or(NAN)), Num(m.sharpe.value_or(NAN)), Num(m.max_drawdown),
                                   m.round_trips, m.fills, m.final_equity.ToString());
              }
              if (Status st = WriteText(a->csv, csv); !st.ok()) return Fail(st.error());
            }
            return 0;
          }};
}

namespace {
// "365d", "12h", "90m", "4w": a positive duration in nanoseconds.
Result<std::int64_t> ParseSpan(const std::string& flag, const std::string& text, bool zero_ok) {
  std::int64_t n = 0;
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && n < 100000000) n = n * 10 + (text[i++] - '0');
  const std::string unit = text.substr(i);
  const std::int64_t per = unit == "w" ? 7 * kNanosPerDay : unit == "d" ? kNanosPerDay : unit == "h" ? 3600 * kNanosPerSecond
                           : unit == "m" ? 60 * kNanosPerSecond : 0;
  if (i == 0 || per == 0 || n > 100000 || (n == 0 && !zero_ok)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     flag + " '" + text + "': expected a " + (zero_ok ? "" : "positive ") + "whole number of w, d, h or m (like 90d)");
  }
  return n * per;
}
}  // namespace

Command AddWalkForward(CLI::App& app) {
  auto* cmd = app.add_subcommand("walkforward", "Walk-forward validation of a strategy's configurations (one replay)");
  cmd->footer(
      "Every configuration runs over the whole range in one replay. Fold k: the configurations are ranked on the\n"
      "in-sample window by --metric, the best one's returns over the out-of-sample window are kept; out-of-sample\n"
      "windows follow each other --embargo apart, each --purge after its in-sample window (rolling, or --anchored\n"
      "at the start). The stitched out-of-sample equity is the honest estimate. See docs/research.md.\n\n"
      "Example:\n"
      "  tickflow walkforward --strategy sma-cross --symbol XBTUSD --grid fast=5,10,20 --grid slow=50,100 \\\n"
      "      --in-sample 180d --out-of-sample 60d --purge 1d --embargo 1d");
  auto a = std::make_shared<TrialArgs>();
  AddTrialOptions(cmd, a.get());
  auto is = std::make_shared<std::string>("180d"), oos = std::make_shared<std::string>("60d"),
       purge = std::make_shared<std::string>("0d"), embargo = std::make_shared<std::string>("0d");
  auto anchored = std::make_shared<bool>(false);
  cmd->add_option("--in-sample", *is, "In-sample window (w, d, h, m)")->capture_default_str();
  cmd->add_option("--out-of-sample", *oos, "Out-of-sample window")->capture_default_str();
  cmd->add_option("--purge", *purge, "Gap between each in-sample window and its out-of-sample window")->capture_default_str();
  cmd->add_option("--embargo", *embargo, "Gap after each out-of-sample window before the next")->capture_default_str();
  cmd->add_flag("--anchored", *anchored, "Every in-sample window starts at the beginning of the data");
  return {cmd, [a, is, oos, purge, embargo, anchored] {
            research::WalkForwardOptions o;
            auto v1 = ParseSpan("--in-sample", *is, false), v2 = ParseSpan("--out-of-sample", *oos, false),
                 v3 = ParseSpan("--purge", *purge, true), v4 = ParseSpan("--embargo", *embargo, true);
            for (const auto* v : {&v1, &v2, &v3, &v4}) {
              if (!v->ok()) return Fail(v->error());
            }
            o.in_sample_ns = *v1, o.out_of_sample_ns = *v2, o.purge_ns = *v3, o.embargo_ns = *v4, o.anchored = *anchored;
            auto s = RunTrials(*a);
            if (!s.ok()) return Fail(s.error());
            o.metric = s->metric;
            const auto& main = s->outcome.results.runs.front().metrics;
            auto w = research::RunWalkForward(s->outcome.results.runs, main.first, main.last, o);
            if (!w.ok()) return Fail(w.error());
            fmt::print("walk-forward {} on {}: {} configurations, {} folds ({}), one replay in {:.2f} s\n", a->strategy,
                       fmt::join(a->symbols, ", "), s->trials.size(), w->folds.size(), o.anchored ? "anchored" : "rolling",
                       s->outcome.seconds);
            fmt::print("  {:>4}  {:<10} {:<10}  {:<10} {:<10}  {:<28} {:>10} {:>10}\n", "fold", "in-sample", "", "out-of-sample",
                       "", "chosen", research::ToString(o.metric), "OOS return");
            for (std::size_t k = 0; k < w->folds.size(); ++k) {
              const auto& f = w->folds[k];
              fmt::print("  {:>4}  {} {}  {} {}  {:<28} {:>10.4f} {:>9.2f}%\n", k + 1, FormatIso8601(f.is_from).substr(0, 10),
                         FormatIso8601(f.is_to).substr(0, 10), FormatIso8601(f.oos_from).substr(0, 10),
                         FormatIso8601(f.oos_to).substr(0, 10), s->trials[f.chosen].label, f.in_sample_score,
                         f.out_of_sample_return * 100);
            }
            fmt::print("  stitched out-of-sample return {:+.2f} % over {} periods (Sharpe {:.4f} per period)\n",
                       w->out_of_sample_return * 100, w->out_of_sample.observations, w->out_of_sample.sharpe);
            auto summary = research::Summarize(s->outcome.results.runs, s->metric, a->partitions);
            if (!summary.ok()) return Fail(summary.error());
            fmt::print("  over the whole range: deflated Sharpe ratio of the best {:.4f}, probability of backtest "
                       "overfitting {:.3f}\n", summary->deflated.probability, summary->pbo.probability);
            if (Status st = WritePage(*a, *s, *summary, &*w); !st.ok()) return Fail(st.error());
            if (!a->json.empty()) {
              std::string folds = "[";
              for (std::size_t k = 0; k < w->folds.size(); ++k) {
                const auto& f = w->folds[k];
                folds += fmt::format("{}\n    {{\"in_sample_from\": \"{}\", \"in_sample_to\": \"{}\", \"out_of_sample_from\": \"{}\", "
                                     "\"out_of_sample_to\": \"{}\", \"chosen\": {}, \"in_sample_score\": {}, "
                                     "\"out_of_sample_return\": {}}}",
                                     k ? "," : "", FormatIso8601(f.is_from), FormatIso8601(f.is_to), FormatIso8601(f.oos_from),
                                     FormatIso8601(f.oos_to), JsonString(s->trials[f.chosen].label), Num(f.in_sample_score),
                                     Num(f.out_of_sample_return));
              }
              const std::string json = fmt::format(
                  "{{\n  \"config\": {{\"strategy\": {}, \"model\": {}, \"metric\": {}, \"configurations\": {}, "
                  "\"in_sample\": {}, \"out_of_sample\": {}, \"purge\": {}, \"embargo\": {}, \"anchored\": {}, "
                  "\"data_fingerprint\": {}}},\n  \"folds\": {}\n  ],\n  \"out_of_sample_return\": {},\n"
                  "  \"out_of_sample_sharpe_per_period\": {},\n  \"deflated_sharpe\": {},\n  \"pbo\": {}\n}}\n",
                  JsonString(a->strategy), JsonString(a->model), JsonString(a->metric), s->trials.size(), JsonString(*is),
                  JsonString(*oos), JsonString(*purge), JsonString(*embargo), o.anchored ? "true" : "false",
                  JsonString(s->outcome.config.data_fingerprint), folds, Num(w->out_of_sample_return), Num(w->out_of_sample.sharpe),
                  summary->deflated.ToJson(), summary->pbo.ToJson());
              if (Status st = WriteText(a->json, json); !st.ok()) return Fail(st.error());
            }
            return 0;
          }};
}

}  // namespace tickflow::cli

namespace tickflow::cli {

Command AddAudit(CLI::App& app) {
  auto* cmd = app.add_subcommand("audit", "Check a strategy for look-ahead (prefix reruns) and determinism (identical reruns)");
  cmd->footer(
      "Runs the strategy over the whole range twice and over --prefixes prefixes of it (the trades before equally\n"
      "spaced times). Without look-ahead, every order and signal made before a prefix ends is identical in the\n"
      "longer run; identical runs give identical fills, orders and metrics. Reports the first decision that\n"
      "differs, with its time. Exit status 1 when the audit fails. See docs/research.md.\n\n"
      "Example: tickflow audit --strategy breakout --symbol XBTUSD --prefixes 8");
  struct Args {
    std::string strategy = "breakout", from, to, res = "1d", db;
    std::vector<std::string> symbols, params;
    std::size_t prefixes = 4;
  };
  auto a = std::make_shared<Args>();
  AddStrategyOption(cmd, &a->strategy, "Strategy (see tickflow backtest --help)");
  cmd->add_option("--param", a->params, "Strategy parameter NAME=VALUE (repeat)");
  cmd->add_option("--symbol", a->symbols, "Symbol (repeat for several)")->required();
  cmd->add_option("--prefixes", a->prefixes, "How many prefixes to rerun (1 .. 64)")->capture_default_str();
  cmd->add_option("--from", a->from, "Start time, inclusive");
  cmd->add_option("--to", a->to, "End time, exclusive");
  cmd->add_option("--res", a->res, "Bar resolution")->capture_default_str();
  AddDbOption(cmd, &a->db);
  return {cmd, [a] {
            if (a->prefixes < 1 || a->prefixes > 64) return Fail("--prefixes must be 1 .. 64");
            auto res = ParseResolution(a->res);
            if (!res.ok()) return Fail("--res: " + res.error().message);
            auto range = ParseRange(a->from, a->to);
            if (!range.ok()) return Fail(range.error());
            const backtest::StrategyInfo* info = backtest::FindStrategy(a->strategy);
            auto params = BindParameters(*info, a->params);
            if (!params.ok()) return Fail(params.error());
            const auto run = [&](store::TimeRange r) -> Result<backtest::ModelRun> {
              BacktestJob job;
              job.db = a->db;
              job.symbols = a->symbols;
              job.range = r;
              job.strategy = info;
              job.params = *params;
              job.options.bar_resolution = *res;
              job.options.models = {{"conservative", backtest::FillRule::kConservative, {}}};
              job.config.resolution = a->res;
              TICKFLOW_ASSIGN_OR_RETURN(auto outcome, RunBacktest(std::move(job)));
              return std::move(outcome.results.runs.front());
            };
            auto full = run(*range);
            if (!full.ok()) return Fail(full.error());
            auto rerun = run(*range);
            if (!rerun.ok()) return Fail(rerun.error());
            const UnixNanos first = full->metrics.first, last = full->metrics.last;
            std::vector<UnixNanos> ends;
            std::vector<backtest::ModelRun> prefixes;
            for (std::size_t k = 1; k <= a->prefixes; ++k) {
              const UnixNanos end{first.ns + (last.ns - first.ns) / static_cast<std::int64_t>(a->prefixes + 1) *
                                                 static_cast<std::int64_t>(k)};
              auto p = run({range->from, end});
              if (!p.ok()) return Fail(p.error());
              ends.push_back(end);
              prefixes.push_back(std::move(*p));
            }
            const research::AuditReport report = research::Audit(*full, *rerun, prefixes, ends);
            fmt::print("audit {} on {}: {} prefixes and a rerun, {} decisions compared\n", a->strategy,
                       fmt::join(a->symbols, ", "), report.prefixes, report.decisions_checked);
            fmt::print("  look-ahead    {}\n", report.look_ahead ? report.look_ahead->Describe() : "none found");
            fmt::print("  determinism   {}\n", report.nondeterminism ? report.nondeterminism->Describe()
                                             : report.deterministic_outputs ? "identical decisions, fills and metrics"
                                                                            : "decisions identical, fills or metrics differ");
            return report.ok() ? 0 : 1;
          }};
}

}  // namespace tickflow::cli
