// Which bus a command talks to: `inproc` (this process only) or a NATS
// server (`nats://HOST:PORT`), with the user and password taken from a
// credentials file written by `tickflow nats-config` (--creds), or given
// directly.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common.hpp"
#include "tickflow/bus/nats_bus.hpp"
#include "tickflow/config/config.hpp"

namespace tickflow::cli {

struct BusFlags {
  std::string url = "inproc";
  std::string creds;  // path of a credentials file
  std::string user;
  std::string password;
  std::string queue_group;  // services sharing the control subjects
  int replicas = 1;         // JetStream replicas of the streams a service creates
  bool nats() const { return url != "inproc"; }
};

// Adds --bus and --creds.
void AddBusOptions(CLI::App* cmd, BusFlags* flags);

// Reads a credentials file; errors name the file.
Result<config::Credentials> ReadCredentials(const std::string& path);

// Connects to the NATS server of `flags` as a client (its reply inbox is
// the client's own) or, without a client id, as a service.
Result<std::unique_ptr<bus::Bus>> ConnectNats(const BusFlags& flags, std::optional<ClientId> client,
                                              std::function<void(std::string_view)> log = {});

}  // namespace tickflow::cli
