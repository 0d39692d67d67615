#include "tickflow/core/log.hpp"

#include <chrono>
#include <cstdio>

#include "tickflow/core/text.hpp"
#include "tickflow/core/time.hpp"

namespace tickflow {
namespace {

constexpr std::string_view kLevels[] = {"debug", "info", "warn", "error"};

}  // namespace

std::optional<LogLevel> ParseLogLevel(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kLevels); ++i) {
    if (name == kLevels[i]) return static_cast<LogLevel>(i);
  }
  return std::nullopt;
}

std::string_view LogLevelName(LogLevel level) { return kLevels[static_cast<std::size_t>(level) % std::size(kLevels)]; }

std::optional<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "logfmt") return LogFormat::kLogfmt;
  if (name == "json") return LogFormat::kJson;
  return std::nullopt;
}

std::string FormatLogLine(LogFormat format, LogLevel level, std::string_view component, std::string_view message,
                          const LogFields& fields) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const UnixNanos t{std::chrono::duration_cast<std::chrono::milliseconds>(now).count() * 1000000};
  if (format == LogFormat::kJson) {
    std::string line = "{\"ts\":\"" + FormatIso8601(t) + "\",\"level\":\"" + std::string(LogLevelName(level)) +
                       "\",\"component\":" + JsonString(component) + ",\"msg\":" + JsonString(message);
    for (const auto& [k, v] : fields) line += "," + JsonString(k) + ":" + JsonString(v);
    return line + "}";
  }
  std::string line = "ts=" + FormatIso8601(t) + " level=" + std::string(LogLevelName(level)) +
                     " component=" + std::string(component) + " msg=\"" + EscapeQuotedValue(message) + "\"";
  for (const auto& [k, v] : fields) {
    const bool quote = v.empty() || v.find_first_of(" \"=\n") != std::string::npos;
    line += " " + k + "=" + (quote ? "\"" + EscapeQuotedValue(v) + "\"" : v);
  }
  return line;
}

Logger PrintingLogger(std::FILE* out, LogFormat format, LogLevel threshold, std::string component) {
  return Logger(
      [out, format](LogLevel level, std::string_view c, std::string_view message) {
        const std::string line = FormatLogLine(format, level, c, message) + "\n";
        std::fwrite(line.data(), 1, line.size(), out);  // one write: stdio locks the stream per call
        std::fflush(out);
      },
      threshold, std::move(component));
}

}  // namespace tickflow
