// Observability for the services: Prometheus text exposition (format 0.0.4)
// from collectors run at scrape time, a small HTTP server for /metrics and
// /healthz, and structured log lines (logfmt). Libraries stay silent: a
// service wires these together and chooses where lines go.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tickflow/core/log.hpp"
#include "tickflow/core/result.hpp"

namespace tickflow::observability {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Observations counted into fixed buckets (upper bounds, ascending), with
// their sum: a Prometheus histogram. Not thread-safe (callers hold their lock).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  // 100 µs .. 10 s, for request latencies.
  static Histogram Latency();
  void Observe(double value);
  const std::vector<double>& bounds() const { return bounds_; }
  const std::vector<std::uint64_t>& counts() const { return counts_; }  // per bucket, not cumulative; last: +Inf
  double sum() const { return sum_; }
  std::uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// Writes samples; each metric's HELP and TYPE lines appear once, before its samples.
class MetricsWriter {
 public:
  void Counter(std::string_view name, std::string_view help, double value, const Labels& labels = {});
  void Gauge(std::string_view name, std::string_view help, double value, const Labels& labels = {});
  // NAME_bucket{le="..."} (cumulative, +Inf last), NAME_sum, NAME_count.
  void Histogram(std::string_view name, std::string_view help, const observability::Histogram& h,
                 const Labels& labels = {});
  std::string Take() { return std::move(text_); }

 private:
  void Sample(std::string_view type, std::string_view name, std::string_view help, double value, const Labels& labels);
  std::string text_;
  std::vector<std::string> described_;
};

// tickflow_build_info{version,component} 1, and the process_* metrics of the
// Prometheus client conventions (CPU seconds, resident and virtual memory,
// open and maximum file descriptors, start time), read from /proc.
void WriteProcessMetrics(MetricsWriter& out, std::string_view component);

// Collectors are called on every scrape, on the scraping thread.
class MetricsRegistry {
 public:
  void AddCollector(std::function<void(MetricsWriter&)> collector);
  std::string Render() const;

 private:
  std::vector<std::function<void(MetricsWriter&)>> collectors_;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; version=0.0.4; charset=utf-8";
  std::string body;
};

struct HttpLimits {
  std::size_t max_connections = 256;           // open at once; beyond, new ones are closed at once
  std::chrono::seconds connection_timeout{5};  // a connection idle this long is closed
};

// Answers GET (and HEAD) requests; other methods get 405, unknown paths 404.
// Connections are served concurrently by one polling thread (libmicrohttpd):
// idle or slow clients never hold another's answer back. The handler runs on
// that thread and must not block.
class HttpServer {
 public:
  using Handler = std::function<HttpResponse(std::string_view path)>;
  // `host` is an IPv4 or IPv6 literal ("127.0.0.1", "::1" or "[::1]"); port 0 picks a free port.
  static Result<std::unique_ptr<HttpServer>> Start(const std::string& host, int port, Handler handler,
                                                   const HttpLimits& limits = {});
  ~HttpServer();
  int port() const;
  void Stop();

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What /healthz reports: 200 "ok", or 503 "unhealthy: <detail>".
struct Health {
  bool ok = true;
  std::string detail{};
};

// /metrics from the registry; /healthz from `health` (cheap: it runs on the
// HTTP thread; default: always ok).
HttpServer::Handler MetricsHandler(const MetricsRegistry& registry, std::function<Health()> health = {});

// Logging is core's (tickflow/core/log.hpp); these names stay for the services' code.
using LogLevel = tickflow::LogLevel;
using tickflow::ParseLogLevel;

// FormatLogLine(LogFormat::kLogfmt, ...):
// "ts=2026-11-24T06:59:18.123Z level=info component=symdb msg=\"listening\" port=50051"
std::string LogLine(LogLevel level, std::string_view component, std::string_view message,
                    const Labels& fields = {});

}  // namespace tickflow::observability
