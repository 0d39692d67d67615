#include "sqlite_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "block_codec.hpp"
#include "minute_bars.hpp"
#include "sqlite.hpp"
#include "validate.hpp"

namespace tickflow::store::detail {
namespace {

// 2 added the block checksums (NULL in blocks written under 1).
constexpr int kSchemaVersion = 2;

// Block rows are keyed (symbol_id << 40 | block_no) so each symbol's blocks
// are one contiguous rowid range, stored in order.
constexpr int kBlockNoBits = 40;
constexpr std::int64_t kMaxBlockNo = (std::int64_t{1} << kBlockNoBits) - 1;
std::int64_t BlockKey(SymbolId s, std::int64_t block_no) {
  return (static_cast<std::int64_t>(s) << kBlockNoBits) | block_no;
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS tickflow_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS symbols(
  symbol_id    INTEGER PRIMARY KEY,
  exchange_id  INTEGER NOT NULL,
  symbol       TEXT NOT NULL UNIQUE,
  base         TEXT NOT NULL,
  quote        TEXT NOT NULL,
  first_ts     INTEGER,
  last_ts      INTEGER,
  trade_count  INTEGER NOT NULL DEFAULT 0,
  price_scale  INTEGER NOT NULL DEFAULT 0,
  volume_scale INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS trade_blocks(
  block_key   INTEGER PRIMARY KEY,
  symbol_id   INTEGER NOT NULL,
  block_no    INTEGER NOT NULL,
  first_ts    INTEGER NOT NULL,
  last_ts     INTEGER NOT NULL,
  trade_count INTEGER NOT NULL,
  ts          BLOB NOT NULL,
  price       BLOB NOT NULL,
  volume      BLOB NOT NULL,
  checksum    INTEGER);
CREATE TABLE IF NOT EXISTS bar_blocks(
  block_key   INTEGER PRIMARY KEY,
  symbol_id   INTEGER NOT NULL,
  block_no    INTEGER NOT NULL,
  first_ts    INTEGER NOT NULL,
  last_ts     INTEGER NOT NULL,
  bar_count   INTEGER NOT NULL,
  bars        BLOB NOT NULL,
  checksum    INTEGER);
CREATE TABLE IF NOT EXISTS imported_files(
  symbol_id   INTEGER NOT NULL,
  file_name   TEXT NOT NULL,
  size        INTEGER NOT NULL,
  hash        INTEGER NOT NULL,
  rows        INTEGER NOT NULL,
  imported_at INTEGER NOT NULL,
  PRIMARY KEY(symbol_id, file_name));
INSERT OR IGNORE INTO tickflow_meta VALUES('schema_version', '2');
)sql";

SymbolInfo ReadSymbolRow(const Stmt& st) {
  SymbolInfo s;
  s.id = static_cast<SymbolId>(st.Int(0));
  s.exchange = static_cast<ExchangeId>(st.Int(1));
  s.symbol = std::string(st.Text(2));
  s.base = std::string(st.Text(3));
  s.quote = std::string(st.Text(4));
  s.first_time = UnixNanos{st.Int(5)};
  s.last_time = UnixNanos{st.Int(6)};
  s.trade_count = static_cast<std::uint64_t>(st.Int(7));
  s.price_scale = static_cast<int>(st.Int(8));
  s.volume_scale = static_cast<int>(st.Int(9));
  return s;
}

constexpr const char* kSymbolColumns =
    "symbol_id, exchange_id, symbol, base, quote, COALESCE(first_ts, 0), COALESCE(last_ts, 0), "
    "trade_count, price_scale, volume_scale";

// One symbol's rows from a statement that yields its blocks (first_ts, count,
// blobs...) in time order. The rows on hand are rows_[pos_, end_), already
// trimmed to the range; Refill() decodes more (a block, or a piece of one).
template <class Row>
class StoredRowCursor : public RowCursor<Row> {
 public:
  StoredRowCursor(const Db& db, Stmt stmt, SymbolId symbol, TimeRange range, std::uint32_t max_count,
                  ValueLimits limits)
      : db_(db), stmt_(std::move(stmt)), symbol_(symbol), range_(range), max_count_(max_count), limits_(limits) {}

  Result<std::size_t> Next(std::span<Row> out) override {
    std::size_t n = 0;
    while (n < out.size()) {
      if (pos_ == end_) {
        TICKFLOW_ASSIGN_OR_RETURN(const bool more, Refill());
        if (!more) break;
        continue;
      }
      const std::size_t k = std::min(out.size() - n, end_ - pos_);
      std::copy_n(rows_.begin() + static_cast<std::ptrdiff_t>(pos_), k, out.begin() + static_cast<std::ptrdiff_t>(n));
      pos_ += k;
      n += k;
    }
    return n;
  }

  // The rows on hand, without copying.
  Result<std::span<const Row>> NextView() override {
    while (pos_ == end_) {
      TICKFLOW_ASSIGN_OR_RETURN(const bool more, Refill());
      if (!more) return std::span<const Row>();
    }
    const std::span<const Row> out(rows_.data() + pos_, end_ - pos_);
    pos_ = end_;
    return out;
  }

 protected:
  // Decodes more rows into rows_ (then Slice()); false at the end.
  virtual Result<bool> Refill() = 0;

  // The next block's row count, after stepping the statement; 0 at the end.
  Result<std::uint32_t> StepBlock() {
    TICKFLOW_ASSIGN_OR_RETURN(const bool row, stmt_.Step(db_));
    if (!row) {
      done_ = true;
      return 0u;
    }
    const auto count = static_cast<std::uint32_t>(stmt_.Int(1));
    if (count == 0 || count > max_count_) {
      return MakeError(ErrorCode::kCorrupt, "block of symbol " + std::to_string(symbol_) + " claims " +
                                                std::to_string(count) + " rows");
    }
    return count;
  }

  // Rows are in time order: the range is one slice of rows_. Rows past its end
  // mean every later row is too.
  void Slice() {
    const auto before = [](const Row& r, UnixNanos t) { return r.time < t; };
    pos_ = static_cast<std::size_t>(std::lower_bound(rows_.begin(), rows_.end(), range_.from, before) - rows_.begin());
    end_ = static_cast<std::size_t>(std::lower_bound(rows_.begin(), rows_.end(), range_.to, before) - rows_.begin());
    if (end_ < rows_.size()) done_ = true;
  }

  const Db& db_;
  Stmt stmt_;
  const SymbolId symbol_;
  const TimeRange range_;
  const std::uint32_t max_count_;
  const ValueLimits limits_;
  std::vector<Row> rows_;
  std::size_t pos_ = 0, end_ = 0;
  bool done_ = false;  // nothing after what is on hand
};

// Decodes a whole block at a time (1-minute bars: varints, read front to back).
template <class Row, Status (*Decode)(const Stmt&, SymbolId, std::uint32_t, ValueLimits, Row*)>
class BlockCursor final : public StoredRowCursor<Row> {
 public:
  using StoredRowCursor<Row>::StoredRowCursor;

 private:
  Result<bool> Refill() override {
    this->pos_ = this->end_ = 0;
    if (this->done_) return false;
    TICKFLOW_ASSIGN_OR_RETURN(const std::uint32_t count, this->StepBlock());
    if (count == 0) return false;
    this->rows_.resize(count);
    TICKFLOW_RETURN_IF_ERROR(Decode(this->stmt_, this->symbol_, count, this->limits_, this->rows_.data()));
    this->Slice();
    return true;
  }
};

// Block statements select these columns first, then the block's blobs.
enum BlockColumn { kFirstTs, kCount, kLastTs, kKey, kChecksum, kBlobs };
std::string BlockSelect(const char* count_column, const char* blobs, const char* rest) {
  return std::string("SELECT first_ts, ") + count_column + ", last_ts, block_key, checksum, " + blobs + " " + rest;
}

Error BlockDamage(const Stmt& st, const char* kind, SymbolId symbol, const std::string& problem) {
  return MakeError(ErrorCode::kCorrupt,
                   std::string(kind) + " block " + std::to_string(st.Int(kKey) & kMaxBlockNo) + " of symbol id " +
                       std::to_string(symbol) + " (" + FormatIso8601(UnixNanos{st.Int(kFirstTs)}) + " .. " +
                       FormatIso8601(UnixNanos{st.Int(kLastTs)}) + ") is damaged: " + problem +
                       " (a disk fault, or the file changed outside tickflow); re-import this symbol into a new "
                       "store");
}

// A block is believed only if its checksum matches (blocks from before schema
// 2 have none) and its rows are valid and span exactly its stored times.
template <class Row>
Status CheckBlock(const Stmt& st, std::span<const std::string_view> blobs, std::span<const Row> rows,
                  std::string problem, const char* kind, SymbolId symbol) {
  if (problem.empty() && !st.IsNull(kChecksum) &&
      BlockChecksum(st.Int(kKey), st.Int(kFirstTs), st.Int(kLastTs), st.Int(kCount), blobs) !=
          static_cast<std::uint64_t>(st.Int(kChecksum))) {
    problem = "its checksum does not match";
  }
  if (problem.empty() && (rows.front().time.ns != st.Int(kFirstTs) || rows.back().time.ns != st.Int(kLastTs))) {
    problem = "its rows do not span the times it is stored under";
  }
  if (problem.empty()) return {};
  return BlockDamage(st, kind, symbol, problem);
}

Status DecodeBarRow(const Stmt& st, SymbolId symbol, std::uint32_t count, ValueLimits limits, Bar* out) {
  const std::array<std::string_view, 1> blobs = {st.Blob(kBlobs)};
  TICKFLOW_RETURN_IF_ERROR(DecodeBarBlock(UnixNanos{st.Int(kFirstTs)}, count, blobs[0], out));
  const std::span<const Bar> rows(out, count);
  return CheckBlock(st, blobs, rows, CheckBars(rows, limits), "bar", symbol);
}
// Trades, each block decoded in pieces of kPiece trades: a reader holds
// 128 KiB decoded, not the block's 1 MiB, which is what a merge of every
// market holds per market. The block's checksum is checked when it is loaded,
// each piece's rows as they are decoded, and the block's first and last times
// at its first and last piece.
class SqliteTradeCursor final : public StoredRowCursor<Trade> {
 public:
  static constexpr std::size_t kPiece = 4096;
  using StoredRowCursor<Trade>::StoredRowCursor;

 private:
  Result<bool> Refill() override {
    pos_ = end_ = 0;
    if (done_) return false;
    if (decoder_.left() == 0) {
      TICKFLOW_ASSIGN_OR_RETURN(const std::uint32_t count, StepBlock());
      if (count == 0) return false;
      const std::array<std::string_view, 3> blobs = {stmt_.Blob(kBlobs), stmt_.Blob(kBlobs + 1),
                                                     stmt_.Blob(kBlobs + 2)};
      TICKFLOW_RETURN_IF_ERROR(
          decoder_.Start(UnixNanos{stmt_.Int(kFirstTs)}, count, blobs[0], blobs[1], blobs[2], symbol_));
      if (!stmt_.IsNull(kChecksum) &&
          BlockChecksum(stmt_.Int(kKey), stmt_.Int(kFirstTs), stmt_.Int(kLastTs), stmt_.Int(kCount), blobs) !=
              static_cast<std::uint64_t>(stmt_.Int(kChecksum))) {
        return BlockDamage(stmt_, "trade", symbol_, "its checksum does not match");
      }
      first_piece_ = true;
      last_time_ = UnixNanos::Min();
    }
    rows_.resize(std::min<std::size_t>(kPiece, decoder_.left()));
    decoder_.Next(rows_.size(), rows_.data());
    std::string problem = CheckTrades(rows_, limits_);
    if (problem.empty() && rows_.front().time < last_time_) problem = "its trades go back in time between pieces";
    if (problem.empty() && ((first_piece_ && rows_.front().time.ns != stmt_.Int(kFirstTs)) ||
                            (decoder_.left() == 0 && rows_.back().time.ns != stmt_.Int(kLastTs)))) {
      problem = "its rows do not span the times it is stored under";
    }
    if (!problem.empty()) return BlockDamage(stmt_, "trade", symbol_, problem);
    first_piece_ = false;
    last_time_ = rows_.back().time;
    Slice();
    return true;
  }

  TradeBlockDecoder decoder_;
  UnixNanos last_time_ = UnixNanos::Min();
  bool first_piece_ = false;
};
using SqliteBarCursor = BlockCursor<Bar, DecodeBarRow>;

// An exclusive flock(2) on "<store>-writer.lock", which holds the holder's
// description. The kernel drops the lock when the process dies, so a killed
// import never blocks the next one.
class SqliteWriterLock final : public WriterLock {
 public:
  explicit SqliteWriterLock(int fd) : fd_(fd) {}
  ~SqliteWriterLock() override {
    (void)::ftruncate(fd_, 0);
    ::close(fd_);  // releases the lock
  }

 private:
  int fd_;
};

Result<std::unique_ptr<WriterLock>> LockSqliteForWriting(const std::string& db_path, std::string_view holder) {
  const std::string path = db_path + "-writer.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return MakeError(ErrorCode::kIo, "cannot open the writer lock " + path + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    // The holder writes its name just after taking the lock: give it a moment.
    std::string other;
    for (int i = 0; i < 50 && other.empty(); ++i) {
      if (i > 0) ::usleep(2000);
      other.assign(512, '\0');
      const ssize_t n = ::pread(fd, other.data(), other.size(), 0);
      other.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    }
    ::close(fd);
    if (err != EWOULDBLOCK) {
      return MakeError(ErrorCode::kIo, "cannot lock " + path + ": " + std::strerror(err));
    }
    if (other.empty()) other = "another process (it has not written its name yet)";
    return MakeError(ErrorCode::kBusy, "another writer is importing into " + db_path + ": " + other +
                                           "; wait for it to finish (or stop it), then run this again");
  }
  const std::string text(holder);
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    const int err = errno;
    ::close(fd);
    return MakeError(ErrorCode::kIo, "cannot write the writer lock " + path + ": " + std::strerror(err));
  }
  return std::unique_ptr<WriterLock>(std::make_unique<SqliteWriterLock>(fd));
}

class SqliteStore;

class SqliteImport final : public ImportTransaction {
 public:
  SqliteImport(SqliteStore& store, SymbolInfo info, std::int64_t next_block)
      : store_(store), info_(std::move(info)), after_(info_), next_block_(next_block) {}
  ~SqliteImport() override;

