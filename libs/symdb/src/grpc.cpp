// The gRPC adapter: grpc::Status and tickflow::Error meet only here.
#include <google/protobuf/stubs/common.h>
#include <google/protobuf/stubs/logging.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <mutex>

#include "symdb.grpc.pb.h"
#include "tickflow/core/text.hpp"
#include "tickflow/symdb/symdb.hpp"

namespace tickflow::symdb {
namespace {

namespace pb = tickflow::symdb::v1;

grpc::Status ToGrpc(const Error& e) {
  switch (e.code) {
    case ErrorCode::kNotFound: return {grpc::StatusCode::NOT_FOUND, e.message};
    case ErrorCode::kInvalidArgument: return {grpc::StatusCode::INVALID_ARGUMENT, e.message};
    case ErrorCode::kUnavailable: return {grpc::StatusCode::UNAVAILABLE, e.message};
    default: return {grpc::StatusCode::INTERNAL, e.message};
  }
}

Error FromGrpc(const grpc::Status& s, const std::string& what) {
  ErrorCode code = ErrorCode::kInternal;
  switch (s.error_code()) {
    case grpc::StatusCode::NOT_FOUND: code = ErrorCode::kNotFound; break;
    case grpc::StatusCode::INVALID_ARGUMENT: code = ErrorCode::kInvalidArgument; break;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED: code = ErrorCode::kUnavailable; break;
    default: break;
  }
  return MakeError(code, what + ": " + s.error_message());
}

class Service final : public pb::SymbolMaster::Service {
 public:
  explicit Service(std::shared_ptr<const SymbolManager> symbols) : symbols_(std::move(symbols)) {}

  grpc::Status LookupExchangeName(grpc::ServerContext*, const pb::LookupExchangeNameRequest* req,
                                  pb::LookupExchangeNameReply* reply) override {
    if (req->exchange_id() > 255) return Fail(MakeError(ErrorCode::kInvalidArgument, "exchange_id " + std::to_string(req->exchange_id()) + " is out of range 0..255"));
    auto r = symbols_->ExchangeName(static_cast<ExchangeId>(req->exchange_id()));
    if (!r.ok()) return Fail(r.error());
    reply->set_name(*r);
    return Ok();
  }
  grpc::Status LookupSymbol(grpc::ServerContext*, const pb::LookupSymbolRequest* req,
                            pb::LookupSymbolReply* reply) override {
    if (req->symbol_id() > 65535) return Fail(MakeError(ErrorCode::kInvalidArgument, "symbol_id " + std::to_string(req->symbol_id()) + " is out of range 0..65535"));
    auto r = symbols_->Symbol(static_cast<SymbolId>(req->symbol_id()));
    if (!r.ok()) return Fail(r.error());
    reply->set_symbol(*r);
    return Ok();
  }
  grpc::Status LookupSymbolId(grpc::ServerContext*, const pb::LookupSymbolIdRequest* req,
                              pb::LookupSymbolIdReply* reply) override {
    auto r = symbols_->Id(req->symbol());
    if (!r.ok()) return Fail(r.error());
    reply->set_symbol_id(*r);
    return Ok();
  }
  grpc::Status ListSymbols(grpc::ServerContext*, const pb::ListSymbolsRequest*, pb::ListSymbolsReply* reply) override {
    for (const store::SymbolInfo& s : symbols_->symbols()) {
      pb::Symbol* out = reply->add_symbols();
      out->set_symbol_id(s.id);
      out->set_exchange_id(s.exchange);
      out->set_symbol(s.symbol);
      out->set_base(s.base);
      out->set_quote(s.quote);
      out->set_trade_count(s.trade_count);
      out->set_first_time_ns(s.first_time.ns);
      out->set_last_time_ns(s.last_time.ns);
      out->set_price_decimals(static_cast<std::uint32_t>(s.price_scale));
      out->set_volume_decimals(static_cast<std::uint32_t>(s.volume_scale));
    }
    return Ok();
  }

  std::atomic<std::uint64_t> requests{0}, errors{0};

