// Client::Connect: the NATS connection of a client of a gateway in another
// process (credentials, its own reply inbox), owned by the client.
#include "tickflow/bus/nats_bus.hpp"
#include "tickflow/client/client.hpp"
#include "tickflow/config/config.hpp"
#include "tickflow/sbe/channels.hpp"

namespace tickflow::client {

Result<std::unique_ptr<Client>> Client::Connect(std::string_view url, const ConnectOptions& options) {
  if (!url.starts_with("nats://")) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "bus '" + std::string(url) +
            "': Client::Connect takes nats://HOST:PORT (a gateway in this process: Client::Open on its bus)");
  }
  bus::NatsBusOptions o;
  o.url = std::string(url);
  o.user = options.user;
  o.password = options.password;
  // A client reaches JetStream through its account's imports unless its
  // credentials file says otherwise (one account for all: a cluster).
  o.jetstream_api = bus::kClientJetStreamApi;
  std::optional<ClientId> id = options.client_id;
  if (!options.credentials_file.empty()) {
    TICKFLOW_ASSIGN_OR_RETURN(const config::Credentials c, config::ReadCredentialsFile(options.credentials_file));
    o.user = c.user;
    o.password = c.password;
    if (c.jetstream_api) o.jetstream_api = *c.jetstream_api;
    if (!id) id = c.client_id;
  }
  ClientOptions co = options.client;
  co.client_id = id.value_or(1);
  o.inbox_prefix = sbe::InboxPrefix(co.client_id);  // the only inbox its NATS user may read
  o.name = "tickflow client " + std::to_string(co.client_id);
  o.log = options.log;
  TICKFLOW_ASSIGN_OR_RETURN(std::unique_ptr<bus::Bus> bus, bus::MakeNatsBus(o));
  co.bus = bus.get();
  return OpenOn(co, std::move(bus));
}

}  // namespace tickflow::client
