// Which bus a program talks to: `inproc` (this process only) or a NATS
// server (`nats://HOST:PORT`), with the user and password taken from a
// credentials file written by `tickflow nats-config`, or given directly.
// Shared by the CLI and the Python module.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "tickflow/bus/bus.hpp"
#include "tickflow/config/config.hpp"
#include "tickflow/core/log.hpp"
#include "tickflow/core/result.hpp"

namespace tickflow::session {

struct BusSpec {
  std::string url = "inproc";
  std::string creds;  // path of a credentials file
  std::string user;
  std::string password;
  std::string queue_group;  // services sharing the control subjects
  int replicas = 1;         // JetStream replicas of the streams a service creates
  bool nats() const { return url != "inproc"; }
};

// Connects a service (a gateway) to the NATS server of `spec`; clients use
// client::Client::Connect. `log` receives the connection's events
// (disconnects, reconnects).
Result<std::unique_ptr<bus::Bus>> ConnectNats(const BusSpec& spec, Logger log = {});

}  // namespace tickflow::session