  const SymbolInfo& symbol() const override { return info_; }
  Status AppendTrades(const TradeColumns& trades) override;
  Status PutMinuteBars(std::span<const Bar> bars) override;
  Status Commit(const FileRecord& file) override;

 private:
  // Loads the symbol's last bar block (it is rewritten with the new bars, which
  // keeps blocks full and merges a minute split across two imports).
  Status SeedBars();
  Status WriteBarBlock();

  SqliteStore& store_;
  SymbolInfo info_;   // before
  SymbolInfo after_;  // running totals
  std::int64_t next_block_;
  std::uint64_t rows_ = 0;
  EncodedBlock block_;
  std::vector<Bar> bars_;  // the bar block being filled
  std::int64_t bar_block_no_ = 0;
  bool bars_seeded_ = false;
  std::string bar_blob_;
  bool open_ = true;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(Db db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  Status Init(bool read_only) {
    TICKFLOW_RETURN_IF_ERROR(db_.Exec("PRAGMA busy_timeout=10000"));
    if (!read_only) {
      // page_size only takes effect before the first table is created.
      TICKFLOW_RETURN_IF_ERROR(db_.Exec("PRAGMA page_size=65536"));
      TICKFLOW_RETURN_IF_ERROR(db_.Exec("PRAGMA journal_mode=WAL"));
      TICKFLOW_RETURN_IF_ERROR(db_.Exec("PRAGMA synchronous=NORMAL"));
      TICKFLOW_RETURN_IF_ERROR(db_.Exec(kSchema));
      TICKFLOW_RETURN_IF_ERROR(UpgradeFromVersion1());
    }
    TICKFLOW_RETURN_IF_ERROR(db_.Exec("PRAGMA cache_size=-65536"));
    auto meta = Stmt::Prepare(db_, "SELECT value FROM tickflow_meta WHERE key='schema_version'");
    if (!meta.ok()) {
      return MakeError(ErrorCode::kCorrupt, path_ + " is not a tickflow store (" + meta.error().message +
                                                "); give a store made by `tickflow import` or `tickflow db init`");
    }
    Stmt v = std::move(meta).value();
    TICKFLOW_ASSIGN_OR_RETURN(const bool row, v.Step(db_));
    if (row && v.Text(0) == "1") {
      return MakeError(ErrorCode::kInvalidArgument,
                       path_ + " was written by an older tickflow (store schema 1); open it once for writing to "
                               "upgrade it to schema 2 in place: tickflow db init --db " + path_);
    }
    if (!row || v.Text(0) != std::to_string(kSchemaVersion)) {
      return MakeError(ErrorCode::kCorrupt, path_ + " is not a tickflow store of schema version " +
                                                std::to_string(kSchemaVersion));
    }
    return {};
  }

  const Db& db() const { return db_; }

  // Schema 1 -> 2: adds the checksum columns; old blocks keep NULL (their rows
  // are still validated on read).
  Status UpgradeFromVersion1() {
    TICKFLOW_ASSIGN_OR_RETURN(Stmt v, Stmt::Prepare(db_, "SELECT value FROM tickflow_meta WHERE key='schema_version'"));
    TICKFLOW_ASSIGN_OR_RETURN(const bool row, v.Step(db_));
    if (!row || v.Text(0) != "1") return {};
    v = Stmt();
    return db_.Exec(
        "BEGIN IMMEDIATE; ALTER TABLE trade_blocks ADD COLUMN checksum INTEGER; "
        "ALTER TABLE bar_blocks ADD COLUMN checksum INTEGER; "
        "UPDATE tickflow_meta SET value='2' WHERE key='schema_version'; COMMIT");
  }

  // The digits the symbol's rows may have; the widest for an unknown id.
  ValueLimits Limits(SymbolId id) {
    auto s = FindSymbol(id);
    return s.ok() ? LimitsOf(s.value()) : ValueLimits{};
  }

  Result<std::vector<SymbolInfo>> ListSymbols() override {
    TICKFLOW_ASSIGN_OR_RETURN(
        Stmt st, Stmt::Prepare(db_, (std::string("SELECT ") + kSymbolColumns + " FROM symbols ORDER BY symbol_id").c_str()));
    std::vector<SymbolInfo> out;
    while (true) {
      TICKFLOW_ASSIGN_OR_RETURN(const bool row, st.Step(db_));
      if (!row) break;
      out.push_back(ReadSymbolRow(st));
    }
    return out;
  }

  Result<SymbolInfo> FindSymbol(std::string_view symbol) override {
    TICKFLOW_ASSIGN_OR_RETURN(
        Stmt st, Stmt::Prepare(db_, (std::string("SELECT ") + kSymbolColumns + " FROM symbols WHERE symbol=?").c_str()));
    st.Bind(1, symbol);
    TICKFLOW_ASSIGN_OR_RETURN(const bool row, st.Step(db_));
    if (!row) {
      return MakeError(ErrorCode::kNotFound, "unknown symbol '" + std::string(symbol) + "' in " + path_ +
                                                 " (`tickflow symbols` lists the imported ones)");
    }
    return ReadSymbolRow(st);
  }

  Result<SymbolInfo> FindSymbol(SymbolId id) override {
    TICKFLOW_ASSIGN_OR_RETURN(
        Stmt st, Stmt::Prepare(db_, (std::string("SELECT ") + kSymbolColumns + " FROM symbols WHERE symbol_id=?").c_str()));
    st.Bind(1, static_cast<std::int64_t>(id));
    TICKFLOW_ASSIGN_OR_RETURN(const bool row, st.Step(db_));
    if (!row) return MakeError(ErrorCode::kNotFound, "unknown symbol id " + std::to_string(id));
    return ReadSymbolRow(st);
  }

  Result<std::optional<FileRecord>> FindFile(std::string_view symbol, std::string_view file_name) override {
    TICKFLOW_ASSIGN_OR_RETURN(
        Stmt st, Stmt::Prepare(db_, "SELECT f.size, f.hash, f.rows FROM imported_files f JOIN symbols s "
                                    "USING(symbol_id) WHERE s.symbol=? AND f.file_name=?"));
    st.Bind(1, symbol).Bind(2, file_name);
    TICKFLOW_ASSIGN_OR_RETURN(const bool row, st.Step(db_));
    if (!row) return std::optional<FileRecord>();
    return std::optional<FileRecord>(FileRecord{std::string(file_name), static_cast<std::uint64_t>(st.Int(0)),
                                                static_cast<std::uint64_t>(st.Int(1)),
                                                static_cast<std::uint64_t>(st.Int(2))});
  }

  Result<std::unique_ptr<WriterLock>> LockForWriting(std::string_view holder) override {
    return LockSqliteForWriting(path_, holder);
  }

  Result<std::unique_ptr<ImportTransaction>> BeginImport(std::string_view symbol) override {
    TICKFLOW_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE"));
    auto r = BeginImportLocked(symbol);
    if (!r.ok()) (void)db_.Exec("ROLLBACK");
    return r;
  }

  Result<std::unique_ptr<TradeCursor>> Trades(std::span<const SymbolId> symbols, TimeRange range) override {
    if (symbols.empty()) return MakeError(ErrorCode::kInvalidArgument, "no symbols requested");
    std::vector<std::unique_ptr<TradeCursor>> cursors;
    for (SymbolId s : symbols) {
      const ValueLimits limits = Limits(s);
      TICKFLOW_ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_, BlockSelect("trade_count", "ts, price, volume",
          "FROM trade_blocks WHERE block_key BETWEEN ? AND ? AND last_ts >= ? AND first_ts < ? ORDER BY block_key").c_str()));
      st.Bind(1, BlockKey(s, 0)).Bind(2, BlockKey(s, kMaxBlockNo));
      st.Bind(3, range.from.ns).Bind(4, range.to.ns);
      cursors.push_back(std::make_unique<SqliteTradeCursor>(db_, std::move(st), s, range, kBlockTrades, limits));
    }
    if (cursors.size() == 1) return std::move(cursors.front());
    return MergeTrades(std::move(cursors));
  }

