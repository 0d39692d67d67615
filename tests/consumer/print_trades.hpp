// The consumer programs' output: `tickflow trades --format csv`'s, one line per trade.
#pragma once

#include <chrono>
#include <cstdio>
#include <memory>

#include "tickflow/client/client.hpp"
#include "tickflow/version.hpp"

// Requests every trade of the symbols matching `pattern` and prints them;
// 0 when the stream completed with nothing missing.
inline int PrintTrades(tickflow::client::Client& client, const char* pattern) {
  using namespace tickflow;  // NOLINT: a test program's only namespace
  std::fprintf(stderr, "tickflow %s\n", kVersion);
  std::printf("time,price,volume\n");
  client::Request request;
  request.patterns = {pattern};
  client::Callbacks callbacks;
  callbacks.on_trades = [](const client::TradeBatch& b) {
    for (const Trade& t : b.trades) {
      std::printf("%s,%s,%s\n", FormatIso8601(t.time).c_str(), t.price.ToString().c_str(), t.volume.ToString().c_str());
    }
  };
  callbacks.on_error = [](const client::StreamError& e) {
    std::fprintf(stderr, "stream error: %s\n", e.message.c_str());
  };
  auto stream = client.RequestTrades(request, callbacks);
  if (!stream.ok()) return std::fprintf(stderr, "request: %s\n", stream.error().message.c_str()), 1;
  auto end = (*stream)->Wait(std::chrono::seconds(60));
  if (!end.ok()) return std::fprintf(stderr, "waiting for the end of the stream: %s\n", end.error().message.c_str()), 1;
  if (end->reason != sbe::StreamEndReason::kCompleted || end->missing != 0) {
    return std::fprintf(stderr, "stream ended incomplete: %llu missing\n",
                        static_cast<unsigned long long>(end->missing)),
           1;
  }
  return 0;
}
