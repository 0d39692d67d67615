// replay_store STORE PATTERN: the trades of the symbols matching PATTERN,
// replayed from STORE by a gateway in this process.
#include "print_trades.hpp"
#include "tickflow/gateway/gateway.hpp"

int main(int argc, char** argv) {
  using namespace tickflow;  // NOLINT: a test program's only namespace
  if (argc != 3) return std::fprintf(stderr, "usage: %s STORE PATTERN\n", argv[0]), 2;
  const std::string db = argv[1];
  auto bus = bus::MakeInProcessBus();
  gateway::GatewayOptions o;
  o.open_store = [db] { return store::OpenStore(db, {.create = false}); };
  auto gateway = gateway::Gateway::Start(*bus, o);
  if (!gateway.ok()) return std::fprintf(stderr, "gateway: %s\n", gateway.error().message.c_str()), 1;
  auto client = client::Client::Open({.client_id = 1, .bus = bus.get()});
  if (!client.ok()) return std::fprintf(stderr, "client: %s\n", client.error().message.c_str()), 1;
  return PrintTrades(**client, argv[2]);
}
