#include "bus_flags.hpp"

#include <fstream>
#include <sstream>

#include "tickflow/sbe/channels.hpp"

namespace tickflow::cli {

void AddBusOptions(CLI::App* cmd, BusFlags* flags) {
  cmd->add_option("--bus", flags->url, "inproc, or nats://HOST:PORT to reach a gateway in another process")
      ->capture_default_str();
  cmd->add_option("--creds", flags->creds, "NATS credentials file (tickflow nats-config writes one per user)");
}

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

Result<std::unique_ptr<bus::Bus>> ConnectNats(const BusFlags& flags, std::optional<ClientId> client,
                                              std::function<void(std::string_view)> log) {
  if (!flags.url.starts_with("nats://")) {
    return MakeError(ErrorCode::kInvalidArgument, "--bus '" + flags.url + "': use inproc or nats://HOST:PORT");
  }
  bus::NatsBusOptions o;
  o.url = flags.url;
  o.user = flags.user;
  o.password = flags.password;
  o.queue_group = flags.queue_group;
  o.replicas = flags.replicas;
  if (!flags.creds.empty()) {
    TICKFLOW_ASSIGN_OR_RETURN(const config::Credentials c, ReadCredentials(flags.creds));
    o.user = c.user;
    o.password = c.password;
  }
  if (client) {
    o.inbox_prefix = sbe::InboxPrefix(*client);
    o.name = "tickflow client " + std::to_string(*client);
  } else {
    o.name = "tickflow gateway";
  }
  o.log = std::move(log);
  return bus::MakeNatsBus(o);
}

}  // namespace tickflow::cli
