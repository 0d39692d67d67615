#include "tickflow/observability/observability.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "tickflow/core/text.hpp"
#include "tickflow/core/time.hpp"
#include "tickflow/version.hpp"

namespace tickflow::observability {
namespace {

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
      text_ += (i ? "," : "") + labels[i].first + "=\"" + EscapeQuotedValue(labels[i].second) + "\"";
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

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

Histogram Histogram::Latency() {
  return Histogram({0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
}

void Histogram::Observe(double value) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);  // first bound >= value: le is inclusive
  ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
  sum_ += value;
  ++count_;
}

void MetricsWriter::Histogram(std::string_view name, std::string_view help, const observability::Histogram& h,
                              const Labels& labels) {
  const std::string base(name);
  if (std::find(described_.begin(), described_.end(), base) == described_.end()) {
    described_.push_back(base);
    text_ += "# HELP " + base + " " + std::string(help) + "\n";
    text_ += "# TYPE " + base + " histogram\n";
    // The samples' own names must not describe themselves again.
    described_.push_back(base + "_bucket");
    described_.push_back(base + "_sum");
    described_.push_back(base + "_count");
  }
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < h.counts().size(); ++i) {
    cumulative += h.counts()[i];
    Labels l = labels;
    l.emplace_back("le", i < h.bounds().size() ? Number(h.bounds()[i]) : "+Inf");
    Sample("histogram", base + "_bucket", help, static_cast<double>(cumulative), l);
  }
  Sample("histogram", base + "_sum", help, h.sum(), labels);
  Sample("histogram", base + "_count", help, static_cast<double>(h.count()), labels);
}

void WriteProcessMetrics(MetricsWriter& out, std::string_view component) {
  out.Gauge("tickflow_build_info", "The tickflow version serving, always 1", 1,
            {{"version", kVersion}, {"component", std::string(component)}});
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  // /proc/self/stat: the fields after the command's closing parenthesis; utime is the 14th field.
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  if (const auto close = stat.rfind(')'); close != std::string::npos) {
    std::istringstream in(stat.substr(close + 2));
    std::vector<std::string> f((std::istream_iterator<std::string>(in)), std::istream_iterator<std::string>());
    if (f.size() > 21) {  // f[0] is field 3 (state)
      out.Counter("process_cpu_seconds_total", "User and system CPU time spent, in seconds",
                  (std::stod(f[11]) + std::stod(f[12])) / tick);
      std::ifstream uptime_file("/proc/uptime");
      double uptime = 0;
      uptime_file >> uptime;
      const double boot = static_cast<double>(std::time(nullptr)) - uptime;
      out.Gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds",
                boot + std::stod(f[19]) / tick);
      out.Gauge("process_virtual_memory_bytes", "Virtual memory size, in bytes", std::stod(f[20]));
      out.Gauge("process_resident_memory_bytes", "Resident memory size, in bytes", std::stod(f[21]) * page);
    }
  }
  std::error_code ec;
  std::size_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  if (!ec) out.Gauge("process_open_fds", "Open file descriptors", static_cast<double>(fds));
  if (rlimit r{}; ::getrlimit(RLIMIT_NOFILE, &r) == 0) {
    out.Gauge("process_max_fds", "Maximum number of open file descriptors", static_cast<double>(r.rlim_cur));
  }
}

