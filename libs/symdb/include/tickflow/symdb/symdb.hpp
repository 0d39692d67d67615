// Symbol master: an in-process SymbolManager (symbol <-> id, exchange id ->
// name, metadata), a gRPC server exposing it (proto/symdb.proto) and a client
// that wraps the stub. gRPC types stay behind this header: failures come back
// as tickflow Errors (kNotFound, kInvalidArgument, kUnavailable) carrying the
// server's message.
#pragma once

#include <functional>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tickflow/core/result.hpp"
#include "tickflow/store/store.hpp"

namespace tickflow::symdb {

// Thread-safe after construction (read-only).
class SymbolManager {
 public:
  SymbolManager(std::vector<store::SymbolInfo> symbols, std::map<ExchangeId, std::string> exchanges);
  static Result<SymbolManager> FromStore(store::Store& store);

  Result<std::string> ExchangeName(ExchangeId id) const;
  Result<std::string> Symbol(SymbolId id) const;
  Result<SymbolId> Id(std::string_view symbol) const;
  const std::vector<store::SymbolInfo>& symbols() const { return symbols_; }

 private:
  std::vector<store::SymbolInfo> symbols_;
  std::map<std::string, SymbolId, std::less<>> by_name_;
  std::map<SymbolId, std::size_t> by_id_;
  std::map<ExchangeId, std::string> exchanges_;
};

// The gRPC server. Start binds (port 0 picks a free port).
class Server {
 public:
  static Result<std::unique_ptr<Server>> Start(std::shared_ptr<const SymbolManager> symbols, const std::string& host,
                                               int port);
  ~Server();
  int port() const;
  std::uint64_t requests() const;   // served, for metrics
  std::uint64_t errors() const;     // answered with an error status
  // Stops accepting calls, finishes those in flight (up to `grace`), returns.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Client {
 public:
  // "host:port". Waits up to `timeout` for the channel to connect.
  static Result<std::unique_ptr<Client>> Connect(const std::string& address,
                                                 std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));
  ~Client();
  Result<std::string> LookupExchangeName(ExchangeId id);
  Result<std::string> LookupSymbol(SymbolId id);
  Result<SymbolId> LookupSymbolId(const std::string& symbol);
  Result<std::vector<store::SymbolInfo>> ListSymbols();

  class Impl;

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Protobuf prints one stderr line for every message it cannot parse (a name
// that is not UTF-8, sent by any client, would print one per call). This routes
// those lines to `sink` instead: the first at once, then at most one every 10 s
// saying how many came since. Process-wide (protobuf's handler is); call once,
// from the app, before serving.
void RouteProtobufLogs(std::function<void(const std::string&)> sink);

}  // namespace tickflow::symdb
