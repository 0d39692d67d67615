// The symbol master end to end: `tickflow symdb` as its own process on a free
// port, queried through the client library; graceful shutdown on SIGTERM.
#include "tickflow/symdb/symdb.hpp"

#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tickflow/importer/importer.hpp"

namespace tickflow::symdb {
namespace {

namespace fs = std::filesystem;

TEST(SymbolManagerTest, LooksUpBothWays) {
  store::SymbolInfo x;
  x.id = 3;
  x.symbol = "XBTUSD";
  SymbolManager m({x}, {{1, "Kraken"}});
  EXPECT_EQ(m.Symbol(3).value(), "XBTUSD");
  EXPECT_EQ(m.Id("XBTUSD").value(), 3);
  EXPECT_EQ(m.ExchangeName(1).value(), "Kraken");
  EXPECT_EQ(m.Symbol(4).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(m.Id("").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(m.ExchangeName(9).error().code, ErrorCode::kNotFound);
}

class SymdbProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tickflow_symdb_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
    fs::copy_file(fs::path(TICKFLOW_SOURCE_DIR) / "tests/data/kraken/XBTUSD.csv", dir_ / "in/XBTUSD.csv");
    std::ofstream(dir_ / "in/ETHUSD.csv") << "1561939203,290.5,1.25\n";
    db_ = (dir_ / "s.db").string();
    auto store = store::OpenStore(db_).value();
    ASSERT_EQ(importer::Import(*store, (dir_ / "in").string(), {})->files_failed, 0u);
    // Start the service on a free port and read the address it prints.
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::execl(TICKFLOW_BINARY, TICKFLOW_BINARY, "symdb", "--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--db",
              db_.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    stdout_ = ::fdopen(out[0], "r");
    char line[512] = {};
    ASSERT_NE(std::fgets(line, sizeof line, stdout_), nullptr) << "symdb printed nothing";
    const std::string text = line;
    const auto at = text.find("127.0.0.1:");
    ASSERT_NE(at, std::string::npos) << text;
    address_ = "127.0.0.1:" + std::to_string(std::stoi(text.substr(at + 10)));
    ASSERT_NE(std::fgets(line, sizeof line, stdout_), nullptr);
    const std::string log = line;  // a structured line naming the metrics address
    const auto m = log.find("address=127.0.0.1:");
    ASSERT_NE(m, std::string::npos) << log;
    EXPECT_NE(log.find("level=info component=symdb msg=\"metrics listening\""), std::string::npos) << log;
    metrics_port_ = std::stoi(log.substr(m + 18));
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_ != nullptr) std::fclose(stdout_);
    fs::remove_all(dir_);
  }

  fs::path dir_;
  std::string db_, address_;
  int metrics_port_ = 0;
  pid_t pid_ = -1;
  FILE* stdout_ = nullptr;
};

TEST_F(SymdbProcessTest, AnswersEveryCallAndMapsFailuresToStatusCodes) {
  auto client = Client::Connect(address_).value();
  EXPECT_EQ(client->LookupExchangeName(1).value(), "Kraken");
  const SymbolId xbt = client->LookupSymbolId("XBTUSD").value();
  EXPECT_EQ(client->LookupSymbol(xbt).value(), "XBTUSD");
  const auto symbols = client->ListSymbols().value();
  ASSERT_EQ(symbols.size(), 2u);
  const auto& x = symbols[xbt == symbols[0].id ? 0 : 1];
  EXPECT_EQ(x.trade_count, 2672u);
  EXPECT_EQ(FormatIso8601(x.first_time), "2019-07-01T00:00:03.172Z");
  EXPECT_EQ(FormatIso8601(x.last_time), "2019-07-01T00:59:51.213Z");
  EXPECT_EQ(x.price_scale, 1);
  EXPECT_EQ(x.volume_scale, 8);
  EXPECT_EQ(x.base, "XBT");

  auto missing = client->LookupSymbolId("NOPE");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("unknown symbol 'NOPE'"), std::string::npos) << missing.error().message;
  // A hostile 1 MB name gets a short NOT_FOUND that names it, not an answer too large to send.
  auto huge = client->LookupSymbolId(std::string(1 << 20, 'A'));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().code, ErrorCode::kNotFound) << huge.error().message;
  EXPECT_LT(huge.error().message.size(), 300u);
  EXPECT_NE(huge.error().message.find("(the first 64 of its 1048576 bytes)"), std::string::npos) << huge.error().message;
  // A name that is not UTF-8 is refused by the client with what is wrong, before protobuf logs it.
  auto bad_utf8 = client->LookupSymbolId("X\xff\xfe");
  ASSERT_FALSE(bad_utf8.ok());
  EXPECT_EQ(bad_utf8.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad_utf8.error().message.find("is not valid UTF-8"), std::string::npos) << bad_utf8.error().message;
  EXPECT_EQ(client->LookupSymbol(999).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(client->LookupSymbolId("").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(client->LookupExchangeName(7).error().code, ErrorCode::kNotFound);

  // The example resolves names through this service, then replays through a gateway.
  const std::string cmd = std::string(TICKFLOW_EXAMPLES) + "/symbol_master " + address_ + " " + db_ + " XBTUSD ETHUSD";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  EXPECT_EQ(::pclose(p), 0) << out;
  EXPECT_NE(out.find("XBTUSD: 2672 trades"), std::string::npos) << out;
  EXPECT_NE(out.find("ETHUSD: 1 trades"), std::string::npos) << out;
  EXPECT_NE(out.find("stream end: completed, 2673 received, 0 missing"), std::string::npos) << out;

  // Its metrics count what it served.
  const std::string scrape =
      "curl -sf http://127.0.0.1:" + std::to_string(metrics_port_) + "/metrics 2>/dev/null || "
      "python3 -c \"import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:" + std::to_string(metrics_port_) +
      "/metrics').read().decode())\"";
  FILE* m = ::popen(scrape.c_str(), "r");
  ASSERT_NE(m, nullptr);
  std::string metrics;
  while (std::fgets(buf, sizeof buf, m) != nullptr) metrics += buf;
  ::pclose(m);
  EXPECT_NE(metrics.find("tickflow_symdb_symbols 2\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tickflow_symdb_requests_total 13\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tickflow_symdb_errors_total 5\n"), std::string::npos) << metrics;

  // Graceful shutdown: exit status 0 and a goodbye naming the signal.
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid_, &status, 0), pid_);
  pid_ = -1;
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  char line[512] = {};
  ASSERT_NE(std::fgets(line, sizeof line, stdout_), nullptr);
  EXPECT_NE(std::string(line).find("shutting down after 13 requests (5 errors)"), std::string::npos) << line;
}

TEST(SymdbLogTest, ProtobufLinesAreRoutedAndRateLimited) {
  std::vector<std::string> lines;
  RouteProtobufLogs([&](const std::string& line) { lines.push_back(line); });
  for (int i = 0; i < 5; ++i) GOOGLE_LOG(ERROR) << "String field contains invalid UTF-8 data " << i;
  ASSERT_EQ(lines.size(), 1u) << "one line, then at most one every 10 s";
  EXPECT_NE(lines[0].find("protobuf: String field contains invalid UTF-8 data 0"), std::string::npos) << lines[0];
}

TEST(SymdbClientTest, NoServerIsAClearError) {
  auto c = Client::Connect("127.0.0.1:1", std::chrono::milliseconds(300));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("no symdb answers at 127.0.0.1:1"), std::string::npos);
}

}  // namespace
}  // namespace tickflow::symdb
