// The ClickHouse backend (docs/storage.md#the-clickhouse-store). Rows travel as
// RowBinary over HTTP. Prices and volumes are stored as the Decimal bits, so
// they come back exactly as written.
//
// Atomicity without transactions: every trade carries its per-symbol sequence
// number and every 1-minute bar the import version that wrote it. An import
// inserts its rows past the committed watermark (seq >= trade_count, version >
// the symbol's version), where readers do not look, and commits by inserting
// one row into `imports` that moves the watermark. A failed import's rows are
// removed (ALTER TABLE ... DELETE) when it is abandoned, and again before the
// next import of the symbol if a crash left them behind.
#include "clickhouse_store.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "tickflow/store/clickhouse.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <future>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "clickhouse_http.hpp"
#include "validate.hpp"
#include "minute_bars.hpp"

namespace tickflow::store::detail {
namespace {

// 2 added bars_1m.volume_high (bar volumes are 128-bit WideDecimals).
constexpr int kSchemaVersion = 2;
constexpr std::size_t kInsertRows = 1 << 18;   // trades per INSERT (one part each; sent while the next are encoded)
constexpr std::size_t kInsertBars = 1 << 16;   // bars per INSERT
constexpr std::uint64_t kFirstPageRows = 16384;  // small, so the first trade comes quickly
constexpr std::uint64_t kPageRows = 1 << 19;       // what a page aims at
constexpr std::uint64_t kMaxPageTrades = 1 << 20;  // what a page of trades may hold, whatever the data

// Writer leases (one import at a time): a row per grant or renewal, and one to release.
std::string LeaseTable(const std::string& db) {
  return "CREATE TABLE IF NOT EXISTS " + db +
         ".writer_leases (token String, holder String, expires DateTime, released UInt8, host String, pid UInt32) "
         "ENGINE = MergeTree() ORDER BY token";
}

// The tables that hold data: on a cluster, each is a Distributed table over
// `NAME_local` tables on every shard, sharded by symbol (all of a symbol on one
// shard, so its pages come from one shard and its seq run stays contiguous).
struct DataTable {
  const char* name;
  const char* columns;
  const char* order_by;
};
constexpr DataTable kDataTables[] = {
    {"trades", "symbol_id UInt16, ts Int64, seq UInt64, price Int64, volume Int64", "symbol_id, ts, seq"},
    {"bars_1m",
     "symbol_id UInt16, ts Int64, version UInt32, open Int64, high Int64, low Int64, close Int64, volume Int64, "
     "trades UInt64, volume_high Int64 DEFAULT 0",
     "symbol_id, ts, version"},
    {"imports",
     "symbol_id UInt16, version UInt32, exchange_id UInt8, symbol String, base String, quote String, first_ts Int64, "
     "last_ts Int64, trade_count UInt64, price_scale UInt8, volume_scale UInt8, file_name String, file_size UInt64, "
     "file_hash UInt64, file_rows UInt64, imported_at DateTime",
     "symbol_id, version"},
};

std::string CreateTable(const std::string& db, const DataTable& t, std::string_view suffix, const std::string& engine) {
  return "CREATE TABLE IF NOT EXISTS " + db + "." + t.name + std::string(suffix) + " (" + t.columns +
         ") ENGINE = " + engine;
}
std::string MergeTreeTable(const std::string& db, const DataTable& t, std::string_view suffix = {}) {
  return CreateTable(db, t, suffix, "MergeTree() ORDER BY (" + std::string(t.order_by) + ")");
}

// One statement per request (the HTTP interface runs one). On a cluster, the
// coordination tables (tickflow_meta, writer_leases) live on the node of the URL.
std::vector<std::string> SchemaStatements(const std::string& db, const std::string& cluster) {
  std::vector<std::string> out = {
      "CREATE DATABASE IF NOT EXISTS " + db,
      "CREATE TABLE IF NOT EXISTS " + db + ".tickflow_meta (key String, value String) ENGINE = TinyLog",
  };
  for (const DataTable& t : kDataTables) {
    out.push_back(
        cluster.empty()
            ? MergeTreeTable(db, t)
            : CreateTable(db, t, {}, "Distributed(" + cluster + ", " + db + ", " + t.name + "_local, symbol_id)"));
  }
  out.push_back(LeaseTable(db));
  // The latest committed state of each symbol, for plain SQL.
  out.push_back(
      "CREATE VIEW IF NOT EXISTS " + db +
      ".symbols AS SELECT symbol_id, argMax(exchange_id, version) AS exchange, argMax(symbol, version) AS name, "
      "argMax(first_ts, version) AS first_time, argMax(last_ts, version) AS last_time, "
      "argMax(trade_count, version) AS trades, argMax(price_scale, version) AS price_digits, "
      "argMax(volume_scale, version) AS volume_digits, max(version) AS imports_count FROM " +
      db + ".imports GROUP BY symbol_id");
  return out;
}

// What each shard of a cluster holds: the data tables, named NAME_local.
std::vector<std::string> ShardSchemaStatements(const std::string& db) {
  std::vector<std::string> out = {"CREATE DATABASE IF NOT EXISTS " + db};
  for (const DataTable& t : kDataTables) out.push_back(MergeTreeTable(db, t, "_local"));
  return out;
}

// RowBinary: little-endian fixed-width integers, strings as varint length + bytes.
class RowWriter {
 public:
  explicit RowWriter(std::string* out) : out_(out) {}
  template <class T>
  RowWriter& Put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out_->append(b, sizeof(T));
    return *this;
  }
  RowWriter& Str(std::string_view s) {
    std::uint64_t n = s.size();
    do {
      out_->push_back(static_cast<char>((n & 0x7F) | (n > 0x7F ? 0x80 : 0)));
      n >>= 7;
    } while (n != 0);
    out_->append(s);
    return *this;
  }

