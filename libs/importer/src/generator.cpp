#include "tickflow/importer/generator.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
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

// Where each quarter of the last `quarters` begins (unix seconds, oldest first),
// and its name: 2023Q4 begins 2023-10-01.
struct Quarter {
  std::int64_t begin;
  std::string name;
};
std::vector<Quarter> LastQuarters(int quarters) {
  std::vector<Quarter> out;
  std::int64_t year = 2024;
  int month = 1;  // kEnd's
  for (int q = 0; q < quarters; ++q) {
    month -= 3;
    if (month < 1) {
      month += 12;
      --year;
    }
    out.push_back(
        {DaysFromCivil({year, month, 1}) * 86400, std::to_string(year) + "Q" + std::to_string((month - 1) / 3 + 1)});
  }
  std::reverse(out.begin(), out.end());
  return out;
}

// When market s of a Kraken-shaped set lists, within [start, kEnd): the twelve
// majors in their order over the first 60 % of the span, the others later and
// most of them late (the square root of a uniform draw), as on Kraken where
// most of today's markets were listed in the last few years.
std::int64_t ListingStart(int s, std::int64_t start, std::uint64_t seed) {
  const double span = static_cast<double>(kEnd - start);
  if (s < static_cast<int>(kMarkets.size())) return start + static_cast<std::int64_t>(span * 0.05 * s);
  std::mt19937_64 rng(seed * 7919 + static_cast<std::uint64_t>(s));
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  const double at = std::min(0.3 + 0.69 * std::sqrt(u), 0.99);
  return start + static_cast<std::int64_t>(span * at);
}

// Writes rows through a buffer; counts them.
class CsvOut {
 public:
  explicit CsvOut(std::string path) : path_(std::move(path)), buf_(1 << 20) {}
  ~CsvOut() {
    if (f_ != nullptr) std::fclose(f_);
  }
  CsvOut(const CsvOut&) = delete;
  CsvOut& operator=(const CsvOut&) = delete;
  Status Open() {
    f_ = std::fopen(path_.c_str(), "wb");
    if (f_ == nullptr) return MakeError(ErrorCode::kIo, "cannot write " + path_ + ": " + std::strerror(errno));
    return {};
  }
  void Row(std::int64_t t, std::int64_t price_mantissa, int price_scale, std::int64_t volume_mantissa) {
    if (buf_.size() - used_ < 128) Drain();
    char* p = buf_.data() + used_;
    p += std::snprintf(p, 24, "%lld", static_cast<long long>(t));
    *p++ = ',';
    p = FormatTrimmed(price_mantissa, price_scale, p);
    *p++ = ',';
    p = FormatTrimmed(volume_mantissa, 8, p);
    *p++ = '\n';
    used_ = static_cast<std::size_t>(p - buf_.data());
    ++rows_;
  }
  Status Close() {
    Drain();
    const bool ok = !std::ferror(f_);
    const int rc = std::fclose(f_);
    f_ = nullptr;
    if (!ok || rc != 0)
      return MakeError(ErrorCode::kIo, "cannot finish writing " + path_ + ": " + std::strerror(errno));
    return {};
  }
  const std::string& path() const { return path_; }
  std::uint64_t rows() const { return rows_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  void Drain() {
    std::fwrite(buf_.data(), 1, used_, f_);
    bytes_ += used_;
    used_ = 0;
  }
  std::string path_;
  std::FILE* f_ = nullptr;
  std::vector<char> buf_;
  std::size_t used_ = 0;
  std::uint64_t rows_ = 0, bytes_ = 0;
};

}  // namespace

std::vector<std::uint64_t> KrakenShapedSizes(int markets, std::uint64_t total) {
  std::vector<std::uint64_t> sizes(static_cast<std::size_t>(std::max(markets, 0)), 1);
  if (sizes.empty() || total <= sizes.size()) return sizes;
  std::vector<double> w(sizes.size());
  double sum = 0;
  for (std::size_t k = 0; k < w.size(); ++k) sum += w[k] = std::pow(static_cast<double>(k + 1), -1.1);
  const std::uint64_t spread = total - sizes.size();  // beyond the one trade each
  std::uint64_t given = 0;
  for (std::size_t k = 0; k < w.size(); ++k) {
    const auto extra = static_cast<std::uint64_t>(std::floor(static_cast<double>(spread) * w[k] / sum));
    sizes[k] += extra;
    given += extra;
  }
  sizes[0] += spread - std::min(spread, given);  // rounding: to the largest
  return sizes;
}

