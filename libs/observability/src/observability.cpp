#include "tickflow/observability/observability.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>

#include "tickflow/core/time.hpp"

namespace tickflow::observability {
namespace {

std::string Escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

void MetricsWriter::Sample(std::string_view type, std::string_view name, std::string_view help, double value,
                           const Labels& labels) {
  if (std::find(described_.begin(), described_.end(), name) == described_.end()) {
    described_.emplace_back(name);
    text_ += "# HELP " + std::string(name) + " " + std::string(help) + "\n";
    text_ += "# TYPE " + std::string(name) + " " + std::string(type) + "\n";
  }
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      text_ += (i ? "," : "") + labels[i].first + "=\"" + Escape(labels[i].second) + "\"";
    }
    text_ += '}';
  }
  text_ += " " + Number(value) + "\n";
}

void MetricsWriter::Counter(std::string_view name, std::string_view help, double value, const Labels& labels) {
  Sample("counter", name, help, value, labels);
}
void MetricsWriter::Gauge(std::string_view name, std::string_view help, double value, const Labels& labels) {
  Sample("gauge", name, help, value, labels);
}

void MetricsRegistry::AddCollector(std::function<void(MetricsWriter&)> collector) {
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::Render() const {
  MetricsWriter w;
  for (const auto& c : collectors_) c(w);
  return w.Take();
}

class HttpServer::Impl {
 public:
  int fd = -1;
  int port = 0;
  Handler handler;
  std::atomic<bool> stop{false};
  std::thread thread;

  void Serve() {
    while (!stop.load()) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int c = ::accept(fd, nullptr, nullptr);
      if (c < 0) continue;
      Answer(c);
      ::close(c);
    }
  }

  void Answer(int c) {
    // Read the request head (bounded), with a short deadline.
    std::string req;
    char buf[2048];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (req.find("\r\n\r\n") == std::string::npos && req.size() < 16384 &&
           std::chrono::steady_clock::now() < deadline) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      req.append(buf, static_cast<std::size_t>(n));
    }
    HttpResponse r;
    const std::size_t sp1 = req.find(' ');
    const std::size_t sp2 = sp1 == std::string::npos ? std::string::npos : req.find(' ', sp1 + 1);
    if (sp2 == std::string::npos) {
      r = {400, "text/plain", "bad request\n"};
    } else if (req.compare(0, sp1, "GET") != 0) {
      r = {405, "text/plain", "only GET is served\n"};
    } else {
      std::string_view path(req.data() + sp1 + 1, sp2 - sp1 - 1);
      path = path.substr(0, path.find('?'));
      r = handler(path);
    }
    const char* reason = r.status == 200 ? "OK" : r.status == 404 ? "Not Found" : r.status == 405 ? "Method Not Allowed" : "Bad Request";
    const std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + reason + "\r\nContent-Type: " +
                             r.content_type + "\r\nContent-Length: " + std::to_string(r.body.size()) +
                             "\r\nConnection: close\r\n\r\n";
    const std::string all = head + r.body;
    std::size_t sent = 0;
    while (sent < all.size()) {
      const ssize_t n = ::send(c, all.data() + sent, all.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
  }
};

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& host, int port, Handler handler) {
  auto impl = std::make_unique<Impl>();
  impl->handler = std::move(handler);
  impl->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (impl->fd < 0) return MakeError(ErrorCode::kIo, std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(impl->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    ::close(impl->fd);
    return MakeError(ErrorCode::kInvalidArgument, "metrics address '" + host + "' is not an IPv4 address");
  }
  if (::bind(impl->fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(impl->fd, 16) != 0) {
    const std::string why = std::strerror(errno);
    ::close(impl->fd);
    return MakeError(ErrorCode::kUnavailable, "cannot listen on " + host + ":" + std::to_string(port) + ": " + why);
  }
  socklen_t len = sizeof addr;
  ::getsockname(impl->fd, reinterpret_cast<sockaddr*>(&addr), &len);
  impl->port = ntohs(addr.sin_port);
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->Serve(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(); }
int HttpServer::port() const { return impl_->port; }
void HttpServer::Stop() {
  if (impl_->stop.exchange(true)) return;
  if (impl_->thread.joinable()) impl_->thread.join();
  ::close(impl_->fd);
}

HttpServer::Handler MetricsHandler(const MetricsRegistry& registry) {
  return [&registry](std::string_view path) {
    if (path == "/metrics") return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", registry.Render()};
    if (path == "/healthz") return HttpResponse{200, "text/plain", "ok\n"};
    return HttpResponse{404, "text/plain", "not found: try /metrics or /healthz\n"};
  };
}

std::string LogLine(LogLevel level, std::string_view component, std::string_view message, const Labels& fields) {
  static constexpr const char* kLevels[] = {"debug", "info", "warn", "error"};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const UnixNanos t{std::chrono::duration_cast<std::chrono::milliseconds>(now).count() * 1000000};
  std::string line = "ts=" + FormatIso8601(t) + " level=" + kLevels[static_cast<int>(level)] +
                     " component=" + std::string(component) + " msg=\"" + Escape(message) + "\"";
  for (const auto& [k, v] : fields) {
    const bool quote = v.empty() || v.find_first_of(" \"=") != std::string::npos;
    line += " " + k + "=" + (quote ? "\"" + Escape(v) + "\"" : v);
  }
  return line;
}

}  // namespace tickflow::observability
