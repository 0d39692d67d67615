// The QD client: the only API programs need to receive replayed market data.
//
//   auto client = Client::Open({.client_id = 7, .bus = &bus}).value();
//   auto stream = client->RequestTrades({.symbols = {1}}, {.on_trade = [](const TradeEvent& t) {...}}).value();
//   auto end = stream->Wait(std::chrono::seconds(60));
//
// A gateway in another process: Client::Connect("nats://HOST:PORT",
// {.credentials_file = "client-7.creds"}) instead of Open.
//
// Open creates the client's error channel, logs in on its control channel
// (`qd.control.<id>`) and waits for the acknowledgement (a timeout is an
// error); the gateway then creates the data channel, which the client reads,
// and everything else goes to the session channel of the gateway that
// answered (`qd.control.s.<gateway>.<id>`).
// Requests wait for the gateway's StartDataAck (or its DataError, returned as
// an Error). Results arrive through callbacks (push) or, for a request made
// without callbacks, through Stream::Next (pull, a std::variant Event); the Stream handle owns the
// stream (dropping it stops the stream). Gaps in sequence numbers are counted
// and reported. While open the client sends a heartbeat every `heartbeat`; if
// the gateway stops answering for `timeout` (it died) or no longer knows the
// client (it restarted), every running stream ends with an error instead of
// hanging, and the next request logs in again, so a stream can be resumed
// with Request::resume_after = the last sequence received. Close (also run by
// the destructor) stops streams, logs out and deletes the error channel.
//
// Thread-safety: Client and Stream methods may be called from any thread.
// on_start, on_trade, on_bar, on_gap and on_end run on the client's data
// thread, in stream order; on_error runs on its response thread. A slow data
// callback back-pressures the gateway (nothing is lost) but never delays
// acknowledgements. Callbacks must not call Close or destroy the Client.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tickflow/bus/bus.hpp"
#include "tickflow/core/log.hpp"
#include "tickflow/core/market.hpp"
#include "tickflow/core/resolution.hpp"
#include "tickflow/core/result.hpp"
#include "tickflow/sbe/messages.hpp"

namespace tickflow::client {

struct ClientOptions {
  ClientId client_id = 1;
  bus::Bus* bus = nullptr;
  std::string control_channel = "qd.control";
  std::chrono::milliseconds timeout{5000};  // for login, acknowledgements, logout, and gateway silence
  std::chrono::milliseconds heartbeat{1000};  // 0 = never (the gateway then expires the session)
  std::size_t pull_queue = 65536;           // events buffered per pull-style stream
};

// Sequences are 64-bit: the wire carries each data message's low 32 bits and
// the client extends them (docs/protocol.md#sequence-numbers), so a stream may
// run past 4,294,967,295 events.
struct TradeEvent {
  RequestId request = 0;
  std::uint64_t sequence = 0;
  Trade trade;  // trade.symbol is the symbol id
};

// Trades delivered together (Callbacks::on_trades): trades[i] carries sequence
// first_sequence + i. A batch holds at most one frame's trades, in order; a gap
// ends a batch (on_gap comes between the two). The span is valid during the call only.
struct TradeBatch {
  RequestId request = 0;
  std::uint64_t first_sequence = 0;
  std::span<const Trade> trades;
};

struct BarEvent {
  RequestId request = 0;
  std::uint64_t sequence = 0;
  SymbolId symbol = 0;
  Bar bar;
};

struct StreamEnd {
  RequestId request = 0;
  sbe::StreamEndReason reason = sbe::StreamEndReason::kCompleted;
  std::uint64_t sent = 0;       // messages the gateway says it sent
  std::uint64_t received = 0;   // data messages received
  std::uint64_t missing = 0;    // sequence numbers never seen
};

struct Gap {
  RequestId request = 0;
  std::uint64_t expected = 0;
  std::uint64_t received = 0;
};

struct StreamError {
  RequestId request = 0;
  sbe::DataErrorCode code = sbe::DataErrorCode::kUnknownDataError;
  SymbolId symbol = sbe::kNoSymbol;
  std::string message;
};

struct Callbacks {
  std::function<void(const TradeEvent&)> on_trade{};
  // Instead of on_trade (which is then not called): the trades of each frame in
  // one call, for consumers that copy or vectorise them (one call per up to
  // hundreds of trades instead of one each). Every other callback still comes
  // in stream order: a batch is delivered before the start, gap, bar or end after it.
  std::function<void(const TradeBatch&)> on_trades{};
  std::function<void(const BarEvent&)> on_bar{};
  std::function<void(RequestId)> on_start{};
  std::function<void(const StreamEnd&)> on_end{};
  std::function<void(const StreamError&)> on_error{};
  std::function<void(const Gap&)> on_gap{};
};

struct Request {
  std::vector<SymbolId> symbols;             // merged in time order
  // Globs over symbol names ('*USD', 'XBT*', '*' for every market), expanded
  // by the gateway against its store: matches follow `symbols`, each symbol
  // once. At most 64, each at most 32 bytes. A pattern that matches nothing
  // refuses the request, naming it.
  std::vector<std::string> patterns{};
  UnixNanos from = UnixNanos::Min();         // inclusive; Min = from the start
  UnixNanos to = UnixNanos::Max();           // exclusive; Max = to the end
  std::uint32_t speed_permille = 0;          // 0 = as fast as possible, 1000 = real time
  std::uint64_t resume_after = 0;            // skip the stream's first N events: resume after sequence N
};

// The first event of every stream: the gateway accepted it and starts sending.
struct StreamStart {
  RequestId request = 0;
};

// One event of a pull-style stream, in stream order: a StreamStart, then
// TradeEvent or BarEvent data with Gap where sequences jump, then StreamEnd
// (or StreamError if the stream failed or the client gave it up). Visit it:
//
//   while (auto e = stream->Next(1s)) {
//     if (auto* t = std::get_if<TradeEvent>(&*e)) ...;
//     else if (std::holds_alternative<StreamEnd>(*e)) break;
//   }
using Event = std::variant<StreamStart, TradeEvent, BarEvent, Gap, StreamError, StreamEnd>;

// Client::Connect: a client of a gateway in another process, over NATS.
struct ConnectOptions {
  std::string credentials_file;  // written by `tickflow nats-config`: user, password, client id
  std::string user;              // or the user and password themselves
  std::string password;
  std::optional<ClientId> client_id;  // default: the credentials file's, else 1
  // The NATS connection's events (disconnects, reconnects; default: nowhere).
  Logger log{};
  // Timeouts, heartbeat, pull queue; its client_id and bus are set by Connect.
  ClientOptions client{};
};

class Client;

// The handle of one request's stream. It owns the stream: destroying it stops
// the stream at the gateway and detaches its callbacks (destruction waits for a
// callback running on another thread to return; none is called afterwards) and
// drops a pull-style stream's queued events, so a stream nobody reads never
// holds up the client's other streams.
class Stream {
 public:
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream();

