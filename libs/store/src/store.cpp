#include "tickflow/store/store.hpp"

#include <array>
#include <cstring>
#include <queue>

#include "clickhouse_store.hpp"
#include "sqlite_store.hpp"
#include "tickflow/bars/resampler.hpp"

namespace tickflow::store {
namespace {

// K-way merge by time of several cursors of rows with a `time` field; ties go
// to the earlier input, so the merge is stable.
template <class Row>
class HeapMerge {
 public:
  explicit HeapMerge(std::vector<std::unique_ptr<RowCursor<Row>>> cursors, std::function<bool()> cancelled = {})
      : inputs_(cursors.size()), cancelled_(std::move(cancelled)) {
    for (std::size_t i = 0; i < cursors.size(); ++i) inputs_[i].cursor = std::move(cursors[i]);
  }
  // The next row and the index of its input; false at the end.
  Result<bool> Pop(Row* row, std::size_t* input) {
    for (; !primed_ && primed_inputs_ < inputs_.size(); ++primed_inputs_) {
      if (cancelled_ && cancelled_()) {
        return MakeError(ErrorCode::kCancelled, "stopped while opening " + std::to_string(inputs_.size()) +
                                                    " cursors (" + std::to_string(primed_inputs_) + " open)");
      }
      TICKFLOW_RETURN_IF_ERROR(Refill(primed_inputs_));
    }
    primed_ = true;
    if (heap_.empty()) return false;
    const std::size_t i = heap_.top().input;
    heap_.pop();
    Input& in = inputs_[i];
    *row = in.buffer[in.pos++];
    *input = i;
    TICKFLOW_RETURN_IF_ERROR(Refill(i));
    return true;
  }

 private:
  static constexpr std::size_t kBatch = 1024;
  struct Input {
    std::unique_ptr<RowCursor<Row>> cursor;
    std::array<Row, kBatch> buffer{};
    std::size_t pos = 0;
    std::size_t size = 0;
  };
  struct Head {
    UnixNanos time;
    std::size_t input;
    // std::priority_queue is a max-heap: "greater" means later, then higher input index.
    bool operator<(const Head& o) const { return time != o.time ? time > o.time : input > o.input; }
  };
  // Makes input i's next row available in the heap, if it has one.
  Status Refill(std::size_t i) {
    Input& in = inputs_[i];
    if (in.pos == in.size) {
      TICKFLOW_ASSIGN_OR_RETURN(in.size, in.cursor->Next(in.buffer));
      in.pos = 0;
      if (in.size == 0) return {};
    }
    heap_.push(Head{in.buffer[in.pos].time, i});
    return {};
  }

  std::vector<Input> inputs_;
  std::function<bool()> cancelled_;
  std::priority_queue<Head> heap_;
  std::size_t primed_inputs_ = 0;
  bool primed_ = false;
};

class MergedTradeCursor final : public TradeCursor {
 public:
  MergedTradeCursor(std::vector<std::unique_ptr<TradeCursor>> cursors, std::function<bool()> cancelled)
      : merge_(std::move(cursors), std::move(cancelled)) {}
  Result<std::size_t> Next(std::span<Trade> out) override {
    std::size_t n = 0, input = 0;
    while (n < out.size()) {
      TICKFLOW_ASSIGN_OR_RETURN(const bool more, merge_.Pop(&out[n], &input));
      if (!more) break;
      ++n;
    }
    return n;
  }

 private:
  HeapMerge<Trade> merge_;
};

class MergedBarCursor final : public SymbolBarCursor {
 public:
  MergedBarCursor(std::vector<std::unique_ptr<BarCursor>> cursors, std::vector<SymbolId> symbols,
                  std::function<bool()> cancelled)
      : merge_(std::move(cursors), std::move(cancelled)), symbols_(std::move(symbols)) {}
  Result<std::size_t> Next(std::span<SymbolBar> out) override {
    std::size_t n = 0, input = 0;
    while (n < out.size()) {
      TICKFLOW_ASSIGN_OR_RETURN(const bool more, merge_.Pop(&out[n].bar, &input));
      if (!more) break;
      out[n++].symbol = symbols_[input];
    }
    return n;
  }

