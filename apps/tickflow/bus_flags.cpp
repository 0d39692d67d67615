#include "bus_flags.hpp"

namespace tickflow::cli {

void AddBusOptions(CLI::App* cmd, BusFlags* flags) {
  cmd->add_option("--bus", flags->url, "inproc, or nats://HOST:PORT to reach a gateway in another process")
      ->capture_default_str();
  cmd->add_option("--creds", flags->creds, "NATS credentials file (tickflow nats-config writes one per user)");
}

}  // namespace tickflow::cli
