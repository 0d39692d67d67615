#include "block_codec.hpp"

namespace tickflow::store::detail {
namespace {

void PutVarint(std::string& out, std::uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, static_cast<std::size_t>(n));
}

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

}  // namespace

void EncodeBlock(std::span<const UnixNanos> time, std::span<const Decimal> price,
                 std::span<const Decimal> volume, EncodedBlock* out) {
  out->count = static_cast<std::uint32_t>(time.size());
  out->first_time = time.front();
  out->last_time = time.back();
  out->time.clear();
  out->price.clear();
  out->volume.clear();
  std::int64_t prev_t = time.front().ns;
  std::int64_t prev_p = 0;
  for (std::size_t i = 0; i < time.size(); ++i) {
    PutVarint(out->time, ZigZag(time[i].ns - prev_t));
    prev_t = time[i].ns;
    PutVarint(out->price, ZigZag(price[i].raw() - prev_p));
    prev_p = price[i].raw();
    PutVarint(out->volume, ZigZag(volume[i].raw()));
  }
}

Status DecodeBlock(UnixNanos first_time, std::uint32_t count, std::string_view time, std::string_view price,
                   std::string_view volume, SymbolId symbol, Trade* out) {
  const unsigned char* tp = Bytes(time);
  const unsigned char* te = tp + time.size();
  const unsigned char* pp = Bytes(price);
  const unsigned char* pe = pp + price.size();
  const unsigned char* vp = Bytes(volume);
  const unsigned char* ve = vp + volume.size();
  std::int64_t t = first_time.ns;
  std::int64_t p = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint64_t dt, dp, v;
    if (!GetVarint(tp, te, &dt) || !GetVarint(pp, pe, &dp) || !GetVarint(vp, ve, &v)) {
      return MakeError(ErrorCode::kCorrupt, "trade block ends early at trade " + std::to_string(i) + " of " +
                                                std::to_string(count));
    }
    t += UnZigZag(dt);
    p += UnZigZag(dp);
    out[i] = Trade{UnixNanos{t}, Decimal::FromRaw(p), Decimal::FromRaw(UnZigZag(v)), symbol};
  }
  if (tp != te || pp != pe || vp != ve) {
    return MakeError(ErrorCode::kCorrupt, "trade block has bytes after its " + std::to_string(count) + " trades");
  }
  return {};
}

void EncodeBarBlock(std::span<const Bar> bars, std::string* out) {
  out->clear();
  std::int64_t prev_t = bars.front().time.ns;
  std::int64_t prev_close = 0;
  for (const Bar& b : bars) {
    PutVarint(*out, static_cast<std::uint64_t>((b.time.ns - prev_t) / kNanosPerMinute));
    prev_t = b.time.ns;
    const std::int64_t open = b.open.raw();
    PutVarint(*out, ZigZag(open - prev_close));
    PutVarint(*out, ZigZag(b.high.raw() - open));
    PutVarint(*out, ZigZag(b.low.raw() - open));
    PutVarint(*out, ZigZag(b.close.raw() - open));
    PutVarint(*out, ZigZag(b.volume.raw()));
    PutVarint(*out, b.trades);
    prev_close = b.close.raw();
  }
}

Status DecodeBarBlock(UnixNanos first_time, std::uint32_t count, std::string_view blob, Bar* out) {
  const unsigned char* p = Bytes(blob);
  const unsigned char* end = p + blob.size();
  std::int64_t t = first_time.ns;
  std::int64_t prev_close = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint64_t v[7];
    for (auto& x : v) {
      if (!GetVarint(p, end, &x)) {
        return MakeError(ErrorCode::kCorrupt, "bar block ends early at bar " + std::to_string(i) + " of " +
                                                  std::to_string(count));
      }
    }
    t += static_cast<std::int64_t>(v[0]) * kNanosPerMinute;
    const std::int64_t open = prev_close + UnZigZag(v[1]);
    const std::int64_t close = open + UnZigZag(v[4]);
    out[i] = Bar{UnixNanos{t},
                 Decimal::FromRaw(open),
                 Decimal::FromRaw(open + UnZigZag(v[2])),
                 Decimal::FromRaw(open + UnZigZag(v[3])),
                 Decimal::FromRaw(close),
                 Decimal::FromRaw(UnZigZag(v[5])),
                 v[6]};
    prev_close = close;
  }
  if (p != end) return MakeError(ErrorCode::kCorrupt, "bar block has bytes after its " + std::to_string(count) + " bars");
  return {};
}

}  // namespace tickflow::store::detail
