// Levelled logging, one interface for every component. A Logger is a sink and
// a threshold: a line below the threshold is never formatted (Log takes a
// function that makes the message, called only when the level passes). The
// programs choose the sink and the format (logfmt or JSON Lines); libraries
// only write to the Logger their options carry (the default one discards).
//
//   options.log = Logger(sink, LogLevel::kWarn, "gateway");
//   log.Log(LogLevel::kDebug, [&] { return "frame of " + std::to_string(n) + " bytes"; });
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tickflow {

enum class LogLevel : std::uint8_t { kDebug, kInfo, kWarn, kError };

// "debug", "info", "warn" or "error"; nullopt for anything else.
std::optional<LogLevel> ParseLogLevel(std::string_view name);
std::string_view LogLevelName(LogLevel level);

enum class LogFormat : std::uint8_t { kLogfmt, kJson };
// "logfmt" or "json"; nullopt for anything else.
std::optional<LogFormat> ParseLogFormat(std::string_view name);

using LogFields = std::vector<std::pair<std::string, std::string>>;

// One line, stamped with the current time (ms):
//   logfmt: ts=2026-11-24T06:59:18.123Z level=info component=symdb msg="listening" port=50051
//   json:   {"ts":"2026-11-24T06:59:18.123Z","level":"info","component":"symdb","msg":"listening","port":"50051"}
std::string FormatLogLine(LogFormat format, LogLevel level, std::string_view component, std::string_view message,
                          const LogFields& fields = {});

class Logger {
 public:
  using Sink = std::function<void(LogLevel level, std::string_view component, std::string_view message)>;

  Logger() = default;  // discards everything
  explicit Logger(Sink sink, LogLevel threshold = LogLevel::kInfo, std::string component = {})
      : sink_(std::move(sink)), threshold_(threshold), component_(std::move(component)) {}

  bool Enabled(LogLevel level) const { return sink_ && level >= threshold_; }
  template <class MakeMessage>
  void Log(LogLevel level, MakeMessage&& make) const {
    if (Enabled(level)) sink_(level, component_, std::forward<MakeMessage>(make)());
  }
  // The same sink and threshold, for another component's lines.
  Logger For(std::string component) const { return Logger(sink_, threshold_, std::move(component)); }
  LogLevel threshold() const { return threshold_; }
  const std::string& component() const { return component_; }

 private:
  Sink sink_;
  LogLevel threshold_ = LogLevel::kInfo;
  std::string component_;
};

// A logger that writes each line in `format` to `out` (stdout or stderr), one
// write per line so that lines of different threads never interleave.
Logger PrintingLogger(std::FILE* out, LogFormat format, LogLevel threshold, std::string component);

}  // namespace tickflow
