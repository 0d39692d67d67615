#include "tickflow/research/sweep.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "tickflow/core/text.hpp"

namespace tickflow::research {
namespace {

struct Axis {
  std::string name;
  std::vector<std::string> values;
};

Status KnownName(const backtest::StrategyInfo& s, const std::string& name, const std::string& flag) {
  std::string known;
  for (const auto& p : s.params) {
    if (p.name == name) return {};
    known += (known.empty() ? "" : ", ") + p.name;
  }
  return MakeError(ErrorCode::kInvalidArgument, flag + " " + EscapeForMessage(name) + ": strategy " + s.name +
                                                    " has no such parameter (it takes: " + known + ")");
}

Result<std::vector<Trial>> Bind(const backtest::StrategyInfo& s, const std::vector<std::vector<std::string>>& configs,
                                std::size_t* refused) {
  std::vector<Trial> out;
  std::size_t skipped = 0;
  for (const auto& assignments : configs) {
    auto p = backtest::Parameters::Bind(s.name, s.params, assignments);
    if (!p.ok()) return p.error();
    if (s.check && !s.check(*p).ok()) {
      ++skipped;  // e.g. fast >= slow: not a configuration of this strategy
      continue;
    }
    Trial t;
    for (const auto& a : assignments) t.label += (t.label.empty() ? "" : " ") + a;
    t.assignments = assignments;
    t.params = std::move(*p);
    out.push_back(std::move(t));
  }
  if (refused) *refused = skipped;
  if (out.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "no configuration is valid for " + s.name + " (all " +
                                                      std::to_string(skipped) + " refused by its parameter check)");
  }
  return out;
}

}  // namespace

