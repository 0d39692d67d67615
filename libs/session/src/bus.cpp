#include "tickflow/session/bus.hpp"

#include "tickflow/bus/nats_bus.hpp"

namespace tickflow::session {

Result<std::unique_ptr<bus::Bus>> ConnectNats(const BusSpec& spec, Logger log) {
  if (!spec.url.starts_with("nats://")) {
    return MakeError(ErrorCode::kInvalidArgument, "bus '" + spec.url + "': use inproc or nats://HOST:PORT");
  }
  bus::NatsBusOptions o;
  o.url = spec.url;
  o.user = spec.user;
  o.password = spec.password;
  o.queue_group = spec.queue_group;
  o.replicas = spec.replicas;
  if (!spec.creds.empty()) {
    TICKFLOW_ASSIGN_OR_RETURN(const config::Credentials c, config::ReadCredentialsFile(spec.creds));
    o.user = c.user;
    o.password = c.password;
  }
  o.name = "tickflow gateway";
  o.confirm_core_publishes = false;  // its answers go out without a round trip each
  o.log = std::move(log);
  return bus::MakeNatsBus(o);
}

}  // namespace tickflow::session
