#include "block_codec.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <vector>

namespace tickflow::store::detail {
namespace {

constexpr std::size_t kMaxVarint = 10;

// Writes one varint at p (which has room for kMaxVarint bytes); returns the end.
inline char* PutVarint(char* p, std::uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// Appends varints to a string through a raw pointer: sized for the worst case
// up front, trimmed at the end.
class VarintWriter {
 public:
  VarintWriter(std::string* out, std::size_t max_values) : out_(out) {
    out_->resize(max_values * kMaxVarint);
    p_ = out_->data();
  }
  ~VarintWriter() { out_->resize(static_cast<std::size_t>(p_ - out_->data())); }
  void Put(std::uint64_t v) { p_ = PutVarint(p_, v); }
  void PutByte(unsigned char c) { *p_++ = static_cast<char>(c); }

 private:
  std::string* out_;
  char* p_;
};

std::uint64_t ZigZag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t UnZigZag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// Reads one varint; false when the blob ends inside it or it is over 10 bytes.
inline bool GetVarint(const unsigned char*& p, const unsigned char* end, std::uint64_t* v) {
  if (p != end && *p < 0x80) {  // the common one-byte case
    *v = *p++;
    return true;
  }
  std::uint64_t result = 0;
  for (int shift = 0; shift < 64 && p != end; shift += 7) {
    const unsigned char b = *p++;
    result |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if (b < 0x80) {
      *v = result;
      return true;
    }
  }
  return false;
}

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// Bit-packed columns: one byte holding the bit width w (0..64) of the largest
// value, then the n values packed little-endian in w bits each, then 8 zero
// bytes so every value can be read with one unaligned 64-bit load.
constexpr std::size_t kPackPadding = 8;

std::size_t PackedSize(std::size_t n, int w) { return 1 + (n * static_cast<std::size_t>(w) + 7) / 8 + kPackPadding; }

void Pack(std::span<const std::uint64_t> values, std::string* out) {
  std::uint64_t all = 0;
  for (std::uint64_t v : values) all |= v;
  const int w = static_cast<int>(std::bit_width(all));
  out->assign(PackedSize(values.size(), w), '\0');
  (*out)[0] = static_cast<char>(w);
  if (w == 0) return;
  char* p = out->data() + 1;
  std::uint64_t acc = 0;
  int filled = 0;  // bits in acc, always < 64
  for (std::uint64_t v : values) {
    acc |= v << filled;
    if (filled + w >= 64) {
      std::memcpy(p, &acc, 8);
      p += 8;
      const int used = 64 - filled;  // bits of v already written
      acc = used < 64 ? v >> used : 0;
      filled += w - 64;
    } else {
      filled += w;
    }
  }
  std::memcpy(p, &acc, static_cast<std::size_t>((filled + 7) / 8));
}

// Reads the width of a packed column and checks its size; false if damaged.
bool PackedHeader(std::string_view blob, std::size_t n, int* w) {
  if (blob.empty()) return false;
  *w = static_cast<unsigned char>(blob[0]);
  return *w <= 64 && blob.size() == PackedSize(n, *w);
}

// The i-th value of a packed column (width w, checked by PackedHeader).
inline std::uint64_t Unpack(const unsigned char* base, std::size_t i, int w) {
  if (w == 0) return 0;
  const std::size_t bit = i * static_cast<std::size_t>(w);
  std::uint64_t word;
  std::memcpy(&word, base + (bit >> 3), 8);
  const int shift = static_cast<int>(bit & 7);
  std::uint64_t v = word >> shift;
  if (w + shift > 64) {  // the value spills into a ninth byte
    v |= static_cast<std::uint64_t>(base[(bit >> 3) + 8]) << (64 - shift);
  }
  return w == 64 ? v : v & ((std::uint64_t{1} << w) - 1);
}

// Sums in two's complement, wrapping: a damaged blob must decode to wrong
// values (refused by the checks after decoding), never to undefined behaviour.
inline std::int64_t Wrap(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}
inline std::int64_t WrapMul(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
}

// Time deltas are stored in the coarsest unit that divides them all.
constexpr std::array<std::int64_t, 4> kTimeUnits = {1, 1000, 1000000, 1000000000};

}  // namespace

void EncodeBlock(std::span<const UnixNanos> time, std::span<const Decimal> price,
                 std::span<const Decimal> volume, EncodedBlock* out) {
  const std::size_t n = time.size();
  out->count = static_cast<std::uint32_t>(n);
  out->first_time = time.front();
  out->last_time = time.back();
  std::vector<std::uint64_t> col(n);
  std::size_t unit = kTimeUnits.size() - 1;
  for (std::size_t i = 1; i < n && unit > 0; ++i) {
    while (unit > 0 && (time[i].ns - time[i - 1].ns) % kTimeUnits[unit] != 0) --unit;
  }
  col[0] = 0;
  for (std::size_t i = 1; i < n; ++i) col[i] = ZigZag((time[i].ns - time[i - 1].ns) / kTimeUnits[unit]);
  Pack(col, &out->time);
  out->time.insert(out->time.begin(), static_cast<char>(unit));
  std::int64_t prev = 0;
  for (std::size_t i = 0; i < n; ++i) {
    col[i] = ZigZag(price[i].raw() - prev);
    prev = price[i].raw();
  }
  Pack(col, &out->price);
  for (std::size_t i = 0; i < n; ++i) col[i] = ZigZag(volume[i].raw());
  Pack(col, &out->volume);
}

Status TradeBlockDecoder::Start(UnixNanos first_time, std::uint32_t count, std::string_view time,
                                std::string_view price, std::string_view volume, SymbolId symbol) {
  count_ = next_ = 0;
  if (time.empty() || static_cast<unsigned char>(time[0]) >= kTimeUnits.size() ||
      !PackedHeader(time.substr(1), count, &tw_) || !PackedHeader(price, count, &pw_) ||
      !PackedHeader(volume, count, &vw_)) {
    return MakeError(ErrorCode::kCorrupt, "trade block of " + std::to_string(count) +
                                              " trades has damaged columns (sizes " + std::to_string(time.size()) + ", " +
                                              std::to_string(price.size()) + ", " + std::to_string(volume.size()) + ")");
  }
  unit_ = kTimeUnits[static_cast<unsigned char>(time[0])];
  tb_ = Bytes(time) + 2;
  pb_ = Bytes(price) + 1;
  vb_ = Bytes(volume) + 1;
  t_ = first_time.ns;
  p_ = 0;
  count_ = count;
  symbol_ = symbol;
  return {};
}

std::size_t TradeBlockDecoder::Next(std::size_t n, Trade* out) {
  const std::uint32_t end = next_ + static_cast<std::uint32_t>(std::min<std::size_t>(n, left()));
  std::int64_t t = t_, p = p_;
  Trade* o = out;
  for (std::uint32_t i = next_; i < end; ++i) {
    t = Wrap(t, WrapMul(UnZigZag(Unpack(tb_, i, tw_)), unit_));
    p = Wrap(p, UnZigZag(Unpack(pb_, i, pw_)));
    *o++ = Trade{UnixNanos{t}, Decimal::FromRaw(p), Decimal::FromRaw(UnZigZag(Unpack(vb_, i, vw_))), symbol_};
  }
  t_ = t;
  p_ = p;
  const std::size_t done = end - next_;
  next_ = end;
  return done;
}

Status DecodeBlock(UnixNanos first_time, std::uint32_t count, std::string_view time, std::string_view price,
                   std::string_view volume, SymbolId symbol, Trade* out) {
  TradeBlockDecoder d;
  TICKFLOW_RETURN_IF_ERROR(d.Start(first_time, count, time, price, volume, symbol));
  d.Next(count, out);
  return {};
}

// Bar blobs written before volumes were 128-bit start with the first bar's
// minute delta, always 0; newer blobs start with this marker and carry each
// volume as two varints (the low and high 64 bits of its zigzag value).
constexpr unsigned char kWideVolumeBars = 1;

UInt128 ZigZag128(Int128 v) { return (static_cast<UInt128>(v) << 1) ^ static_cast<UInt128>(v >> 127); }
Int128 UnZigZag128(UInt128 v) { return static_cast<Int128>(v >> 1) ^ -static_cast<Int128>(v & 1); }

void EncodeBarBlock(std::span<const Bar> bars, std::string* out) {
  VarintWriter w(out, 1 + bars.size() * 8);
  w.PutByte(kWideVolumeBars);
  std::int64_t prev_t = bars.front().time.ns;
  std::int64_t prev_close = 0;
  for (const Bar& b : bars) {
    w.Put(static_cast<std::uint64_t>((b.time.ns - prev_t) / kNanosPerMinute));
    prev_t = b.time.ns;
    const std::int64_t open = b.open.raw();
    w.Put(ZigZag(open - prev_close));
    w.Put(ZigZag(b.high.raw() - open));
    w.Put(ZigZag(b.low.raw() - open));
    w.Put(ZigZag(b.close.raw() - open));
    const UInt128 volume = ZigZag128(b.volume.raw());
    w.Put(static_cast<std::uint64_t>(volume));
    w.Put(static_cast<std::uint64_t>(volume >> 64));
    w.Put(b.trades);
    prev_close = b.close.raw();
  }
}

Status DecodeBarBlock(UnixNanos first_time, std::uint32_t count, std::string_view blob, Bar* out) {
  const unsigned char* p = Bytes(blob);
  const unsigned char* end = p + blob.size();
  const bool wide = p != end && *p == kWideVolumeBars;
  if (wide) ++p;
  std::int64_t t = first_time.ns;
  std::int64_t prev_close = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint64_t v[8];
    const int fields = wide ? 8 : 7;
    for (int k = 0; k < fields; ++k) {
      if (!GetVarint(p, end, &v[k])) {
        return MakeError(ErrorCode::kCorrupt, "bar block ends early at bar " + std::to_string(i) + " of " +
                                                  std::to_string(count));
      }
    }
    t = Wrap(t, WrapMul(static_cast<std::int64_t>(v[0]), kNanosPerMinute));
    const std::int64_t open = Wrap(prev_close, UnZigZag(v[1]));
    const std::int64_t close = Wrap(open, UnZigZag(v[4]));
    const WideDecimal volume = wide ? WideDecimal::FromRaw(UnZigZag128((static_cast<UInt128>(v[6]) << 64) | v[5]))
                                    : WideDecimal(Decimal::FromRaw(UnZigZag(v[5])));
    out[i] = Bar{UnixNanos{t},
                 Decimal::FromRaw(open),
                 Decimal::FromRaw(Wrap(open, UnZigZag(v[2]))),
                 Decimal::FromRaw(Wrap(open, UnZigZag(v[3]))),
                 Decimal::FromRaw(close),
                 volume,
                 wide ? v[7] : v[6]};
    prev_close = close;
  }
  if (p != end) return MakeError(ErrorCode::kCorrupt, "bar block has bytes after its " + std::to_string(count) + " bars");
  return {};
}

}  // namespace tickflow::store::detail
