#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tickflow/backtest/outputs.hpp"
#include "tickflow/backtest/threaded.hpp"
#include "tickflow/research/stats.hpp"
#include "tickflow/research/sweep.hpp"
#include "tickflow/research/walkforward.hpp"
#include "tickflow/test/values.hpp"

namespace tickflow::research {
namespace {

constexpr std::int64_t kDay = kNanosPerDay;
const std::int64_t kT0 = 1672531200LL * kNanosPerSecond;  // 2023-01-01

TEST(StatsTest, NormalQuantileInvertsTheCdf) {
  for (double p : {1e-9, 0.001, 0.02425, 0.3, 0.5, 0.9, 0.99, 0.999999}) {
    EXPECT_NEAR(NormalCdf(NormalQuantile(p)), p, 1e-12 + p * 1e-10) << p;
  }
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963984540054, 1e-12);
}

TEST(StatsTest, DeflatedSharpeReproducesThePapersExample) {
  // Bailey and López de Prado (2014), numerical example: an annualised Sharpe ratio of 2.5
  // from 5 years of daily returns (T = 1250, 250 a year), the best of N = 100 trials whose
  // annualised Sharpe ratios have variance 1/2, skewness -3, kurtosis 10:
  // SR0 = 0.1132 (per day) and DSR = 0.9004.
  auto d = ComputeDeflatedSharpe(2.5 / std::sqrt(250.0), 100, 1250, -3, 10, 0.5 / 250);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_NEAR(d->expected_max_sharpe, 0.1132, 0.00005);
  EXPECT_NEAR(d->probability, 0.9004, 0.00005);
  EXPECT_NE(d->ToJson().find("\"trials\": 100"), std::string::npos) << "the inputs travel with the result";
  EXPECT_FALSE(ComputeDeflatedSharpe(0.1, 1, 1250, 0, 3, 0.1).ok());
  EXPECT_FALSE(ComputeDeflatedSharpe(0.1, 10, 1, 0, 3, 0.1).ok());
}

TEST(StatsTest, MomentsOfAKnownSample) {
  const ReturnMoments m = Moments({1, 2, 3, 4, 10});
  EXPECT_DOUBLE_EQ(m.mean, 4);
  EXPECT_NEAR(m.stdev, std::sqrt(12.5), 1e-12);
  // Population central moments: m2 = 50/5 = 10, m3 = 180/5 = 36, m4 = 1394/5 = 278.8 (hand-computed).
  EXPECT_NEAR(m.skewness, 36 / std::pow(10, 1.5), 1e-12);
  EXPECT_NEAR(m.kurtosis, 278.8 / 100, 1e-12);
}

std::vector<std::vector<double>> Noise(std::size_t n, std::size_t t, std::uint64_t seed, double edge_for_first = 0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0, 0.01);
  std::vector<std::vector<double>> r(n, std::vector<double>(t));
  for (std::size_t c = 0; c < n; ++c) {
    for (double& x : r[c]) x = z(rng) + (c == 0 ? edge_for_first : 0);
  }
  return r;
}

TEST(StatsTest, PboIsNearOneHalfForNoiseAndNearZeroWithAnEdge) {
  double sum = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    auto p = ComputePbo(Noise(40, 1600, seed), 16);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->combinations, 12870u) << "C(16, 8)";
    sum += p->probability;
  }
  EXPECT_NEAR(sum / 8, 0.5, 0.12) << "pure noise: the in-sample best is a coin flip out of sample";
  auto edge = ComputePbo(Noise(40, 1600, 9, 0.004), 16);
  ASSERT_TRUE(edge.ok());
  EXPECT_LT(edge->probability, 0.02) << "a planted edge is chosen and stays the best";
  EXPECT_GT(edge->median_logit, 2);
  EXPECT_FALSE(ComputePbo(Noise(40, 1600, 1), 15).ok()) << "S must be even";
  EXPECT_FALSE(ComputePbo(Noise(1, 1600, 1), 16).ok());
  EXPECT_FALSE(ComputePbo(Noise(4, 20, 1), 16).ok()) << "fewer than 2 rows per partition";
}