  Result<std::unique_ptr<BarCursor>> MinuteBars(SymbolId symbol, TimeRange range) override {
    const ValueLimits limits = Limits(symbol);
    TICKFLOW_ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_, BlockSelect("bar_count", "bars",
        "FROM bar_blocks WHERE block_key BETWEEN ? AND ? AND last_ts >= ? AND first_ts < ? ORDER BY block_key").c_str()));
    st.Bind(1, BlockKey(symbol, 0)).Bind(2, BlockKey(symbol, kMaxBlockNo));
    st.Bind(3, range.from.ns).Bind(4, range.to.ns);
    return std::unique_ptr<BarCursor>(
        std::make_unique<SqliteBarCursor>(db_, std::move(st), symbol, range, kBlockBars, limits));
  }

  std::string location() const override { return path_; }

 private:
  Result<std::unique_ptr<ImportTransaction>> BeginImportLocked(std::string_view symbol) {
    auto found = FindSymbol(symbol);
    if (!found.ok() && found.error().code != ErrorCode::kNotFound) return std::move(found).error();
    SymbolInfo info;
    if (found.ok()) {
      info = std::move(found).value();
    } else {
      TICKFLOW_ASSIGN_OR_RETURN(Stmt next, Stmt::Prepare(db_, "SELECT COALESCE(MAX(symbol_id), 0) + 1 FROM symbols"));
      TICKFLOW_ASSIGN_OR_RETURN(const bool has, next.Step(db_));
      const std::int64_t id = has ? next.Int(0) : 1;
      if (id > 0xFFFE) return MakeError(ErrorCode::kOutOfRange, "no symbol id left (limit 65534 symbols)");
      info.id = static_cast<SymbolId>(id);
      info.symbol = std::string(symbol);
      SplitPair(symbol, &info.base, &info.quote);
      TICKFLOW_ASSIGN_OR_RETURN(Stmt ins, Stmt::Prepare(db_,
          "INSERT INTO symbols(symbol_id, exchange_id, symbol, base, quote) VALUES(?, ?, ?, ?, ?)"));
      ins.Bind(1, id).Bind(2, static_cast<std::int64_t>(info.exchange)).Bind(3, symbol).Bind(4, info.base).Bind(5, info.quote);
      TICKFLOW_RETURN_IF_ERROR(ins.Run(db_));
    }
    TICKFLOW_ASSIGN_OR_RETURN(Stmt blocks, Stmt::Prepare(db_,
        "SELECT COALESCE(MAX(block_no), -1) + 1 FROM trade_blocks WHERE block_key BETWEEN ? AND ?"));
    blocks.Bind(1, BlockKey(info.id, 0)).Bind(2, BlockKey(info.id, kMaxBlockNo));
    TICKFLOW_ASSIGN_OR_RETURN(const bool row, blocks.Step(db_));
    const std::int64_t next_block = row ? blocks.Int(0) : 0;
    return std::unique_ptr<ImportTransaction>(std::make_unique<SqliteImport>(*this, std::move(info), next_block));
  }

  Db db_;
  std::string path_;
};