 private:
  std::string* out_;
};

class RowReader {
 public:
  explicit RowReader(std::string_view in) : in_(in) {}
  bool done() const { return in_.empty(); }
  template <class T>
  bool Get(T* v) {
    if (in_.size() < sizeof(T)) return false;
    std::memcpy(v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return true;
  }
  bool Str(std::string* s) {
    std::uint64_t n = 0;
    for (int shift = 0;; shift += 7) {
      if (in_.empty() || shift > 63) return false;
      const auto c = static_cast<unsigned char>(in_.front());
      in_.remove_prefix(1);
      n |= static_cast<std::uint64_t>(c & 0x7F) << shift;
      if ((c & 0x80) == 0) break;
    }
    if (n > in_.size()) return false;
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }

 private:
  std::string_view in_;
};

// A symbol's committed state: what readers may see.
struct Committed {
  SymbolInfo info;
  std::uint32_t version = 0;  // imports committed; 0 = none
};

constexpr const char* kSymbolAggregates =
    "SELECT symbol_id, argMax(exchange_id, version), argMax(symbol, version), argMax(base, version), "
    "argMax(quote, version), argMax(first_ts, version), argMax(last_ts, version), argMax(trade_count, version), "
    "argMax(price_scale, version), argMax(volume_scale, version), max(version) FROM ";

Result<std::vector<Committed>> ParseSymbols(const std::string& body) {
  std::vector<Committed> out;
  RowReader r(body);
  while (!r.done()) {
    Committed c;
    std::uint8_t exchange = 0, ps = 0, vs = 0;
    std::uint64_t count = 0;
    if (!r.Get(&c.info.id) || !r.Get(&exchange) || !r.Str(&c.info.symbol) || !r.Str(&c.info.base) ||
        !r.Str(&c.info.quote) || !r.Get(&c.info.first_time.ns) || !r.Get(&c.info.last_time.ns) || !r.Get(&count) ||
        !r.Get(&ps) || !r.Get(&vs) || !r.Get(&c.version)) {
      return MakeError(ErrorCode::kCorrupt, "ClickHouse returned a truncated symbol row");
    }
    c.info.exchange = exchange;
    c.info.trade_count = count;
    c.info.price_scale = ps;
    c.info.volume_scale = vs;
    out.push_back(std::move(c));
  }
  return out;
}

// Reads one symbol's rows in time order by pages over key ranges
// [lo, hi) of ts, sized from the rows the last page held, without an ORDER BY
// over the whole symbol (ClickHouse 18.16 would sort the entire result before
// sending its first byte). `Page` fetches one range into a vector, in order,
// and says where the next range starts: `hi`, or earlier when it stopped at
// its row limit (memory stays bounded however bursty the data).
template <class Row, class Page>
class KeyRangeCursor final : public RowCursor<Row> {
 public:
  KeyRangeCursor(Page page, UnixNanos begin, UnixNanos end, std::int64_t first_width,
                 std::int64_t max_width = INT64_MAX)
      : page_(std::move(page)), lo_(begin), end_(end), width_(std::clamp<std::int64_t>(first_width, 1, max_width)),
        max_width_(max_width) {}

  Result<std::size_t> Next(std::span<Row> out) override {
    std::size_t n = 0;
    while (n < out.size()) {
      TICKFLOW_RETURN_IF_ERROR(Fill());
      if (pos_ == rows_.size()) break;
      const std::size_t k = std::min(out.size() - n, rows_.size() - pos_);
      std::copy_n(rows_.begin() + static_cast<std::ptrdiff_t>(pos_), k, out.begin() + static_cast<std::ptrdiff_t>(n));
      pos_ += k;
      n += k;
    }
    return n;
  }

  Result<std::span<const Row>> NextView() override {
    TICKFLOW_RETURN_IF_ERROR(Fill());
    const std::span<const Row> out(rows_.data() + pos_, rows_.size() - pos_);
    pos_ = rows_.size();
    return out;
  }

 private:
  // Takes pages until one has rows or the range is done. The next page is
  // always being fetched (on its own thread and connection) while the caller
  // consumes the current one.
  Status Fill() {
    while (pos_ == rows_.size() && (pending_.valid() || lo_ < end_)) {
      if (!pending_.valid()) Launch();
      TICKFLOW_RETURN_IF_ERROR(pending_.get());
      lo_ = resume_;
      std::swap(rows_, next_);
      pos_ = 0;
      // Aim later pages at kPageRows, growing at most 8x and shrinking at most 8x a step.
      const auto got = static_cast<double>(rows_.size());
      const double scale = got == 0 ? 8.0 : std::clamp(static_cast<double>(kPageRows) / got, 0.125, 8.0);
      width_ = std::clamp<std::int64_t>(
          static_cast<std::int64_t>(std::min(static_cast<double>(width_) * scale, static_cast<double>(max_width_))), 1,
          max_width_);
      if (lo_ < end_) Launch();
    }
    return {};
  }
  void Launch() {
    const UnixNanos lo = lo_;
    const UnixNanos hi{end_.ns - lo.ns <= width_ ? end_.ns : lo.ns + width_};
    next_.clear();
    pending_ = std::async(std::launch::async, [this, lo, hi] { return page_.Fetch(lo, hi, &next_, &resume_); });
  }

  Page page_;
  UnixNanos lo_, end_;  // lo_: where the next range to fetch starts
  UnixNanos resume_;    // set by the page being fetched
  std::int64_t width_, max_width_;
  std::vector<Row> rows_, next_;
  std::size_t pos_ = 0;
  std::future<Status> pending_;  // fills next_; waited for by the destructor
};

// Trades of one symbol with seq below the committed count. Seqs are dense and
// never go back in time, so the trades from a time on are the seqs from the
// count of those before it: a page asks for a key range and for the next at
// most kMaxPageTrades seqs, places the rows by seq without sorting, and a run
// that does not start where the previous page ended, or has a duplicate, is
// reported as corrupt rather than passed on.
class TradePage {
 public:
  TradePage(std::unique_ptr<ClickHouseHttp> http, std::string table, const SymbolInfo& info)
      : http_(std::move(http)), table_(std::move(table)), symbol_(info.id), count_(info.trade_count),
        first_time_(info.first_time), limits_(LimitsOf(info)) {}