 private:
  grpc::Status Ok() {
    ++requests;
    return grpc::Status::OK;
  }
  grpc::Status Fail(const Error& e) {
    ++requests;
    ++errors;
    return ToGrpc(e);
  }
  std::shared_ptr<const SymbolManager> symbols_;
};

}  // namespace

class Server::Impl {
 public:
  explicit Impl(std::shared_ptr<const SymbolManager> symbols) : service(std::move(symbols)) {}
  Service service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

Result<std::unique_ptr<Server>> Server::Start(std::shared_ptr<const SymbolManager> symbols, const std::string& host,
                                              int port) {
  auto impl = std::make_unique<Impl>(std::move(symbols));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(host + ":" + std::to_string(port), grpc::InsecureServerCredentials(), &impl->port);
  builder.RegisterService(&impl->service);
  impl->server = builder.BuildAndStart();
  if (!impl->server || impl->port == 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "symdb cannot listen on " + host + ":" + std::to_string(port) + " (address in use or invalid?)");
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { Shutdown(std::chrono::milliseconds(0)); }
int Server::port() const { return impl_->port; }
std::uint64_t Server::requests() const { return impl_->service.requests.load(); }
std::uint64_t Server::errors() const { return impl_->service.errors.load(); }
void Server::Shutdown(std::chrono::milliseconds grace) {
  if (impl_->server) {
    impl_->server->Shutdown(std::chrono::system_clock::now() + grace);
    impl_->server->Wait();
    impl_->server.reset();
  }
}

class Client::Impl {
 public:
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::SymbolMaster::Stub> stub;
  std::string address;

  template <class Req, class Reply, class Call>
  Status Invoke(const Req& req, Reply* reply, Call call, const char* what) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    const grpc::Status s = (stub.get()->*call)(&ctx, req, reply);
    if (!s.ok()) return FromGrpc(s, std::string(what) + " at " + address);
    return {};
  }
};

Result<std::unique_ptr<Client>> Client::Connect(const std::string& address, std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>();
  impl->address = address;
  impl->channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  if (!impl->channel->WaitForConnected(std::chrono::system_clock::now() + timeout)) {
    return MakeError(ErrorCode::kUnavailable, "no symdb answers at " + address + " within " +
                                                  std::to_string(timeout.count()) + " ms: is `tickflow symdb` running?");
  }
  impl->stub = pb::SymbolMaster::NewStub(impl->channel);
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::string> Client::LookupExchangeName(ExchangeId id) {
  pb::LookupExchangeNameRequest req;
  req.set_exchange_id(id);
  pb::LookupExchangeNameReply reply;
  TICKFLOW_RETURN_IF_ERROR(impl_->Invoke(req, &reply, &pb::SymbolMaster::Stub::LookupExchangeName, "LookupExchangeName"));
  return reply.name();
}

Result<std::string> Client::LookupSymbol(SymbolId id) {
  pb::LookupSymbolRequest req;
  req.set_symbol_id(id);
  pb::LookupSymbolReply reply;
  TICKFLOW_RETURN_IF_ERROR(impl_->Invoke(req, &reply, &pb::SymbolMaster::Stub::LookupSymbol, "LookupSymbol"));
  return reply.symbol();
}

Result<SymbolId> Client::LookupSymbolId(const std::string& symbol) {
  // Protobuf refuses (and logs) a string field that is not UTF-8: say so here instead.
  if (!google::protobuf::internal::IsStructurallyValidUTF8(symbol.data(), static_cast<int>(symbol.size()))) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "symbol '" + EscapeForMessage(symbol.substr(0, 64)) + "' is not valid UTF-8 (" +
                         DescribeUnusualBytes(symbol) + ")");
  }
  pb::LookupSymbolIdRequest req;
  req.set_symbol(symbol);
  pb::LookupSymbolIdReply reply;
  TICKFLOW_RETURN_IF_ERROR(impl_->Invoke(req, &reply, &pb::SymbolMaster::Stub::LookupSymbolId, "LookupSymbolId"));
  return static_cast<SymbolId>(reply.symbol_id());
}

Result<std::vector<store::SymbolInfo>> Client::ListSymbols() {
  pb::ListSymbolsRequest req;
  pb::ListSymbolsReply reply;
  TICKFLOW_RETURN_IF_ERROR(impl_->Invoke(req, &reply, &pb::SymbolMaster::Stub::ListSymbols, "ListSymbols"));
  std::vector<store::SymbolInfo> out;
  for (const pb::Symbol& s : reply.symbols()) {
    store::SymbolInfo i;
    i.id = static_cast<SymbolId>(s.symbol_id());
    i.exchange = static_cast<ExchangeId>(s.exchange_id());
    i.symbol = s.symbol();
    i.base = s.base();
    i.quote = s.quote();
    i.trade_count = s.trade_count();
    i.first_time = UnixNanos{s.first_time_ns()};
    i.last_time = UnixNanos{s.last_time_ns()};
    i.price_scale = static_cast<int>(s.price_decimals());
    i.volume_scale = static_cast<int>(s.volume_decimals());
    out.push_back(std::move(i));
  }
  return out;
}

namespace {
struct ProtobufLogRoute {
  std::mutex mu;
  std::function<void(const std::string&)> sink;
  std::chrono::steady_clock::time_point last{};
  std::uint64_t held = 0;
};
ProtobufLogRoute& Route() {
  static ProtobufLogRoute r;  // protobuf's log handler is process-wide: so is its route
  return r;
}
void HandleProtobufLog(google::protobuf::LogLevel, const char*, int, const std::string& message) {
  ProtobufLogRoute& r = Route();
  std::lock_guard lock(r.mu);
  const auto now = std::chrono::steady_clock::now();
  if (r.last != std::chrono::steady_clock::time_point{} && now - r.last < std::chrono::seconds(10)) {
    ++r.held;
    return;
  }
  const std::string more = r.held ? " (and " + std::to_string(r.held) + " like it since the last report)" : "";
  r.held = 0;
  r.last = now;
  if (r.sink) r.sink("protobuf: " + message + more);
}
}  // namespace

void RouteProtobufLogs(std::function<void(const std::string&)> sink) {
  {
    std::lock_guard lock(Route().mu);
    Route().sink = std::move(sink);
  }
  google::protobuf::SetLogHandler(&HandleProtobufLog);
}

}  // namespace tickflow::symdb
