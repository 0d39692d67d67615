// ClickHouse's RowBinary format, written and read in place (the store's rows
// travel in it both ways over HTTP).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tickflow::store::detail {

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

}  // namespace tickflow::store::detail