  Status Fetch(UnixNanos lo, UnixNanos hi, std::vector<Trade>* rows, UnixNanos* resume) {
    *resume = hi;
    const std::string symbol = "symbol_id = " + std::to_string(symbol_);
    if (next_seq_ == UINT64_MAX) {  // the first page: the seq of the first trade at or after lo
      next_seq_ = 0;
      if (lo > first_time_) {
        TICKFLOW_RETURN_IF_ERROR(http_->Query("SELECT count() FROM " + table_ + " WHERE " + symbol + " AND ts < " +
                                                  std::to_string(lo.ns) + " AND seq < " + std::to_string(count_),
                                              &body_));
        next_seq_ = std::strtoull(body_.c_str(), nullptr, 10);
      }
    }
    if (next_seq_ >= count_) {  // every trade delivered
      *resume = UnixNanos::Max();
      return {};
    }
    const std::uint64_t until = std::min(count_, next_seq_ + kMaxPageTrades);
    TICKFLOW_RETURN_IF_ERROR(http_->Query("SELECT seq, ts, price, volume FROM " + table_ + " WHERE " + symbol +
                                              " AND ts >= " + std::to_string(lo.ns) + " AND ts < " +
                                              std::to_string(hi.ns) + " AND seq >= " + std::to_string(next_seq_) +
                                              " AND seq < " + std::to_string(until) + " FORMAT RowBinary",
                                          &body_));
    constexpr std::size_t kRow = 32;
    if (body_.size() % kRow != 0) return Corrupt("a truncated page");
    const std::size_t n = body_.size() / kRow;
    if (n == 0) return {};
    rows->assign(n, Trade{});
    for (std::size_t i = 0; i < n; ++i) {
      const char* p = body_.data() + i * kRow;
      std::uint64_t seq;
      std::int64_t ts, price, volume;
      std::memcpy(&seq, p, 8);
      std::memcpy(&ts, p + 8, 8);
      std::memcpy(&price, p + 16, 8);
      std::memcpy(&volume, p + 24, 8);
      // n rows, each in its own slot of [next_seq_, next_seq_ + n): none missing, none doubled.
      const std::uint64_t at = seq - next_seq_;
      if (seq < next_seq_ || at >= n || (*rows)[at].symbol != 0) {
        return Corrupt("trade sequence numbers not contiguous from " + std::to_string(next_seq_) + " at " +
                       FormatIso8601(UnixNanos{ts}));
      }
      (*rows)[at] = Trade{UnixNanos{ts}, Decimal::FromRaw(price), Decimal::FromRaw(volume), symbol_};
    }
    if (const std::string bad = CheckTrades(*rows, limits_); !bad.empty()) return Corrupt(bad);
    next_seq_ += n;
    // At the seq limit with trades left: the range goes on from the last trade's time.
    if (next_seq_ == until && until < count_) *resume = rows->back().time;
    return {};
  }

 private:
  Error Corrupt(const std::string& what) const {
    return MakeError(ErrorCode::kCorrupt, "ClickHouse " + table_ + ", symbol " + std::to_string(symbol_) + ": " + what);
  }

  std::unique_ptr<ClickHouseHttp> http_;
  std::string table_;
  SymbolId symbol_;
  std::uint64_t count_;
  UnixNanos first_time_;
  ValueLimits limits_;
  std::uint64_t next_seq_ = UINT64_MAX;  // unknown until the first page
  std::string body_;
};

// 1-minute bars of one symbol up to the committed version; a minute written
// by several imports (split across them) keeps its latest version.
class BarPage {
 public:
  BarPage(std::unique_ptr<ClickHouseHttp> http, std::string table, const SymbolInfo& info, std::uint32_t version)
      : http_(std::move(http)), table_(std::move(table)), symbol_(info.id), version_(version),
        limits_(LimitsOf(info)) {}

  Status Fetch(UnixNanos lo, UnixNanos hi, std::vector<Bar>* rows, UnixNanos* resume) {
    *resume = hi;
    TICKFLOW_RETURN_IF_ERROR(http_->Query(
        "SELECT ts, version, open, high, low, close, volume, trades, volume_high FROM " + table_ + " WHERE symbol_id = " +
            std::to_string(symbol_) + " AND ts >= " + std::to_string(lo.ns) + " AND ts < " + std::to_string(hi.ns) +
            " AND version <= " + std::to_string(version_) + " FORMAT RowBinary",
        &body_));
    constexpr std::size_t kRow = 68;
    if (body_.size() % kRow != 0) {
      return MakeError(ErrorCode::kCorrupt, "ClickHouse " + table_ + ": a truncated page of bars");
    }
    versioned_.clear();
    for (std::size_t i = 0; i < body_.size(); i += kRow) {
      const char* p = body_.data() + i;
      Versioned v;
      std::int64_t f[5];
      std::memcpy(&v.bar.time.ns, p, 8);
      std::memcpy(&v.version, p + 8, 4);
      std::memcpy(f, p + 12, 40);
      std::memcpy(&v.bar.trades, p + 52, 8);
      std::int64_t volume_high;
      std::memcpy(&volume_high, p + 60, 8);
      v.bar.open = Decimal::FromRaw(f[0]);
      v.bar.high = Decimal::FromRaw(f[1]);
      v.bar.low = Decimal::FromRaw(f[2]);
      v.bar.close = Decimal::FromRaw(f[3]);
      v.bar.volume = WideDecimal::FromHalves(static_cast<std::uint64_t>(f[4]), volume_high);
      versioned_.push_back(v);
    }
    std::sort(versioned_.begin(), versioned_.end(), [](const Versioned& a, const Versioned& b) {
      return a.bar.time != b.bar.time ? a.bar.time < b.bar.time : a.version < b.version;
    });
    const std::size_t first = rows->size();
    for (std::size_t i = 0; i < versioned_.size(); ++i) {
      if (i + 1 < versioned_.size() && versioned_[i + 1].bar.time == versioned_[i].bar.time) continue;
      rows->push_back(versioned_[i].bar);
    }
    if (const std::string bad = CheckBars(std::span<const Bar>(*rows).subspan(first), limits_); !bad.empty()) {
      return MakeError(ErrorCode::kCorrupt, "ClickHouse " + table_ + ", symbol " + std::to_string(symbol_) + ": " + bad);
    }
    return {};
  }