Result<std::vector<Trial>> GridTrials(const backtest::StrategyInfo& s, const std::vector<std::string>& grid,
                                      std::size_t* refused) {
  if (grid.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty grid: give --grid NAME=V1,V2,... at least once");
  std::vector<Axis> axes;
  std::set<std::string> names;
  for (const std::string& g : grid) {
    const std::size_t eq = g.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == g.size()) {
      return MakeError(ErrorCode::kInvalidArgument, "--grid '" + EscapeForMessage(g) + "': expected NAME=V1,V2,...");
    }
    Axis a{g.substr(0, eq), {}};
    TICKFLOW_RETURN_IF_ERROR(KnownName(s, a.name, "--grid"));
    if (!names.insert(a.name).second) return MakeError(ErrorCode::kInvalidArgument, "--grid " + a.name + " is given twice");
    std::string rest = g.substr(eq + 1);
    for (std::size_t pos = 0;;) {
      const std::size_t comma = rest.find(',', pos);
      const std::string v = rest.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      if (v.empty()) return MakeError(ErrorCode::kInvalidArgument, "--grid " + a.name + ": an empty value in '" + rest + "'");
      a.values.push_back(v);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    axes.push_back(std::move(a));
  }
  std::vector<std::vector<std::string>> configs{{}};
  for (const Axis& a : axes) {
    std::vector<std::vector<std::string>> next;
    for (const auto& c : configs) {
      for (const auto& v : a.values) {
        auto n = c;
        n.push_back(a.name + "=" + v);
        next.push_back(std::move(n));
      }
    }
    configs = std::move(next);
    if (configs.size() > 100000) return MakeError(ErrorCode::kInvalidArgument, "the grid has more than 100,000 configurations");
  }
  return Bind(s, configs, refused);
}

Result<std::vector<Trial>> RandomTrials(const backtest::StrategyInfo& s, const std::vector<std::string>& ranges,
                                        std::size_t count, std::uint64_t seed, std::size_t* refused) {
  if (ranges.empty()) return MakeError(ErrorCode::kInvalidArgument, "--random needs --range NAME=LOW:HIGH at least once");
  if (count == 0 || count > 100000) return MakeError(ErrorCode::kInvalidArgument, "--random must be 1 .. 100000");
  struct Range {
    std::string name;
    Decimal low, high;
    bool integer;
  };
  std::vector<Range> rs;
  std::set<std::string> names;
  for (const std::string& r : ranges) {
    const std::size_t eq = r.find('='), colon = r.find(':');
    if (eq == std::string::npos || colon == std::string::npos || colon < eq) {
      return MakeError(ErrorCode::kInvalidArgument, "--range '" + EscapeForMessage(r) + "': expected NAME=LOW:HIGH");
    }
    Range x{r.substr(0, eq), {}, {}, false};
    TICKFLOW_RETURN_IF_ERROR(KnownName(s, x.name, "--range"));
    if (!names.insert(x.name).second) return MakeError(ErrorCode::kInvalidArgument, "--range " + x.name + " is given twice");
    const std::string lo = r.substr(eq + 1, colon - eq - 1), hi = r.substr(colon + 1);
    if (Decimal::Parse(lo, &x.low) != DecimalParseStatus::kOk || Decimal::Parse(hi, &x.high) != DecimalParseStatus::kOk) {
      return MakeError(ErrorCode::kInvalidArgument, "--range " + x.name + ": '" + EscapeForMessage(lo) + ":" +
                                                        EscapeForMessage(hi) + "' are not two numbers");
    }
    if (x.low > x.high) {
      return MakeError(ErrorCode::kInvalidArgument, "--range " + x.name + ": the low end " + lo + " is above the high end " + hi);
    }
    for (const auto& p : s.params) {
      if (p.name == x.name) x.integer = p.type == backtest::ParamType::kInteger;
    }
    rs.push_back(x);
  }
  std::uint64_t state = seed * 0x9e3779b97f4a7c15ULL + 0x7469636b;
  const auto next = [&] {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  std::vector<std::vector<std::string>> configs;
  for (std::size_t i = 0; i < count; ++i) {
    std::vector<std::string> c;
    for (const Range& r : rs) {
      // Uniform over the grid of the finer of the bounds' digits (whole numbers for integers).
      const int scale = r.integer ? 0 : std::max(r.low.scale(), r.high.scale());
      const auto at = [&](Decimal d) { return static_cast<std::int64_t>(std::llround(d.ToDouble() * std::pow(10.0, scale))); };
      const std::int64_t lo = at(r.low), hi = at(r.high);
      const std::int64_t v = lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
      Decimal d;
      (void)Decimal::FromParts(v, scale, &d);
      c.push_back(r.name + "=" + d.ToString());
    }
    configs.push_back(std::move(c));
  }
  return Bind(s, configs, refused);
}

Result<Metric> ParseMetric(std::string_view text) {
  if (text == "sharpe") return Metric::kSharpe;
  if (text == "return") return Metric::kReturn;
  return MakeError(ErrorCode::kInvalidArgument, "--metric '" + EscapeForMessage(text) + "': sharpe or return");
}

std::string_view ToString(Metric m) { return m == Metric::kSharpe ? "sharpe" : "return"; }

std::vector<double> PeriodReturns(const std::vector<backtest::EquityPoint>& equity) {
  std::vector<double> r;
  for (std::size_t i = 1; i < equity.size(); ++i) {
    const double a = equity[i - 1].equity.ToDouble(), b = equity[i].equity.ToDouble();
    r.push_back(a > 0 ? b / a - 1 : 0);
  }
  return r;
}

double Score(Metric metric, const std::vector<double>& returns) {
  if (metric == Metric::kSharpe) return Moments(returns).sharpe;
  double growth = 1;
  for (double x : returns) growth *= 1 + x;
  return growth - 1;
}

Result<SweepSummary> Summarize(const std::vector<backtest::ModelRun>& runs, Metric metric, std::size_t partitions) {
  SweepSummary s;
  s.metric = metric;
  std::vector<std::vector<double>> returns;
  for (const auto& run : runs) returns.push_back(PeriodReturns(run.equity));
  for (const auto& r : returns) {
    s.moments.push_back(Moments(r));
    s.scores.push_back(Score(metric, r));
  }
  if (runs.empty()) return MakeError(ErrorCode::kInvalidArgument, "no trials to summarize");
  s.best = static_cast<std::size_t>(std::max_element(s.scores.begin(), s.scores.end()) - s.scores.begin());
  // The variance of the trials' Sharpe ratios (sample variance across trials).
  double mean = 0;
  for (const auto& m : s.moments) mean += m.sharpe;
  mean /= static_cast<double>(s.moments.size());
  double var = 0;
  for (const auto& m : s.moments) var += (m.sharpe - mean) * (m.sharpe - mean);
  var /= std::max<double>(1, static_cast<double>(s.moments.size()) - 1);
  const ReturnMoments& b = s.moments[s.best];
  TICKFLOW_ASSIGN_OR_RETURN(s.deflated, ComputeDeflatedSharpe(b.sharpe, runs.size(), b.observations, b.skewness,
                                                              b.kurtosis, var));
  TICKFLOW_ASSIGN_OR_RETURN(s.pbo, ComputePbo(returns, partitions));
  return s;
}

}  // namespace tickflow::research
