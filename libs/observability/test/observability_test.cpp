#include "tickflow/observability/observability.hpp"
#include "tickflow/version.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include "tickflow/client/client.hpp"
#include "tickflow/gateway/gateway.hpp"
#include "tickflow/importer/importer.hpp"

namespace tickflow::observability {
namespace {

namespace fs = std::filesystem;

// A connected TCP socket to 127.0.0.1 (or ::1) that gives up reading after 10 s.
int Connect(int port, bool v6 = false) {
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  const timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int rc = -1;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET6, "::1", &a.sin6_addr);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  EXPECT_EQ(rc, 0) << std::strerror(errno);
  return fd;
}

// A plain HTTP/1.1 GET over a socket, as a Prometheus scraper does it.
std::string Get(int port, const std::string& path, const std::string& method = "GET", bool v6 = false) {
  const int fd = Connect(port, v6);
  const std::string req = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  EXPECT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

// Every line is a comment or `name{labels} value`; every sample's metric has HELP and TYPE.
void ExpectValidExposition(const std::string& text) {
  const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$)");
  const std::regex type(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$)");
  std::set<std::string> typed;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (std::regex_match(line, m, type)) {
      EXPECT_TRUE(typed.insert(m[1]).second) << "TYPE twice: " << line;
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, m, sample)) << "not a sample: " << line;
    // A histogram's samples are NAME_bucket, NAME_sum and NAME_count of the TYPE line's NAME.
    const std::string name = m[1];
    const std::string family = std::regex_replace(name, std::regex("_(bucket|sum|count)$"), "");
    EXPECT_TRUE(typed.count(name) || typed.count(family)) << "sample before its TYPE: " << line;
  }
}