TEST(SweepTest, GridsAndRandomSamplesBindToTheStrategy) {
  const auto* sma = backtest::FindStrategy("sma-cross");
  std::size_t refused = 0;
  auto g = GridTrials(*sma, {"fast=5,10,20", "slow=10,50"}, &refused);
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(refused, 2u) << "fast=10 slow=10 and fast=20 slow=10 are refused by fast < slow";
  ASSERT_EQ(g->size(), 4u);
  EXPECT_EQ((*g)[0].label, "fast=5 slow=10");
  EXPECT_EQ((*g)[3].label, "fast=20 slow=50");
  EXPECT_EQ((*g)[3].params.Integer("slow"), 50);
  auto r1 = RandomTrials(*sma, {"fast=2:20", "slow=30:200"}, 50, 7), r2 = RandomTrials(*sma, {"fast=2:20", "slow=30:200"}, 50, 7);
  ASSERT_TRUE(r1.ok());
  ASSERT_EQ(r1->size(), 50u);
  for (std::size_t i = 0; i < 50; ++i) {
    EXPECT_EQ((*r1)[i].label, (*r2)[i].label) << "seeded";
    EXPECT_GE((*r1)[i].params.Integer("fast"), 2);
    EXPECT_LE((*r1)[i].params.Integer("slow"), 200);
  }
  // Bad input names the thing.
  const auto message = [](const auto& r) { return r.ok() ? std::string() : r.error().message; };
  EXPECT_NE(message(GridTrials(*sma, {}, nullptr)).find("empty grid"), std::string::npos);
  EXPECT_NE(message(GridTrials(*sma, {"speed=1,2"}, nullptr)).find("--grid speed: strategy sma-cross has no such parameter"),
            std::string::npos);
  EXPECT_NE(message(GridTrials(*sma, {"fast=5,,7"}, nullptr)).find("an empty value"), std::string::npos);
  EXPECT_NE(message(GridTrials(*sma, {"fast=1.5"}, nullptr)).find("not an integer"), std::string::npos);
  EXPECT_NE(message(RandomTrials(*sma, {"fast=20:5"}, 10, 1)).find("the low end 20 is above the high end 5"),
            std::string::npos);
}

std::vector<Trade> Tape(std::uint64_t seed, std::size_t n, std::int64_t spacing) {
  std::vector<Trade> out;
  std::mt19937_64 rng(seed);
  std::int64_t p = 200000;
  for (std::size_t i = 0; i < n; ++i) {
    p = std::max<std::int64_t>(1000, p + static_cast<std::int64_t>(rng() % 801) - 399);
    Trade t;
    t.time = UnixNanos{kT0 + static_cast<std::int64_t>(i) * spacing};
    (void)Decimal::FromParts(p, 1, &t.price);
    (void)Decimal::FromParts(static_cast<std::int64_t>(rng() % 100000) + 1, 4, &t.volume);
    t.symbol = 1;
    out.push_back(t);
  }
  return out;
}

backtest::BacktestOptions Options() {
  backtest::BacktestOptions o;
  backtest::Instrument in;
  in.symbol = "XBTUSD", in.base = "XBT", in.quote = "USD";
  in.tick_size = test::D("0.1"), in.lot_size = test::D("0.00000001"), in.min_order = test::D("0.0001");
  o.instruments[1] = in;
  return o;
}

TEST(SweepTest, AConfigurationInASweepEqualsItsOwnBacktest) {
  const auto* sma = backtest::FindStrategy("sma-cross");
  auto trials = GridTrials(*sma, {"fast=3,5,8", "slow=12,20"});
  ASSERT_TRUE(trials.ok());
  const auto tape = Tape(3, 20000, 20 * 60 * kNanosPerSecond);  // ~9 months
  const backtest::ExecutionModel model{"conservative", backtest::FillRule::kConservative, {}};
  std::vector<backtest::RunSpec> specs;
  for (const Trial& t : *trials) specs.push_back({t.label, [&, p = t.params] { return sma->make(p); }, model});
  backtest::ThreadedBacktester sweep(specs, Options(), 2, {});
  for (const Trade& t : tape) ASSERT_TRUE(sweep.OnTrade(t).ok());
  auto all = sweep.Finish();
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->runs.size(), trials->size());
  for (std::size_t i = 0; i < trials->size(); ++i) {
    backtest::BacktestOptions o = Options();
    o.models = {model};
    backtest::Backtester one([&] { return sma->make((*trials)[i].params); }, o);
    for (const Trade& t : tape) ASSERT_TRUE(one.OnTrade(t).ok());
    auto r = one.Finish();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(all->runs[i].label, (*trials)[i].label);
    EXPECT_EQ(all->runs[i].metrics.ToJson(), r->main().metrics.ToJson()) << (*trials)[i].label;
    EXPECT_EQ(all->runs[i].fills.size(), r->main().fills.size());
  }
  auto summary = Summarize(all->runs, Metric::kSharpe, 8);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->deflated.trials, trials->size());
  EXPECT_EQ(summary->pbo.configurations, trials->size());
  for (double s : summary->scores) EXPECT_LE(s, summary->scores[summary->best]);
}