 private:
  struct Versioned {
    Bar bar;
    std::uint32_t version = 0;
  };
  std::unique_ptr<ClickHouseHttp> http_;
  std::string table_;
  SymbolId symbol_;
  std::uint32_t version_;
  ValueLimits limits_;
  std::string body_;
  std::vector<Versioned> versioned_;
};

// Sends INSERTs on its own thread and connection, one in flight, so that the
// importer encodes the next rows while ClickHouse takes the last ones.
class AsyncInserter {
 public:
  explicit AsyncInserter(std::unique_ptr<ClickHouseHttp> http) : http_(std::move(http)) {}
  ~AsyncInserter() { (void)Wait(); }
  // Takes `rows` (leaving it empty, its buffer reused) once the previous send is done.
  Status Send(std::string sql, std::string* rows) {
    TICKFLOW_RETURN_IF_ERROR(Wait());
    sql_ = std::move(sql);
    std::swap(body_, *rows);
    rows->clear();
    pending_ = std::async(std::launch::async, [this] { return http_->Insert(sql_, body_); });
    return {};
  }
  Status Wait() { return pending_.valid() ? pending_.get() : Status(); }

 private:
  std::unique_ptr<ClickHouseHttp> http_;
  std::string sql_, body_;
  std::future<Status> pending_;
};

// A lease in `writer_leases`: ClickHouse has no locks or compare-and-set, so
// a writer inserts its claim and then reads every live claim. Inserts are
// visible once acknowledged, so of two writers that overlap, the later reader
// always sees the other's claim: a writer that sees only its own claim holds
// the store; one that sees another withdraws (and, when both withdrew, tries
// again after a random pause). A claim expires kLeaseSeconds after its last
// renewal; a claim of a process on this host that no longer exists (killed)
// is ignored at once.
class ClickHouseLease final : public WriterLock {
 public:
  static Result<std::unique_ptr<WriterLock>> Acquire(const ClickHouseUrl& url, std::string_view holder) {
    TICKFLOW_ASSIGN_OR_RETURN(auto http, ClickHouseHttp::Connect(url));
    const std::string db = url.database;
    TICKFLOW_RETURN_IF_ERROR(http->Execute(LeaseTable(db)));
    std::random_device rd;
    std::mt19937_64 rng((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
    std::string other;
    for (int attempt = 0; attempt < 5; ++attempt) {
      char token[33];
      std::snprintf(token, sizeof token, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                    static_cast<unsigned long long>(rng()));
      auto lease = std::unique_ptr<ClickHouseLease>(new ClickHouseLease(std::move(http), db, token, holder));
      TICKFLOW_RETURN_IF_ERROR(lease->Claim(*lease->http_, /*released=*/false));
      TICKFLOW_ASSIGN_OR_RETURN(other, LiveHolder(*lease->http_, db, token));
      if (other.empty()) {
        lease->StartRenewing(url);
        return std::unique_ptr<WriterLock>(std::move(lease));
      }
      TICKFLOW_RETURN_IF_ERROR(lease->Claim(*lease->http_, /*released=*/true));
      http = std::move(lease->http_);
      // Another writer: if it got the store, it is still there after a pause.
      std::this_thread::sleep_for(std::chrono::milliseconds(50 + static_cast<int>(rng() % 400)));
      TICKFLOW_ASSIGN_OR_RETURN(const std::string still, LiveHolder(*http, db, ""));
      if (!still.empty()) {
        other = still;
        break;
      }
    }
    return MakeError(ErrorCode::kBusy, "another writer is importing into " + url.ToString() + ": " + other +
                                           " (its lease lasts " + std::to_string(kLeaseSeconds) +
                                           " s past its last renewal); wait for it to finish, then run this again");
  }

  ~ClickHouseLease() override {
    StopRenewing();
    if (http_ != nullptr) (void)Claim(*http_, /*released=*/true);
  }

 private:
  ClickHouseLease(std::unique_ptr<ClickHouseHttp> http, std::string db, std::string token, std::string_view holder)
      : http_(std::move(http)), db_(std::move(db)), token_(std::move(token)), holder_(holder) {}

  static std::string Host() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) return "?";
    return host;
  }

  Status Claim(ClickHouseHttp& http, bool released) {
    return http.Execute("INSERT INTO " + db_ + ".writer_leases SELECT " + SqlQuote(token_) + ", " + SqlQuote(holder_) +
                        ", now() + " + std::to_string(kLeaseSeconds) + ", " + (released ? "1" : "0") + ", " +
                        SqlQuote(Host()) + ", " + std::to_string(::getpid()));
  }

  // The holder of the first live claim other than `token` ("" when none).
  static Result<std::string> LiveHolder(ClickHouseHttp& http, const std::string& db, const std::string& token) {
    std::string out;
    TICKFLOW_RETURN_IF_ERROR(http.Query("SELECT any(host), any(pid), any(holder) FROM " + db +
                                            ".writer_leases WHERE token != " + SqlQuote(token) +
                                            " GROUP BY token HAVING max(expires) > now() AND max(released) = 0 "
                                            "ORDER BY min(expires) FORMAT RowBinary",
                                        &out));
    const std::string here = Host();
    RowReader r(out);
    while (!r.done()) {
      std::string host, holder;
      std::uint32_t pid = 0;
      if (!r.Str(&host) || !r.Get(&pid) || !r.Str(&holder)) {
        return MakeError(ErrorCode::kCorrupt, "ClickHouse returned a truncated writer lease");
      }
      const bool dead = host == here && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
      if (!dead) return holder;
    }
    return std::string();
  }

  void StartRenewing(const ClickHouseUrl& url) {
    renewer_ = std::thread([this, url] {
      auto conn = ClickHouseHttp::Connect(url);
      std::unique_lock lock(mu_);
      while (!cv_.wait_for(lock, std::chrono::seconds(kLeaseSeconds / 6), [this] { return stop_; })) {
        if (conn.ok()) (void)Claim(**conn, /*released=*/false);
      }
    });
  }
  void StopRenewing() {
    if (!renewer_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    renewer_.join();
  }

  std::unique_ptr<ClickHouseHttp> http_;
  std::string db_, token_, holder_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread renewer_;
};

class ClickHouseStore;

class ClickHouseImport final : public ImportTransaction {
 public:
  ClickHouseImport(ClickHouseStore& store, Committed before, std::unique_ptr<ClickHouseHttp> conn)
      : store_(store), before_(std::move(before)), inserter_(std::move(conn)) {
    after_ = before_.info;
  }
  ~ClickHouseImport() override;

