// tickflow bench import | scan | bars: end-to-end benchmarks, each against a
// baseline measured in the same run (medians of --runs; ratios). Figures and
// the commands that produced them are recorded in docs/benchmarks.md.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "bench_common.hpp"
#include "common.hpp"
#include "replay_session.hpp"
#include "tickflow/backtest/strategies.hpp"
#include "tickflow/backtest/threaded.hpp"
#include "tickflow/research/sweep.hpp"
#include "tickflow/bars/resampler.hpp"
#include "tickflow/importer/csv.hpp"
#include "tickflow/importer/generator.hpp"
#include "tickflow/importer/importer.hpp"

namespace tickflow::cli::bench {

double Seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double RssMiB(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

Result<Latency> PacedLatency(store::Store& store, client::Client& client,
                             const std::function<std::optional<PaceAnchor>()>& anchor) {
  TICKFLOW_ASSIGN_OR_RETURN(const store::SymbolInfo info, store.FindSymbol(SymbolId{1}));
  const std::uint32_t speed = 1000 * 600;  // 10 minutes of market time per second
  const UnixNanos from{info.first_time.ns + (info.last_time.ns - info.first_time.ns) / 2};
  const UnixNanos to{from.ns + 100 * 60 * kNanosPerSecond};  // 100 minutes: 10 s of wall time
  std::vector<std::pair<UnixNanos, Clock::time_point>> arrivals;
  arrivals.reserve(1 << 16);
  client::Callbacks cb;
  cb.on_trade = [&](const client::TradeEvent& e) { arrivals.emplace_back(e.trade.time, Clock::now()); };
  TICKFLOW_ASSIGN_OR_RETURN(auto stream,
                            client.RequestTrades({.symbols = {1}, .from = from, .to = to, .speed_permille = speed}, cb));
  if (auto end = stream->Wait(std::chrono::minutes(5)); !end.ok()) return std::move(end).error();
  if (arrivals.empty()) return Latency{};
  const std::optional<PaceAnchor> a = anchor();
  if (!a) return MakeError(ErrorCode::kInternal, "the gateway did not report where the paced stream's clock started");
  std::vector<double> us;
  for (const auto& [time, at] : arrivals) {
    const auto due = a->due + std::chrono::nanoseconds((time.ns - a->first.ns) * 1000 / speed);
    us.push_back(std::chrono::duration<double, std::micro>(at - due).count());
  }
  std::sort(us.begin(), us.end());
  const auto pct = [&](double p) { return us[static_cast<std::size_t>(p * static_cast<double>(us.size() - 1))]; };
  return Latency{us.size(), pct(0.5), pct(0.99), us.back()};
}

Result<Child> Child::Spawn(std::vector<std::string> args, const std::string& output) {
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  Child c;
  const pid_t parent = ::getpid();
  c.pid_ = ::fork();
  if (c.pid_ < 0) return MakeError(ErrorCode::kUnavailable, "cannot start " + args[0]);
  if (c.pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);
    if (!output.empty()) {
      const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0) ::_exit(126);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  return c;
}

Child::Child(Child&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}

Child& Child::operator=(Child&& o) noexcept {
  Stop();
  pid_ = std::exchange(o.pid_, -1);
  return *this;
}

void Child::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

Result<Child::Exit> Child::Wait(std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  while (pid_ > 0) {
    int status = 0;
    struct rusage ru {};
    if (::wait4(pid_, &status, WNOHANG, &ru) == pid_) {
      pid_ = -1;
      return Exit{status, static_cast<double>(ru.ru_maxrss) / 1024.0};
    }
    if (Clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      Stop();
      return MakeError(ErrorCode::kUnavailable,
                       "did not finish within " + std::to_string(limit.count()) + " s (killed)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return MakeError(ErrorCode::kInternal, "no child process to wait for");
}

Status EnsureData(const std::string& dir, int files, std::uint64_t rows_per_file) {
  namespace fs = std::filesystem;
  if (fs::exists(dir) && !fs::is_empty(dir)) return {};
  fmt::print("generating {} files x {} rows into {}\n", files, Thousands(rows_per_file), dir);
  importer::GenerateOptions g;
  g.out_dir = dir;
  g.symbols = files;
  g.trades = rows_per_file;
  g.years = 5;
  TICKFLOW_RETURN_IF_ERROR(importer::GenerateKrakenCsv(g));
  return {};
}

}  // namespace tickflow::cli::bench

namespace tickflow::cli {
namespace {

namespace fs = std::filesystem;
using namespace bench;

std::vector<fs::path> CsvFiles(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".csv") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

int BenchImport(const Args& a) {
  const std::string data = a.dir + "/import-csv";
  if (auto s = EnsureData(data, a.files, a.rows / static_cast<std::uint64_t>(a.files)); !s.ok()) return Fail(s.error());
  const auto files = CsvFiles(data);
  std::uint64_t bytes = 0;
  for (const auto& f : files) bytes += fs::file_size(f);
  std::vector<double> parse, ours, sqlite_cli;
  std::uint64_t rows = 0;
  for (int run = 0; run < a.runs; ++run) {
    // Baseline 1: bare CSV parsing (validation included, nothing stored), on every core.
    {
      std::atomic<std::size_t> next{0};
      std::atomic<std::uint64_t> parsed{0};
      const auto t0 = Clock::now();
      std::vector<std::thread> threads;
      for (unsigned t = 0; t < std::max(1u, std::thread::hardware_concurrency()); ++t) {
        threads.emplace_back([&] {
          for (std::size_t i = next++; i < files.size(); i = next++) {
            const int fd = ::open(files[i].c_str(), O_RDONLY);
            const auto size = fs::file_size(files[i]);
            void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
            ::close(fd);
            importer::CsvReader r(std::span<const char>(static_cast<const char*>(p), size));
            importer::CsvRow row;
            std::uint64_t n = 0;
            while (r.Next(&row) == importer::CsvReader::Status::kRow) ++n;
            ::munmap(p, size);
            parsed += n;
          }
        });
      }
      for (auto& t : threads) t.join();
      parse.push_back(static_cast<double>(parsed.load()) / Seconds(t0));
      rows = parsed.load();
    }
    // tickflow import into a fresh store.
    {
      const auto t0 = Clock::now();
      auto n = FreshImport(a.dir + "/import.db", data);
      if (!n.ok()) return Fail(n.error());
      ours.push_back(static_cast<double>(*n) / Seconds(t0));
    }
    // Baseline 2: sqlite3's own .import of the same CSVs into a plain table.
    {
      const std::string db = a.dir + "/sqlite-cli.db";
      fs::remove(db);
      const std::string script = a.dir + "/import.sql";
      std::ofstream sql(script);
      sql << "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\n"
          << "CREATE TABLE trades(ts REAL, price TEXT, volume TEXT);\n.mode csv\n";
      for (const auto& f : files) sql << ".import " << f.string() << " trades\n";
      sql.close();
      const auto t0 = Clock::now();
      const std::string cmd = "sqlite3 " + db + " < " + script + " > /dev/null";
      if (std::system(cmd.c_str()) != 0) return Fail("`" + cmd + "` failed: is the sqlite3 command installed?");
      sqlite_cli.push_back(static_cast<double>(rows) / Seconds(t0));
    }
    fmt::print("run {}: parse {}rows/s, tickflow import {}rows/s, sqlite3 .import {}rows/s\n", run + 1,
               Rate(parse.back()), Rate(ours.back()), Rate(sqlite_cli.back()));
  }
  const double m_ours = Median(ours), m_parse = Median(parse), m_cli = Median(sqlite_cli);
  fmt::print("\nimport of {} rows in {} files ({:.0f} MB), median of {} runs, {} threads:\n", Thousands(rows),
             files.size(), static_cast<double>(bytes) / 1e6, a.runs, std::thread::hardware_concurrency());
  fmt::print("| what | rows/s | tickflow import vs it |\n|---|---:|---:|\n");
  fmt::print("| tickflow import (validate, blocks, 1-min bars, commit) | {} | 1.00 |\n", Rate(m_ours));
  fmt::print("| bare CSV parse + validation, nothing stored | {} | {:.2f}x |\n", Rate(m_parse), m_ours / m_parse);
  fmt::print("| sqlite3 `.import` into a plain table | {} | {:.1f}x |\n", Rate(m_cli), m_ours / m_cli);
  return 0;
}

}  // namespace

// A store with one symbol of a.rows trades, shared by scan, bars, replay and nats.
Result<std::string> bench::ScanStore(const Args& a) {
  const std::string data = a.dir + "/scan-csv-" + std::to_string(a.rows);
  TICKFLOW_RETURN_IF_ERROR(EnsureData(data, 1, a.rows));
  const std::string db = a.dir + "/scan-" + std::to_string(a.rows) + ".db";
  if (!fs::exists(db)) {
    fmt::print("importing {} into {}\n", data, db);
    TICKFLOW_RETURN_IF_ERROR(FreshImport(db, data));
  }
  return db;
}

namespace {

struct ScanResult {
  std::uint64_t rows = 0;
  std::int64_t checksum = 0;
  double seconds = 0;
  double rss_growth_mib = 0;
};

Result<ScanResult> ScanStoreOnce(store::Store& s, store::TimeRange range) {
  const SymbolId ids[] = {1};
  const double rss0 = RssMiB();
  double rss_max = rss0;
  const auto t0 = Clock::now();
  TICKFLOW_ASSIGN_OR_RETURN(auto cursor, s.Trades(ids, range));
  ScanResult r;
  for (std::uint64_t batch = 0;; ++batch) {
    TICKFLOW_ASSIGN_OR_RETURN(const std::span<const Trade> view, cursor->NextView());
    if (view.empty()) break;
    for (const Trade& t : view) r.checksum += t.time.ns ^ t.price.raw() ^ t.volume.raw();
    r.rows += view.size();
    if (batch % 512 == 0) rss_max = std::max(rss_max, RssMiB());
  }
  r.seconds = Seconds(t0);
  r.rss_growth_mib = std::max(rss_max, RssMiB()) - rss0;
  return r;
}

int BenchScan(const Args& a) {
  auto db = ScanStore(a);
  if (!db.ok()) return Fail(db.error());
  auto store = OpenExistingStore(*db);
  if (!store.ok()) return Fail(store.error());
  // Baseline: the same three columns as flat int64 arrays in one file, mmap'd.
  const std::string flat = a.dir + "/scan-" + std::to_string(a.rows) + ".bin";
  auto first = ScanStoreOnce(**store, {});
  if (!first.ok()) return Fail(first.error());
  const std::uint64_t n = first->rows;
  if (!fs::exists(flat) || fs::file_size(flat) != n * 24) {
    std::vector<std::int64_t> cols(n * 3);
    const SymbolId ids[] = {1};
    auto cursor = (*store)->Trades(ids, {});
    std::vector<Trade> buf(4096);
    std::uint64_t k = 0;
    while (std::size_t got = cursor.value()->Next(buf).value()) {
      for (std::size_t i = 0; i < got; ++i, ++k) {
        cols[k] = buf[i].time.ns;
        cols[n + k] = buf[i].price.raw();
        cols[2 * n + k] = buf[i].volume.raw();
      }
    }
    std::ofstream out(flat, std::ios::binary);
    out.write(reinterpret_cast<const char*>(cols.data()), static_cast<std::streamsize>(cols.size() * 8));
  }
  std::vector<double> ours, mmap_rate, mmap_batches, rss_full, rss_quarter, rss_mmap;
  for (int run = 0; run < a.runs; ++run) {
    const int fd = ::open(flat.c_str(), O_RDONLY);
    const double rss0 = RssMiB();
    const auto t0 = Clock::now();
    void* p = ::mmap(nullptr, n * 24, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    const auto* c = static_cast<const std::int64_t*>(p);
    std::int64_t sum = 0;
    for (std::uint64_t i = 0; i < n; ++i) sum += c[i] ^ c[n + i] ^ c[2 * n + i];
    mmap_rate.push_back(static_cast<double>(n) / Seconds(t0));
    rss_mmap.push_back(RssMiB() - rss0);
    // The same columns handed out as Trade batches, as a cursor's consumer sees them.
    const auto t1 = Clock::now();
    std::vector<Trade> batch(4096);
    std::int64_t sum2 = 0;
    for (std::uint64_t begin = 0; begin < n; begin += batch.size()) {
      const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(batch.size(), n - begin));
      for (std::size_t i = 0; i < k; ++i) {
        batch[i] = Trade{UnixNanos{c[begin + i]}, Decimal::FromRaw(c[n + begin + i]), Decimal::FromRaw(c[2 * n + begin + i]), 1};
      }
      for (std::size_t i = 0; i < k; ++i) sum2 += batch[i].time.ns ^ batch[i].price.raw() ^ batch[i].volume.raw();
    }
    mmap_batches.push_back(static_cast<double>(n) / Seconds(t1));
    ::munmap(p, n * 24);
    if (sum2 != sum) return Fail("flat file batches disagree with the flat file");
    auto r = ScanStoreOnce(**store, {});
    if (!r.ok()) return Fail(r.error());
    if (r->checksum != sum) return Fail("store scan and flat file disagree: the benchmark data is inconsistent");
    ours.push_back(static_cast<double>(r->rows) / r->seconds);
    rss_full.push_back(r->rss_growth_mib);
    const auto info = (*store)->FindSymbol(SymbolId{1}).value();
    const UnixNanos quarter{info.first_time.ns + (info.last_time.ns - info.first_time.ns) / 4};
    auto q = ScanStoreOnce(**store, {info.first_time, quarter});
    if (!q.ok()) return Fail(q.error());
    rss_quarter.push_back(q->rss_growth_mib);
    fmt::print("run {}: flat mmap {}rows/s, flat mmap as Trade batches {}rows/s, store scan {}rows/s\n", run + 1,
               Rate(mmap_rate.back()), Rate(mmap_batches.back()), Rate(ours.back()));
  }
  fmt::print("\nscan of one symbol, {} trades, warm, median of {} runs:\n", Thousands(n), a.runs);
  fmt::print("| what | rows/s | store scan vs it | RSS growth during the scan |\n|---|---:|---:|---:|\n");
  fmt::print("| flat int64 columns, mmap, XOR-sum of the columns | {} | {:.0f} % | {:.0f} MiB |\n", Rate(Median(mmap_rate)),
             100 * Median(ours) / Median(mmap_rate), Median(rss_mmap));
  fmt::print("| flat int64 columns, mmap, as Trade batches of 4096 | {} | {:.0f} % | (same mapping) |\n",
             Rate(Median(mmap_batches)), 100 * Median(ours) / Median(mmap_batches));
  fmt::print("| tickflow store scan, whole symbol, zero-copy views of decoded blocks | {} | 100 % | {:.1f} MiB |\n",
             Rate(Median(ours)),
             Median(rss_full));
  fmt::print("| tickflow store scan, first quarter of the symbol | | | {:.1f} MiB |\n", Median(rss_quarter));
  return 0;
}

int BenchBars(const Args& a) {
  auto db = ScanStore(a);
  if (!db.ok()) return Fail(db.error());
  auto store = OpenExistingStore(*db);
  if (!store.ok()) return Fail(store.error());
  // Baseline table: the same trades as plain rows, for SQL.
  const std::string rows_db = a.dir + "/bars-rows-" + std::to_string(a.rows) + ".db";
  if (!fs::exists(rows_db)) {
    fmt::print("loading the trades into a plain SQLite row table {} (not timed)\n", rows_db);
    sqlite3* sdb = nullptr;
    sqlite3_open(rows_db.c_str(), &sdb);
    sqlite3_exec(sdb, "PRAGMA journal_mode=OFF; CREATE TABLE t(seq INTEGER PRIMARY KEY, ts INTEGER, price REAL, volume REAL); BEGIN",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt* ins = nullptr;
    sqlite3_prepare_v2(sdb, "INSERT INTO t VALUES(?, ?, ?, ?)", -1, &ins, nullptr);
    const SymbolId ids[] = {1};
    auto cursor = (*store)->Trades(ids, {});
    std::vector<Trade> buf(4096);
    std::int64_t seq = 0;
    while (std::size_t got = cursor.value()->Next(buf).value()) {
      for (std::size_t i = 0; i < got; ++i) {
        sqlite3_bind_int64(ins, 1, ++seq);
        sqlite3_bind_int64(ins, 2, buf[i].time.ns);
        sqlite3_bind_double(ins, 3, buf[i].price.ToDouble());
        sqlite3_bind_double(ins, 4, buf[i].volume.ToDouble());
        sqlite3_step(ins);
        sqlite3_reset(ins);
      }
    }
    sqlite3_finalize(ins);
    sqlite3_exec(sdb, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(sdb);
  }
  std::vector<double> cpp, stored, sql;
  std::uint64_t bars_cpp = 0, bars_sql = 0, trades = 0;
  for (int run = 0; run < a.runs; ++run) {
    {  // One C++ pass: store scan -> resampler.
      const SymbolId ids[] = {1};
      const auto t0 = Clock::now();
      auto cursor = (*store)->Trades(ids, {});
      bars::Resampler r(TimeResolution::kOneMinute);
      std::vector<Trade> buf(4096);
      Bar done;
      bars_cpp = 0;
      trades = 0;
      while (std::size_t got = cursor.value()->Next(buf).value()) {
        trades += got;
        for (std::size_t i = 0; i < got; ++i) bars_cpp += r.Add(buf[i], &done) == bars::AddStatus::kBarDone;
      }
      bars_cpp += r.Flush(&done);
      cpp.push_back(Seconds(t0));
    }
    {  // Reading the 1-minute bars materialised at import.
      const auto t0 = Clock::now();
      auto cursor = store::ReadBars(**store, 1, TimeResolution::kOneMinute, {});
      std::vector<Bar> buf(4096);
      while (cursor.value()->Next(buf).value() != 0) {
      }
      stored.push_back(Seconds(t0));
    }
    {  // SQL: GROUP BY minute, open/close from the first/last row of each group.
      sqlite3* sdb = nullptr;
      sqlite3_open(rows_db.c_str(), &sdb);
      const char* q =
          "WITH g AS (SELECT ts / 60000000000 AS m, MIN(price) AS lo, MAX(price) AS hi, SUM(volume) AS v, "
          "COUNT(*) AS n, MIN(seq) AS fs, MAX(seq) AS ls FROM t GROUP BY m) "
          "SELECT g.m, o.price, g.hi, g.lo, c.price, g.v, g.n FROM g JOIN t o ON o.seq = g.fs JOIN t c ON c.seq = g.ls";
      sqlite3_stmt* st = nullptr;
      const auto t0 = Clock::now();
      sqlite3_prepare_v2(sdb, q, -1, &st, nullptr);
      bars_sql = 0;
      while (sqlite3_step(st) == SQLITE_ROW) ++bars_sql;
      sql.push_back(Seconds(t0));
      sqlite3_finalize(st);
      sqlite3_close(sdb);
    }
    fmt::print("run {}: C++ pass {:.2f} s, stored 1-min bars {:.2f} s, SQL GROUP BY {:.2f} s\n", run + 1, cpp.back(),
               stored.back(), sql.back());
  }
  if (bars_cpp != bars_sql) {
    return Fail(fmt::format("C++ pass made {} bars but SQL {}: the comparison is not like for like", bars_cpp, bars_sql));
  }
  fmt::print("\n1-minute bars of {} trades ({} bars), median of {} runs:\n", Thousands(trades), Thousands(bars_cpp),
             a.runs);
  fmt::print("| what | seconds | speed-up vs SQL |\n|---|---:|---:|\n");
  fmt::print("| SQLite SQL GROUP BY over a row table | {:.2f} | 1.0x |\n", Median(sql));
  fmt::print("| tickflow: one C++ pass over the store scan | {:.2f} | {:.1f}x |\n", Median(cpp), Median(sql) / Median(cpp));
  fmt::print("| tickflow: read the 1-minute bars stored at import | {:.2f} | {:.1f}x |\n", Median(stored),
             Median(sql) / Median(stored));
  return 0;
}

int BenchReplay(const Args& a) {
  auto db = ScanStore(a);
  if (!db.ok()) return Fail(db.error());
  auto store = OpenExistingStore(*db);
  if (!store.ok()) return Fail(store.error());
  auto anchor = std::make_shared<std::pair<std::mutex, std::optional<PaceAnchor>>>();
  auto session = ReplaySession::Start(*db, 1, [anchor](gateway::GatewayOptions& o) {
    o.on_paced_start = [anchor](ClientId, RequestId, UnixNanos first, Clock::time_point due) {
      std::lock_guard lock(anchor->first);
      anchor->second = PaceAnchor{first, due};
    };
  });
  if (!session.ok()) return Fail(session.error());
  std::vector<double> scan, replay;
  std::uint64_t n = 0;
  for (int run = 0; run < a.runs; ++run) {
    auto bare = ScanStoreOnce(**store, {});
    if (!bare.ok()) return Fail(bare.error());
    scan.push_back(static_cast<double>(bare->rows) / bare->seconds);
    std::int64_t checksum = 0;
    std::uint64_t received = 0;
    client::Callbacks cb;
    cb.on_trade = [&](const client::TradeEvent& e) {
      checksum += e.trade.time.ns ^ e.trade.price.raw() ^ e.trade.volume.raw();
      ++received;
    };
    const auto t0 = Clock::now();
    auto stream = session->client->RequestTrades({.symbols = {1}}, cb);
    if (!stream.ok()) return Fail(stream.error());
    auto end = (*stream)->Wait(std::chrono::minutes(30));
    if (!end.ok()) return Fail(end.error());
    replay.push_back(static_cast<double>(received) / Seconds(t0));
    if (received != bare->rows || checksum != bare->checksum || end->missing != 0) {
      return Fail("the replay did not deliver exactly the stored trades");
    }
    n = received;
    fmt::print("run {}: bare store scan {}rows/s, replay to a client callback {}msgs/s\n", run + 1, Rate(scan.back()),
               Rate(replay.back()));
  }
  auto latency = PacedLatency(**store, *session->client, [anchor] {
    std::lock_guard lock(anchor->first);
    return anchor->second;
  });
  if (!latency.ok()) return Fail(latency.error());
  fmt::print("\nend-to-end replay of {} trades of one symbol, in one process, median of {} runs:\n", Thousands(n), a.runs);
  fmt::print("| what | msgs/s | replay vs it |\n|---|---:|---:|\n");
  fmt::print("| bare store scan (Trade batches) | {} | {:.0f} % |\n", Rate(Median(scan)), 100 * Median(replay) / Median(scan));
  fmt::print("| store -> gateway -> SBE frames -> in-process bus -> client decode -> callback | {} | 100 % |\n",
             Rate(Median(replay)));
  fmt::print("\npaced replay at 600x real time, {} trades: latency from due time to callback: p50 {:.0f} us, p99 {:.0f} us, "
             "max {:.0f} us\n",
             Thousands(latency->count), latency->p50, latency->p99, latency->max);
  return 0;
}

// A sweep of 1, 10 and 100 sma-cross configurations in one replay each, against
// one plain backtest in the same run: time and the process's resident memory.
int BenchSweep(const Args& a) {
  auto db = ScanStore(a);
  if (!db.ok()) return Fail(db.error());
  auto session = ReplaySession::Start(*db);
  if (!session.ok()) return Fail(session.error());
  const backtest::StrategyInfo* sma = backtest::FindStrategy("sma-cross");
  const backtest::ExecutionModel model{"conservative", backtest::FillRule::kConservative, {}};
  const unsigned workers = std::max(1u, std::thread::hardware_concurrency());
  std::uint64_t n = 0;
  const auto run = [&](std::size_t configs) -> Result<double> {
    std::vector<backtest::RunSpec> specs;
    if (configs > 0) {
      TICKFLOW_ASSIGN_OR_RETURN(auto trials, research::RandomTrials(*sma, {"fast=2:50", "slow=51:400"}, configs, 1));
      for (const auto& t : trials) specs.push_back({t.label, [sma, p = t.params] { return sma->make(p); }, model});
    }
    const auto t0 = Clock::now();
    std::optional<backtest::ThreadedBacktester> bt;
    if (configs == 0) {
      backtest::BacktestOptions o;
      o.models = {model};
      bt.emplace([sma] { return sma->make(backtest::Parameters::Bind("sma-cross", sma->params, {}).value()); }, o);
    } else {
      bt.emplace(std::move(specs), backtest::BacktestOptions{}, workers, backtest::ThreadedBacktester::Options{});
    }
    Status failure;
    client::Callbacks cb;
    cb.on_trade = [&](const client::TradeEvent& e) {
      if (failure.ok()) {
        if (Status s = bt->OnTrade(e.trade); !s.ok()) failure = std::move(s);
      }
    };
    TICKFLOW_ASSIGN_OR_RETURN(auto stream, session->client->RequestTrades({.symbols = {1}}, cb));
    TICKFLOW_ASSIGN_OR_RETURN(auto end, stream->Wait(std::chrono::hours(2)));
    TICKFLOW_RETURN_IF_ERROR(failure);
    TICKFLOW_ASSIGN_OR_RETURN(auto results, bt->Finish());
    n = end.received;
    if (results.runs.size() != std::max<std::size_t>(1, configs)) return MakeError(ErrorCode::kInternal, "the sweep lost runs");
    return Seconds(t0);
  };
  struct Row {
    const char* label;
    std::size_t configs;
    std::vector<double> secs;
    double rss = 0;
  };
  std::vector<Row> rows = {{"one backtest (1 configuration, ThreadedBacktester)", 0, {}},
                           {"sweep of 1 configuration", 1, {}},
                           {"sweep of 10 configurations", 10, {}},
                           {"sweep of 100 configurations", 100, {}}};
  for (int r = 0; r < a.runs; ++r) {
    std::string line = fmt::format("run {}:", r + 1);
    for (Row& row : rows) {
      auto secs = run(row.configs);
      if (!secs.ok()) return Fail(secs.error());
      row.secs.push_back(*secs);
      row.rss = std::max(row.rss, RssMiB("self"));
      line += fmt::format(" {:.2f} s", *secs);
    }
    fmt::print("{}\n", line);
  }
  fmt::print("\nsweeps of sma-cross (random fast 2..50, slow 51..400, conservative model) over {} trades of one symbol, "
             "{} worker threads, median of {} runs:\n",
             Thousands(n), workers, a.runs);
  fmt::print("| what | seconds | vs one backtest | RSS after (MiB) |\n|---|---:|---:|---:|\n");
  const double base = Median(rows[0].secs);
  for (const Row& row : rows) {
    fmt::print("| {} | {:.2f} | {:.1f}x | {:.0f} |\n", row.label, Median(row.secs), Median(row.secs) / base, row.rss);
  }
  return 0;
}

// Backtest events/s against pure replay of the same trades in the same run (the
// cheapest consumer: a callback counting the client's trade batches): each
// strategy with one execution model on the client's data thread, then on its own
// thread (ThreadedBacktester) with one model and with all three (optimistic,
// conservative, latency) in one pass; and per-trade callbacks for comparison.
int BenchBacktest(const Args& a) {
  auto db = ScanStore(a);
  if (!db.ok()) return Fail(db.error());
  auto session = ReplaySession::Start(*db);
  if (!session.ok()) return Fail(session.error());
  backtest::ExecutionModel delayed{"latency", backtest::FillRule::kConservative, {}};
  delayed.latency.order_entry = std::chrono::milliseconds(50);
  const std::vector<backtest::ExecutionModel> one = {{"optimistic", backtest::FillRule::kTouch, {}}};
  const std::vector<backtest::ExecutionModel> all = {one[0], {"conservative", backtest::FillRule::kConservative, {}},
                                                     delayed};
  struct Case {
    const char* label;
    backtest::StrategyFactory make;  // empty: pure replay
    const std::vector<backtest::ExecutionModel>* models;
    bool threaded;
    bool batched;  // Callbacks::on_trades, else on_trade
    std::vector<double> rates;
    std::vector<double> cpu_ns;  // process CPU time (all threads) per event
  };
  const backtest::StrategyFactory breakout = [] { return std::make_unique<backtest::BreakoutStrategy>(); };
  const backtest::StrategyFactory sma = [] { return std::make_unique<backtest::SmaCrossStrategy>(); };
  std::vector<Case> cases = {
      {"pure replay to a counting callback (trade batches)", {}, nullptr, false, true, {}, {}},
      {"pure replay to a counting callback (one call per trade)", {}, nullptr, false, false, {}, {}},
      {"breakout, 1 model, on the data thread", breakout, &one, false, true, {}, {}},
      {"breakout, 1 model, own thread", breakout, &one, true, true, {}, {}},
      {"breakout, 1 model, own thread, one call per trade", breakout, &one, true, false, {}, {}},
      {"breakout, 3 models in one pass, own thread", breakout, &all, true, true, {}, {}},
      {"sma-cross (daily bars), 1 model, on the data thread", sma, &one, false, true, {}, {}},
      {"sma-cross (daily bars), 1 model, own thread", sma, &one, true, true, {}, {}},
      {"sma-cross (daily bars), 3 models in one pass, own thread", sma, &all, true, true, {}, {}}};
  cases.erase(
      std::remove_if(cases.begin() + 1, cases.end(),  // the first, the baseline, always runs
                     [&](const Case& c) { return std::string_view(c.label).find(a.only) == std::string_view::npos; }),
      cases.end());
  if (cases.size() == 1) return Fail(MakeError(ErrorCode::kInvalidArgument, "--only '" + a.only + "' matches no case"));
  std::uint64_t n = 0;
  double cpu_ns = 0;  // the last run's
  const auto run = [&](const Case& c) -> Result<double> {
    std::optional<backtest::Backtester> bt;
    std::optional<backtest::ThreadedBacktester> threaded;
    const std::clock_t cpu0 = std::clock();
    const auto t0 = Clock::now();
    if (c.make) {
      backtest::BacktestOptions options;
      options.models = *c.models;
      if (c.threaded) {
        threaded.emplace(c.make, options);
      } else {
        bt.emplace(c.make, options);
      }
    }
    std::uint64_t events = 0;
    Status failure;
    client::Callbacks cb;
    if (c.batched) {  // a frame's trades in one call (client::Callbacks::on_trades)
      cb.on_trades = [&](const client::TradeBatch& b) {
        events += b.trades.size();
        if (!failure.ok()) return;
        if (bt) {
          if (Status s = bt->OnTrades(b.trades); !s.ok()) failure = std::move(s);
        } else if (threaded) {
          if (Status s = threaded->OnTrades(b.trades); !s.ok()) failure = std::move(s);
        }
      };
    } else {
      cb.on_trade = [&](const client::TradeEvent& e) {
        ++events;
        if (!failure.ok()) return;
        if (bt) {
          if (Status s = bt->OnTrade(e.trade); !s.ok()) failure = std::move(s);
        } else if (threaded) {
          if (Status s = threaded->OnTrade(e.trade); !s.ok()) failure = std::move(s);
        }
      };
    }
    TICKFLOW_ASSIGN_OR_RETURN(auto stream, session->client->RequestTrades({.symbols = {1}}, cb));
    TICKFLOW_RETURN_IF_ERROR(stream->Wait(std::chrono::minutes(30)));
    if (bt) {
      auto r = bt->Finish();
      TICKFLOW_RETURN_IF_ERROR(r);
    }
    if (threaded) {  // the time includes draining the queue: the whole backtest
      auto r = threaded->Finish();
      TICKFLOW_RETURN_IF_ERROR(r);
    }
    TICKFLOW_RETURN_IF_ERROR(failure);
    n = events;
    const double secs = Seconds(t0);
    cpu_ns = 1e9 * static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC /
             static_cast<double>(std::max<std::uint64_t>(events, 1));
    return static_cast<double>(events) / secs;
  };
  for (int r = 0; r < a.runs; ++r) {
    // Each run starts at another case: the first of a run measured slower than
    // the same case later on (a cold start), which must not fall on one case.
    std::string line = fmt::format("run {}:", r + 1);
    for (std::size_t k = 0; k < cases.size(); ++k) {
      Case& c = cases[(k + static_cast<std::size_t>(r)) % cases.size()];
      auto rate = run(c);
      if (!rate.ok()) return Fail(rate.error());
      c.rates.push_back(*rate);
      c.cpu_ns.push_back(cpu_ns);
      line += fmt::format(" {}: {}events/s;", c.label, Rate(*rate));
    }
    fmt::print("{}\n", line);
  }
  // Each run's ratio against that run's replay, then the median: on a shared
  // machine the replay alone varied 11-50 M events/s between runs minutes apart.
  fmt::print("\nbacktest of {} trades of one symbol (replayed through the gateway), median of {} runs:\n", Thousands(n),
             a.runs);
  fmt::print(
      "| what | events/s | vs replay in the same run (median; min..max) | CPU ns/event (all threads) |\n"
      "|---|---:|---:|---:|\n");
  for (const Case& c : cases) {
    std::vector<double> ratios;
    for (std::size_t r = 0; r < c.rates.size(); ++r) ratios.push_back(100 * c.rates[r] / cases[0].rates[r]);
    fmt::print("| {} | {} | {:.0f} % ({:.0f}..{:.0f}) | {:.0f} |\n", c.label, Rate(Median(c.rates)), Median(ratios),
               *std::min_element(ratios.begin(), ratios.end()), *std::max_element(ratios.begin(), ratios.end()),
               Median(c.cpu_ns));
  }
  return 0;
}

}  // namespace

Command AddBench(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "bench", "Measure import, scan, bars, replay, backtest and sweep speed against baselines in the same run");
  cmd->footer(
      "  import  tickflow import vs bare CSV parsing and vs sqlite3's .import (--files files, --rows in total)\n"
      "  scan    one symbol's store scan vs the same columns in a flat mmap'd file, with RSS\n"
      "  bars    1-minute bars of --rows trades: C++ pass vs SQLite GROUP BY\n"
      "  replay  store -> gateway -> bus -> client callback vs the bare store scan; paced latency p50/p99\n"
      "  backtest backtest events/s (breakout, sma-cross) vs pure replay of the same trades\n"
      "  sweep   sweeps of 1, 10, 100 sma-cross configurations in one replay vs one backtest: time, RSS\n"
      "  nats    gateway process -> nats-server -> client vs raw nats.c pub/sub of the same frames; latency; RSS\n"
      "          of gateway and nats-server while a client reads 10x slower than the gateway can send\n"
      "  clickhouse  the ClickHouse backend (--clickhouse URL; scripts/clickhouse.sh start DIR first): import vs\n"
      "          SQLite and vs ClickHouse's own CSV insert; replay vs SQLite; 1-minute bars, server-side SQL vs C++\n"
      "Data is generated once under --dir and reused. Reports medians of --runs and ratios.");
  auto a = std::make_shared<Args>();
  cmd->add_option("WHAT", a->what, "import, scan, bars, replay, backtest, sweep, nats, clickhouse or scale")
      ->required()
      ->check(CLI::IsMember({"import", "scan", "bars", "replay", "backtest", "sweep", "nats", "clickhouse", "scale"}));
  cmd->add_option("--dir", a->dir, "Working folder for data and stores")->capture_default_str();
  cmd->add_option("--rows", a->rows, "Trades in total")->capture_default_str();
  cmd->add_option("--files", a->files, "Files for the import benchmark")->capture_default_str();
  cmd->add_option("--runs", a->runs, "Repetitions; the median is reported")->capture_default_str();
  cmd->add_option("--only", a->only,
                  "bench backtest: run only the cases whose label contains this text, e.g. \"breakout, 1 model, own\" "
                  "(the replay baseline always runs)");
  cmd->add_option("--clickhouse", a->clickhouse, "ClickHouse server for `bench clickhouse` (its databases bench_* are replaced)")
      ->capture_default_str();
  cmd->add_option("--sizes", a->sizes, "bench scale: comma-separated totals of trades, smallest first")
      ->capture_default_str();
  cmd->add_option("--markets", a->markets, "bench scale: markets to generate")
      ->capture_default_str()
      ->check(CLI::Range(1, 20000));
  return {cmd, [a] {
            std::error_code ec;
            fs::create_directories(a->dir, ec);
            if (a->what == "import") return BenchImport(*a);
            if (a->what == "scan") return BenchScan(*a);
            if (a->what == "replay") return BenchReplay(*a);
            if (a->what == "backtest") return BenchBacktest(*a);
            if (a->what == "sweep") return BenchSweep(*a);
            if (a->what == "nats") return BenchNats(*a);
            if (a->what == "clickhouse") return BenchClickHouse(*a);
            if (a->what == "scale") return BenchScale(*a);
            return BenchBars(*a);
          }};
}

}  // namespace tickflow::cli
