#include "tickflow/core/log.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

namespace tickflow {
namespace {

TEST(LoggerTest, ALineBelowTheThresholdIsNeverMade) {
  std::vector<std::string> lines;
  const Logger log(
      [&](LogLevel level, std::string_view component, std::string_view message) {
        lines.push_back(std::string(LogLevelName(level)) + " " + std::string(component) + " " + std::string(message));
      },
      LogLevel::kWarn, "gateway");
  int made = 0;
  log.Log(LogLevel::kDebug, [&] {
    ++made;
    return std::string("debug line");
  });
  log.Log(LogLevel::kInfo, [&] {
    ++made;
    return std::string("info line");
  });
  log.Log(LogLevel::kWarn, [&] {
    ++made;
    return std::string("warn line");
  });
  log.For("bus").Log(LogLevel::kError, [&] {
    ++made;
    return std::string("error line");
  });
  EXPECT_EQ(made, 2) << "only the lines at or above warn are formatted";
  EXPECT_EQ(lines, (std::vector<std::string>{"warn gateway warn line", "error bus error line"}));
  EXPECT_FALSE(Logger().Enabled(LogLevel::kError)) << "the default logger discards";
  Logger().Log(LogLevel::kError, [&] {
    ++made;
    return std::string("nobody listens");
  });
  EXPECT_EQ(made, 2);
}

TEST(LoggerTest, LevelsAndFormatsParse) {
  EXPECT_EQ(ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(ParseLogLevel("error"), LogLevel::kError);
  EXPECT_FALSE(ParseLogLevel("verbose"));
  EXPECT_EQ(ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("logfmt"), LogFormat::kLogfmt);
  EXPECT_FALSE(ParseLogFormat("xml"));
}

TEST(LoggerTest, LinesAreLogfmtOrJson) {
  const std::string logfmt = FormatLogLine(LogFormat::kLogfmt, LogLevel::kWarn, "gateway", "client \"7\"\nslow",
                                           {{"client", "7"}, {"why", "a b"}});
  EXPECT_TRUE(std::regex_match(
      logfmt, std::regex(R"(ts=\S+Z level=warn component=gateway msg="client \\"7\\"\\nslow" client=7 why="a b")")))
      << logfmt;
  const std::string json =
      FormatLogLine(LogFormat::kJson, LogLevel::kInfo, "symdb", "said \"hi\"\n", {{"port", "50051"}});
  EXPECT_TRUE(std::regex_match(
      json,
      std::regex(R"(\{"ts":"\S+Z","level":"info","component":"symdb","msg":"said \\"hi\\"\\u000a","port":"50051"\})")))
      << json;
}

}  // namespace
}  // namespace tickflow
