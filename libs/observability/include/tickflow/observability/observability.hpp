// Observability for the services: Prometheus text exposition (format 0.0.4)
// from collectors run at scrape time, a small HTTP server for /metrics and
// /healthz, and structured log lines (logfmt). Libraries stay silent: a
// service wires these together and chooses where lines go.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tickflow/core/result.hpp"

namespace tickflow::observability {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Writes samples; each metric's HELP and TYPE lines appear once, before its samples.
class MetricsWriter {
 public:
  void Counter(std::string_view name, std::string_view help, double value, const Labels& labels = {});
  void Gauge(std::string_view name, std::string_view help, double value, const Labels& labels = {});
  std::string Take() { return std::move(text_); }

 private:
  void Sample(std::string_view type, std::string_view name, std::string_view help, double value, const Labels& labels);
  std::string text_;
  std::vector<std::string> described_;
};

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

// Answers GET requests on one thread; other methods get 405, unknown paths 404.
class HttpServer {
 public:
  using Handler = std::function<HttpResponse(std::string_view path)>;
  // Port 0 picks a free port.
  static Result<std::unique_ptr<HttpServer>> Start(const std::string& host, int port, Handler handler);
  ~HttpServer();
  int port() const;
  void Stop();

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// /metrics from the registry, /healthz "ok".
HttpServer::Handler MetricsHandler(const MetricsRegistry& registry);

enum class LogLevel : std::uint8_t { kDebug, kInfo, kWarn, kError };

// "ts=2026-11-24T06:59:18.123Z level=info component=symdb msg=\"listening\" port=50051"
std::string LogLine(LogLevel level, std::string_view component, std::string_view message,
                    const Labels& fields = {});

}  // namespace tickflow::observability
