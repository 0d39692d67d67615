#include "tickflow/session/bus.hpp"

#include <fstream>
#include <sstream>

#include "tickflow/bus/nats_bus.hpp"
#include "tickflow/sbe/channels.hpp"

namespace tickflow::session {

Result<config::Credentials> ReadCredentials(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return MakeError(ErrorCode::kNotFound, "credentials file " + path + " cannot be read: create one with "
                                                                        "`tickflow nats-config --dir DIR`");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return config::ParseCredentials(text.str(), path);
}

Result<std::unique_ptr<bus::Bus>> ConnectNats(const BusSpec& spec, std::optional<ClientId> client,
                                              std::function<void(std::string_view)> log) {
  if (!spec.url.starts_with("nats://")) {
    return MakeError(ErrorCode::kInvalidArgument, "bus '" + spec.url + "': use inproc or nats://HOST:PORT");
  }
  bus::NatsBusOptions o;
  o.url = spec.url;
  o.user = spec.user;
  o.password = spec.password;
  o.queue_group = spec.queue_group;
  o.replicas = spec.replicas;
  // A client reaches JetStream through its account's imports unless its
  // credentials file says otherwise (one account for all: a cluster).
  if (client) o.jetstream_api = bus::kClientJetStreamApi;
  if (!spec.creds.empty()) {
    TICKFLOW_ASSIGN_OR_RETURN(const config::Credentials c, ReadCredentials(spec.creds));
    o.user = c.user;
    o.password = c.password;
    if (client && c.jetstream_api) o.jetstream_api = *c.jetstream_api;
  }
  if (client) {
    o.inbox_prefix = sbe::InboxPrefix(*client);
    o.name = "tickflow client " + std::to_string(*client);
  } else {
    o.name = "tickflow gateway";
    o.confirm_core_publishes = false;  // its answers go out without a round trip each
  }
  o.log = std::move(log);
  return bus::MakeNatsBus(o);
}

}  // namespace tickflow::session