 private:
  HeapMerge<Bar> merge_;
  std::vector<SymbolId> symbols_;
};

class AggregatingBarCursor final : public BarCursor {
 public:
  AggregatingBarCursor(std::unique_ptr<BarCursor> minutes, TimeResolution res)
      : minutes_(std::move(minutes)), resampler_(res) {}

  Result<std::size_t> Next(std::span<Bar> out) override {
    std::size_t n = 0;
    while (n < out.size() && !done_) {
      if (pos_ == size_) {
        TICKFLOW_ASSIGN_OR_RETURN(size_, minutes_->Next(buffer_));
        pos_ = 0;
        if (size_ == 0) {
          done_ = true;
          if (resampler_.Flush(&out[n])) ++n;
          break;
        }
      }
      switch (resampler_.Add(buffer_[pos_++], &out[n])) {
        case bars::AddStatus::kBarDone: ++n; break;
        case bars::AddStatus::kPending: break;
        case bars::AddStatus::kOutOfOrder:
          return MakeError(ErrorCode::kCorrupt, "1-minute bars out of time order");
        case bars::AddStatus::kVolumeOverflow:
          return MakeError(ErrorCode::kOutOfRange,
                           "bar volume exceeds the exact range (37 significant digits) at " + FormatIso8601(buffer_[pos_ - 1].time));
      }
    }
    return n;
  }

