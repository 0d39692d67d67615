#include "tickflow/store/store.hpp"

#include <array>
#include <cstring>
#include <limits>

#include "clickhouse_store.hpp"
#include "sqlite_store.hpp"
#include "tickflow/bars/resampler.hpp"

namespace tickflow::store {
namespace {

// K-way merge by time of several cursors of rows with a `time` field; ties go
// to the earlier input, so the merge is stable. It hands out runs: all the
// rows of the leading input that come before every other input's next row, as
// a view of that input's decoded block (NextView, not copied), so a heap
// operation is paid per run, not per row. The heap of input heads is
// hand-written so that putting the input's next row back is one sift-down
// (std::priority_queue needs a pop and a push).
template <class Row>
class HeapMerge {
 public:
  explicit HeapMerge(std::vector<std::unique_ptr<RowCursor<Row>>> cursors, std::function<bool()> cancelled = {})
      : inputs_(cursors.size()), cancelled_(std::move(cancelled)) {
    for (std::size_t i = 0; i < cursors.size(); ++i) inputs_[i].cursor = std::move(cursors[i]);
    heap_.reserve(inputs_.size());
  }
  // The next run of at most `max` rows, all of input *input, valid until the
  // next call; empty at the end.
  Result<std::span<const Row>> NextRun(std::size_t max, std::size_t* input) {
    if (!primed_) TICKFLOW_RETURN_IF_ERROR(Prime());
    if (refill_) {  // the last run ended the leader's view: only now may its cursor move on
      refill_ = false;
      Input& in = inputs_[heap_.front().input];
      TICKFLOW_ASSIGN_OR_RETURN(in.view, in.cursor->NextView());
      in.pos = 0;
      if (in.view.empty()) {  // done: the last head takes its place
        heap_.front() = heap_.back();
        heap_.pop_back();
        if (!heap_.empty()) SiftDown(0);
      } else {
        heap_.front().time = in.view.front().time;
        SiftDown(0);
      }
    }
    if (heap_.empty()) return std::span<const Row>();
    const std::size_t i = heap_.front().input;
    Input& in = inputs_[i];
    const std::size_t avail = std::min(max, in.view.size() - in.pos);
    std::size_t n = avail;
    if (heap_.size() > 1) {  // up to the next input's head: the smaller child of the root
      const Head& next = heap_.size() > 2 && heap_[2].Before(heap_[1]) ? heap_[2] : heap_[1];
      n = 1;  // the leader's row comes first by the heap's order
      while (n < avail && Head{in.view[in.pos + n].time, i}.Before(next)) ++n;
    }
    const std::span<const Row> run = in.view.subspan(in.pos, n);
    in.pos += n;
    *input = i;
    if (in.pos == in.view.size()) {
      refill_ = true;
    } else {
      heap_.front().time = in.view[in.pos].time;
      SiftDown(0);
    }
    return run;
  }

 private:
  struct Input {
    std::unique_ptr<RowCursor<Row>> cursor;
    std::span<const Row> view;  // valid until the cursor's next call
    std::size_t pos = 0;
  };
  struct Head {
    UnixNanos time;
    std::size_t input;
    bool Before(const Head& o) const { return time != o.time ? time < o.time : input < o.input; }
  };

  Status Prime() {
    for (; primed_inputs_ < inputs_.size(); ++primed_inputs_) {
      if (cancelled_ && cancelled_()) {
        return MakeError(ErrorCode::kCancelled, "stopped while opening " + std::to_string(inputs_.size()) +
                                                    " cursors (" + std::to_string(primed_inputs_) + " open)");
      }
      Input& in = inputs_[primed_inputs_];
      TICKFLOW_ASSIGN_OR_RETURN(in.view, in.cursor->NextView());
      if (!in.view.empty()) heap_.push_back(Head{in.view.front().time, primed_inputs_});
    }
    for (std::size_t k = heap_.size() / 2; k-- > 0;) SiftDown(k);
    primed_ = true;
    return {};
  }

  void SiftDown(std::size_t k) {
    const std::size_t n = heap_.size();
    const Head moving = heap_[k];
    while (true) {
      std::size_t c = 2 * k + 1;
      if (c >= n) break;
      if (c + 1 < n && heap_[c + 1].Before(heap_[c])) ++c;
      if (!heap_[c].Before(moving)) break;
      heap_[k] = heap_[c];
      k = c;
    }
    heap_[k] = moving;
  }

  std::vector<Input> inputs_;
  std::function<bool()> cancelled_;
  std::vector<Head> heap_;  // min-heap of the inputs' next rows
  std::size_t primed_inputs_ = 0;
  bool primed_ = false;
  bool refill_ = false;  // the leader's view is used up
};

class MergedTradeCursor final : public TradeCursor {
 public:
  MergedTradeCursor(std::vector<std::unique_ptr<TradeCursor>> cursors, std::function<bool()> cancelled)
      : merge_(std::move(cursors), std::move(cancelled)) {}
  Result<std::size_t> Next(std::span<Trade> out) override {
    std::size_t n = 0, input = 0;
    while (n < out.size()) {
      TICKFLOW_ASSIGN_OR_RETURN(const std::span<const Trade> run, merge_.NextRun(out.size() - n, &input));
      if (run.empty()) break;
      std::copy(run.begin(), run.end(), out.begin() + static_cast<std::ptrdiff_t>(n));
      n += run.size();
    }
    return n;
  }
  // A long run of one market as it is (not copied); short runs, as many
  // markets interleave, gathered into a batch.
  Result<std::span<const Trade>> NextView() override {
    std::size_t input = 0;
    TICKFLOW_ASSIGN_OR_RETURN(const std::span<const Trade> run,
                              merge_.NextRun(std::numeric_limits<std::size_t>::max(), &input));
    if (run.size() >= kLongRun || run.empty()) return run;
    batch_.resize(kBatch);
    std::copy(run.begin(), run.end(), batch_.begin());
    TICKFLOW_ASSIGN_OR_RETURN(const std::size_t more, Next(std::span<Trade>(batch_).subspan(run.size())));
    return std::span<const Trade>(batch_.data(), run.size() + more);
  }

 private:
  static constexpr std::size_t kLongRun = 512;
  static constexpr std::size_t kBatch = 4096;
  std::vector<Trade> batch_;
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
      TICKFLOW_ASSIGN_OR_RETURN(const std::span<const Bar> run, merge_.NextRun(out.size() - n, &input));
      if (run.empty()) break;
      for (const Bar& b : run) out[n++] = SymbolBar{symbols_[input], b};
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
  if (range.to != UnixNanos::Max()) minutes.to = NextBucketStart(range.to - std::chrono::nanoseconds(1), res);
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
