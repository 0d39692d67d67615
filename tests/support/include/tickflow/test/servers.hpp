// Real servers for integration tests: free loopback ports, child processes
// that die with the test (a crashed test leaves no server holding ctest's
// pipes) and write only to their logs, and a clickhouse-server started from
// scripts/clickhouse.sh's configuration and stopped by its PID.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

namespace tickflow::test {

inline int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Starts argv[0] (looked up in PATH) as a child that gets SIGTERM when this
// process dies, with stdin/stdout/stderr on /dev/null.
inline pid_t SpawnTied(const char* const* argv) {
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(1);
  const int null = ::open("/dev/null", O_RDWR);
  ::dup2(null, 0);
  ::dup2(null, 1);
  ::dup2(null, 2);
  ::execvp(argv[0], const_cast<char* const*>(argv));
  ::_exit(127);
}

inline void StopChild(pid_t* pid, int signal = SIGTERM) {
  if (*pid <= 0) return;
  ::kill(*pid, signal);
  int status = 0;
  ::waitpid(*pid, &status, 0);
  *pid = -1;
}

// A clickhouse-server on 127.0.0.1 with its files under `dir`; store URLs are
// clickhouse://127.0.0.1:<http_port>/<database>.
class ClickHouseServer {
 public:
  // Empty on success, else what went wrong.
  std::string Start(const std::filesystem::path& dir) {
    dir_ = dir;
    http_port_ = FreePort();
    const int tcp = FreePort();
    std::filesystem::create_directories(dir);
    const std::string config = "bash " TICKFLOW_SOURCE_DIR "/scripts/clickhouse.sh config '" + dir.string() + "' " +
                               std::to_string(http_port_) + " " + std::to_string(tcp);
    if (std::system(config.c_str()) != 0) return "scripts/clickhouse.sh config failed";
    return Restart();
  }
  // Starts the server again on the same ports and data after Stop.
  std::string Restart() {
    const std::string arg = "--config-file=" + (dir_ / "config.xml").string();
    const char* argv[] = {"clickhouse-server", arg.c_str(), nullptr};
    pid_ = SpawnTied(argv);
    const std::filesystem::path& dir = dir_;
    const std::string ping = "curl -sf http://127.0.0.1:" + std::to_string(http_port_) + "/ping >/dev/null 2>&1";
    for (int i = 0; i < 300; ++i) {
      if (std::system(ping.c_str()) == 0) return {};
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return "clickhouse-server exited (is it installed? scripts/install-deps.sh); see " +
               (dir / "clickhouse-server.err.log").string();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "clickhouse-server did not answer /ping within 30 s; see " + (dir / "clickhouse-server.err.log").string();
  }
  void Stop() { StopChild(&pid_); }
  void Kill() { StopChild(&pid_, SIGKILL); }  // a crash: no shutdown
  // Runs one SQL statement through the HTTP interface; true when it succeeded.
  bool Execute(const std::string& sql) const {
    std::string quoted = "'";
    for (char c : sql) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    quoted += "'";
    const std::string cmd = "curl -sf http://127.0.0.1:" + std::to_string(http_port_) + "/ --data-binary " + quoted +
                            " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  }
  ~ClickHouseServer() { Stop(); }

  int http_port() const { return http_port_; }
  pid_t pid() const { return pid_; }
  std::string Url(const std::string& database) const {
    return "clickhouse://127.0.0.1:" + std::to_string(http_port_) + "/" + database;
  }

 private:
  std::filesystem::path dir_;
  int http_port_ = 0;
  pid_t pid_ = -1;
};

// One clickhouse-server for the whole test binary, started at first use (a
// failure to start fails the calling test), stopped at exit; tests give
// themselves their own database (TestDatabase).
inline ClickHouseServer& SharedClickHouse() {
  struct Owned {
    ClickHouseServer server;
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("tickflow_test_clickhouse_" + std::to_string(::getpid()));
    std::string error = server.Start(dir);
    ~Owned() {
      server.Stop();
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  };
  static Owned owned;
  EXPECT_EQ(owned.error, "");
  return owned.server;
}

// A database name for the current test: letters, digits and _ only.
inline std::string TestDatabase(std::string_view prefix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(prefix) + "_" + info->test_suite_name() + "_" + info->name() + "_" +
                     std::to_string(::getpid());
  for (char& c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) c = '_';
  }
  return name;
}

}  // namespace tickflow::test
