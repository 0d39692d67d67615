// The tick store: symbols, per-file atomic imports, trade streams of one or
// many symbols (merged in time order) over [from, to), and bars at every
// resolution aggregated exactly from the stored 1-minute bars.
//
// Backends: SQLite (embedded default; columnar trade blocks, see DESIGN §3 and
// docs/storage.md). A Store is not thread-safe: use one per thread (SQLite in
// WAL mode lets many readers run beside one writer). Cursors read in bounded
// memory (one block per symbol) and must not outlive their Store.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tickflow/core/market.hpp"
#include "tickflow/core/resolution.hpp"
#include "tickflow/core/result.hpp"

namespace tickflow::store {

struct SymbolInfo {
  SymbolId id = 0;
  ExchangeId exchange = kKrakenExchangeId;
  std::string symbol;
  std::string base;
  std::string quote;
  UnixNanos first_time;  // meaningful when trade_count > 0
  UnixNanos last_time;
  std::uint64_t trade_count = 0;
  int price_scale = 0;   // most digits after the point seen in a price
  int volume_scale = 0;
};

// What a store remembers of an imported file, to recognise it again.
struct FileRecord {
  std::string file_name;
  std::uint64_t size = 0;   // bytes imported
  std::uint64_t hash = 0;   // ContentHash of those bytes
  std::uint64_t rows = 0;   // rows stored from it, over all its imports
};

// [from, to); the defaults are unbounded.
struct TimeRange {
  UnixNanos from = UnixNanos::Min();
  UnixNanos to = UnixNanos::Max();
  bool Contains(UnixNanos t) const { return t >= from && t < to; }
};

// Columns of trades of one symbol, in non-decreasing time order.
struct TradeColumns {
  std::vector<UnixNanos> time;
  std::vector<Decimal> price;
  std::vector<Decimal> volume;
  std::size_t size() const { return time.size(); }
  void clear() { time.clear(); price.clear(); volume.clear(); }
  void push_back(UnixNanos t, Decimal p, Decimal v) {
    time.push_back(t);
    price.push_back(p);
    volume.push_back(v);
  }
};

// A stream of rows (trades or bars) in time order.
template <class Row>
class RowCursor {
 public:
  virtual ~RowCursor() = default;
  // Fills `out` from the front; returns how many were written, 0 at the end.
  virtual Result<std::size_t> Next(std::span<Row> out) = 0;
  // Zero-copy: the next run of rows, valid until the next call on this
  // cursor; empty at the end. Backends that decode blocks hand out the block.
  virtual Result<std::span<const Row>> NextView() {
    view_.resize(4096);
    TICKFLOW_ASSIGN_OR_RETURN(const std::size_t n, Next(view_));
    return std::span<const Row>(view_.data(), n);
  }

 private:
  std::vector<Row> view_;
};

using TradeCursor = RowCursor<Trade>;
using BarCursor = RowCursor<Bar>;

// One file's contribution, written in one transaction: nothing is visible
// until Commit; destroying it without Commit leaves the store as it was.
class ImportTransaction {
 public:
  virtual ~ImportTransaction() = default;
  // The symbol as stored before this transaction, with its id (a new symbol
  // gets the next free id, kept for good once committed).
  virtual const SymbolInfo& symbol() const = 0;
  // Times must not precede symbol().last_time or the previous append.
  virtual Status AppendTrades(const TradeColumns& trades) = 0;
  // 1-minute bars of the appended trades, in time order; a bar for a minute
  // that is already stored is merged with it (the stored part came first).
  virtual Status PutMinuteBars(std::span<const Bar> bars) = 0;
  virtual Status Commit(const FileRecord& file) = 0;
};

// Held by the one writer of a store (an import) while it writes; released
// when destroyed, or when its process dies (SQLite: the operating system drops
// the file lock; ClickHouse: the lease expires kLeaseSeconds after its last
// renewal, renewed every few seconds by a thread of the lock).
class WriterLock {
 public:
  virtual ~WriterLock() = default;
};

// How long a ClickHouse writer lease outlives its last renewal.
inline constexpr int kLeaseSeconds = 30;

class Store {
 public:
  virtual ~Store() = default;

