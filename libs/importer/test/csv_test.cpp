#include "tickflow/importer/csv.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tickflow::importer {
namespace {

struct Parsed {
  std::vector<CsvRow> rows;
  std::vector<RowError> errors;
  std::uint64_t blank = 0;
};

Parsed ParseAll(std::string_view text) {
  CsvReader r(std::span<const char>(text.data(), text.size()));
  Parsed p;
  CsvRow row;
  while (true) {
    const auto s = r.Next(&row);
    if (s == CsvReader::Status::kEnd) break;
    if (s == CsvReader::Status::kRow) p.rows.push_back(row);
    if (s == CsvReader::Status::kError) p.errors.push_back(r.error());
  }
  p.blank = r.blank_lines();
  return p;
}

TEST(CsvReaderTest, ReadsRowsExactly) {
  const auto p = ParseAll("1561939203.172,10749.4,0.004\n1561939205,10749.70,0.03869709\n");
  ASSERT_EQ(p.rows.size(), 2u);
  EXPECT_TRUE(p.errors.empty());
  EXPECT_EQ(p.rows[0].time.ns, 1561939203172000000);
  EXPECT_EQ(p.rows[0].price.ToString(), "10749.4");
  EXPECT_EQ(p.rows[1].price.ToString(), "10749.70");
  EXPECT_EQ(p.rows[1].volume.ToString(), "0.03869709");
}

TEST(CsvReaderTest, HandlesCrlfMissingFinalNewlineAndBlankLines) {
  const auto p = ParseAll("1561939203,1,2\r\n\r\n\n1561939204.5,3,4");
  ASSERT_EQ(p.rows.size(), 2u);
  EXPECT_EQ(p.blank, 2u);
  EXPECT_EQ(p.rows[1].time.ns, 1561939204500000000);
  EXPECT_EQ(p.rows[1].volume.ToString(), "4");
  EXPECT_TRUE(ParseAll("").rows.empty());
}

TEST(CsvReaderTest, NamesLineColumnAndQuotesTheText) {
  const auto p = ParseAll("1561939203,1,2\n1561939204,abc,2\n1561939205,3,4\n");
  ASSERT_EQ(p.rows.size(), 2u) << "the reader goes on after a bad line";
  ASSERT_EQ(p.errors.size(), 1u);
  const RowError& e = p.errors[0];
  EXPECT_EQ(e.line, 2u);
  EXPECT_EQ(e.column, 12u);
  EXPECT_EQ(e.Format("XBTUSD.csv"),
            "XBTUSD.csv:2:12: invalid price 'abc': not a decimal number\n    2 | 1561939204,abc,2");
}

TEST(CsvReaderTest, RejectsEveryKindOfBadRow) {
  struct Case {
    const char* line;
    const char* message_part;
    std::uint32_t column;
  };
  const Case cases[] = {
      {"1561939203,1", "missing field", 13},
      {"1561939203", "missing fields", 11},
      {"1561939203,1,2,3", "extra field '3'", 16},
      {"yesterday,1,2", "invalid timestamp 'yesterday'", 1},
      {"-1561939203,1,2", "invalid timestamp", 1},
      {"12,1,2", "outside 2000-01-01..2100-01-01", 1},
      {"1561939203,-5,2", "price must be positive, found '-5'", 12},
      {"1561939203,0,2", "price must be positive", 12},
      {"1561939203,1,0", "volume must be positive", 14},
      {"1561939203,1,2.5e-7", "non-canonical decimal", 14},
      {"1561939203,1,", "invalid volume '': empty value", 14},
      {"1561939203,,1", "invalid price", 12},
      {"1561939203,1.0123456789012345,1", "more than 15 digits", 12},
      {"1561939203,1,nan", "not a decimal number", 14},
      {"16725225600,1,2", "timestamp '16725225600' is too large: unix seconds must lie in 2000-01-01..2100-01-01",
       1},
      {"1561939203,1,1234567890123456789", "limit: 17, or 18 up to 576460752303423487", 14},
  };
  for (const Case& c : cases) {
    const auto p = ParseAll(c.line);
    ASSERT_EQ(p.errors.size(), 1u) << c.line;
    EXPECT_NE(p.errors[0].message.find(c.message_part), std::string::npos) << c.line << " -> " << p.errors[0].message;
    EXPECT_EQ(p.errors[0].column, c.column) << c.line;
    EXPECT_EQ(p.errors[0].line, 1u);
  }
}

// Raw bytes never reach the terminal: they are escaped in the quoted text and
// named in the message.
TEST(CsvReaderTest, EscapesAndNamesUnusualBytes) {
  struct Case {
    std::string line;
    const char* named;
    const char* shown;
  };
  const Case cases[] = {
      {"\xEF\xBB\xBF" "1561939203,1,2", "a UTF-8 byte order mark", "\\xef\\xbb\\xbf1561939203,1,2"},
      {"1561939203,1\r5,2", "a carriage return (\\r) inside the line", "1561939203,1\\r5,2"},
      {std::string("1561939203,1,2\0", 15), "a NUL byte (\\0)", "1561939203,1,2\\0"},
      {"1561939203,1,\xff", "a non-ASCII byte (\\xff)", "1561939203,1,\\xff"},
  };
  for (const Case& c : cases) {
    const auto p = ParseAll(c.line + "\n");
    ASSERT_EQ(p.errors.size(), 1u) << c.shown;
    EXPECT_NE(p.errors[0].message.find(std::string("(the line holds ") + c.named + ")"), std::string::npos)
        << p.errors[0].message;
    EXPECT_EQ(p.errors[0].text, c.shown);
    for (char ch : p.errors[0].Format("X.csv")) {
      if (ch != '\n') {
        EXPECT_TRUE(ch >= 0x20 && ch < 0x7F) << "raw byte " << int(static_cast<unsigned char>(ch));
      }
    }
  }
}

TEST(CsvReaderTest, NumbersLinesFromTheGivenStart) {
  const std::string text = "1561939203,1,x\n";
  CsvReader r(std::span<const char>(text.data(), text.size()), 101);
  CsvRow row;
  ASSERT_EQ(r.Next(&row), CsvReader::Status::kError);
  EXPECT_EQ(r.error().line, 101u);
}

}  // namespace
}  // namespace tickflow::importer
