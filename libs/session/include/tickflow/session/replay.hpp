// Gateway and client in one process over the in-process bus, on a store (the
// wiring behind `tickflow replay`, `tickflow demo` and `tickflow.replay` in
// Python), or a client alone on a NATS bus, talking to a gateway in another
// process.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "tickflow/bus/bus.hpp"
#include "tickflow/client/client.hpp"
#include "tickflow/gateway/gateway.hpp"
#include "tickflow/session/bus.hpp"

namespace tickflow::session {

struct ReplaySession {
  // What the in-process gateway logged about a failed stream (the cause
  // behind a DataError the client receives as a code only).
  struct Problems {
    std::mutex mu;
    std::string last;
  };
  std::shared_ptr<Problems> problems = std::make_shared<Problems>();
  // " (the gateway: ...)" when it logged a failure, else "".
  std::string Cause() const;

  std::unique_ptr<bus::Bus> bus;
  std::unique_ptr<gateway::Gateway> gateway;
  std::unique_ptr<client::Client> client;

  // An in-process gateway on the store at `db` (a path or clickhouse:// URL);
  // `configure` may change the gateway's options before it starts.
  static Result<ReplaySession> Start(const std::string& db, ClientId client_id = 1,
                                     const std::function<void(gateway::GatewayOptions&)>& configure = {});
  // Client id: `client_id` if set, else the creds file's, else 1. `log` gets the NATS connection's events.
  static Result<ReplaySession> Connect(const BusSpec& spec, std::optional<ClientId> client_id, Logger log = {});
  ~ReplaySession();  // client first, then gateway, then bus
  ReplaySession() = default;
  ReplaySession(ReplaySession&&) = default;
};

}  // namespace tickflow::session
