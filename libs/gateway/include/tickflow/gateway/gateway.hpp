// The QD gateway: listens on the control pattern (`qd.control.*`), keeps one
// session per client id, and serves StartData requests as streams of SBE
// frames on the client's data channel (acknowledgements and errors go to its
// error channel).
//
// The gateway is the trusted party of the bus: it creates a client's data
// channel when the client logs in and deletes it at logout, so no client ever
// needs the right to create channels. A message is accepted only from the
// control channel of the client id it names (`qd.control.7` speaks for 7;
// on NATS the server lets each user publish only on its own), anything else
// is answered with ClientError(IdentityMismatch). A session that sends
// nothing (heartbeats included) for `session_timeout` is expired: its streams
// end and its data channel is deleted, so the id can log in again.
//
// Several gateways may share the control pattern (a NATS queue group; on the
// in-process bus a pattern channel has one queue): whichever receives a
// ClientLogin holds that session, and its ClientLoginAck names it, so the
// client sends everything else on `<control>.s.<gateway id>.<client>`, which
// only that gateway reads. If it dies the client's heartbeats go unanswered,
// and its next login lands on a live gateway.
//
// Every stream runs on its own thread with its own store connection, so a
// 50-million-trade stream never holds back a small one or another client. A
// stream whose client stops reading is held by back-pressure (bounded
// memory), and ends when the client's channel disappears. Errors in a request
// become DataError / ClientError messages to that client; nothing a client
// sends can stop the gateway. docs/protocol.md describes the exchange.
//
// Thread-safety: Start/Stop/stats may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <map>
#include <vector>

#include "tickflow/bus/bus.hpp"
#include "tickflow/observability/observability.hpp"
#include "tickflow/core/result.hpp"
#include "tickflow/store/store.hpp"

namespace tickflow::gateway {

struct GatewayOptions {
  std::string control_channel = "qd.control";
  // Opens a store connection; called once for the control thread and once per stream.
  std::function<Result<std::unique_ptr<store::Store>>()> open_store{};
  std::size_t messages_per_frame = 256;
  std::size_t max_streams = 256;                        // beyond: DataUnavailable
  std::size_t max_streams_per_client = 16;              // running at once; beyond: TooManyStreams
  // Symbols streamed at once over all streams (each holds one decoded store
  // block: up to ~1.3 MB for trades, ~2 MB for bars); beyond: DataUnavailable.
  std::size_t max_open_symbols = 4096;
  std::chrono::milliseconds publish_wait{50};           // per attempt; the stop flag is checked between
  std::chrono::milliseconds stalled_client{60000};      // a stream blocked this long by a full channel fails
  std::chrono::milliseconds session_timeout{15000};     // silence after which a session is expired
  std::uint16_t gateway_id = 0;                         // unique among gateways sharing the control subjects; 0 = random
  // A key per session (SessionKey at login) and a FrameTag on every later
  // frame to the client, so no other bus user can pass frames off as the
  // gateway's (docs/protocol.md#frame-authentication). Off only where no
  // one else shares the bus (in process).
  bool authenticate_frames = true;
  // The bus's health (Bus::Health) is checked this often; while it is bad,
  // /healthz says why and logins are refused with ClientError(BusUnavailable).
  std::chrono::milliseconds health_interval{2000};
  // A data stream with no reader waiting, nothing unacknowledged and no
  // activity this long (its client and gateway died together) is deleted; the
  // check runs at start and every 30 s.
  std::chrono::seconds abandoned_after{120};
  // Called when a paced stream (speed > 0) starts: its first event, at event
  // time `first`, is due at `due` on the steady clock, and the event at t at
  // due + (t - first) / speed. For measuring delivery against the due time on
  // a shared clock (benchmarks); the same is logged at debug level as
  // "paced stream ... due at steady N ns" (CLOCK_MONOTONIC, shared by the
  // processes of one machine).
  std::function<void(ClientId client, RequestId request, UnixNanos first, std::chrono::steady_clock::time_point due)>
      on_paced_start{};
  // Tests only: every stream numbers its messages as if this many had been
  // sent before the store's first row (a request resuming after N skips
  // N - sequence_offset rows), so a short stream can cross 2^32.
  std::uint64_t sequence_offset = 0;
  // Where log lines go (default: nowhere); a line below its threshold is never built.
  Logger log{};
};

struct ClientStats {
  ClientId client = 0;
  std::uint64_t active_streams = 0;
  std::uint64_t queued_frames = 0;  // lag: frames waiting in the client's data channel
};

struct GatewayStats {
  std::uint64_t sessions = 0;         // logged in now
  std::uint64_t active_streams = 0;
  std::uint64_t streams_started = 0;
  std::uint64_t messages_sent = 0;    // messages in data frames (data and First/Last markers)
  std::uint64_t frames_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t errors_sent = 0;      // ClientError + DataError
  std::uint64_t malformed_frames = 0; // control frames that did not decode
  std::uint64_t replies_dropped = 0;  // answers beyond a client's reply budget (floods) or unpublishable
  std::uint64_t sessions_expired = 0; // sessions ended for silence (no heartbeat)
  std::uint64_t abandoned_deleted = 0;                  // data channels deleted because nobody read or wrote them
  bool bus_healthy = true;                              // the last health check of the bus passed
  std::map<std::string, std::uint64_t> errors_by_code;  // "ClientError/client not logged in" -> count
  std::uint64_t requests = 0;                     // StartData handled
  // StartData received -> answered (ack or error), in seconds.
  observability::Histogram request_seconds = observability::Histogram::Latency();
  std::vector<ClientStats> clients;
};

// Writes the stats as Prometheus metrics (tickflow_gateway_*).
void WriteMetrics(const GatewayStats& stats, observability::MetricsWriter& out);

class Gateway {
 public:
  // Creates (or reuses) the control channel and starts serving.
  static Result<std::unique_ptr<Gateway>> Start(bus::Bus& bus, GatewayOptions options);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Ends every stream (Last… with reason Failed), closes sessions, stops the
  // control thread. Idempotent; the destructor calls it.
  void Stop();
  GatewayStats stats() const;
  // The bus's state at the last check (every health_interval), for /healthz.
  observability::Health health() const;

  class Impl;

 private:
  explicit Gateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickflow::gateway
