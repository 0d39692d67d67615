#include "tickflow/importer/csv.hpp"

#include <cstring>

#include "tickflow/core/text.hpp"

namespace tickflow::importer {
namespace {

std::string Quote(std::string_view s) {
  constexpr std::size_t kMax = 40;
  std::string q = "'";
  q.append(EscapeForMessage(s.substr(0, kMax)));
  if (s.size() > kMax) q += "...";
  q += "'";
  return q;
}

// Digits with at most one '.', which ParseUnixSeconds refused: a number too large.
bool LooksLikeUnixSeconds(std::string_view s) {
  if (s.empty() || s[0] < '0' || s[0] > '9') return false;
  int points = 0;
  for (char c : s) {
    if (c == '.') {
      ++points;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return points <= 1 && s.back() != '.' && s.find('.') > 10;
}

}  // namespace

std::string RowError::Format(std::string_view file) const {
  std::string out(file);
  out += ':' + std::to_string(line) + ':' + std::to_string(column) + ": " + message;
  out += "\n    " + std::to_string(line) + " | " + text;
  return out;
}

CsvReader::Status CsvReader::Fail(std::string_view line, const char* field_begin, std::string message) {
  error_.line = line_;
  error_.column = static_cast<std::uint32_t>(field_begin - line.data()) + 1;
  error_.message = std::move(message);
  if (const std::string odd = DescribeUnusualBytes(line); !odd.empty()) error_.message += " (the line holds " + odd + ")";
  error_.text = EscapeForMessage(line.substr(0, 120));
  if (line.size() > 120) error_.text += "...";
  return Status::kError;
}

CsvReader::Status CsvReader::Next(CsvRow* row) {
  while (pos_ < data_.size()) {
    const char* begin = data_.data() + pos_;
    const std::size_t rest = data_.size() - pos_;
    const auto* nl = static_cast<const char*>(std::memchr(begin, '\n', rest));
    std::size_t len = nl != nullptr ? static_cast<std::size_t>(nl - begin) : rest;
    pos_ += nl != nullptr ? len + 1 : len;
    ++line_;
    if (len > 0 && begin[len - 1] == '\r') --len;
    const std::string_view line(begin, len);
    if (line.empty()) {
      ++blank_lines_;
      continue;
    }
    const char* end = begin + len;
    const auto* c1 = static_cast<const char*>(std::memchr(begin, ',', len));
    if (c1 == nullptr) {
      return Fail(line, end, "missing fields: expected timestamp,price,volume, found 1 field");
    }
    const auto* c2 = static_cast<const char*>(std::memchr(c1 + 1, ',', static_cast<std::size_t>(end - c1 - 1)));
    if (c2 == nullptr) {
      return Fail(line, end, "missing field: expected timestamp,price,volume, found 2 fields");
    }
    if (const void* c3 = std::memchr(c2 + 1, ',', static_cast<std::size_t>(end - c2 - 1)); c3 != nullptr) {
      const char* extra = static_cast<const char*>(c3) + 1;
      return Fail(line, extra, "extra field " + Quote(std::string_view(extra, static_cast<std::size_t>(end - extra))) +
                                   ": expected exactly timestamp,price,volume");
    }
    const std::string_view ts(begin, static_cast<std::size_t>(c1 - begin));
    const std::string_view price(c1 + 1, static_cast<std::size_t>(c2 - c1 - 1));
    const std::string_view volume(c2 + 1, static_cast<std::size_t>(end - c2 - 1));
    if (!ParseUnixSeconds(ts, &row->time)) {
      if (LooksLikeUnixSeconds(ts)) {
        return Fail(line, begin, "timestamp " + Quote(ts) +
                                     " is too large: unix seconds must lie in 2000-01-01..2100-01-01 "
                                     "(946684800..4102444799)");
      }
      return Fail(line, begin, "invalid timestamp " + Quote(ts) +
                                   ": expected unix seconds such as 1561939203 or 1561939203.172");
    }
    if (row->time.ns < kMinTime || row->time.ns >= kMaxTime) {
      return Fail(line, begin, "timestamp " + Quote(ts) + " is " + FormatIso8601(row->time) +
                                   ", outside 2000-01-01..2100-01-01");
    }
    if (const auto s = Decimal::Parse(price, &row->price); s != DecimalParseStatus::kOk) {
      return Fail(line, c1 + 1, "invalid price " + Quote(price) + ": " + std::string(Describe(s)));
    }
    if (!row->price.IsPositive()) {
      return Fail(line, c1 + 1, "price must be positive, found " + Quote(price));
    }
    if (const auto s = Decimal::Parse(volume, &row->volume); s != DecimalParseStatus::kOk) {
      return Fail(line, c2 + 1, "invalid volume " + Quote(volume) + ": " + std::string(Describe(s)));
    }
    if (!row->volume.IsPositive()) {
      return Fail(line, c2 + 1, "volume must be positive, found " + Quote(volume));
    }
    return Status::kRow;
  }
  return Status::kEnd;
}

}  // namespace tickflow::importer
