// causal_data_inference: streams one symbol's trades through the QD client,
// keeps the monthly breakout model's context current with every trade,
// applies the model to every trade, and prints each detection with the month
// ranges that triggered it, then a summary.
//
//   causal_data_inference STORE.db SYMBOL_ID [MAX_PRINTED]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tickflow/bus/bus.hpp"
#include "tickflow/client/client.hpp"
#include "tickflow/gateway/gateway.hpp"
#include "tickflow/models/monthly_breakout.hpp"

using namespace tickflow;  // NOLINT: an example's only namespace

namespace {

std::string Month(UnixNanos t) { return FormatIso8601(t).substr(0, 7); }
std::string Range(const causal::RangeData& r) {
  return "O " + r.open.ToString() + " H " + r.high.ToString() + " L " + r.low.ToString() + " C " + r.close.ToString();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s STORE.db SYMBOL_ID [MAX_PRINTED]\n", argv[0]);
    return 2;
  }
  const std::string db = argv[1];
  const auto symbol = static_cast<SymbolId>(std::atoi(argv[2]));
  const long max_printed = argc > 3 ? std::atol(argv[3]) : -1;

  auto bus = bus::MakeInProcessBus();
  gateway::GatewayOptions gw;
  gw.open_store = [db] { return store::OpenStore(db, {.create = false}); };
  auto gateway = gateway::Gateway::Start(*bus, gw);
  if (!gateway.ok()) return std::fprintf(stderr, "gateway: %s\n", gateway.error().message.c_str()), 1;
  auto client = client::Client::Open({.client_id = 2, .bus = bus.get()});
  if (!client.ok()) return std::fprintf(stderr, "client: %s\n", client.error().message.c_str()), 1;

  models::MonthlyBreakoutModel model;
  std::uint64_t trades = 0, detections = 0, months_with = 0;
  UnixNanos last_month = UnixNanos::Min();
  std::string failure;
  client::Callbacks cb;
  cb.on_trade = [&](const client::TradeEvent& e) {
    ++trades;
    auto breakout = model.OnTrade(e.trade.time, e.trade.price);
    if (!breakout.ok()) {
      failure = breakout.error().message;
      return;
    }
    if (!*breakout) return;
    const models::Detection d = model.last();
    ++detections;
    if (d.current_month != last_month) {
      ++months_with;
      last_month = d.current_month;
    }
    if (max_printed < 0 || static_cast<long>(detections) <= max_printed) {
      std::printf("breakout %s price %s | %s %s | previous %s %s\n", FormatIso8601(d.time).c_str(),
                  d.price.ToString().c_str(), Month(d.current_month).c_str(), Range(d.current).c_str(),
                  Month(d.previous_month).c_str(), Range(d.previous).c_str());
    }
  };
  auto stream = (*client)->RequestTrades({.symbols = {symbol}}, cb);
  if (!stream.ok()) return std::fprintf(stderr, "request: %s\n", stream.error().message.c_str()), 1;
  auto end = (*stream)->Wait(std::chrono::minutes(30));
  if (!end.ok()) return std::fprintf(stderr, "stream: %s\n", end.error().message.c_str()), 1;
  if (!failure.empty()) return std::fprintf(stderr, "model: %s\n", failure.c_str()), 1;
  std::printf("summary: %llu trades, %zu months, %llu breakout detections in %llu months; stream %s, %llu missing\n",
              static_cast<unsigned long long>(trades), model.months_seen(),
              static_cast<unsigned long long>(detections), static_cast<unsigned long long>(months_with),
              sbe::ToString(end->reason), static_cast<unsigned long long>(end->missing));
  return 0;
}