  const SymbolInfo& symbol() const override { return before_.info; }
  Status AppendTrades(const TradeColumns& trades) override;
  Status PutMinuteBars(std::span<const Bar> bars) override;
  Status Commit(const FileRecord& file) override;

 private:
  Status FlushTrades();
  // Writes all pending bars but the last (the next chunk may continue its minute), or all.
  Status FlushBars(bool all);
  Status SeedBars();
  std::uint32_t version() const { return before_.version + 1; }

  ClickHouseStore& store_;
  Committed before_;
  SymbolInfo after_;  // running totals
  std::string trade_rows_;
  std::size_t pending_trades_ = 0;
  std::vector<Bar> bars_;
  std::string bar_rows_;
  AsyncInserter inserter_;
  bool bars_seeded_ = false;
  bool wrote_ = false;
  bool committed_ = false;
};

class ClickHouseStore final : public Store {
 public:
  explicit ClickHouseStore(std::unique_ptr<ClickHouseHttp> http) : http_(std::move(http)) {
    db_ = http_->url().database;
  }

  Status Init(const OpenOptions& options) {
    if (!options.read_only) TICKFLOW_RETURN_IF_ERROR(CheckLayout());
    if (options.create && !options.read_only) {
      for (std::size_t i = 0; i < url().shards.size(); ++i) {
        TICKFLOW_ASSIGN_OR_RETURN(auto shard, ClickHouseHttp::Connect(url().Shard(i)));
        for (const std::string& sql : ShardSchemaStatements(db_)) TICKFLOW_RETURN_IF_ERROR(shard->Execute(sql));
      }
      for (const std::string& sql : SchemaStatements(db_, url().cluster)) TICKFLOW_RETURN_IF_ERROR(http_->Execute(sql));
      std::string n;
      TICKFLOW_RETURN_IF_ERROR(
          http_->Query("SELECT count() FROM " + db_ + ".tickflow_meta WHERE key = 'schema_version'", &n));
      if (n == "0\n") {
        TICKFLOW_RETURN_IF_ERROR(http_->Execute("INSERT INTO " + db_ + ".tickflow_meta VALUES ('schema_version', '" +
                                                std::to_string(kSchemaVersion) + "')"));
      }
      TICKFLOW_RETURN_IF_ERROR(UpgradeFromVersion1());
    }
    std::string out;
    TICKFLOW_RETURN_IF_ERROR(http_->Query(
        "SELECT count() FROM system.tables WHERE database = " + SqlQuote(db_) + " AND name = 'tickflow_meta'", &out));
    if (out == "0\n") {
      return MakeError(ErrorCode::kNotFound, "no tickflow store in " + location() + " (run `tickflow db init --db " +
                                                 location() + "` or `tickflow import DIR --db " + location() + "`)");
    }
    TICKFLOW_RETURN_IF_ERROR(http_->Query(
        "SELECT max(toUInt32OrZero(value)) FROM " + db_ + ".tickflow_meta WHERE key = 'schema_version'", &out));
    if (out == "1\n") {
      return MakeError(ErrorCode::kInvalidArgument,
                       location() + " was written by an older tickflow (store schema 1); open it once for writing to "
                                    "upgrade it to schema 2 in place: tickflow db init --db " + location());
    }
    if (out != std::to_string(kSchemaVersion) + "\n") {
      return MakeError(ErrorCode::kCorrupt,
                       location() + " is not a tickflow store of schema version " + std::to_string(kSchemaVersion));
    }
    return {};
  }

  // A writer must know the layout: on a cluster it writes through the
  // Distributed tables synchronously and removes rows on each shard (ClickHouse
  // runs no mutation through a Distributed table), so a cluster URL must name a
  // cluster of the server with the shards it lists, and a plain URL must not
  // point at Distributed tables.
  Status CheckLayout() {
    std::string out;
    if (url().cluster.empty()) {
      TICKFLOW_RETURN_IF_ERROR(http_->Query("SELECT count() FROM system.tables WHERE database = " + SqlQuote(db_) +
                                                " AND name = 'trades' AND engine = 'Distributed'",
                                            &out));
      if (out == "0\n") return {};
      return MakeError(ErrorCode::kInvalidArgument,
                       location() +
                           " holds Distributed tables: to write to it, give the cluster and the HTTP address "
                           "of each shard, e.g. 'clickhouse://HOST:PORT/" +
                           db_ + "?cluster=NAME&shards=HOST1:PORT1,HOST2:PORT2' (docs/deployment.md)");
    }
    TICKFLOW_RETURN_IF_ERROR(http_->Query(
        "SELECT uniqExact(shard_num) FROM system.clusters WHERE cluster = " + SqlQuote(url().cluster), &out));
    const std::string want = std::to_string(url().shards.size()) + "\n";
    if (out == want) return {};
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return MakeError(ErrorCode::kInvalidArgument,
                     out == "0"
                         ? "the server at " + url().host + ":" + std::to_string(url().port) + " has no cluster '" +
                               url().cluster +
                               "' in its remote_servers (scripts/clickhouse.sh cluster DIR NAME HOST:TCP_PORT,...)"
                         : "cluster '" + url().cluster + "' has " + out + " shards and the URL lists " +
                               std::to_string(url().shards.size()) +
                               " (shards=" + location().substr(location().find("shards=") + 7) + ")");
  }

