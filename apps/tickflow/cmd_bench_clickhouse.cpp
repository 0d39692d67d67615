// tickflow bench clickhouse: the ClickHouse backend against the SQLite backend
// and against ClickHouse's own facilities, all in the same run (medians of
// --runs): import rows/s, trades/s replayed through the gateway, and 1-minute
// bars of --rows trades from server-side SQL vs one C++ pass.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench_common.hpp"
#include "common.hpp"
#include "replay_session.hpp"
#include "tickflow/bars/resampler.hpp"
#include "tickflow/importer/importer.hpp"
#include "tickflow/store/clickhouse.hpp"

namespace tickflow::cli::bench {
namespace {

namespace fs = std::filesystem;

// The store URL of `database` on the server of `url`.
std::string WithDatabase(const std::string& url, const std::string& database) {
  return url.substr(0, url.rfind('/') + 1) + database;
}

// ClickHouse's own CSV insert of the files into a plain MergeTree table.
Result<double> ClickHouseCsvInsert(const std::string& url, const std::string& data, std::uint64_t rows) {
  TICKFLOW_ASSIGN_OR_RETURN(const std::string db, store::ClickHouseDatabase(url));
  TICKFLOW_RETURN_IF_ERROR(store::ClickHouseQuery(url, "CREATE DATABASE IF NOT EXISTS " + db));
  TICKFLOW_RETURN_IF_ERROR(store::ClickHouseQuery(url, "DROP TABLE IF EXISTS " + db + ".csv_trades"));
  TICKFLOW_RETURN_IF_ERROR(store::ClickHouseQuery(
      url, "CREATE TABLE " + db +
               ".csv_trades (ts Float64, price Float64, volume Float64) ENGINE = MergeTree() ORDER BY ts"));
  const auto t0 = Clock::now();
  for (const auto& e : fs::directory_iterator(data)) {
    if (e.path().extension() != ".csv") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    TICKFLOW_RETURN_IF_ERROR(store::ClickHouseQuery(url, "INSERT INTO " + db + ".csv_trades FORMAT CSV", text.str()));
  }
  return static_cast<double>(rows) / Seconds(t0);
}

}  // namespace

Result<std::uint64_t> FreshImport(const std::string& location, const std::string& data) {
  if (location.rfind("clickhouse://", 0) == 0) {
    TICKFLOW_ASSIGN_OR_RETURN(const std::string db, store::ClickHouseDatabase(location));
    TICKFLOW_RETURN_IF_ERROR(store::ClickHouseQuery(location, "DROP DATABASE IF EXISTS " + db));
  } else {
    for (const char* ext : {"", "-wal", "-shm"}) fs::remove(location + ext);
  }
  TICKFLOW_ASSIGN_OR_RETURN(auto store, store::OpenStore(location));
  TICKFLOW_ASSIGN_OR_RETURN(const auto summary, importer::Import(*store, data, {}));
  if (summary.files_failed > 0) return MakeError(ErrorCode::kInternal, "benchmark import into " + location + " failed");
  return summary.rows_imported;
}

int BenchClickHouse(const Args& a) {
  const std::string url = a.clickhouse;
  if (auto ping = store::ClickHouseQuery(url, "SELECT version()"); !ping.ok()) return Fail(ping.error());
  const std::string sqlite_db = a.dir + "/clickhouse-vs.db";

  // 1. Import.
  const std::string data = a.dir + "/import-csv";
  if (auto s = EnsureData(data, a.files, a.rows / static_cast<std::uint64_t>(a.files)); !s.ok()) return Fail(s.error());
  std::vector<double> ch, sq, csv;
  std::uint64_t rows = 0;
  for (int run = 0; run < a.runs; ++run) {
    auto t0 = Clock::now();
    auto n = FreshImport(WithDatabase(url, "bench_import"), data);
    if (!n.ok()) return Fail(n.error());
    ch.push_back(static_cast<double>(*n) / Seconds(t0));
    rows = *n;
    t0 = Clock::now();
    n = FreshImport(sqlite_db, data);
    if (!n.ok()) return Fail(n.error());
    sq.push_back(static_cast<double>(*n) / Seconds(t0));
    auto own = ClickHouseCsvInsert(WithDatabase(url, "bench_csv"), data, rows);
    if (!own.ok()) return Fail(own.error());
    csv.push_back(*own);
    fmt::print("run {}: import into ClickHouse {}rows/s, into SQLite {}rows/s, ClickHouse's own CSV insert {}rows/s\n",
               run + 1, Rate(ch.back()), Rate(sq.back()), Rate(csv.back()));
  }
  fmt::print("\nimport of {} rows in {} files, median of {} runs:\n", Thousands(rows), a.files, a.runs);
  fmt::print("| what | rows/s | vs tickflow import into ClickHouse |\n|---|---:|---:|\n");
  fmt::print("| tickflow import into ClickHouse (validate, RowBinary, 1-min bars, commit) | {} | 1.00 |\n", Rate(Median(ch)));
  fmt::print("| tickflow import into SQLite | {} | {:.2f}x |\n", Rate(Median(sq)), Median(sq) / Median(ch));
  fmt::print("| ClickHouse's own `INSERT ... FORMAT CSV` (as Float64, nothing validated) | {} | {:.2f}x |\n\n",
             Rate(Median(csv)), Median(csv) / Median(ch));

  // 2. Replay of one symbol through the gateway, from each backend.
  const std::string one = a.dir + "/scan-csv-" + std::to_string(a.rows);
  if (auto s = EnsureData(one, 1, a.rows); !s.ok()) return Fail(s.error());
  const std::string ch_scan = WithDatabase(url, "bench_scan");
  for (const std::string& location : {ch_scan, sqlite_db}) {
    fmt::print("importing {} into {} (not timed)\n", one, location);
    if (auto n = FreshImport(location, one); !n.ok()) return Fail(n.error());
  }
  std::vector<double> replay_ch, replay_sq, first_ch, first_sq;
  std::int64_t checksums[2] = {0, 0};
  std::uint64_t received[2] = {0, 0};
  for (int run = 0; run < a.runs; ++run) {
    for (int b = 0; b < 2; ++b) {
      auto session = ReplaySession::Start(b == 0 ? ch_scan : sqlite_db);
      if (!session.ok()) return Fail(session.error());
      checksums[b] = 0;
      received[b] = 0;
      double first = 0;
      client::Callbacks cb;
      const auto t0 = Clock::now();
      cb.on_trade = [&](const client::TradeEvent& e) {
        if (received[b]++ == 0) first = Seconds(t0);
        checksums[b] += e.trade.time.ns ^ e.trade.price.raw() ^ e.trade.volume.raw();
      };
      auto stream = session->client->RequestTrades({.symbols = {1}}, cb);
      if (!stream.ok()) return Fail(stream.error());
      auto end = (*stream)->Wait(std::chrono::minutes(30));
      if (!end.ok()) return Fail(end.error());
      const double rate = static_cast<double>(received[b]) / Seconds(t0);
      (b == 0 ? replay_ch : replay_sq).push_back(rate);
      (b == 0 ? first_ch : first_sq).push_back(first * 1e3);
    }
    if (received[0] != received[1] || checksums[0] != checksums[1]) {
      return Fail("ClickHouse and SQLite replays differ: the comparison is not like for like");
    }
    fmt::print("run {}: replay from ClickHouse {}msgs/s (first trade after {:.1f} ms), from SQLite {}msgs/s ({:.1f} ms)\n",
               run + 1, Rate(replay_ch.back()), first_ch.back(), Rate(replay_sq.back()), first_sq.back());
  }
  fmt::print("\nreplay of {} trades of one symbol, store -> gateway -> in-process bus -> client, median of {} runs:\n",
             Thousands(received[0]), a.runs);
  fmt::print("| store | msgs/s | first trade after | vs SQLite |\n|---|---:|---:|---:|\n");
  fmt::print("| SQLite | {} | {:.1f} ms | 1.00 |\n", Rate(Median(replay_sq)), Median(first_sq));
  fmt::print("| ClickHouse | {} | {:.1f} ms | {:.2f}x |\n\n", Rate(Median(replay_ch)), Median(first_ch),
             Median(replay_ch) / Median(replay_sq));

  // 3. 1-minute bars: server-side SQL vs one C++ pass over the trades vs the stored bars.
  auto store = OpenExistingStore(ch_scan);
  if (!store.ok()) return Fail(store.error());
  auto db = store::ClickHouseDatabase(ch_scan);
  const std::string value = "toFloat64(bitShiftRight(price, 4)) / exp10(bitAnd(price, 15))";
  const std::string sql =
      "SELECT intDiv(ts, 60000000000) AS m, argMin(price, (ts, seq)), argMax(price, " + value + "), argMin(price, " +
      value + "), argMax(price, (ts, seq)), sum(toFloat64(bitShiftRight(volume, 4)) / exp10(bitAnd(volume, 15))), "
      "count() FROM " + *db + ".trades WHERE symbol_id = 1 GROUP BY m FORMAT RowBinary";
  std::vector<double> server, cpp, stored;
  std::uint64_t bars_server = 0, bars_cpp = 0, bars_stored = 0;
  for (int run = 0; run < a.runs; ++run) {
    auto t0 = Clock::now();
    auto body = store::ClickHouseQuery(ch_scan, sql);
    if (!body.ok()) return Fail(body.error());
    server.push_back(Seconds(t0));
    bars_server = body->size() / (8 + 8 * 4 + 8 + 8);
    t0 = Clock::now();
    const SymbolId ids[] = {1};
    auto cursor = (*store)->Trades(ids, {});
    if (!cursor.ok()) return Fail(cursor.error());
    bars::Resampler r(TimeResolution::kOneMinute);
    Bar bar;
    bars_cpp = 0;
    while (true) {
      auto view = (*cursor)->NextView();
      if (!view.ok()) return Fail(view.error());
      if (view->empty()) break;
      for (const Trade& t : *view) bars_cpp += r.Add(t, &bar) == bars::AddStatus::kBarDone;
    }
    bars_cpp += r.Flush(&bar);
    cpp.push_back(Seconds(t0));
    t0 = Clock::now();
    auto minutes = store::ReadBars(**store, 1, TimeResolution::kOneMinute, {});
    if (!minutes.ok()) return Fail(minutes.error());
    std::vector<Bar> buf(4096);
    bars_stored = 0;
    while (true) {
      auto n = (*minutes)->Next(buf);
      if (!n.ok()) return Fail(n.error());
      if (*n == 0) break;
      bars_stored += *n;
    }
    stored.push_back(Seconds(t0));
    fmt::print("run {}: server-side SQL {:.2f} s, C++ pass over the trades {:.2f} s, stored 1-minute bars {:.2f} s\n",
               run + 1, server.back(), cpp.back(), stored.back());
  }
  if (bars_server != bars_cpp || bars_stored != bars_cpp) {
    return Fail(fmt::format("bar counts differ (SQL {}, C++ {}, stored {}): not like for like", bars_server, bars_cpp,
                            bars_stored));
  }
  fmt::print("\n1-minute bars of {} trades on ClickHouse ({} bars), median of {} runs:\n", Thousands(received[0]),
             Thousands(bars_cpp), a.runs);
  fmt::print("| what | seconds | vs server-side SQL |\n|---|---:|---:|\n");
  fmt::print("| server-side SQL GROUP BY (argMin/argMax; volume as Float64) | {:.2f} | 1.0x |\n", Median(server));
  fmt::print("| one C++ pass over the paged trades (exact) | {:.2f} | {:.1f}x |\n", Median(cpp), Median(server) / Median(cpp));
  fmt::print("| the 1-minute bars stored at import (exact; what tickflow reads) | {:.2f} | {:.1f}x |\n", Median(stored),
             Median(server) / Median(stored));
  return 0;
}

}  // namespace tickflow::cli::bench
