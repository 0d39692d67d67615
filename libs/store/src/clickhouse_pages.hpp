// Reading the ClickHouse store: a cursor over key ranges of one symbol's rows,
// fetched a page ahead on their own connection, and the pages of trades and of
// 1-minute bars it reads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "clickhouse_http.hpp"
#include "clickhouse_rowbinary.hpp"
#include "minute_bars.hpp"
#include "tickflow/store/store.hpp"
#include "validate.hpp"

namespace tickflow::store::detail {

inline constexpr std::uint64_t kFirstPageRows = 16384;    // small, so the first trade comes quickly
inline constexpr std::uint64_t kPageRows = 1 << 19;       // what a page aims at
inline constexpr std::uint64_t kMaxPageTrades = 1 << 20;  // what a page of trades may hold, whatever the data

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
      : page_(std::move(page)),
        lo_(begin),
        end_(end),
        width_(std::clamp<std::int64_t>(first_width, 1, max_width)),
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
      : http_(std::move(http)),
        table_(std::move(table)),
        symbol_(info.id),
        count_(info.trade_count),
        first_time_(info.first_time),
        limits_(LimitsOf(info)) {}

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
      : http_(std::move(http)),
        table_(std::move(table)),
        symbol_(info.id),
        version_(version),
        limits_(LimitsOf(info)) {}

  Status Fetch(UnixNanos lo, UnixNanos hi, std::vector<Bar>* rows, UnixNanos* resume) {
    *resume = hi;
    TICKFLOW_RETURN_IF_ERROR(http_->Query(
        "SELECT ts, version, open, high, low, close, volume, trades, volume_high FROM " + table_ +
            " WHERE symbol_id = " + std::to_string(symbol_) + " AND ts >= " + std::to_string(lo.ns) + " AND ts < " +
            std::to_string(hi.ns) + " AND version <= " + std::to_string(version_) + " FORMAT RowBinary",
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
      return MakeError(ErrorCode::kCorrupt,
                       "ClickHouse " + table_ + ", symbol " + std::to_string(symbol_) + ": " + bad);
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

}  // namespace tickflow::store::detail