TEST(WalkForwardTest, FoldsNeverOverlapAfterPurgeAndEmbargo) {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 2000; ++trial) {
    WalkForwardOptions o;
    o.in_sample_ns = static_cast<std::int64_t>(rng() % 400 + 1) * kDay;
    o.out_of_sample_ns = static_cast<std::int64_t>(rng() % 100 + 1) * kDay;
    o.purge_ns = static_cast<std::int64_t>(rng() % 10) * kDay;
    o.embargo_ns = static_cast<std::int64_t>(rng() % 10) * kDay;
    o.anchored = rng() & 1;
    const UnixNanos from{kT0}, to{kT0 + static_cast<std::int64_t>(rng() % 3000 + 1) * kDay};
    auto folds = MakeFolds(from, to, o);
    if (!folds.ok()) {
      EXPECT_GT(o.in_sample_ns + o.purge_ns + o.out_of_sample_ns, to.ns - from.ns) << folds.error().message;
      continue;
    }
    for (std::size_t k = 0; k < folds->size(); ++k) {
      const Fold& f = (*folds)[k];
      ASSERT_GE(f.is_from, from);
      ASSERT_LE(f.oos_to, to);
      ASSERT_LT(f.is_from, f.is_to);
      ASSERT_EQ(f.oos_from.ns - f.is_to.ns, o.purge_ns) << "in-sample ends a purge before out-of-sample";
      ASSERT_EQ(f.oos_to.ns - f.oos_from.ns, o.out_of_sample_ns);
      if (k > 0) {
        ASSERT_EQ(f.oos_from.ns - (*folds)[k - 1].oos_to.ns, o.embargo_ns) << "out-of-sample windows an embargo apart";
      }
      if (!o.anchored) {
        ASSERT_EQ(f.is_to.ns - f.is_from.ns, o.in_sample_ns);
      }
    }
  }
  WalkForwardOptions bad;
  EXPECT_FALSE(MakeFolds(UnixNanos{kT0}, UnixNanos{kT0 + kDay}, bad).ok());
}

TEST(WalkForwardTest, ChoosesInSampleAndStitchesOutOfSample) {
  // Two hand-made equity curves: A rises in January and falls in February, B the opposite.
  backtest::ModelRun a, b;
  for (int d = 0; d <= 59; ++d) {
    const double ea = d <= 31 ? 100 + d : 131 - (d - 31), eb = d <= 31 ? 100 - d * 0.5 : 84.5 + (d - 31);
    a.equity.push_back({UnixNanos{kT0 + d * kDay}, backtest::Amount::FromInt(static_cast<std::int64_t>(ea * 10)), {}});
    b.equity.push_back({UnixNanos{kT0 + d * kDay}, backtest::Amount::FromInt(static_cast<std::int64_t>(eb * 10)), {}});
  }
  WalkForwardOptions o;
  o.in_sample_ns = 20 * kDay;
  o.out_of_sample_ns = 10 * kDay;
  o.metric = Metric::kReturn;
  auto w = RunWalkForward({a, b}, UnixNanos{kT0}, UnixNanos{kT0 + 59 * kDay}, o);
  ASSERT_TRUE(w.ok()) << w.error().message;
  ASSERT_EQ(w->folds.size(), 3u);
  EXPECT_EQ(w->folds[0].chosen, 0u) << "A led the first 20 days";
  EXPECT_EQ(w->folds[2].chosen, 1u) << "B led days 20-40";
  EXPECT_GT(w->stitched.size(), 20u);
  auto few = RunWalkForward({a, b}, UnixNanos{kT0}, UnixNanos{kT0 + 59 * kDay},
                            {.in_sample_ns = kDay, .out_of_sample_ns = kDay, .purge_ns = 0, .embargo_ns = 0});
  ASSERT_FALSE(few.ok());
  EXPECT_NE(few.error().message.find("fewer observations than the folds need"), std::string::npos);
}

}  // namespace
}  // namespace tickflow::research