double Value(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(MetricsTest, WritesPrometheusTextFormat) {
  MetricsRegistry r;
  r.AddCollector([](MetricsWriter& w) {
    w.Counter("t_requests_total", "Requests", 3);
    w.Counter("t_errors_total", "Errors by code", 1, {{"code", "not \"found\""}});
    w.Counter("t_errors_total", "Errors by code", 2, {{"code", "bad"}});
    w.Gauge("t_lag", "Lag", 0.5, {{"client", "7"}});
  });
  const std::string text = r.Render();
  ExpectValidExposition(text);
  EXPECT_NE(text.find("t_errors_total{code=\"not \\\"found\\\"\"} 1\n"), std::string::npos) << text;
  std::size_t helps = 0;
  for (std::size_t p = 0; (p = text.find("# HELP t_errors_total", p)) != std::string::npos; ++p) ++helps;
  EXPECT_EQ(helps, 1u);
}

TEST(HttpServerTest, ServesMetricsAndHealthAndRefusesTheRest) {
  MetricsRegistry r;
  r.AddCollector([](MetricsWriter& w) { w.Gauge("t_up", "Up", 1); });
  auto server = HttpServer::Start("127.0.0.1", 0, MetricsHandler(r)).value();
  const std::string metrics = Get(server->port(), "/metrics");
  EXPECT_NE(metrics.find("HTTP/1.1 200 OK"), std::string::npos);
  EXPECT_NE(metrics.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(metrics.find("\nt_up 1\n"), std::string::npos);
  EXPECT_NE(Get(server->port(), "/healthz").find("\r\n\r\nok\n"), std::string::npos);
  EXPECT_NE(Get(server->port(), "/nope").find("404 Not Found"), std::string::npos);
  EXPECT_NE(Get(server->port(), "/metrics", "POST").find("405"), std::string::npos);
  EXPECT_FALSE(HttpServer::Start("not-an-ip", 0, MetricsHandler(r)).ok());
}

TEST(HttpServerTest, HealthSaysWhatIsWrong) {
  MetricsRegistry r;
  Health h{false, "bus: JetStream not answering"};
  auto server = HttpServer::Start("127.0.0.1", 0, MetricsHandler(r, [&h] { return h; })).value();
  const std::string bad = Get(server->port(), "/healthz");
  EXPECT_NE(bad.find("HTTP/1.1 503"), std::string::npos) << bad;
  EXPECT_NE(bad.find("\r\n\r\nunhealthy: bus: JetStream not answering\n"), std::string::npos) << bad;
  h = {};
  EXPECT_NE(Get(server->port(), "/healthz").find("HTTP/1.1 200"), std::string::npos);
}

// The old server answered one connection at a time with a 2 s deadline each:
// 20 idle sockets made /healthz time out, and a scraper that never read a
// large /metrics blocked it.
TEST(HttpServerTest, IdleSocketsAndASlowReaderDoNotHoldOthersBack) {
  MetricsRegistry r;
  r.AddCollector([](MetricsWriter& w) {
    for (int i = 0; i < 200000; ++i) w.Gauge("t_series", "Many series", i, {{"i", std::to_string(i)}});
  });
  auto server = HttpServer::Start("127.0.0.1", 0, MetricsHandler(r)).value();
  std::vector<int> idle;
  for (int i = 0; i < 50; ++i) idle.push_back(Connect(server->port()));
  const int slow = Connect(server->port());  // asks for ~7 MB of metrics and never reads them
  const std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(slow, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  for (int i = 0; i < 5; ++i) {
    const std::string health = Get(server->port(), "/healthz");  // each read gives up after 10 s
    EXPECT_NE(health.find("\r\n\r\nok\n"), std::string::npos) << "with 50 idle sockets and a slow reader: " << health;
  }
  for (int fd : idle) ::close(fd);
  ::close(slow);
}

TEST(HttpServerTest, ServesOverIpv6) {
  MetricsRegistry r;
  auto server = HttpServer::Start("[::1]", 0, MetricsHandler(r));
  if (!server.ok() && server.error().message.find("Cannot assign") != std::string::npos) {
    GTEST_SKIP() << "no IPv6 loopback on this machine: " << server.error().message;
  }
  ASSERT_TRUE(server.ok()) << server.error().message;
  EXPECT_NE(Get((*server)->port(), "/healthz", "GET", true).find("\r\n\r\nok\n"), std::string::npos);
}

TEST(HistogramTest, BucketsAreCumulativeWithSumAndCount) {
  Histogram h({0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 2.0, 20.0}) h.Observe(v);
  MetricsWriter w;
  w.Histogram("t_seconds", "Latency", h, {{"op", "get"}});
  const std::string text = w.Take();
  EXPECT_EQ(text,
            "# HELP t_seconds Latency\n# TYPE t_seconds histogram\n"
            "t_seconds_bucket{op=\"get\",le=\"0.10000000000000001\"} 2\n"
            "t_seconds_bucket{op=\"get\",le=\"1\"} 3\n"
            "t_seconds_bucket{op=\"get\",le=\"10\"} 4\n"
            "t_seconds_bucket{op=\"get\",le=\"+Inf\"} 5\n"
            "t_seconds_sum{op=\"get\"} 22.649999999999999\n"
            "t_seconds_count{op=\"get\"} 5\n")
      << text;
}

TEST(ProcessMetricsTest, BuildInfoAndProcessFigures) {
  MetricsWriter w;
  WriteProcessMetrics(w, "gateway");
  const std::string text = w.Take();
  EXPECT_NE(text.find(std::string("tickflow_build_info{version=\"") + kVersion + "\",component=\"gateway\"} 1\n"),
            std::string::npos)
      << text;
  const auto value = [&](const std::string& name) {
    const auto at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + name.size() + 2));
  };
  EXPECT_GT(value("process_resident_memory_bytes"), 1e6) << text;
  EXPECT_GE(value("process_virtual_memory_bytes"), value("process_resident_memory_bytes"));
  EXPECT_GT(value("process_open_fds"), 2);
  EXPECT_GE(value("process_max_fds"), value("process_open_fds"));
  EXPECT_GE(value("process_cpu_seconds_total"), 0);
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_GT(value("process_start_time_seconds"), now - 3600) << "started within the hour";
  EXPECT_LE(value("process_start_time_seconds"), now + 1);
}

TEST(LogLineTest, IsStructured) {
  const std::string line = LogLine(LogLevel::kWarn, "gateway", "client \"7\" slow", {{"client", "7"}, {"why", "a b"}});
  EXPECT_TRUE(std::regex_match(line, std::regex(R"(ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z level=warn component=gateway msg="client \\"7\\" slow" client=7 why="a b")")))
      << line;
}

TEST(GatewayMetricsTest, CountersMoveWhenAStreamRuns) {
  const fs::path dir = fs::temp_directory_path() / ("tickflow_obs_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "in");
  fs::copy_file(fs::path(TICKFLOW_SOURCE_DIR) / "tests/data/kraken/XBTUSD.csv", dir / "in/XBTUSD.csv");
  const std::string db = (dir / "s.db").string();
  {
    auto store = store::OpenStore(db).value();
    ASSERT_EQ(importer::Import(*store, (dir / "in").string(), {})->files_failed, 0u);
  }
  auto bus = bus::MakeInProcessBus();
  gateway::GatewayOptions o;
  o.open_store = [db] { return store::OpenStore(db, {.create = false}); };
  auto gw = gateway::Gateway::Start(*bus, o).value();
  MetricsRegistry registry;
  registry.AddCollector([&gw](MetricsWriter& w) { gateway::WriteMetrics(gw->stats(), w); });
  auto http = HttpServer::Start("127.0.0.1", 0, MetricsHandler(registry)).value();

  const std::string before = Get(http->port(), "/metrics");
  ExpectValidExposition(before.substr(before.find("\r\n\r\n") + 4));
  EXPECT_EQ(Value(before, "tickflow_gateway_messages_sent_total"), 0);
  {
    auto client = client::Client::Open({.client_id = 5, .bus = bus.get()}).value();
    auto stream = client->RequestTrades({.symbols = {1}}, {.on_trade = [](const client::TradeEvent&) {}}).value();
    ASSERT_TRUE(stream->Wait(std::chrono::seconds(10)).ok());
    EXPECT_FALSE(client->RequestTrades({.symbols = {99}}).ok());
    const std::string during = Get(http->port(), "/metrics");
    EXPECT_EQ(Value(during, "tickflow_gateway_sessions"), 1);
    EXPECT_NE(during.find("tickflow_gateway_client_lag_frames{client=\"5\"} "), std::string::npos);
  }
  const std::string after = Get(http->port(), "/metrics");
  const std::string body = after.substr(after.find("\r\n\r\n") + 4);
  ExpectValidExposition(body);
  EXPECT_EQ(Value(after, "tickflow_gateway_messages_sent_total"), 2672 + 2) << "trades plus First and Last markers";
  EXPECT_EQ(Value(after, "tickflow_gateway_streams_started_total"), 1);
  EXPECT_GT(Value(after, "tickflow_gateway_bytes_sent_total"), 2672 * 40);
  EXPECT_EQ(Value(after, "tickflow_gateway_request_seconds_count"), 2);
  EXPECT_EQ(Value(after, "tickflow_gateway_request_seconds_bucket{le=\"+Inf\"}"), 2) << "a histogram, so p99 is known";
  EXPECT_GT(Value(after, "tickflow_gateway_request_seconds_sum"), 0);
  EXPECT_EQ(Value(after, "tickflow_gateway_errors_total{code=\"DataError/symbol not found\"}"), 1);
  EXPECT_EQ(Value(after, "tickflow_gateway_sessions"), 0);
  http.reset();
  gw.reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tickflow::observability