 private:
  std::unique_ptr<BarCursor> minutes_;
  bars::Resampler resampler_;
  std::array<Bar, 1024> buffer_{};
  std::size_t pos_ = 0;
  std::size_t size_ = 0;
  bool done_ = false;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenStore(std::string_view location, const OpenOptions& options) {
  std::string_view path = location;
  if (path.rfind("sqlite:", 0) == 0) path.remove_prefix(7);
  if (path.rfind("clickhouse://", 0) == 0) return detail::OpenClickHouseStore(path, options);
  if (path.find("://") != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "unsupported store '" + std::string(location) +
                                                      "': give a SQLite file path or clickhouse://HOST:PORT/DATABASE");
  }
  if (path.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty store path");
  return detail::OpenSqliteStore(std::string(path), options);
}

Result<std::unique_ptr<BarCursor>> ReadBars(Store& store, SymbolId symbol, TimeResolution res, TimeRange range) {
  if (!IsValid(res)) return MakeError(ErrorCode::kInvalidArgument, "invalid time resolution");
  if (range.from >= range.to) {
    return MakeError(ErrorCode::kInvalidArgument, "empty time range: from " + FormatIso8601(range.from) +
                                                      " is not before to " + FormatIso8601(range.to));
  }
  if (res == TimeResolution::kOneMinute) {
    // Bars starting in [from, to): the first whole minute at or after `from`.
    TimeRange minutes = range;
    if (range.from != UnixNanos::Min() && BucketStart(range.from, res) != range.from) {
      minutes.from = NextBucketStart(range.from, res);
    }
    return store.MinuteBars(symbol, minutes);
  }
  // Bars whose bucket start lies in [from, to), each complete: read the minutes
  // from the first such bucket to the end of the bucket holding to - 1ns.
  TimeRange minutes;
  if (range.from != UnixNanos::Min()) {
    minutes.from = BucketStart(range.from, res) == range.from ? range.from : NextBucketStart(range.from, res);
  }
  if (range.to != UnixNanos::Max()) minutes.to = NextBucketStart(UnixNanos{range.to.ns - 1}, res);
  if (minutes.from >= minutes.to) {
    minutes.to = minutes.from;  // no bucket starts in the range
  }
  TICKFLOW_ASSIGN_OR_RETURN(auto cursor, store.MinuteBars(symbol, minutes));
  return std::unique_ptr<BarCursor>(std::make_unique<AggregatingBarCursor>(std::move(cursor), res));
}

Result<std::unique_ptr<SymbolBarCursor>> ReadBars(Store& store, std::span<const SymbolId> symbols, TimeResolution res,
                                                  TimeRange range, std::function<bool()> cancelled) {
  if (symbols.empty()) return MakeError(ErrorCode::kInvalidArgument, "no symbols requested");
  std::vector<std::unique_ptr<BarCursor>> cursors;
  for (SymbolId s : symbols) {
    if (cancelled && cancelled()) {
      return MakeError(ErrorCode::kCancelled, "stopped while opening " + std::to_string(symbols.size()) + " bar cursors");
    }
    TICKFLOW_ASSIGN_OR_RETURN(auto c, ReadBars(store, s, res, range));
    cursors.push_back(std::move(c));
  }
  return std::unique_ptr<SymbolBarCursor>(std::make_unique<MergedBarCursor>(
      std::move(cursors), std::vector<SymbolId>(symbols.begin(), symbols.end()), std::move(cancelled)));
}

std::unique_ptr<TradeCursor> MergeTrades(std::vector<std::unique_ptr<TradeCursor>> cursors,
                                         std::function<bool()> cancelled) {
  return std::make_unique<MergedTradeCursor>(std::move(cursors), std::move(cancelled));
}

Result<std::unique_ptr<TradeCursor>> ReadTrades(Store& store, std::span<const SymbolId> symbols, TimeRange range,
                                                std::function<bool()> cancelled) {
  if (symbols.size() <= 1) return store.Trades(symbols, range);
  std::vector<std::unique_ptr<TradeCursor>> cursors;
  for (const SymbolId& s : symbols) {
    if (cancelled && cancelled()) {
      return MakeError(ErrorCode::kCancelled, "stopped while opening " + std::to_string(symbols.size()) + " cursors");
    }
    TICKFLOW_ASSIGN_OR_RETURN(cursors.emplace_back(), store.Trades(std::span(&s, 1), range));
  }
  return MergeTrades(std::move(cursors), std::move(cancelled));
}

namespace {
constexpr std::uint64_t kHashMul = 0x9E3779B97F4A7C15ULL;
inline std::uint64_t HashWord(std::uint64_t h, std::uint64_t w) {
  h = (h ^ w) * kHashMul;
  return h ^ (h >> 32);
}
}  // namespace

ContentHasher::ContentHasher(std::uint64_t size) : h_(0x243F6A8885A308D3ULL ^ (size * kHashMul)) {}

void ContentHasher::Update(std::span<const char> bytes) {
  std::size_t i = 0;
  while (pending_bytes_ > 0 && pending_bytes_ < 8 && i < bytes.size()) {  // complete a split word first
    pending_ |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i++])) << (8 * pending_bytes_++);
  }
  if (pending_bytes_ == 8) {
    h_ = HashWord(h_, pending_);
    pending_ = 0;
    pending_bytes_ = 0;
  }
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    h_ = HashWord(h_, w);
  }
  for (; i < bytes.size(); ++i) {
    pending_ |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * pending_bytes_++);
  }
}

std::uint64_t ContentHasher::Finish() const {
  std::uint64_t h = (h_ ^ pending_) * kHashMul;  // the tail word (zero when the size is a multiple of 8)
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ULL;
  return h ^ (h >> 31);
}

std::uint64_t ContentHash(std::span<const char> bytes) {
  ContentHasher hasher(bytes.size());
  hasher.Update(bytes);
  return hasher.Finish();
}

void SplitPair(std::string_view symbol, std::string* base, std::string* quote) {
  // Longest known quote currency that leaves a non-empty base.
  static constexpr std::array<std::string_view, 22> kQuotes = {
      "ZUSD", "ZEUR", "ZGBP", "ZCAD", "ZJPY", "USDT", "USDC", "XXBT", "XETH", "USD", "EUR",
      "GBP",  "CAD",  "JPY",  "CHF",  "AUD",  "XBT",  "ETH",  "DAI",  "DOT", "BTC", "AED"};
  for (std::string_view q : kQuotes) {
    if (symbol.size() > q.size() && symbol.substr(symbol.size() - q.size()) == q) {
      *base = std::string(symbol.substr(0, symbol.size() - q.size()));
      *quote = std::string(q);
      return;
    }
  }
  *base = std::string(symbol);
  quote->clear();
}

}  // namespace tickflow::store