void MetricsRegistry::AddCollector(std::function<void(MetricsWriter&)> collector) {
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::Render() const {
  MetricsWriter w;
  for (const auto& c : collectors_) c(w);
  return w.Take();
}

// The HTTP side is libmicrohttpd (Debian's libmicrohttpd): one internal
// polling thread multiplexes every connection, so idle sockets, slow readers
// and a flood of scrapes cannot hold /healthz back; each connection has a
// deadline and their number is capped. The listening socket is made here so
// that a bad address or a taken port gets an error naming it.
class HttpServer::Impl {
 public:
  int fd = -1;
  int port = 0;
  Handler handler;
  MHD_Daemon* daemon = nullptr;

  static MHD_Result OnRequest(void* cls, MHD_Connection* connection, const char* url, const char* method,
                              const char* /*version*/, const char* /*upload_data*/, std::size_t* upload_data_size,
                              void** /*req_cls*/) {
    auto* self = static_cast<Impl*>(cls);
    HttpResponse r;
    if (std::strcmp(method, "GET") != 0 && std::strcmp(method, "HEAD") != 0) {
      r = {405, "text/plain", "only GET is served\n"};
    } else {
      try {
        r = self->handler(url);
      } catch (const std::exception& e) {
        r = {500, "text/plain", std::string("internal error: ") + e.what() + "\n"};
      }
    }
    *upload_data_size = 0;  // a body, if any, is not read
    MHD_Response* response = MHD_create_response_from_buffer(r.body.size(), r.body.data(), MHD_RESPMEM_MUST_COPY);
    if (response == nullptr) return MHD_NO;
    (void)MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type.c_str());
    if (r.status == 405) (void)MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    const MHD_Result queued = MHD_queue_response(connection, static_cast<unsigned>(r.status), response);
    MHD_destroy_response(response);
    return queued;
  }
};

namespace {

// "127.0.0.1", "::1", "[::1]", "0.0.0.0", "::" -> a socket address.
Result<sockaddr_storage> ParseHost(std::string host, int port, socklen_t* len) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  sockaddr_storage out{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    *len = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    *len = sizeof(sockaddr_in6);
  } else {
    return MakeError(ErrorCode::kInvalidArgument,
                     "metrics address '" + host + "' is not an IPv4 or IPv6 address (e.g. 127.0.0.1 or [::1])");
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& host, int port, Handler handler,
                                                      const HttpLimits& limits) {
  auto impl = std::make_unique<Impl>();
  impl->handler = std::move(handler);
  socklen_t len = 0;
  auto addr = ParseHost(host, port, &len);
  if (!addr.ok()) return addr.error();
  impl->fd = ::socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (impl->fd < 0) return MakeError(ErrorCode::kIo, std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(impl->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(impl->fd, reinterpret_cast<sockaddr*>(&*addr), len) != 0 || ::listen(impl->fd, 64) != 0) {
    const std::string why = std::strerror(errno);
    ::close(impl->fd);
    return MakeError(ErrorCode::kUnavailable, "cannot listen on " + host + ":" + std::to_string(port) + ": " + why);
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  ::getsockname(impl->fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  impl->port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                 : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  const unsigned flags =
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | (addr->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
  impl->daemon =
      MHD_start_daemon(flags, 0, nullptr, nullptr, &Impl::OnRequest, impl.get(), MHD_OPTION_LISTEN_SOCKET, impl->fd,
                       MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(limits.connection_timeout.count()),
                       MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(limits.max_connections),
                       MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<std::size_t>(64 * 1024), MHD_OPTION_END);
  if (impl->daemon == nullptr) {
    ::close(impl->fd);
    return MakeError(ErrorCode::kUnavailable, "cannot start the HTTP server on " + host + ":" + std::to_string(port));
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(); }
int HttpServer::port() const { return impl_->port; }
void HttpServer::Stop() {
  if (impl_->daemon == nullptr) return;
  MHD_stop_daemon(impl_->daemon);  // joins its thread; the listening socket is ours to close
  impl_->daemon = nullptr;
  ::close(impl_->fd);
}

HttpServer::Handler MetricsHandler(const MetricsRegistry& registry, std::function<Health()> health) {
  return [&registry, health = std::move(health)](std::string_view path) {
    if (path == "/metrics") return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", registry.Render()};
    if (path == "/healthz") {
      const Health h = health ? health() : Health{};
      if (h.ok) return HttpResponse{200, "text/plain", "ok\n"};
      return HttpResponse{503, "text/plain", "unhealthy: " + h.detail + "\n"};
    }
    return HttpResponse{404, "text/plain", "not found: try /metrics or /healthz\n"};
  };
}

std::string LogLine(LogLevel level, std::string_view component, std::string_view message, const Labels& fields) {
  return FormatLogLine(LogFormat::kLogfmt, level, component, message, fields);
}

}  // namespace tickflow::observability
