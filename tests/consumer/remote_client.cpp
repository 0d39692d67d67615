// remote_client NATS_URL CREDENTIALS_FILE PATTERN: the trades of the symbols
// matching PATTERN from a gateway in another process (`tickflow gateway`).
#include "print_trades.hpp"

int main(int argc, char** argv) {
  if (argc != 4) return std::fprintf(stderr, "usage: %s NATS_URL CREDENTIALS_FILE PATTERN\n", argv[0]), 2;
  auto client = tickflow::client::Client::Connect(argv[1], {.credentials_file = argv[2]});
  if (!client.ok()) return std::fprintf(stderr, "connect: %s\n", client.error().message.c_str()), 1;
  return PrintTrades(**client, argv[3]);
}
