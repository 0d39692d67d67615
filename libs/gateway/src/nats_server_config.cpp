#include "tickflow/gateway/nats_server_config.hpp"

#include "tickflow/bus/nats_bus.hpp"
#include "tickflow/sbe/channels.hpp"

namespace tickflow::gateway {
namespace {

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string List(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + Quoted(items[i]);
  return out + "]";
}

}  // namespace

std::string_view ClientJetStreamApi(const NatsServerSetup& setup) {
  return setup.client_accounts ? bus::kClientJetStreamApi : std::string_view("$JS.API");
}

NatsPermissions PermissionsOf(const NatsUser& user, std::string_view control, std::string_view jetstream_api) {
  switch (user.role) {
    case NatsRole::kAdmin:
      return {{">"}, {">"}};
    case NatsRole::kGateway:
      return {{std::string(sbe::kErrorChannelPrefix) + "*",
               std::string(sbe::kDataChannelPrefix) + "*", "$JS.API.>"},
              {sbe::ControlPattern(control), std::string(control) + ".s.*.*", "_INBOX.>"}};
    case NatsRole::kClient:
      break;
  }
  const std::string stream = bus::StreamNameOf(sbe::DataChannel(user.client));
  return {{sbe::ControlChannel(control, user.client), std::string(control) + ".s.*." + std::to_string(user.client),
           std::string(jetstream_api) + ".CONSUMER.INFO." + stream + ".reader",
           std::string(jetstream_api) + ".CONSUMER.MSG.NEXT." + stream + ".reader", "$JS.ACK." + stream + ".>"},
          {sbe::ErrorChannel(user.client), sbe::InboxPrefix(user.client) + ".>"}};
}

std::string NatsServerConfig(const NatsServerSetup& setup) {
  const bool own = setup.client_accounts;
  std::string out = "# nats-server configuration for tickflow, written by `tickflow nats-config`.\n";
  out += own ? "# Account QD holds the gateway (and admin) users and the JetStream data streams. Every client has an\n"
               "# account of its own, which sees nothing but what it imports from QD: its control subjects, its error\n"
               "# subject and its own data stream's consumer. So no other user can reach its subjects at all (not even\n"
               "# as a reply subject), and the account's limits bound what one client can take from the server.\n"
             : "# One account for all (a cluster: nats-server 2.9 loses cross-account JetStream pulls between nodes).\n"
               "# Client N may publish only on its own subjects and read only its own; frames to it are tagged with\n"
               "# its session key.\n";
  out += "listen: " + Quoted(setup.listen) + "\n";
  if (!setup.http.empty()) out += "http: " + Quoted(setup.http) + "\n";
  out += "max_payload: 2MB\n";
  if (!setup.server_name.empty()) out += "server_name: " + Quoted(setup.server_name) + "\n";
  if (!setup.cluster_listen.empty()) {
    out += "cluster {\n  name: " + Quoted(setup.cluster_name) + "\n  listen: " + Quoted(setup.cluster_listen) +
           "\n  routes: " + List(setup.routes) + "\n}\n";
  }
  out += "jetstream {\n  store_dir: " + Quoted(setup.store_dir) + "\n";
  if (!setup.max_store.empty()) out += "  max_file_store: " + setup.max_store + "\n";
  out += "}\n";
  const auto user_line = [&](const NatsUser& u) {
    const NatsPermissions p = PermissionsOf(u, setup.control_channel, ClientJetStreamApi(setup));
    return "      { user: " + Quoted(u.name) + ", password: " + Quoted(u.password) +
           ",\n        permissions: { publish: { allow: " + List(p.publish) +
           " },\n                       subscribe: { allow: " + List(p.subscribe) + " } } }\n";
  };
  const std::string control(setup.control_channel);
  out += "accounts {\n  " + std::string(kGatewayAccount) + ": {\n    jetstream: enabled\n    users: [\n";
  for (const NatsUser& u : setup.users) {
    if (u.role != NatsRole::kClient || !own) out += user_line(u);
  }
  if (!own) return out + "    ]\n  }\n}\n";
  // Exports are open to any account: only this file can import them, and it
  // imports for client N exactly client N's subjects.
  out += "    ]\n    exports: [\n"
         "      { service: " + Quoted(sbe::ControlPattern(control)) + " }\n"
         "      { service: " + Quoted(control + ".s.*.*") + " }\n"
         "      { stream: " + Quoted(std::string(sbe::kErrorChannelPrefix) + "*") + " }\n"
         "      { service: \"$JS.API.CONSUMER.INFO.*.reader\" }\n"
         "      { service: \"$JS.API.CONSUMER.MSG.NEXT.*.reader\", response: stream }\n"
         "      { service: \"$JS.ACK.*.>\" }\n"
         "    ]\n  }\n";
  for (const NatsUser& u : setup.users) {
    if (u.role != NatsRole::kClient) continue;
    const std::string stream = bus::StreamNameOf(sbe::DataChannel(u.client));
    const std::string from = "account: " + std::string(kGatewayAccount) + ", subject: ";
    const std::string api(bus::kClientJetStreamApi), info = "CONSUMER.INFO." + stream + ".reader",
        next = "CONSUMER.MSG.NEXT." + stream + ".reader";
    out += "  " + ClientAccount(u.client) + ": {\n    users: [\n" + user_line(u) + "    ]\n";
    out += "    limits: { max_connections: " + std::to_string(setup.max_connections_per_client) +
           ", max_subscriptions: " + std::to_string(setup.max_subscriptions_per_client) + " }\n";
    out += "    imports: [\n"
           "      { service: { " + from + Quoted(sbe::ControlChannel(control, u.client)) + " } }\n"
           "      { service: { " + from + Quoted(control + ".s.*." + std::to_string(u.client)) + " } }\n"
           "      { stream: { " + from + Quoted(sbe::ErrorChannel(u.client)) + " } }\n"
           "      { service: { " + from + Quoted("$JS.API." + info) + " }, to: " + Quoted(api + "." + info) + " }\n"
           "      { service: { " + from + Quoted("$JS.API." + next) + " }, to: " + Quoted(api + "." + next) + " }\n"
           "      { service: { " + from + Quoted("$JS.ACK." + stream + ".>") + " } }\n"
           "    ]\n  }\n";
  }
  out += "}\n";
  return out;
}

std::string ClientAccount(ClientId client) { return "CLIENT_" + std::to_string(client); }

std::string CredentialsFile(const NatsUser& user, const NatsServerSetup& setup) {
  std::string out = "# tickflow bus credentials (keep private)\nuser = " + Quoted(user.name) + "\npassword = " +
                    Quoted(user.password) + "\n";
  if (user.role == NatsRole::kClient) {
    out += "client_id = " + std::to_string(user.client) + "\njetstream_api = " + Quoted(ClientJetStreamApi(setup)) + "\n";
  }
  return out;
}

}  // namespace tickflow::gateway