SqliteImport::~SqliteImport() {
  if (open_) (void)store_.db().Exec("ROLLBACK");
}

Status SqliteImport::AppendTrades(const TradeColumns& trades) {
  if (trades.size() == 0) return {};
  const Db& db = store_.db();
  TICKFLOW_ASSIGN_OR_RETURN(Stmt ins, Stmt::Prepare(db,
      "INSERT INTO trade_blocks(block_key, symbol_id, block_no, first_ts, last_ts, trade_count, ts, price, volume, "
      "checksum) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  const std::size_t n = trades.size();
  if (after_.trade_count > 0 && trades.time.front() < after_.last_time) {
    return MakeError(ErrorCode::kInvalidArgument, "trades appended out of time order");
  }
  for (std::size_t begin = 0; begin < n; begin += kBlockTrades) {
    const std::size_t len = std::min(kBlockTrades, n - begin);
    EncodeBlock(std::span(trades.time).subspan(begin, len), std::span(trades.price).subspan(begin, len),
                std::span(trades.volume).subspan(begin, len), &block_);
    const std::int64_t key = BlockKey(info_.id, next_block_);
    const std::array<std::string_view, 3> blobs = {block_.time, block_.price, block_.volume};
    ins.Reset()
        .Bind(1, key)
        .Bind(2, static_cast<std::int64_t>(info_.id))
        .Bind(3, next_block_)
        .Bind(4, block_.first_time.ns)
        .Bind(5, block_.last_time.ns)
        .Bind(6, static_cast<std::int64_t>(block_.count))
        .BindBlob(7, block_.time)
        .BindBlob(8, block_.price)
        .BindBlob(9, block_.volume)
        .Bind(10, static_cast<std::int64_t>(BlockChecksum(key, block_.first_time.ns, block_.last_time.ns,
                                                          block_.count, blobs)));
    TICKFLOW_RETURN_IF_ERROR(ins.Run(db));
    ++next_block_;
  }
  if (after_.trade_count == 0) after_.first_time = trades.time.front();
  after_.last_time = trades.time.back();
  after_.trade_count += n;
  rows_ += n;
  for (std::size_t i = 0; i < n; ++i) {
    after_.price_scale = std::max(after_.price_scale, trades.price[i].scale());
    after_.volume_scale = std::max(after_.volume_scale, trades.volume[i].scale());
  }
  return {};
}

Status SqliteImport::SeedBars() {
  bars_seeded_ = true;
  const Db& db = store_.db();
  TICKFLOW_ASSIGN_OR_RETURN(Stmt last, Stmt::Prepare(db,
      BlockSelect("bar_count", "bars, block_no",
                  "FROM bar_blocks WHERE block_key BETWEEN ? AND ? ORDER BY block_key DESC LIMIT 1").c_str()));
  last.Bind(1, BlockKey(info_.id, 0)).Bind(2, BlockKey(info_.id, kMaxBlockNo));
  TICKFLOW_ASSIGN_OR_RETURN(const bool row, last.Step(db));
  if (!row) return {};
  const auto count = static_cast<std::uint32_t>(last.Int(1));
  if (count == 0 || count > kBlockBars) return MakeError(ErrorCode::kCorrupt, "bar block with " + std::to_string(count) + " bars");
  bars_.resize(count);
  TICKFLOW_RETURN_IF_ERROR(DecodeBarRow(last, info_.id, count, LimitsOf(info_), bars_.data()));
  bar_block_no_ = last.Int(kBlobs + 1);
  TICKFLOW_ASSIGN_OR_RETURN(Stmt del, Stmt::Prepare(db, "DELETE FROM bar_blocks WHERE block_key=?"));
  del.Bind(1, BlockKey(info_.id, bar_block_no_));
  return del.Run(db);
}

Status SqliteImport::WriteBarBlock() {
  if (bars_.empty()) return {};
  const Db& db = store_.db();
  EncodeBarBlock(bars_, &bar_blob_);
  TICKFLOW_ASSIGN_OR_RETURN(Stmt ins, Stmt::Prepare(db,
      "INSERT INTO bar_blocks(block_key, symbol_id, block_no, first_ts, last_ts, bar_count, bars, checksum) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?)"));
  const std::int64_t key = BlockKey(info_.id, bar_block_no_);
  const std::array<std::string_view, 1> blobs = {bar_blob_};
  ins.Bind(1, key)
      .Bind(2, static_cast<std::int64_t>(info_.id))
      .Bind(3, bar_block_no_)
      .Bind(4, bars_.front().time.ns)
      .Bind(5, bars_.back().time.ns)
      .Bind(6, static_cast<std::int64_t>(bars_.size()))
      .BindBlob(7, bar_blob_)
      .Bind(8, static_cast<std::int64_t>(BlockChecksum(key, bars_.front().time.ns, bars_.back().time.ns,
                                                       static_cast<std::int64_t>(bars_.size()), blobs)));
  TICKFLOW_RETURN_IF_ERROR(ins.Run(db));
  ++bar_block_no_;
  bars_.clear();
  return {};
}

Status SqliteImport::PutMinuteBars(std::span<const Bar> bars) {
  if (!bars_seeded_) TICKFLOW_RETURN_IF_ERROR(SeedBars());
  for (const Bar& b : bars) {
    TICKFLOW_RETURN_IF_ERROR(AppendMinuteBar(&bars_, b));
    if (bars_.size() == kBlockBars) TICKFLOW_RETURN_IF_ERROR(WriteBarBlock());
  }
  return {};
}

Status SqliteImport::Commit(const FileRecord& file) {
  const Db& db = store_.db();
  TICKFLOW_RETURN_IF_ERROR(WriteBarBlock());
  TICKFLOW_ASSIGN_OR_RETURN(Stmt upd, Stmt::Prepare(db,
      "UPDATE symbols SET first_ts=?, last_ts=?, trade_count=?, price_scale=?, volume_scale=? WHERE symbol_id=?"));
  upd.Bind(1, after_.first_time.ns).Bind(2, after_.last_time.ns).Bind(3, static_cast<std::int64_t>(after_.trade_count));
  upd.Bind(4, after_.price_scale).Bind(5, after_.volume_scale).Bind(6, static_cast<std::int64_t>(info_.id));
  if (after_.trade_count == 0) {
    sqlite3_bind_null(upd.get(), 1);
    sqlite3_bind_null(upd.get(), 2);
  }
  TICKFLOW_RETURN_IF_ERROR(upd.Run(db));
  TICKFLOW_ASSIGN_OR_RETURN(Stmt rec, Stmt::Prepare(db,
      "INSERT INTO imported_files(symbol_id, file_name, size, hash, rows, imported_at) VALUES(?, ?, ?, ?, ?, "
      "CAST(strftime('%s','now') AS INTEGER)) ON CONFLICT(symbol_id, file_name) DO UPDATE SET "
      "size=excluded.size, hash=excluded.hash, rows=excluded.rows, imported_at=excluded.imported_at"));
  rec.Bind(1, static_cast<std::int64_t>(info_.id)).Bind(2, file.file_name);
  rec.Bind(3, static_cast<std::int64_t>(file.size)).Bind(4, static_cast<std::int64_t>(file.hash));
  rec.Bind(5, static_cast<std::int64_t>(file.rows));
  TICKFLOW_RETURN_IF_ERROR(rec.Run(db));
  TICKFLOW_RETURN_IF_ERROR(db.Exec("COMMIT"));
  open_ = false;
  return {};
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, const OpenOptions& options) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (!exists && !options.create) {
    return MakeError(ErrorCode::kNotFound, "no store at " + path + " (run `tickflow import DIR` first)");
  }
  if (!exists) {
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
      if (!options.create_folder) {
        return MakeError(ErrorCode::kNotFound, "cannot create the store " + path + ": there is no folder " +
                                                   parent.string() + " (create it first: mkdir -p " + parent.string() +
                                                   ")");
      }
      std::filesystem::create_directories(parent, ec);
      if (ec) return MakeError(ErrorCode::kIo, "cannot create the folder " + parent.string() + ": " + ec.message());
    }
  }
  const int flags = options.read_only ? SQLITE_OPEN_READONLY
                                      : (SQLITE_OPEN_READWRITE | (options.create ? SQLITE_OPEN_CREATE : 0));
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return MakeError(ErrorCode::kIo, "cannot open store " + path + ": " + sqlite3_errstr(rc));
  auto store = std::make_unique<SqliteStore>(std::move(db), path);
  TICKFLOW_RETURN_IF_ERROR(store->Init(options.read_only));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace tickflow::store::detail