#include "tickflow/research/audit.hpp"

namespace tickflow::research {
namespace {

// Signals when the NEXT trade will be higher: it reads the data it was given
// beyond the replay clock. Given only a prefix, it cannot see past the prefix's end.
class Peeker final : public backtest::Strategy {
 public:
  explicit Peeker(const std::vector<Trade>* visible) : visible_(visible) {}
  std::string name() const override { return "peeker"; }
  void OnTrade(backtest::Account& a, const Trade& t) override {
    const std::size_t i = n_++;
    if (i + 1 < visible_->size() && (*visible_)[i + 1].price > t.price) a.Signal(t.symbol, t.price, "up next");
  }

 private:
  const std::vector<Trade>* visible_;
  std::size_t n_ = 0;
};

backtest::ModelRun RunOn(const std::vector<Trade>& tape, const std::function<std::unique_ptr<backtest::Strategy>()>& make) {
  backtest::BacktestOptions o = Options();
  o.models = {{"conservative", backtest::FillRule::kConservative, {}}};
  backtest::Backtester bt(make, o);
  for (const Trade& t : tape) EXPECT_TRUE(bt.OnTrade(t).ok());
  auto r = bt.Finish();
  EXPECT_TRUE(r.ok());
  return r.ok() ? r->main() : backtest::ModelRun{};
}

TEST(AuditTest, CatchesAPeekingStrategyAtTheRightTimeAndPassesTheShippedOnes) {
  const auto tape = Tape(11, 6000, 96 * 60 * kNanosPerSecond);
  std::vector<UnixNanos> ends;
  std::vector<std::vector<Trade>> prefixes;
  for (int k = 1; k <= 4; ++k) {
    std::size_t n = tape.size() * static_cast<std::size_t>(k) / 5;
    while (!(tape[n].price > tape[n - 1].price)) ++n;  // the trade after the prefix is a rise: the peeker bets on it
    ends.push_back(tape[n].time);
    prefixes.emplace_back(tape.begin(), tape.begin() + static_cast<std::ptrdiff_t>(n));
  }
  // The peeker: each run sees only the data it is given.
  {
    const auto full = RunOn(tape, [&] { return std::make_unique<Peeker>(&tape); });
    const auto rerun = RunOn(tape, [&] { return std::make_unique<Peeker>(&tape); });
    std::vector<backtest::ModelRun> runs;
    for (const auto& p : prefixes) runs.push_back(RunOn(p, [&] { return std::make_unique<Peeker>(&p); }));
    const AuditReport r = Audit(full, rerun, runs, ends);
    ASSERT_TRUE(r.look_ahead.has_value());
    EXPECT_FALSE(r.nondeterminism.has_value());
    EXPECT_EQ(r.look_ahead->prefix, 1u);
    // The first difference is at the first prefix's last decision point: its last trade could not peek.
    ASSERT_TRUE(r.look_ahead->longer.has_value());
    EXPECT_FALSE(r.look_ahead->shorter.has_value());
    EXPECT_LT(r.look_ahead->longer->time, ends[0]);
    EXPECT_GE(r.look_ahead->longer->time, prefixes[0].back().time) << "caught at the right time";
    EXPECT_NE(r.look_ahead->Describe().find("look-ahead: decision"), std::string::npos);
  }
  // The shipped strategies pass.
  for (const char* name : {"breakout", "sma-cross"}) {
    const auto* info = backtest::FindStrategy(name);
    const auto params = backtest::Parameters::Bind(name, info->params, {}).value();
    const auto make = [&] { return info->make(params); };
    const auto full = RunOn(tape, make), rerun = RunOn(tape, make);
    std::vector<backtest::ModelRun> runs;
    for (const auto& p : prefixes) runs.push_back(RunOn(p, make));
    const AuditReport r = Audit(full, rerun, runs, ends);
    EXPECT_TRUE(r.ok()) << name << ": " << (r.look_ahead ? r.look_ahead->Describe() : "");
    EXPECT_GT(r.decisions_checked, 4u) << name;
  }
}

}  // namespace
}  // namespace tickflow::research
