// basic_data_stream: streams the trades and the 5-minute bars of one symbol
// through the QD client library and prints them.
//
//   basic_data_stream STORE.db SYMBOL_ID [LIMIT]
//
// The gateway runs in this process on the in-process bus; a program talking
// to a remote gateway would only change the Bus it hands to the client.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tickflow/bus/bus.hpp"
#include "tickflow/client/client.hpp"
#include "tickflow/gateway/gateway.hpp"

using namespace tickflow;  // NOLINT: an example's only namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s STORE.db SYMBOL_ID [LIMIT]\n", argv[0]);
    return 2;
  }
  const std::string db = argv[1];
  const auto symbol = static_cast<SymbolId>(std::atoi(argv[2]));
  const long limit = argc > 3 ? std::atol(argv[3]) : 10;

  // Infrastructure: a bus and a gateway serving the store.
  auto bus = bus::MakeInProcessBus();
  gateway::GatewayOptions gw;
  gw.open_store = [db] { return store::OpenStore(db, {.create = false}); };
  auto gateway = gateway::Gateway::Start(*bus, gw);
  if (!gateway.ok()) return std::fprintf(stderr, "gateway: %s\n", gateway.error().message.c_str()), 1;

  // The client: log in, request, receive through callbacks.
  auto client = client::Client::Open({.client_id = 1, .bus = bus.get()});
  if (!client.ok()) return std::fprintf(stderr, "client: %s\n", client.error().message.c_str()), 1;

  long printed = 0;
  client::Callbacks trades;
  trades.on_trade = [&](const client::TradeEvent& e) {
    if (printed++ < limit) {
      std::printf("trade #%llu %s price %s volume %s\n", static_cast<unsigned long long>(e.sequence),
                  FormatIso8601(e.trade.time).c_str(), e.trade.price.ToString().c_str(),
                  e.trade.volume.ToString().c_str());
    }
  };
  trades.on_end = [](const client::StreamEnd& end) {
    std::printf("trades end: %s, %llu sent, %llu received, %llu missing\n", sbe::ToString(end.reason),
                static_cast<unsigned long long>(end.sent), static_cast<unsigned long long>(end.received),
                static_cast<unsigned long long>(end.missing));
  };
  auto t = (*client)->RequestTrades({.symbols = {symbol}}, trades);
  if (!t.ok()) return std::fprintf(stderr, "trades: %s\n", t.error().message.c_str()), 1;
  (void)(*t)->Wait(std::chrono::minutes(10));

  // Bars through the pull-style iterator instead of callbacks.
  auto b = (*client)->RequestBars({.symbols = {symbol}}, TimeResolution::kFiveMinutes);
  if (!b.ok()) return std::fprintf(stderr, "bars: %s\n", b.error().message.c_str()), 1;
  long bars = 0;
  while (auto e = (*b)->Next(std::chrono::seconds(10))) {
    if (std::holds_alternative<client::StreamEnd>(*e)) break;
    const auto* bar = std::get_if<client::BarEvent>(&*e);
    if (bar != nullptr && bars++ < limit) {
      const Bar& x = bar->bar;
      std::printf("5m bar %s O %s H %s L %s C %s V %s (%llu trades)\n", FormatIso8601(x.time).c_str(),
                  x.open.ToString().c_str(), x.high.ToString().c_str(), x.low.ToString().c_str(),
                  x.close.ToString().c_str(), x.volume.ToString().c_str(), static_cast<unsigned long long>(x.trades));
    }
  }
  std::printf("bars end: %ld bars received\n", bars);
  return 0;
}