  RequestId id() const { return id_; }
  // Waits until the stream has ended; its end, or an error on timeout or failure. A Failed end
  // waits up to 0.5 s more for the DataError that explains it (delivered to on_error first).
  Result<StreamEnd> Wait(std::chrono::milliseconds timeout);
  // Asks the gateway to stop the stream; it then ends with reason Stopped.
  Status Stop();
  // Pull style (a request made without callbacks): the next event, nullopt on
  // timeout or after the end event has been taken. A stream the client ends
  // itself (the gateway stopped answering, the bus lost its frames, Close)
  // yields a StreamError with the reason as its last event. A push-style
  // stream has no events to pull: nullopt at once.
  std::optional<Event> Next(std::chrono::milliseconds timeout);
  bool done() const;
  bool pull() const;

  class State;
  Stream(RequestId id, std::shared_ptr<State> state) : id_(id), state_(std::move(state)) {}

 private:
  RequestId id_;
  std::shared_ptr<State> state_;
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> Open(const ClientOptions& options);
  // Connects to the NATS server at `url` (nats://HOST:PORT) as the client of
  // the credentials, then opens as Open does; the client owns the connection.
  static Result<std::unique_ptr<Client>> Connect(std::string_view url, const ConnectOptions& options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Push style: the stream's events go to `callbacks`, which must have the
  // data callback of the request (on_trade or on_trades; on_bar for bars).
  Result<std::unique_ptr<Stream>> RequestTrades(const Request& request, Callbacks callbacks);
  Result<std::unique_ptr<Stream>> RequestBars(const Request& request, TimeResolution resolution, Callbacks callbacks);
  // Pull style: the stream's events are read with Stream::Next (up to
  // ClientOptions::pull_queue are buffered; the gateway is back-pressured beyond).
  Result<std::unique_ptr<Stream>> RequestTrades(const Request& request);
  Result<std::unique_ptr<Stream>> RequestBars(const Request& request, TimeResolution resolution);
  Status StopAll();
  // Logs out (waiting for the acknowledgement) and deletes the channels. Idempotent.
  Status Close();

  ClientId id() const;
  // Frames dropped because they did not carry the session's FrameTag: frames
  // someone other than the gateway put on this client's channels (a NATS user
  // abusing JetStream replies), never delivered to callbacks or iterators.
  std::uint64_t rejected_frames() const;
  class Impl;

 private:
  static Result<std::unique_ptr<Client>> OpenOn(const ClientOptions& options, std::unique_ptr<bus::Bus> owned_bus);
  Client(std::unique_ptr<Impl> impl, std::unique_ptr<bus::Bus> owned_bus);
  std::unique_ptr<bus::Bus> owned_bus_;  // Connect's; outlives impl_ (declared first, destroyed last)
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickflow::client