  virtual Result<std::vector<SymbolInfo>> ListSymbols() = 0;
  // kNotFound with a message that names the symbol.
  virtual Result<SymbolInfo> FindSymbol(std::string_view symbol) = 0;
  virtual Result<SymbolInfo> FindSymbol(SymbolId id) = 0;
  virtual Result<std::optional<FileRecord>> FindFile(std::string_view symbol, std::string_view file_name) = 0;

  // Excludes every other writer of this store (in any process, on any host
  // for ClickHouse) until the lock is destroyed. `holder` describes the caller
  // (e.g. "tickflow import, pid 12, host h, since 2026-01-01T00:00:00Z"); when
  // another writer holds the store, kBusy with a message naming that holder.
  virtual Result<std::unique_ptr<WriterLock>> LockForWriting(std::string_view holder) = 0;

  virtual Result<std::unique_ptr<ImportTransaction>> BeginImport(std::string_view symbol) = 0;

  // Trades of one symbol, or of several merged in time order; equal
  // timestamps keep the order of `symbols`, then the stored order.
  virtual Result<std::unique_ptr<TradeCursor>> Trades(std::span<const SymbolId> symbols, TimeRange range) = 0;
  virtual Result<std::unique_ptr<BarCursor>> MinuteBars(SymbolId symbol, TimeRange range) = 0;

  virtual std::string location() const = 0;
};

struct OpenOptions {
  bool create = true;       // create the file and schema when missing
  bool read_only = false;   // never writes (no schema, no WAL setup): for readers
  bool create_folder = false;  // SQLite: create the file's missing parent folders (else an error names them)
};

// `location` is a file path, optionally prefixed "sqlite:".
Result<std::unique_ptr<Store>> OpenStore(std::string_view location, const OpenOptions& options = {});

// Bars with a bucket start in [from, to), each complete, aggregated exactly
// from the 1-minute bars.
Result<std::unique_ptr<BarCursor>> ReadBars(Store& store, SymbolId symbol, TimeResolution res, TimeRange range);

// A bar of one of several symbols.
struct SymbolBar {
  SymbolId symbol = 0;
  Bar bar;
};
class SymbolBarCursor {
 public:
  virtual ~SymbolBarCursor() = default;
  virtual Result<std::size_t> Next(std::span<SymbolBar> out) = 0;
};
// Store::Trades of several symbols, opened one by one and merged, asking
// `cancelled` before each symbol is opened and read first: a yes ends with
// kCancelled (a gateway stream stopped while 1,024 symbols open).
Result<std::unique_ptr<TradeCursor>> ReadTrades(Store& store, std::span<const SymbolId> symbols, TimeRange range,
                                                std::function<bool()> cancelled);
// Bars of several symbols merged in time order (equal times keep the order of `symbols`).
// `cancelled`, when given, is asked before each symbol is opened and read first
// (as in MergeTrades): a yes ends with kCancelled.
Result<std::unique_ptr<SymbolBarCursor>> ReadBars(Store& store, std::span<const SymbolId> symbols, TimeResolution res,
                                                  TimeRange range, std::function<bool()> cancelled = {});

// Merges per-symbol cursors in time order (stable: ties go to the earlier cursor).
// The first Next reads from every cursor (one block or page each: with
// ClickHouse one query per symbol); `cancelled`, when given, is asked before
// each, and a yes ends that Next with kCancelled.
std::unique_ptr<TradeCursor> MergeTrades(std::vector<std::unique_ptr<TradeCursor>> cursors,
                                         std::function<bool()> cancelled = {});

// A 64-bit hash of file contents, used to recognise re-imported and grown files.
std::uint64_t ContentHash(std::span<const char> bytes);

// ContentHash fed piece by piece: the total size is given up front (it seeds
// the hash), then Update() any split of exactly that many bytes, then Finish().
class ContentHasher {
 public:
  explicit ContentHasher(std::uint64_t size);
  void Update(std::span<const char> bytes);
  std::uint64_t Finish() const;

 private:
  std::uint64_t h_;
  std::uint64_t pending_ = 0;  // bytes of a word not yet complete
  int pending_bytes_ = 0;
};

// Kraken pair names to base and quote ("XBTUSD" -> "XBT", "USD").
void SplitPair(std::string_view symbol, std::string* base, std::string* quote);

}  // namespace tickflow::store
