#include "tickflow/research/walkforward.hpp"

#include <algorithm>
#include <cmath>

namespace tickflow::research {
namespace {

// Returns between consecutive equity points whose both times lie in [from, to].
std::vector<double> WindowReturns(const std::vector<backtest::EquityPoint>& eq, UnixNanos from, UnixNanos to,
                                  std::vector<UnixNanos>* times = nullptr) {
  std::vector<double> r;
  for (std::size_t i = 1; i < eq.size(); ++i) {
    if (eq[i - 1].time < from || eq[i].time > to) continue;
    const double a = eq[i - 1].equity.ToDouble(), b = eq[i].equity.ToDouble();
    r.push_back(a > 0 ? b / a - 1 : 0);
    if (times) times->push_back(eq[i].time);
  }
  return r;
}

}  // namespace

Result<std::vector<Fold>> MakeFolds(UnixNanos from, UnixNanos to, const WalkForwardOptions& o) {
  if (o.in_sample_ns <= 0 || o.out_of_sample_ns <= 0) {
    return MakeError(ErrorCode::kInvalidArgument, "walk-forward: the in-sample and out-of-sample windows must be positive");
  }
  if (o.purge_ns < 0 || o.embargo_ns < 0) {
    return MakeError(ErrorCode::kInvalidArgument, "walk-forward: purge and embargo must not be negative");
  }
  std::vector<Fold> folds;
  for (std::int64_t k = 0;; ++k) {
    Fold f;
    const std::int64_t step = o.out_of_sample_ns + o.embargo_ns;
    // Checked: ranges near the ends of UnixNanos must not wrap.
    std::int64_t oos_from, oos_to, offset;
    if (__builtin_mul_overflow(k, step, &offset) ||
        __builtin_add_overflow(from.ns, o.in_sample_ns + o.purge_ns, &oos_from) ||
        __builtin_add_overflow(oos_from, offset, &oos_from) ||
        __builtin_add_overflow(oos_from, o.out_of_sample_ns, &oos_to) || oos_to > to.ns) {
      break;
    }
    f.oos_from = UnixNanos{oos_from};
    f.oos_to = UnixNanos{oos_to};
    f.is_to = UnixNanos{oos_from - o.purge_ns};
    f.is_from = o.anchored ? from : f.is_to - std::chrono::nanoseconds(o.in_sample_ns);
    folds.push_back(f);
    if (folds.size() > 100000) return MakeError(ErrorCode::kInvalidArgument, "walk-forward: more than 100,000 folds");
  }
  if (folds.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "walk-forward: [" + FormatIso8601(from) + ", " + FormatIso8601(to) +
                                                      ") is shorter than one fold (in-sample + purge + out-of-sample)");
  }
  return folds;
}

Result<WalkForward> RunWalkForward(const std::vector<backtest::ModelRun>& runs, UnixNanos from, UnixNanos to,
                                   const WalkForwardOptions& o) {
  if (runs.empty()) return MakeError(ErrorCode::kInvalidArgument, "walk-forward: no trials");
  WalkForward w;
  TICKFLOW_ASSIGN_OR_RETURN(w.folds, MakeFolds(from, to, o));
  double equity = runs.front().equity.empty() ? 1 : runs.front().equity.front().equity.ToDouble();
  std::vector<double> stitched;
  for (std::size_t k = 0; k < w.folds.size(); ++k) {
    Fold& f = w.folds[k];
    double best = -1e300;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const std::vector<double> r = WindowReturns(runs[i].equity, f.is_from, f.is_to);
      if (r.size() < 2) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "walk-forward fold " + std::to_string(k + 1) + ": the in-sample window [" +
                             FormatIso8601(f.is_from) + ", " + FormatIso8601(f.is_to) + ") holds " +
                             std::to_string(r.size()) + " returns; fewer observations than the folds need "
                             "(use a longer --in-sample or a finer --res)");
      }
      const double s = Score(o.metric, r);
      if (s > best) best = s, f.chosen = i, f.in_sample_points = r.size();
    }
    f.in_sample_score = best;
    std::vector<UnixNanos> times;
    const std::vector<double> r = WindowReturns(runs[f.chosen].equity, f.oos_from, f.oos_to, &times);
    if (r.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "walk-forward fold " + std::to_string(k + 1) +
                                                        ": the out-of-sample window holds no returns (a finer --res?)");
    }
    f.out_of_sample_points = r.size();
    double growth = 1;
    for (std::size_t j = 0; j < r.size(); ++j) {
      growth *= 1 + r[j];
      equity *= 1 + r[j];
      stitched.push_back(r[j]);
      // The stitched curve is a chain of ratios (double): shown to the cent.
      backtest::Amount e;
      (void)backtest::Amount::Div(backtest::Amount::FromInt(std::llround(equity * 100)), backtest::Amount::FromInt(100), 2,
                                  backtest::Rounding::kHalfEven, &e);
      w.stitched.push_back(backtest::EquityPoint{times[j], e, backtest::Amount()});
    }
    f.out_of_sample_return = growth - 1;
  }
  double total = 1;
  for (double x : stitched) total *= 1 + x;
  w.out_of_sample_return = total - 1;
  w.out_of_sample = Moments(stitched);
  return w;
}

}  // namespace tickflow::research
