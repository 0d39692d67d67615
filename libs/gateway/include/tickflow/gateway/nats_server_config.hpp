// The NATS permission model of the QD protocol, as a nats-server
// configuration: one user per client, allowed to publish only on its own
// control subject and to read only its own error subject, its own data
// stream's consumer and its own reply inbox; one trusted gateway user that
// makes the JetStream admin calls; optionally an admin user (operations,
// benchmarks). `tickflow nats-config` writes it; scripts/nats.sh starts a
// server with it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tickflow/core/ids.hpp"

namespace tickflow::gateway {

enum class NatsRole : std::uint8_t { kClient, kGateway, kAdmin };

struct NatsUser {
  std::string name;
  std::string password;
  NatsRole role = NatsRole::kClient;
  ClientId client = 0;  // kClient only
};

struct NatsServerSetup {
  std::string listen = "127.0.0.1:4222";
  std::string http = "127.0.0.1:8222";  // monitoring: /healthz; empty = off
  std::string store_dir;                 // JetStream file storage
  std::string max_store{};               // JetStream max_file_store ("8G"); empty = the server's default
  std::string control_channel = "qd.control";
  std::vector<NatsUser> users;
  // Cluster (all empty: a single server). Every node gets the same users.
  std::string server_name{};
  std::string cluster_name{};
  std::string cluster_listen{};      // HOST:PORT for routes from the other nodes
  std::vector<std::string> routes{};  // nats-route://HOST:PORT of the other nodes
};

struct NatsPermissions {
  std::vector<std::string> publish;
  std::vector<std::string> subscribe;
};
NatsPermissions PermissionsOf(const NatsUser& user, std::string_view control_channel);

// The whole nats-server configuration file.
std::string NatsServerConfig(const NatsServerSetup& setup);

// A credentials file for `user` (read by config::ParseCredentials).
std::string CredentialsFile(const NatsUser& user);

}  // namespace tickflow::gateway
