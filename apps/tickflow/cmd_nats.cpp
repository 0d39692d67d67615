// tickflow nats-config: writes a nats-server configuration with one user per
// client and the gateway's trusted user, plus a credentials file for each.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <fstream>
#include <random>

#include "common.hpp"
#include "tickflow/gateway/nats_server_config.hpp"

namespace tickflow::cli {
namespace {

namespace fs = std::filesystem;

std::string RandomPassword() {
  std::random_device rd;  // /dev/urandom
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i) out += kHex[rd() % 16];
  return out;
}

Result<std::pair<ClientId, ClientId>> ParseClientRange(const std::string& text) {
  const auto dash = text.find('-');
  try {
    const unsigned long lo = std::stoul(text.substr(0, dash));
    const unsigned long hi = dash == std::string::npos ? lo : std::stoul(text.substr(dash + 1));
    if (lo <= hi && hi <= 65535 && hi - lo < 10000) return std::pair{static_cast<ClientId>(lo), static_cast<ClientId>(hi)};
  } catch (const std::exception&) {
  }
  return MakeError(ErrorCode::kInvalidArgument, "--clients '" + text + "': use an id or a range such as 1-16 (at most 10,000)");
}

// Created 0600 (never readable by others, not even for a moment), and made
// 0600 again if it already existed.
Status WritePrivate(const fs::path& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return MakeError(ErrorCode::kIo, "cannot create " + path.string() + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, 0600) == 0;
  for (std::size_t done = 0; ok && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  const int err = errno;
  ok = (::close(fd) == 0) && ok;
  if (!ok) return MakeError(ErrorCode::kIo, "cannot write " + path.string() + ": " + std::strerror(err));
  return {};
}

}  // namespace

Command AddNatsConfig(CLI::App& app) {
  auto* cmd = app.add_subcommand("nats-config", "Write a nats-server configuration with one user per client");
  cmd->footer(
      "Writes DIR/nats.conf and DIR/creds/{gateway,admin,client-N}.creds (mode 0600, random passwords).\n"
      "Client N has a NATS account of its own (CLIENT_N), which imports from the gateway's account QD only\n"
      "its control subjects qd.control.N, its error subject qd.error.N and its own JetStream data stream's\n"
      "consumer (under qd.js.*): no other user can reach them, not even as a reply subject, and the account\n"
      "holds at most --max-connections connections and 64 subscriptions. Inside it, client N may publish only\n"
      "on those subjects and read only qd.error.N and its reply inbox _INBOX_N. The gateway user makes the\n"
      "JetStream admin calls; the admin user may do anything in QD (operations, benchmarks). Start the server with\n"
      "scripts/nats.sh start DIR. Running it again replaces the passwords; add clients by rewriting the file and\n"
      "reloading (scripts/nats.sh reload DIR).\n"
      "--nodes 3 writes a JetStream cluster instead: DIR/node-1..3/nats.conf on consecutive ports (client port,\n"
      "monitoring port and route port + 0, 1, 2), the same users on every node; start all with scripts/nats.sh start\n"
      "DIR and give gateways and clients every URL, comma-separated (docs/deployment.md).\n\n"
      "Examples:\n"
      "  tickflow nats-config --dir /tmp/nats --clients 1-16 --port 4222\n"
      "  tickflow nats-config --dir /tmp/natsc --nodes 3 --port 4222 --http 8222 --route-port 6222");
  struct Args {
    std::string dir, clients = "1-16", host = "127.0.0.1", control = "qd.control", max_store;
    int port = 4222, http = 8222, nodes = 1, route_port = 6222;
    int max_connections = gateway::NatsServerSetup{}.max_connections_per_client;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--dir", a->dir, "Directory for nats.conf, creds/ and the JetStream store (js/)")->required();
  cmd->add_option("--clients", a->clients, "Client ids to create users for: N or N-M")->capture_default_str();
  cmd->add_option("--host", a->host, "Address the server listens on")->capture_default_str();
  cmd->add_option("--port", a->port, "Client port")->capture_default_str()->check(CLI::Range(1, 65535));
  cmd->add_option("--http", a->http, "Monitoring port (/healthz); 0 = off")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--control", a->control, "Control channel prefix")->capture_default_str();
  cmd->add_option("--nodes", a->nodes, "Cluster nodes (1: a single server)")->capture_default_str()->check(CLI::Range(1, 9));
  cmd->add_option("--route-port", a->route_port, "First cluster route port (--nodes > 1)")->capture_default_str();
  cmd->add_option("--max-connections", a->max_connections,
                  "Connections one client's account may hold (each client process takes two)")
      ->capture_default_str()
      ->check(CLI::Range(2, 100000));
  cmd->add_option("--max-store", a->max_store,
                  "JetStream file store limit, e.g. 8G (default: nats-server's own, 75% of the free disk at start)")
      ->check([](const std::string& v) {
        const auto digits = v.find_first_not_of("0123456789");
        const bool ok =
            digits != 0 &&
            (digits == std::string::npos ||
             (digits + 1 == v.size() && std::string_view("KMGT").find(v[digits]) != std::string_view::npos));
        return ok ? std::string() : "--max-store '" + v + "': use a size such as 512M or 8G";
      });
  return {cmd, [a] {
            auto range = ParseClientRange(a->clients);
            if (!range.ok()) return Fail(range.error());
            const fs::path dir = fs::absolute(a->dir);
            std::error_code ec;
            fs::create_directories(dir / "creds", ec);
            if (ec) return Fail("cannot create " + (dir / "creds").string() + ": " + ec.message());
            gateway::NatsServerSetup setup;
            setup.control_channel = a->control;
            setup.max_store = a->max_store;
            setup.max_connections_per_client = a->max_connections;
            setup.client_accounts = a->nodes == 1;
            setup.users.push_back({"gateway", RandomPassword(), gateway::NatsRole::kGateway, 0});
            setup.users.push_back({"admin", RandomPassword(), gateway::NatsRole::kAdmin, 0});
            for (unsigned id = range->first; id <= range->second; ++id) {
              setup.users.push_back({"client-" + std::to_string(id), RandomPassword(), gateway::NatsRole::kClient,
                                     static_cast<ClientId>(id)});
            }
            std::string urls;
            for (int node = 0; node < a->nodes; ++node) {
              const fs::path home = a->nodes == 1 ? dir : dir / ("node-" + std::to_string(node + 1));
              fs::create_directories(home / "js", ec);
              setup.listen = a->host + ":" + std::to_string(a->port + node);
              setup.http = a->http == 0 ? "" : a->host + ":" + std::to_string(a->http + node);
              setup.store_dir = (home / "js").string();
              if (a->nodes > 1) {
                setup.server_name = "tickflow-" + std::to_string(node + 1);
                setup.cluster_name = "tickflow";
                setup.cluster_listen = a->host + ":" + std::to_string(a->route_port + node);
                setup.routes.clear();
                for (int other = 0; other < a->nodes; ++other) {
                  if (other != node) {
                    setup.routes.push_back("nats-route://" + a->host + ":" + std::to_string(a->route_port + other));
                  }
                }
              }
              if (auto s = WritePrivate(home / "nats.conf", gateway::NatsServerConfig(setup)); !s.ok()) return Fail(s.error());
              urls += (urls.empty() ? "" : ",") + std::string("nats://") + setup.listen;
            }
            for (const auto& u : setup.users) {
              if (auto s = WritePrivate(dir / "creds" / (u.name + ".creds"), gateway::CredentialsFile(u, setup)); !s.ok()) {
                return Fail(s.error());
              }
            }
            fmt::print("wrote {} ({} users: gateway, admin, clients {}..{})\n",
                       a->nodes == 1 ? (dir / "nats.conf").string()
                                     : (dir / "node-*/nats.conf").string() + " (" + std::to_string(a->nodes) + " nodes)",
                       setup.users.size(), range->first, range->second);
            fmt::print("credentials in {}\n", (dir / "creds").string());
            fmt::print("start it:  scripts/nats.sh start {}\n", dir.string());
            fmt::print("gateway:   tickflow gateway --bus {} --creds {}{}\n", urls, (dir / "creds/gateway.creds").string(),
                       a->nodes > 1 ? " --env cluster" : "");
            fmt::print("client:    tickflow replay SYMBOL --bus {} --creds {}\n", urls,
                       (dir / "creds" / ("client-" + std::to_string(range->first) + ".creds")).string());
            return 0;
          }};
}

}  // namespace tickflow::cli
