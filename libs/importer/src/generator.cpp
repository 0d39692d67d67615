#include "tickflow/importer/generator.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string_view>
#include <vector>

#include "tickflow/core/decimal.hpp"
#include "tickflow/core/time.hpp"

namespace tickflow::importer {
namespace {

struct Market {
  std::string_view name;
  double price;     // starting price
  int price_scale;  // decimals Kraken quotes it with
};

constexpr std::array<Market, 12> kMarkets = {{
    {"XBTUSD", 9000.0, 1},  {"ETHUSD", 180.0, 2},  {"XBTEUR", 8200.0, 1}, {"ETHEUR", 165.0, 2},
    {"ADAUSD", 0.05, 6},    {"SOLUSD", 1.5, 3},    {"DOTUSD", 4.0, 4},    {"XRPUSD", 0.25, 5},
    {"LTCUSD", 60.0, 2},    {"LINKUSD", 3.0, 5},   {"XDGUSD", 0.002, 7},  {"ATOMUSD", 4.5, 4},
}};

constexpr std::int64_t kEnd = 1704067200;  // 2024-01-01T00:00:00Z

// A decimal with the given scale, trailing zeros trimmed as Kraken prints them.
char* FormatTrimmed(std::int64_t mantissa, int scale, char* out) {
  while (scale > 0 && mantissa % 10 == 0) {
    mantissa /= 10;
    --scale;
  }
  Decimal d;
  (void)Decimal::FromParts(mantissa, scale, &d);
  return d.Format(out);
}

}  // namespace

Result<GenerateSummary> GenerateKrakenCsv(const GenerateOptions& o) {
  if (o.symbols < 1 || o.symbols > 500) {
    return MakeError(ErrorCode::kInvalidArgument, "--symbols must be 1..500, got " + std::to_string(o.symbols));
  }
  if (o.trades < 1 || o.trades > 2'000'000'000ULL) {
    return MakeError(ErrorCode::kInvalidArgument, "--trades must be 1..2000000000, got " + std::to_string(o.trades));
  }
  if (o.years < 1 || o.years > 20) {
    return MakeError(ErrorCode::kInvalidArgument, "--years must be 1..20, got " + std::to_string(o.years));
  }
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) return MakeError(ErrorCode::kIo, "cannot create " + o.out_dir + ": " + ec.message());

  GenerateSummary summary;
  const std::int64_t start = kEnd - static_cast<std::int64_t>(o.years) * 365 * 86400;
  const double mean_gap = static_cast<double>(kEnd - start) / static_cast<double>(o.trades);
  std::vector<char> buf(1 << 20);
  for (int s = 0; s < o.symbols; ++s) {
    Market m = kMarkets[static_cast<std::size_t>(s) % kMarkets.size()];
    std::string name(m.name);
    if (static_cast<std::size_t>(s) >= kMarkets.size()) {
      name = "SYN" + std::to_string(1000 + s).substr(1) + "USD";
      m.price = 10.0 + s;
      m.price_scale = 3;
    }
    const std::string path = (std::filesystem::path(o.out_dir) / (name + ".csv")).string();
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return MakeError(ErrorCode::kIo, "cannot write " + path);

    // The process, run twice with the same seed: once to measure how much time
    // its gaps take, once to write with the gaps scaled to fill the span.
    struct Walk {
      std::mt19937_64 rng;
      std::normal_distribution<double> normal{0.0, 1.0};
      std::exponential_distribution<double> expo{1.0};
      std::uniform_real_distribution<double> unit{0.0, 1.0};
      double log_price;
      double vol = 1.0;  // volatility regime, mean-reverting towards 1
      double gap = 0;    // time since the previous trade, unscaled
      double volume = 0;
      void Step(double step_scale) {
        // Activity follows volatility; 35 % of trades share the previous second (bursts).
        gap = unit(rng) > 0.35 ? expo(rng) / vol : 0.0;
        vol = 1.0 + (vol - 1.0) * 0.999 + (unit(rng) < 0.0005 ? 3.0 * unit(rng) : 0.0) + 0.01 * normal(rng);
        if (vol < 0.2) vol = 0.2;
        log_price += 0.0004 * vol * normal(rng) * step_scale;
        volume = std::exp(normal(rng) * 1.6 - 3.0);
      }
    };
    const std::uint64_t walk_seed = o.seed * 1000003 + static_cast<std::uint64_t>(s);
    const double step_scale = std::sqrt(std::max(mean_gap, 1.0) / 60.0);
    Walk probe{std::mt19937_64(walk_seed), {}, {}, {}, std::log(m.price)};
    double total_gap = 0;
    for (std::uint64_t i = 0; i < o.trades; ++i) {
      probe.Step(step_scale);
      total_gap += probe.gap;
    }
    const double time_scale = total_gap > 0 ? static_cast<double>(kEnd - start - 1) / total_gap : 0;
    Walk walk{std::mt19937_64(walk_seed), {}, {}, {}, std::log(m.price)};
    const double tick = std::pow(10.0, -m.price_scale);
    double t = static_cast<double>(start);
    std::size_t used = 0;
    std::uint64_t bytes = 0;
    for (std::uint64_t i = 0; i < o.trades; ++i) {
      walk.Step(step_scale);
      t += walk.gap * time_scale;
      const double price = std::max(std::exp(walk.log_price), tick);
      const auto mantissa = std::max<std::int64_t>(1, std::llround(price / tick));
      const auto vol_mantissa = std::max<std::int64_t>(1, std::llround(walk.volume * 1e8));

      if (buf.size() - used < 128) {
        std::fwrite(buf.data(), 1, used, f);
        bytes += used;
        used = 0;
      }
      char* p = buf.data() + used;
      p += std::snprintf(p, 24, "%lld", static_cast<long long>(t));
      *p++ = ',';
      p = FormatTrimmed(mantissa, m.price_scale, p);
      *p++ = ',';
      p = FormatTrimmed(vol_mantissa, 8, p);
      *p++ = '\n';
      used = static_cast<std::size_t>(p - buf.data());
    }
    std::fwrite(buf.data(), 1, used, f);
    bytes += used;
    if (std::fclose(f) != 0) return MakeError(ErrorCode::kIo, "cannot finish writing " + path);
    ++summary.files;
    summary.rows += o.trades;
    summary.bytes += bytes;
    if (o.on_file) o.on_file(path, o.trades, bytes);
  }
  return summary;
}

}  // namespace tickflow::importer