  // Schema 1 -> 2: bars_1m gains volume_high (0 for the bars already there,
  // whose volumes fitted 64 bits); tickflow_meta (TinyLog, no updates) gets a
  // second version row and readers take the largest.
  Status UpgradeFromVersion1() {
    std::string v;
    TICKFLOW_RETURN_IF_ERROR(http_->Query(
        "SELECT max(toUInt32OrZero(value)) FROM " + db_ + ".tickflow_meta WHERE key = 'schema_version'", &v));
    if (v != "1\n" || !url().cluster.empty()) return {};  // clusters began at schema 2
    std::string has;
    TICKFLOW_RETURN_IF_ERROR(http_->Query("SELECT count() FROM system.columns WHERE database = " + SqlQuote(db_) +
                                              " AND table = 'bars_1m' AND name = 'volume_high'",
                                          &has));
    if (has == "0\n") {
      TICKFLOW_RETURN_IF_ERROR(http_->Execute("ALTER TABLE " + db_ + ".bars_1m ADD COLUMN volume_high Int64 DEFAULT 0"));
    }
    return http_->Execute("INSERT INTO " + db_ + ".tickflow_meta VALUES ('schema_version', '2')");
  }

  ClickHouseHttp& http() { return *http_; }
  const ClickHouseUrl& url() const { return http_->url(); }
  const std::string& db() const { return db_; }

  Result<std::vector<SymbolInfo>> ListSymbols() override {
    TICKFLOW_ASSIGN_OR_RETURN(auto all, Symbols(""));
    std::vector<SymbolInfo> out;
    for (auto& c : all) out.push_back(std::move(c.info));
    return out;
  }

  Result<SymbolInfo> FindSymbol(std::string_view symbol) override {
    TICKFLOW_ASSIGN_OR_RETURN(auto c, Find(symbol));
    return std::move(c.info);
  }

  Result<SymbolInfo> FindSymbol(SymbolId id) override {
    TICKFLOW_ASSIGN_OR_RETURN(auto c, Find(id));
    return std::move(c.info);
  }

  Result<std::optional<FileRecord>> FindFile(std::string_view symbol, std::string_view file_name) override {
    std::string body;
    TICKFLOW_RETURN_IF_ERROR(http_->Query("SELECT file_size, file_hash, file_rows FROM " + db_ +
                                              ".imports WHERE symbol = " + SqlQuote(symbol) + " AND file_name = " +
                                              SqlQuote(file_name) + " ORDER BY version DESC LIMIT 1 FORMAT RowBinary",
                                          &body));
    if (body.empty()) return std::optional<FileRecord>();
    FileRecord f{std::string(file_name)};
    RowReader r(body);
    if (!r.Get(&f.size) || !r.Get(&f.hash) || !r.Get(&f.rows)) {
      return MakeError(ErrorCode::kCorrupt, "ClickHouse returned a truncated file record");
    }
    return std::optional<FileRecord>(std::move(f));
  }

  Result<std::unique_ptr<WriterLock>> LockForWriting(std::string_view holder) override {
    return ClickHouseLease::Acquire(http_->url(), holder);
  }

  Result<std::unique_ptr<ImportTransaction>> BeginImport(std::string_view symbol) override {
    Committed c;
    auto found = Find(symbol);
    if (found.ok()) {
      c = std::move(found).value();
    } else if (found.error().code != ErrorCode::kNotFound) {
      return std::move(found).error();
    } else {
      std::string next;
      TICKFLOW_RETURN_IF_ERROR(http_->Query("SELECT max(symbol_id) + 1 FROM " + db_ + ".imports", &next));
      const long id = next.empty() ? 1 : std::max(1L, std::stol(next));
      if (id > 0xFFFE) return MakeError(ErrorCode::kOutOfRange, "no symbol id left (limit 65534 symbols)");
      c.info.id = static_cast<SymbolId>(id);
      c.info.symbol = std::string(symbol);
      SplitPair(symbol, &c.info.base, &c.info.quote);
    }
    TICKFLOW_RETURN_IF_ERROR(RemoveUncommitted(c));
    TICKFLOW_ASSIGN_OR_RETURN(auto conn, ClickHouseHttp::Connect(http_->url()));
    return std::unique_ptr<ImportTransaction>(std::make_unique<ClickHouseImport>(*this, std::move(c), std::move(conn)));
  }

  Result<std::unique_ptr<TradeCursor>> Trades(std::span<const SymbolId> symbols, TimeRange range) override {
    if (symbols.empty()) return MakeError(ErrorCode::kInvalidArgument, "no symbols requested");
    std::vector<std::unique_ptr<TradeCursor>> cursors;
    for (SymbolId s : symbols) {
      TICKFLOW_ASSIGN_OR_RETURN(const Committed c, Find(s));
      const SymbolInfo& info = c.info;
      const UnixNanos begin = std::max(range.from, info.first_time);
      const UnixNanos end = info.trade_count == 0 ? begin : std::min(range.to, UnixNanos{info.last_time.ns + 1});
      // The first page: kFirstPageRows at the symbol's average rate.
      const double span = static_cast<double>(info.last_time.ns - info.first_time.ns) + 1.0;
      const double per_ns = static_cast<double>(std::max<std::uint64_t>(info.trade_count, 1)) / span;
      const auto width = static_cast<std::int64_t>(std::min(static_cast<double>(kFirstPageRows) / per_ns, 9.0e18));
      TICKFLOW_ASSIGN_OR_RETURN(auto conn, ClickHouseHttp::Connect(http_->url()));
      cursors.push_back(std::make_unique<KeyRangeCursor<Trade, TradePage>>(TradePage(std::move(conn), db_ + ".trades", info),
                                                                             begin, end, width));
    }
    if (cursors.size() == 1) return std::move(cursors.front());
    return MergeTrades(std::move(cursors));
  }

  Result<std::unique_ptr<BarCursor>> MinuteBars(SymbolId symbol, TimeRange range) override {
    TICKFLOW_ASSIGN_OR_RETURN(const Committed c, Find(symbol));
    const UnixNanos begin = std::max(range.from, BucketStart(c.info.first_time, TimeResolution::kOneMinute));
    const UnixNanos end = c.info.trade_count == 0 ? begin : std::min(range.to, UnixNanos{c.info.last_time.ns + 1});
    constexpr std::int64_t kFirstWidth = 7 * 24 * 60 * kNanosPerMinute;  // a week: at most 10,080 bars
    TICKFLOW_ASSIGN_OR_RETURN(auto conn, ClickHouseHttp::Connect(http_->url()));
    return std::unique_ptr<BarCursor>(std::make_unique<KeyRangeCursor<Bar, BarPage>>(
        BarPage(std::move(conn), db_ + ".bars_1m", c.info, c.version), begin, end, kFirstWidth,
        /*max_width=*/static_cast<std::int64_t>(kPageRows) * kNanosPerMinute));  // at most one bar a minute
  }

