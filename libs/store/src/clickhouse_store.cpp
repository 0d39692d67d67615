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
//
// This file: the import (AsyncInserter, ClickHouseImport) and the store. The
// schema, RowBinary, the paged readers and the writer lease have files of their own.
#include "clickhouse_store.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <future>
#include <vector>

#include "tickflow/store/clickhouse.hpp"

#include "clickhouse_http.hpp"
#include "clickhouse_lease.hpp"
#include "clickhouse_pages.hpp"
#include "clickhouse_rowbinary.hpp"
#include "clickhouse_schema.hpp"
#include "minute_bars.hpp"
#include "validate.hpp"

namespace tickflow::store::detail {
namespace {

constexpr std::size_t kInsertRows = 1 << 18;   // trades per INSERT (one part each; sent while the next are encoded)
constexpr std::size_t kInsertBars = 1 << 16;   // bars per INSERT

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
    return AcquireClickHouseLease(http_->url(), holder);
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
      const UnixNanos end =
          info.trade_count == 0 ? begin : std::min(range.to, info.last_time + std::chrono::nanoseconds(1));
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
    const UnixNanos end =
        c.info.trade_count == 0 ? begin : std::min(range.to, c.info.last_time + std::chrono::nanoseconds(1));
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
    auto cursor =
        std::make_unique<KeyRangeCursor<Bar, BarPage>>(BarPage(std::move(conn), db_ + ".bars_1m", c.info, c.version),
                                                       minute, minute + std::chrono::minutes(1), kNanosPerMinute);
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
