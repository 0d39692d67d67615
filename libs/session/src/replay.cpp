#include "tickflow/session/replay.hpp"

namespace tickflow::session {

Result<ReplaySession> ReplaySession::Start(const std::string& db, ClientId client_id,
                                           const std::function<void(gateway::GatewayOptions&)>& configure) {
  ReplaySession s;
  s.bus = bus::MakeInProcessBus();
  gateway::GatewayOptions o;
  o.open_store = [db] {
    store::OpenOptions so;
    so.create = false;
    return store::OpenStore(db, so);
  };
  o.authenticate_frames = false;  // no one else shares an in-process bus
  o.log = Logger(
      [problems = s.problems](LogLevel, std::string_view, std::string_view line) {
        if (line.find(" failed: ") == std::string_view::npos) return;
        std::lock_guard lock(problems->mu);
        problems->last = std::string(line);
      },
      LogLevel::kWarn, "gateway");
  if (configure) configure(o);
  TICKFLOW_ASSIGN_OR_RETURN(s.gateway, gateway::Gateway::Start(*s.bus, o));
  client::ClientOptions co;
  co.client_id = client_id;
  co.bus = s.bus.get();
  TICKFLOW_ASSIGN_OR_RETURN(s.client, client::Client::Open(co));
  return s;
}

Result<ReplaySession> ReplaySession::Connect(const BusSpec& spec, std::optional<ClientId> client_id, Logger log) {
  client::ConnectOptions o;
  o.credentials_file = spec.creds;
  o.user = spec.user;
  o.password = spec.password;
  o.client_id = client_id;
  o.log = std::move(log);
  ReplaySession s;
  TICKFLOW_ASSIGN_OR_RETURN(s.client, client::Client::Connect(spec.url, o));
  return s;
}

std::string ReplaySession::Cause() const {
  std::lock_guard lock(problems->mu);
  return problems->last.empty() ? std::string() : " (the gateway: " + problems->last + ")";
}

ReplaySession::~ReplaySession() {
  client.reset();
  gateway.reset();
  bus.reset();
}

}  // namespace tickflow::session