  std::string location() const override { return http_->url().ToString(); }

  // Deletes rows an abandoned import left past the committed watermark.
  Status RemoveUncommitted(const Committed& c) {
    const std::string id = std::to_string(c.info.id);
    const std::string trades = "symbol_id = " + id + " AND seq >= " + std::to_string(c.info.trade_count);
    const std::string bars = "symbol_id = " + id + " AND version > " + std::to_string(c.version);
    TICKFLOW_RETURN_IF_ERROR(Remove("trades", trades, c.info.symbol));
    return Remove("bars_1m", bars, c.info.symbol);
  }

  // ALTER ... DELETE runs in the background: wait until the rows are gone, so
  // the next import (which writes the same seq and version) cannot mix with them.
  Status Remove(const std::string& table, const std::string& where, const std::string& symbol) {
    constexpr auto kMaxWait = std::chrono::seconds(120);
    const std::string count = "SELECT count() FROM " + db_ + "." + table + " WHERE " + where;
    std::string n;
    TICKFLOW_RETURN_IF_ERROR(http_->Query(count, &n));
    if (n == "0\n") return {};
    if (url().cluster.empty()) {
      TICKFLOW_RETURN_IF_ERROR(http_->Execute("ALTER TABLE " + db_ + "." + table + " DELETE WHERE " + where));
    } else {
      // On each shard that holds some of the rows, its local table.
      for (std::size_t i = 0; i < url().shards.size(); ++i) {
        TICKFLOW_ASSIGN_OR_RETURN(auto shard, ClickHouseHttp::Connect(url().Shard(i)));
        const std::string local = db_ + "." + table + "_local";
        TICKFLOW_RETURN_IF_ERROR(shard->Query("SELECT count() FROM " + local + " WHERE " + where, &n));
        if (n != "0\n") TICKFLOW_RETURN_IF_ERROR(shard->Execute("ALTER TABLE " + local + " DELETE WHERE " + where));
      }
    }
    const auto deadline = std::chrono::steady_clock::now() + kMaxWait;
    auto pause = std::chrono::milliseconds(5);
    while (true) {
      TICKFLOW_RETURN_IF_ERROR(http_->Query(count, &n));
      if (n == "0\n") return {};
      if (std::chrono::steady_clock::now() >= deadline) {
        while (!n.empty() && n.back() == '\n') n.pop_back();
        return MakeError(ErrorCode::kUnavailable,
                         "ClickHouse has not removed the " + n + " " + table + " rows an abandoned import of " + symbol +
                             " left behind after " + std::to_string(kMaxWait.count()) +
                             " s (see system.mutations; a full disk stalls deletes); import again once they are gone");
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(500));
    }
  }

  // The last stored 1-minute bar of a symbol, if any.
  Result<std::optional<Bar>> LastMinuteBar(const Committed& c) {
    if (c.version == 0) return std::optional<Bar>();
    const UnixNanos minute = BucketStart(c.info.last_time, TimeResolution::kOneMinute);
    TICKFLOW_ASSIGN_OR_RETURN(auto conn, ClickHouseHttp::Connect(http_->url()));
    auto cursor = std::make_unique<KeyRangeCursor<Bar, BarPage>>(BarPage(std::move(conn), db_ + ".bars_1m", c.info, c.version),
                                                                 minute, UnixNanos{minute.ns + kNanosPerMinute},
                                                                 kNanosPerMinute);
    Bar bar;
    TICKFLOW_ASSIGN_OR_RETURN(const std::size_t n, cursor->Next(std::span<Bar>(&bar, 1)));
    return n == 1 ? std::optional<Bar>(bar) : std::optional<Bar>();
  }

  // The committed state of the symbols `where` selects.
  Result<std::vector<Committed>> Symbols(const std::string& where) {
    std::string body;
    TICKFLOW_RETURN_IF_ERROR(http_->Query(std::string(kSymbolAggregates) + db_ + ".imports " + where +
                                              " GROUP BY symbol_id ORDER BY symbol_id FORMAT RowBinary",
                                          &body));
    return ParseSymbols(body);
  }
  Result<Committed> Find(std::string_view symbol) {
    TICKFLOW_ASSIGN_OR_RETURN(auto all, Symbols("WHERE symbol = " + SqlQuote(symbol)));
    if (all.empty()) {
      return MakeError(ErrorCode::kNotFound, "unknown symbol '" + std::string(symbol) + "' in " + location() +
                                                 " (`tickflow symbols` lists the imported ones)");
    }
    return std::move(all.front());
  }
  Result<Committed> Find(SymbolId id) {
    TICKFLOW_ASSIGN_OR_RETURN(auto all, Symbols("WHERE symbol_id = " + std::to_string(id)));
    if (all.empty()) return MakeError(ErrorCode::kNotFound, "unknown symbol id " + std::to_string(id));
    return std::move(all.front());
  }