Result<GenerateSummary> GenerateKrakenCsv(const GenerateOptions& o) {
  if (o.symbols < 1 || o.symbols > 20000) {
    return MakeError(ErrorCode::kInvalidArgument, "--symbols must be 1..20000, got " + std::to_string(o.symbols));
  }
  if (o.total == 0 && (o.trades < 1 || o.trades > 2'000'000'000ULL)) {
    return MakeError(ErrorCode::kInvalidArgument, "--trades must be 1..2000000000, got " + std::to_string(o.trades));
  }
  if (o.total != 0 && (o.total < static_cast<std::uint64_t>(o.symbols) || o.total > 100'000'000'000ULL)) {
    return MakeError(ErrorCode::kInvalidArgument, "--total must be at least --symbols (" + std::to_string(o.symbols) +
                                                      ", one trade each) and at most 100000000000, got " +
                                                      std::to_string(o.total));
  }
  if (o.years < 1 || o.years > 20) {
    return MakeError(ErrorCode::kInvalidArgument, "--years must be 1..20, got " + std::to_string(o.years));
  }
  if (o.quarters < 0 || o.quarters >= 4 * o.years) {
    return MakeError(ErrorCode::kInvalidArgument, "--quarters must be 0.." + std::to_string(4 * o.years - 1) +
                                                      " (fewer than the --years span holds), got " +
                                                      std::to_string(o.quarters));
  }
  namespace fs = std::filesystem;
  if (o.quarters > 0 && o.update_dir.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "--quarters needs --updates DIR, the folder for the quarterly files");
  }
  if (o.quarters > 0 && fs::weakly_canonical(o.update_dir) == fs::weakly_canonical(o.out_dir)) {
    return MakeError(ErrorCode::kInvalidArgument, "--updates must be another folder than --out (" + o.out_dir +
                                                      "): an update has the same file names as the history");
  }
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) return MakeError(ErrorCode::kIo, "cannot create " + o.out_dir + ": " + ec.message());
  const std::vector<Quarter> quarters = LastQuarters(o.quarters);
  for (const Quarter& q : quarters) {
    fs::create_directories(fs::path(o.update_dir) / q.name, ec);
    if (ec)
      return MakeError(ErrorCode::kIo,
                       "cannot create " + (fs::path(o.update_dir) / q.name).string() + ": " + ec.message());
  }

  GenerateSummary summary;
  const std::int64_t start = kEnd - static_cast<std::int64_t>(o.years) * 365 * 86400;
  const std::vector<std::uint64_t> sizes =
      o.total != 0 ? KrakenShapedSizes(o.symbols, o.total)
                   : std::vector<std::uint64_t>(static_cast<std::size_t>(o.symbols), o.trades);
  summary.largest = *std::max_element(sizes.begin(), sizes.end());
  summary.smallest = *std::min_element(sizes.begin(), sizes.end());
  for (int s = 0; s < o.symbols; ++s) {
    const std::uint64_t trades = sizes[static_cast<std::size_t>(s)];
    Market m = kMarkets[static_cast<std::size_t>(s) % kMarkets.size()];
    std::string name(m.name);
    if (static_cast<std::size_t>(s) >= kMarkets.size()) {
      name = "SYN" + (s < 1000 ? std::to_string(1000 + s).substr(1) : std::to_string(s)) + "USD";
      m.price = 10.0 + s;
      m.price_scale = 3;
    }
    const std::int64_t listed = o.total != 0 ? ListingStart(s, start, o.seed) : start;
    const double mean_gap = static_cast<double>(kEnd - listed) / static_cast<double>(trades);

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
    for (std::uint64_t i = 0; i < trades; ++i) {
      probe.Step(step_scale);
      total_gap += probe.gap;
    }
    const double time_scale = total_gap > 0 ? static_cast<double>(kEnd - listed - 1) / total_gap : 0;
    Walk walk{std::mt19937_64(walk_seed), {}, {}, {}, std::log(m.price)};
    const double tick = std::pow(10.0, -m.price_scale);
    double t = static_cast<double>(listed);

    // The history file, then one file per quarterly update the trades reach.
    std::vector<std::unique_ptr<CsvOut>> outs;
    outs.push_back(std::make_unique<CsvOut>((fs::path(o.out_dir) / (name + ".csv")).string()));
    TICKFLOW_RETURN_IF_ERROR(outs.back()->Open());
    std::size_t next_quarter = 0;
    for (std::uint64_t i = 0; i < trades; ++i) {
      walk.Step(step_scale);
      t += walk.gap * time_scale;
      const auto second = static_cast<std::int64_t>(t);
      while (next_quarter < quarters.size() && second >= quarters[next_quarter].begin) {
        outs.push_back(std::make_unique<CsvOut>(
            (fs::path(o.update_dir) / quarters[next_quarter].name / (name + ".csv")).string()));
        TICKFLOW_RETURN_IF_ERROR(outs.back()->Open());
        ++next_quarter;
      }
      const double price = std::max(std::exp(walk.log_price), tick);
      const auto mantissa = std::max<std::int64_t>(1, std::llround(price / tick));
      const auto vol_mantissa = std::max<std::int64_t>(1, std::llround(walk.volume * 1e8));
      outs.back()->Row(second, mantissa, m.price_scale, vol_mantissa);
    }
    for (auto& out : outs) {
      TICKFLOW_RETURN_IF_ERROR(out->Close());
      if (out->rows() == 0 && outs.size() > 1) {  // listed within the updates: no history file, as on Kraken
        fs::remove(out->path(), ec);
        continue;
      }
      ++summary.files;
      summary.rows += out->rows();
      summary.bytes += out->bytes();
      if (o.on_file) o.on_file(out->path(), out->rows(), out->bytes());
    }
  }
  return summary;
}

}  // namespace tickflow::importer
