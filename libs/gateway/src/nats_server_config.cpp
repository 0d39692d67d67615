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

NatsPermissions PermissionsOf(const NatsUser& user, std::string_view control) {
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
           "$JS.API.CONSUMER.INFO." + stream + ".reader",
           "$JS.API.CONSUMER.MSG.NEXT." + stream + ".reader", "$JS.ACK." + stream + ".>"},
          {sbe::ErrorChannel(user.client), sbe::InboxPrefix(user.client) + ".>"}};
}

std::string NatsServerConfig(const NatsServerSetup& setup) {
  std::string out = "# nats-server configuration for tickflow, written by `tickflow nats-config`.\n"
                    "# One user per client: it may publish only on its control subject and read only its own\n"
                    "# error subject, data stream and reply inbox. The gateway user makes the JetStream admin calls.\n";
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
  out += "authorization {\n  users = [\n";
  for (const NatsUser& u : setup.users) {
    const NatsPermissions p = PermissionsOf(u, setup.control_channel);
    out += "    { user: " + Quoted(u.name) + ", password: " + Quoted(u.password) + ",\n      permissions: { publish: { allow: " +
           List(p.publish) + " },\n                     subscribe: { allow: " + List(p.subscribe) + " } } }\n";
  }
  out += "  ]\n}\n";
  return out;
}

std::string CredentialsFile(const NatsUser& user) {
  std::string out = "# tickflow bus credentials (keep private)\nuser = " + Quoted(user.name) + "\npassword = " +
                    Quoted(user.password) + "\n";
  if (user.role == NatsRole::kClient) out += "client_id = " + std::to_string(user.client) + "\n";
  return out;
}

}  // namespace tickflow::gateway
