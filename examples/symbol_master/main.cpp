// symbol_master: resolves symbol names through a running symdb service, then
// replays those symbols' trades through the gateway and prints a summary per
// symbol using the names symdb returns for the ids on the wire.
//
//   tickflow symdb --listen 127.0.0.1:50051 &
//   symbol_master 127.0.0.1:50051 STORE.db XBTUSD ETHUSD
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "tickflow/bus/bus.hpp"
#include "tickflow/client/client.hpp"
#include "tickflow/gateway/gateway.hpp"
#include "tickflow/symdb/symdb.hpp"

using namespace tickflow;  // NOLINT: an example's only namespace

int main(int argc, char** argv) {
  if (argc < 4) return std::fprintf(stderr, "usage: %s SYMDB_HOST:PORT STORE.db SYMBOL...\n", argv[0]), 2;
  auto symdb = symdb::Client::Connect(argv[1]);
  if (!symdb.ok()) return std::fprintf(stderr, "%s\n", symdb.error().message.c_str()), 1;
  std::vector<SymbolId> ids;
  for (int i = 3; i < argc; ++i) {
    auto id = (*symdb)->LookupSymbolId(argv[i]);
    if (!id.ok()) return std::fprintf(stderr, "%s\n", id.error().message.c_str()), 1;
    std::printf("%s -> id %u\n", argv[i], *id);
    ids.push_back(*id);
  }

  const std::string db = argv[2];
  auto bus = bus::MakeInProcessBus();
  auto gateway = gateway::Gateway::Start(*bus, {.open_store = [db] { return store::OpenStore(db, {.create = false}); }});
  if (!gateway.ok()) return std::fprintf(stderr, "%s\n", gateway.error().message.c_str()), 1;
  auto client = client::Client::Open({.client_id = 4, .bus = bus.get()});
  if (!client.ok()) return std::fprintf(stderr, "%s\n", client.error().message.c_str()), 1;

  std::map<SymbolId, std::uint64_t> counts;
  auto stream = (*client)->RequestTrades({.symbols = ids}, {.on_trade = [&](const client::TradeEvent& e) {
                                                              ++counts[e.trade.symbol];
                                                            }});
  if (!stream.ok()) return std::fprintf(stderr, "%s\n", stream.error().message.c_str()), 1;
  auto end = (*stream)->Wait(std::chrono::minutes(30));
  if (!end.ok()) return std::fprintf(stderr, "%s\n", end.error().message.c_str()), 1;
  for (const auto& [id, n] : counts) {
    auto name = (*symdb)->LookupSymbol(id);  // back from the id on the wire
    std::printf("%s: %llu trades\n", name.ok() ? name->c_str() : "?", static_cast<unsigned long long>(n));
  }
  std::printf("stream end: %s, %llu received, %llu missing\n", sbe::ToString(end->reason),
              static_cast<unsigned long long>(end->received), static_cast<unsigned long long>(end->missing));
  return 0;
}
