// Overfitting statistics for a set of trials (docs/research.md):
//  - the deflated Sharpe ratio (Bailey and López de Prado, "The Deflated Sharpe
//    Ratio: Correcting for Selection Bias, Backtest Overfitting and
//    Non-Normality", Journal of Portfolio Management 40(5), 2014);
//  - the probability of backtest overfitting by combinatorially symmetric
//    cross-validation (Bailey, Borwein, López de Prado and Zhu, "The
//    Probability of Backtest Overfitting", Journal of Computational Finance, 2017;
//    SSRN 2326253, 2015).
// Every result keeps the inputs it used, so it can be recomputed.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "tickflow/core/result.hpp"

namespace tickflow::research {

struct ReturnMoments {
  std::size_t observations = 0;
  double mean = 0, stdev = 0;  // stdev: sample (n - 1)
  double skewness = 0;         // third standardised moment
  double kurtosis = 3;         // fourth standardised moment (3 for a normal distribution, not excess)
  double sharpe = 0;           // mean / stdev, per observation (not annualised)
};
ReturnMoments Moments(const std::vector<double>& returns);

struct DeflatedSharpe {
  // Inputs.
  double sharpe = 0;                  // the selected trial's Sharpe ratio, per observation
  std::size_t trials = 0;             // N: every configuration tried
  std::size_t observations = 0;       // T: returns behind the selected Sharpe ratio
  double skewness = 0, kurtosis = 3;  // of the selected trial's returns
  double trials_sharpe_variance = 0;  // V[SR_n]: variance of the trials' per-observation Sharpe ratios
  // Results.
  double expected_max_sharpe = 0;     // SR0 = sqrt(V) ((1 - g) Z^-1(1 - 1/N) + g Z^-1(1 - 1/(N e))), g = Euler's
  double z = 0;                       // (SR - SR0) sqrt(T - 1) / sqrt(1 - skew SR + (kurt - 1)/4 SR^2)
  double probability = 0;             // DSR = Z(z): the probability that the true Sharpe ratio exceeds SR0
  std::string ToJson() const;
};
// Errors: fewer than 2 trials or 2 observations, a negative variance, a
// non-positive denominator (kurtosis and skewness that make the variance of SR negative).
Result<DeflatedSharpe> ComputeDeflatedSharpe(double sharpe, std::size_t trials, std::size_t observations,
                                             double skewness, double kurtosis, double trials_sharpe_variance);

struct Pbo {
  // Inputs.
  std::size_t configurations = 0;  // N: columns of the performance matrix
  std::size_t observations = 0;    // T: rows (returns per configuration) used
  std::size_t partitions = 0;      // S: equal blocks of rows (even)
  std::size_t rows_per_partition = 0;
  std::string metric = "sharpe";   // per-configuration performance in a set of blocks: mean / stdev of its returns
  // Results.
  std::size_t combinations = 0;    // C(S, S/2) in-sample choices
  double probability = 0;          // share of combinations whose in-sample best ranks at or below the median out of sample
  double median_logit = 0;         // of lambda = ln(w / (1 - w)), w = its relative out-of-sample rank
  std::vector<double> logits;
  std::string ToJson() const;
};
// returns[n][t]: the t-th return of configuration n (all the same length).
// Errors: fewer than 2 configurations, an odd or too small S, fewer rows than 2 per block.
Result<Pbo> ComputePbo(const std::vector<std::vector<double>>& returns, std::size_t partitions);

// The standard normal distribution and its inverse (Acklam's rational
// approximation refined by one Newton step: |error| < 1e-12).
double NormalCdf(double x);
double NormalQuantile(double p);

}  // namespace tickflow::research
