// tickflow bench scale: how import, store size, replay and queries grow with
// the data, on Kraken-shaped data (tickflow generate --total N over --markets
// markets) at several sizes in one run. Each import and replay runs as its own
// `tickflow` process so that its max RSS is its own (Child::Wait, from wait4).
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <vector>

#include "bench_common.hpp"
#include "common.hpp"
#include "tickflow/importer/generator.hpp"

namespace tickflow::cli::bench {
namespace {

namespace fs = std::filesystem;

// What the sizes need on disk, per trade: the CSVs (about 28 B a row) while the
// store (under 20 B) is written; the CSVs are deleted after the import.
constexpr double kCsvBytesPerTrade = 29;
constexpr double kStoreBytesPerTrade = 21;

struct ChildRun {
  double seconds = 0;
  double max_rss_mib = 0;
};

// Runs this program with `args`, output to `log`; fails with the log's tail
// when it exits non-zero, and kills it after `limit`.
Result<ChildRun> RunSelf(const std::vector<std::string>& args, const std::string& log, std::chrono::seconds limit) {
  std::vector<std::string> all = {"/proc/self/exe"};
  all.insert(all.end(), args.begin(), args.end());
  std::string what;
  for (std::size_t i = 1; i < all.size(); ++i) what += (i > 1 ? " " : "") + all[i];
  const auto t0 = Clock::now();
  TICKFLOW_ASSIGN_OR_RETURN(Child child, Child::Spawn(all, log));
  auto exit = child.Wait(limit);
  if (!exit.ok())
    return MakeError(exit.error().code, "`tickflow " + what + "` " + exit.error().message + "; see " + log);
  if (WIFEXITED(exit->status) && WEXITSTATUS(exit->status) == 0) return ChildRun{Seconds(t0), exit->max_rss_mib};
  std::string tail;
  if (std::FILE* f = std::fopen(log.c_str(), "r")) {
    char buf[4096];
    std::fseek(f, 0, SEEK_END);
    std::fseek(f, std::max(0L, std::ftell(f) - 600), SEEK_SET);
    tail.assign(buf, std::fread(buf, 1, sizeof buf, f));
    std::fclose(f);
  }
  return MakeError(ErrorCode::kInternal, "`tickflow " + what + "` failed (see " + log + "): " + tail);
}

// The replay's own time, from its summary line ("N messages in T s (...)"):
// without the process start and the store's opening.
double ReplaySeconds(const std::string& log, double fallback) {
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    const auto at = line.find(" messages in ");
    if (at == std::string::npos) continue;
    const char* begin = line.data() + at + 13;
    double s = 0;
    const auto r = std::from_chars(begin, line.data() + line.size(), s);
    if (r.ec == std::errc() && s > 0) return s;
  }
  return fallback;
}

struct SizeResult {
  std::uint64_t trades = 0;
  double generate_s = 0;
  ChildRun import;
  double store_bytes = 0;
  std::string big_symbol;
  std::uint64_t big_trades = 0;
  ChildRun one, all;
  double query_ms = 0;
  std::uint64_t query_rows = 0;
};

double FreeBytes(const std::string& dir) {
  struct statvfs v {};
  if (::statvfs(dir.c_str(), &v) != 0) return 0;
  return static_cast<double>(v.f_bavail) * static_cast<double>(v.f_frsize);
}

std::string Size(std::uint64_t n) {
  if (n >= 1'000'000'000 && n % 1'000'000'000 == 0) return std::to_string(n / 1'000'000'000) + " B";
  if (n >= 1'000'000 && n % 1'000'000 == 0) return std::to_string(n / 1'000'000) + " M";
  return Thousands(n);
}

Result<SizeResult> MeasureSize(const Args& a, std::uint64_t total) {
  SizeResult r;
  const std::string base = a.dir + "/scale-" + std::to_string(total);
  const std::string csv = base + "/csv", db = base + "/store.db";
  const auto limit = std::chrono::seconds(4 * 3600);
  std::error_code ec;
  fs::remove_all(base, ec);
  fs::create_directories(csv);
  fmt::print("{} trades: generating {} Kraken-shaped markets into {}\n", Size(total), a.markets, csv);
  std::fflush(stdout);
  importer::GenerateOptions g;
  g.out_dir = csv;
  g.symbols = a.markets;
  g.total = total;
  g.years = 10;
  auto t0 = Clock::now();
  TICKFLOW_ASSIGN_OR_RETURN(const importer::GenerateSummary gen, importer::GenerateKrakenCsv(g));
  r.generate_s = Seconds(t0);
  r.trades = gen.rows;
  fmt::print("  generated {} trades ({:.1f} GB) in {:.0f} s; importing\n", Thousands(gen.rows),
             static_cast<double>(gen.bytes) / 1e9, r.generate_s);
  std::fflush(stdout);
  TICKFLOW_ASSIGN_OR_RETURN(r.import, RunSelf({"import", csv, "--db", db}, base + "/import.log", limit));
  fs::remove_all(csv, ec);  // room for the next size
  for (const char* suffix : {"", "-wal"}) {
    if (fs::exists(db + suffix)) r.store_bytes += static_cast<double>(fs::file_size(db + suffix));
  }
  TICKFLOW_ASSIGN_OR_RETURN(auto store, OpenExistingStore(db));
  TICKFLOW_ASSIGN_OR_RETURN(const auto symbols, store->ListSymbols());
  const store::SymbolInfo* big = nullptr;
  for (const auto& s : symbols) {
    if (big == nullptr || s.trade_count > big->trade_count) big = &s;
  }
  if (big == nullptr) return MakeError(ErrorCode::kInternal, "the import stored no symbols");
  r.big_symbol = big->symbol;
  r.big_trades = big->trade_count;
  fmt::print("  imported in {:.0f} s ({}rows/s, max RSS {:.0f} MiB); replaying {} ({} trades)\n", r.import.seconds,
             Rate(static_cast<double>(r.trades) / r.import.seconds), r.import.max_rss_mib, r.big_symbol,
             Thousands(r.big_trades));
  std::fflush(stdout);
  TICKFLOW_ASSIGN_OR_RETURN(r.one, RunSelf({"replay", r.big_symbol, "--db", db}, base + "/replay-one.log", limit));
  r.one.seconds = ReplaySeconds(base + "/replay-one.log", r.one.seconds);
  fmt::print("  {:.1f} s; replaying all {} markets\n", r.one.seconds, symbols.size());
  std::fflush(stdout);
  TICKFLOW_ASSIGN_OR_RETURN(r.all, RunSelf({"replay", "--all", "--db", db}, base + "/replay-all.log", limit));
  r.all.seconds = ReplaySeconds(base + "/replay-all.log", r.all.seconds);
  // One hour in the middle of the biggest market: open the cursor, read every row.
  std::vector<double> ms;
  const UnixNanos mid{big->first_time.ns + (big->last_time.ns - big->first_time.ns) / 2};
  const store::TimeRange hour{mid, mid + std::chrono::hours(1)};
  for (int i = 0; i < 7; ++i) {
    const SymbolId ids[] = {big->id};
    t0 = Clock::now();
    TICKFLOW_ASSIGN_OR_RETURN(auto cursor, store->Trades(ids, hour));
    std::uint64_t rows = 0;
    while (true) {
      TICKFLOW_ASSIGN_OR_RETURN(const std::span<const Trade> view, cursor->NextView());
      if (view.empty()) break;
      rows += view.size();
    }
    ms.push_back(1e3 * Seconds(t0));
    r.query_rows = rows;
  }
  r.query_ms = Median(ms);
  return r;
}

}  // namespace

int BenchScale(const Args& a) {
  std::vector<std::uint64_t> sizes;
  for (std::string_view rest = a.sizes; !rest.empty();) {
    const std::string_view one = rest.substr(0, rest.find(','));
    rest.remove_prefix(std::min(rest.size(), one.size() + 1));
    std::uint64_t n = 0;
    const auto r = std::from_chars(one.data(), one.data() + one.size(), n);
    if (r.ec != std::errc() || r.ptr != one.data() + one.size() || n < static_cast<std::uint64_t>(a.markets)) {
      return Fail(fmt::format("--sizes: '{}' is not a number of trades of at least --markets ({})", one, a.markets));
    }
    sizes.push_back(n);
  }
  std::vector<SizeResult> results;
  for (const std::uint64_t n : sizes) {
    const double need = static_cast<double>(n) * (kCsvBytesPerTrade + kStoreBytesPerTrade);
    if (const double free = FreeBytes(a.dir); free < need * 1.1) {
      fmt::print("skipping {} trades: needs about {:.0f} GB in {}, {:.0f} GB free\n", Size(n), need / 1e9, a.dir,
                 free / 1e9);
      continue;
    }
    auto r = MeasureSize(a, n);
    if (!r.ok()) return Fail(r.error());
    results.push_back(*r);
    // Only the largest store is kept: the others make room for it.
    if (n != sizes.back()) {
      std::error_code ec;
      fs::remove_all(a.dir + "/scale-" + std::to_string(n), ec);
    }
  }
  if (results.empty()) return Fail("no size fitted on the disk; free some room or give smaller --sizes");
  fmt::print("\nscale: Kraken-shaped data over {} markets (tickflow generate --total N --symbols {} --years 10)\n",
             a.markets, a.markets);
  fmt::print(
      "| trades | import rows/s (vs smallest) | import max RSS | store B/trade | biggest market replay msgs/s (max "
      "RSS) | "
      "all markets replay msgs/s (max RSS) | all vs one | 1-h query in the biggest market |\n"
      "|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  const double base_rate = static_cast<double>(results.front().trades) / results.front().import.seconds;
  for (const SizeResult& r : results) {
    const double rate = static_cast<double>(r.trades) / r.import.seconds;
    const double one = static_cast<double>(r.big_trades) / r.one.seconds;
    const double all = static_cast<double>(r.trades) / r.all.seconds;
    fmt::print(
        "| {} | {} ({:.0f} %) | {:.0f} MiB | {:.1f} | {} {} ({:.0f} MiB) | {} ({:.0f} MiB) | {:.0f} % | {:.2f} ms ({} "
        "trades) |\n",
        Thousands(r.trades), Rate(rate), 100 * rate / base_rate, r.import.max_rss_mib,
        r.store_bytes / static_cast<double>(r.trades), r.big_symbol, Rate(one), r.one.max_rss_mib, Rate(all),
        r.all.max_rss_mib, 100 * all / one, r.query_ms, Thousands(r.query_rows));
  }
  fmt::print(
      "(replays: `tickflow replay` processes, store -> gateway -> client at max speed, timed by their own summary;\n"
      " the import: the whole `tickflow import` process; the query: median of 7, cursor opened and read)\n");
  return 0;
}

}  // namespace tickflow::cli::bench