 private:
  std::unique_ptr<ClickHouseHttp> http_;
  std::string db_;
};

ClickHouseImport::~ClickHouseImport() {
  (void)inserter_.Wait();
  if (!wrote_ || committed_) return;
  // Best effort; the next import of the symbol removes what is left. The
  // watermark is read again: a commit whose answer was lost may have landed.
  auto now = store_.Find(before_.info.id);
  (void)store_.RemoveUncommitted(now.ok() ? *now : before_);
}

Status ClickHouseImport::AppendTrades(const TradeColumns& trades) {
  const std::size_t n = trades.size();
  if (n == 0) return {};
  if (after_.trade_count > 0 && trades.time.front() < after_.last_time) {
    return MakeError(ErrorCode::kInvalidArgument, "trades appended out of time order");
  }
  // RowBinary rows of (symbol_id, ts, seq, price, volume), written in place.
  constexpr std::size_t kRow = 2 + 8 + 8 + 8 + 8;
  const std::size_t at = trade_rows_.size();
  trade_rows_.resize(at + n * kRow);
  char* p = trade_rows_.data() + at;
  std::uint64_t seq = after_.trade_count;
  for (std::size_t i = 0; i < n; ++i, p += kRow, ++seq) {
    const std::int64_t price = trades.price[i].raw(), volume = trades.volume[i].raw();
    std::memcpy(p, &after_.id, 2);
    std::memcpy(p + 2, &trades.time[i].ns, 8);
    std::memcpy(p + 10, &seq, 8);
    std::memcpy(p + 18, &price, 8);
    std::memcpy(p + 26, &volume, 8);
    after_.price_scale = std::max(after_.price_scale, trades.price[i].scale());
    after_.volume_scale = std::max(after_.volume_scale, trades.volume[i].scale());
  }
  if (after_.trade_count == 0) after_.first_time = trades.time.front();
  after_.last_time = trades.time.back();
  after_.trade_count += n;
  pending_trades_ += n;
  if (pending_trades_ >= kInsertRows) TICKFLOW_RETURN_IF_ERROR(FlushTrades());
  return {};
}

Status ClickHouseImport::FlushTrades() {
  if (pending_trades_ == 0) return {};
  wrote_ = true;
  TICKFLOW_RETURN_IF_ERROR(inserter_.Send("INSERT INTO " + store_.db() + ".trades FORMAT RowBinary", &trade_rows_));
  pending_trades_ = 0;
  return {};
}

Status ClickHouseImport::SeedBars() {
  bars_seeded_ = true;
  TICKFLOW_ASSIGN_OR_RETURN(const std::optional<Bar> last, store_.LastMinuteBar(before_));
  if (last) bars_.push_back(*last);
  return {};
}

Status ClickHouseImport::PutMinuteBars(std::span<const Bar> bars) {
  if (!bars_seeded_) TICKFLOW_RETURN_IF_ERROR(SeedBars());
  for (const Bar& b : bars) TICKFLOW_RETURN_IF_ERROR(AppendMinuteBar(&bars_, b));
  if (bars_.size() > kInsertBars) TICKFLOW_RETURN_IF_ERROR(FlushBars(false));
  return {};
}

Status ClickHouseImport::FlushBars(bool all) {
  const std::size_t n = all ? bars_.size() : bars_.size() - std::min<std::size_t>(bars_.size(), 1);
  if (n == 0) return {};
  bar_rows_.clear();
  RowWriter w(&bar_rows_);
  for (std::size_t i = 0; i < n; ++i) {
    const Bar& b = bars_[i];
    w.Put(after_.id).Put(b.time.ns).Put(version()).Put(b.open.raw()).Put(b.high.raw()).Put(b.low.raw());
    w.Put(b.close.raw()).Put(static_cast<std::int64_t>(b.volume.low())).Put(b.trades).Put(b.volume.high());
  }
  wrote_ = true;
  TICKFLOW_RETURN_IF_ERROR(inserter_.Send("INSERT INTO " + store_.db() + ".bars_1m FORMAT RowBinary", &bar_rows_));
  bars_.erase(bars_.begin(), bars_.begin() + static_cast<std::ptrdiff_t>(n));
  return {};
}

Status ClickHouseImport::Commit(const FileRecord& file) {
  TICKFLOW_CHECK(!committed_, "Commit twice");
  TICKFLOW_RETURN_IF_ERROR(FlushTrades());
  TICKFLOW_RETURN_IF_ERROR(FlushBars(true));
  TICKFLOW_RETURN_IF_ERROR(inserter_.Wait());
  // The commit point: one row, inserted atomically, moves the watermark.
  std::string row;
  RowWriter w(&row);
  w.Put(after_.id).Put(version()).Put(after_.exchange).Str(after_.symbol).Str(after_.base).Str(after_.quote);
  w.Put(after_.trade_count == 0 ? std::int64_t{0} : after_.first_time.ns);
  w.Put(after_.trade_count == 0 ? std::int64_t{0} : after_.last_time.ns);
  w.Put(after_.trade_count).Put(static_cast<std::uint8_t>(after_.price_scale));
  w.Put(static_cast<std::uint8_t>(after_.volume_scale)).Str(file.file_name).Put(file.size).Put(file.hash);
  w.Put(file.rows).Put(static_cast<std::uint32_t>(std::time(nullptr)));
  TICKFLOW_RETURN_IF_ERROR(store_.http().Insert("INSERT INTO " + store_.db() + ".imports FORMAT RowBinary", row));
  committed_ = true;
  return {};
}

}  // namespace

Result<std::unique_ptr<Store>> OpenClickHouseStore(std::string_view url, const OpenOptions& options) {
  TICKFLOW_ASSIGN_OR_RETURN(const ClickHouseUrl u, ParseClickHouseUrl(url));
  TICKFLOW_ASSIGN_OR_RETURN(auto http, ClickHouseHttp::Connect(u));
  auto store = std::make_unique<ClickHouseStore>(std::move(http));
  TICKFLOW_RETURN_IF_ERROR(store->Init(options));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace tickflow::store::detail

namespace tickflow::store {

Result<std::string> ClickHouseQuery(std::string_view url, std::string_view sql, std::string_view body) {
  TICKFLOW_ASSIGN_OR_RETURN(const detail::ClickHouseUrl u, detail::ParseClickHouseUrl(url));
  TICKFLOW_ASSIGN_OR_RETURN(auto http, detail::ClickHouseHttp::Connect(u));
  std::string out;
  if (body.empty()) {
    TICKFLOW_RETURN_IF_ERROR(http->Query(sql, &out));
  } else {
    TICKFLOW_RETURN_IF_ERROR(http->Insert(sql, body));
  }
  return out;
}

Result<std::string> ClickHouseDatabase(std::string_view url) {
  TICKFLOW_ASSIGN_OR_RETURN(const detail::ClickHouseUrl u, detail::ParseClickHouseUrl(url));
  return u.database;
}

}  // namespace tickflow::store
