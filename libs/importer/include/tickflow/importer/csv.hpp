// Reader for Kraken "time and sales" CSV rows: `timestamp,price,volume`, no
// header. Rules (docs/import.md):
//  - lines end in "\n" or "\r\n"; the last line may lack its newline;
//  - blank lines are skipped and counted;
//  - timestamp: unix seconds with up to 9 fractional digits, within
//    [2000-01-01, 2100-01-01);
//  - price and volume: exact decimals (core/decimal.hpp), both > 0;
//  - exactly three fields.
// A bad row yields kError with a RowError naming line and column and quoting
// the text; the reader has then moved past that line, so it can go on.
// Hot path: no allocation except when building an error.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tickflow/core/decimal.hpp"
#include "tickflow/core/time.hpp"

namespace tickflow::importer {

struct CsvRow {
  UnixNanos time;
  Decimal price;
  Decimal volume;
};

struct RowError {
  std::uint64_t line = 0;
  std::uint32_t column = 0;  // 1-based byte column of the offending field
  std::string message;       // "invalid price 'abc': not a decimal number"
  std::string text;          // the line, cut at 120 characters

  // "FILE:LINE:COLUMN: MESSAGE\n    LINE | TEXT"
  std::string Format(std::string_view file) const;
};

class CsvReader {
 public:
  enum class Status : std::uint8_t { kRow, kError, kEnd };

  static constexpr std::int64_t kMinTime = 946684800LL * kNanosPerSecond;   // 2000-01-01
  static constexpr std::int64_t kMaxTime = 4102444800LL * kNanosPerSecond;  // 2100-01-01

  explicit CsvReader(std::span<const char> data, std::uint64_t first_line = 1)
      : data_(data), line_(first_line - 1) {}

  Status Next(CsvRow* row);
  const RowError& error() const { return error_; }
  std::uint64_t line() const { return line_; }        // line of the last row or error
  std::size_t offset() const { return pos_; }         // bytes consumed
  std::uint64_t blank_lines() const { return blank_lines_; }

 private:
  Status Fail(std::string_view line, const char* field_begin, std::string message);

  std::span<const char> data_;
  std::size_t pos_ = 0;
  std::uint64_t line_;
  std::uint64_t blank_lines_ = 0;
  RowError error_;
};

}  // namespace tickflow::importer
