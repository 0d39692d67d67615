// The NATS permission model of the QD protocol, as a nats-server
// configuration: an account per client, which imports from the gateway's
// account only its own control subjects, its own error subject and its own
// data stream's consumer, so no other user can reach them (not even as a reply
// subject) and the account's limits bound the connections and subscriptions
// one client can hold; inside it, a user allowed to publish only on those
// subjects and to read only its error subject and its own reply inbox. The
// gateway's account holds one trusted gateway user that makes the JetStream
// admin calls and optionally an admin user (operations, benchmarks).
// `tickflow nats-config` writes it; scripts/nats.sh starts a server with it.
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
  // An account per client (see above). A cluster needs false: nats-server
  // 2.9 drops cross-account JetStream pulls between nodes (docs/services.md),
  // so there all users share one account, the permissions and frame tags
  // keep clients apart, and the account limits below do not apply.
  bool client_accounts = true;
  // Limits of each client's account: a client process holds two connections
  // (core and JetStream) and a handful of subscriptions.
  int max_connections_per_client = 8;
  int max_subscriptions_per_client = 64;
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
// Where a client of `setup` reaches JetStream's API: its account's imports
// (bus::kClientJetStreamApi) or, with one account for all, "$JS.API".
std::string_view ClientJetStreamApi(const NatsServerSetup& setup);
NatsPermissions PermissionsOf(const NatsUser& user, std::string_view control_channel, std::string_view jetstream_api);

// The account of the gateway and admin users, which holds the data streams;
// each client has an account of its own (ClientAccount), importing only its
// own subjects from it.
inline constexpr std::string_view kGatewayAccount = "QD";
std::string ClientAccount(ClientId client);

// The whole nats-server configuration file.
std::string NatsServerConfig(const NatsServerSetup& setup);

// A credentials file for `user` of `setup` (read by config::ParseCredentials);
// a client's names its JetStream API too.
std::string CredentialsFile(const NatsUser& user, const NatsServerSetup& setup);

}  // namespace tickflow::gateway
