#include "tickflow/research/stats.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cmath>
#include <cstdio>
#include <numbers>

namespace tickflow::research {
namespace {

std::string Num(double v) {
  if (!std::isfinite(v)) return "null";
  char b[48];
  std::snprintf(b, sizeof b, "%.10g", v);
  return b;
}

}  // namespace

double NormalCdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

double NormalQuantile(double p) {
  if (p <= 0) return -INFINITY;
  if (p >= 1) return INFINITY;
  // Acklam's coefficients.
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double low = 0.02425;
  double x;
  if (p < low) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - low) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  // One Newton step on the exact CDF.
  const double e = NormalCdf(x) - p;
  const double u = e * std::sqrt(2 * std::numbers::pi) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

ReturnMoments Moments(const std::vector<double>& r) {
  ReturnMoments m;
  m.observations = r.size();
  if (r.size() < 2) return m;
  const double n = static_cast<double>(r.size());
  for (double x : r) m.mean += x;
  m.mean /= n;
  double m2 = 0, m3 = 0, m4 = 0;
  for (double x : r) {
    const double d = x - m.mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m.stdev = std::sqrt(m2 / (n - 1));
  const double pop = m2 / n;  // the standardised moments use the population variance
  if (pop > 0) {
    m.skewness = (m3 / n) / std::pow(pop, 1.5);
    m.kurtosis = (m4 / n) / (pop * pop);
  }
  m.sharpe = m.stdev > 0 ? m.mean / m.stdev : 0;
  return m;
}

Result<DeflatedSharpe> ComputeDeflatedSharpe(double sharpe, std::size_t trials, std::size_t observations,
                                             double skewness, double kurtosis, double variance) {
  if (trials < 2) return MakeError(ErrorCode::kInvalidArgument, "the deflated Sharpe ratio needs at least 2 trials");
  if (observations < 2) return MakeError(ErrorCode::kInvalidArgument, "the deflated Sharpe ratio needs at least 2 observations");
  if (!(variance >= 0)) return MakeError(ErrorCode::kInvalidArgument, "the variance of the trials' Sharpe ratios is negative");
  DeflatedSharpe d;
  d.sharpe = sharpe;
  d.trials = trials;
  d.observations = observations;
  d.skewness = skewness;
  d.kurtosis = kurtosis;
  d.trials_sharpe_variance = variance;
  constexpr double kEuler = 0.5772156649015329;
  const double n = static_cast<double>(trials);
  d.expected_max_sharpe = std::sqrt(variance) * ((1 - kEuler) * NormalQuantile(1 - 1 / n) +
                                                 kEuler * NormalQuantile(1 - 1 / (n * std::numbers::e)));
  const double denominator = 1 - skewness * sharpe + (kurtosis - 1) / 4 * sharpe * sharpe;
  if (!(denominator > 0)) {
    return MakeError(ErrorCode::kInvalidArgument, "skewness " + Num(skewness) + " and kurtosis " + Num(kurtosis) +
                                                      " give a non-positive variance of the Sharpe ratio");
  }
  d.z = (sharpe - d.expected_max_sharpe) * std::sqrt(static_cast<double>(observations) - 1) / std::sqrt(denominator);
  d.probability = NormalCdf(d.z);
  return d;
}

std::string DeflatedSharpe::ToJson() const {
  return "{\"selected_sharpe_per_observation\": " + Num(sharpe) + ", \"trials\": " + std::to_string(trials) +
         ", \"observations\": " + std::to_string(observations) + ", \"skewness\": " + Num(skewness) +
         ", \"kurtosis\": " + Num(kurtosis) + ", \"trials_sharpe_variance\": " + Num(trials_sharpe_variance) +
         ", \"expected_max_sharpe\": " + Num(expected_max_sharpe) + ", \"z\": " + Num(z) +
         ", \"deflated_sharpe_ratio\": " + Num(probability) + "}";
}

Result<Pbo> ComputePbo(const std::vector<std::vector<double>>& returns, std::size_t partitions) {
  const std::size_t n = returns.size();
  if (n < 2) return MakeError(ErrorCode::kInvalidArgument, "the probability of backtest overfitting needs at least 2 configurations");
  if (partitions < 2 || partitions % 2 != 0 || partitions > 24) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the number of partitions S must be even and 2 .. 24, got " + std::to_string(partitions));
  }
  std::size_t t = returns[0].size();
  for (const auto& r : returns) t = std::min(t, r.size());
  const std::size_t rows = t / partitions;
  if (rows < 2) {
    return MakeError(ErrorCode::kInvalidArgument, std::to_string(t) + " observations are too few for " +
                                                      std::to_string(partitions) + " partitions (at least 2 each)");
  }
  Pbo p;
  p.configurations = n;
  p.partitions = partitions;
  p.rows_per_partition = rows;
  p.observations = rows * partitions;
  // The last rows * S observations (the oldest extra rows are dropped); per block and configuration,
  // the sums that a Sharpe ratio over any union of blocks needs.
  const std::size_t skip = t - p.observations;
  std::vector<double> sum(partitions * n), sq(partitions * n);
  for (std::size_t c = 0; c < n; ++c) {
    for (std::size_t i = 0; i < p.observations; ++i) {
      const double x = returns[c][skip + i];
      sum[(i / rows) * n + c] += x;
      sq[(i / rows) * n + c] += x * x;
    }
  }
  const auto sharpe = [&](std::uint32_t mask, std::size_t c) {
    double s = 0, q = 0;
    std::size_t k = 0;
    for (std::size_t b = 0; b < partitions; ++b) {
      if (mask >> b & 1) s += sum[b * n + c], q += sq[b * n + c], ++k;
    }
    const double m = static_cast<double>(k * rows);
    const double mean = s / m, var = (q - m * mean * mean) / (m - 1);
    return var > 0 ? mean / std::sqrt(var) : 0.0;
  };
  std::vector<double> in(n), out(n);
  std::size_t overfit = 0;
  for (std::uint32_t mask = 0; mask < (1u << partitions); ++mask) {
    if (static_cast<std::size_t>(std::popcount(mask)) != partitions / 2) continue;
    const std::uint32_t rest = ((1u << partitions) - 1) & ~mask;
    for (std::size_t c = 0; c < n; ++c) in[c] = sharpe(mask, c), out[c] = sharpe(rest, c);
    const std::size_t best = static_cast<std::size_t>(std::max_element(in.begin(), in.end()) - in.begin());
    double below = 0;
    for (std::size_t c = 0; c < n; ++c) below += out[c] < out[best] ? 1 : (out[c] == out[best] && c != best ? 0.5 : 0);
    const double w = (below + 1) / (static_cast<double>(n) + 1);  // relative rank in (0, 1)
    const double lambda = std::log(w / (1 - w));
    p.logits.push_back(lambda);
    overfit += lambda <= 0;
  }
  p.combinations = p.logits.size();
  p.probability = static_cast<double>(overfit) / static_cast<double>(p.combinations);
  std::vector<double> sorted = p.logits;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
  p.median_logit = sorted[sorted.size() / 2];
  return p;
}

std::string Pbo::ToJson() const {
  return "{\"configurations\": " + std::to_string(configurations) + ", \"observations\": " + std::to_string(observations) +
         ", \"partitions\": " + std::to_string(partitions) + ", \"rows_per_partition\": " +
         std::to_string(rows_per_partition) + ", \"metric\": \"" + metric + "\", \"combinations\": " +
         std::to_string(combinations) + ", \"probability_of_backtest_overfitting\": " + Num(probability) +
         ", \"median_logit\": " + Num(median_logit) + "}";
}

}  // namespace tickflow::research
