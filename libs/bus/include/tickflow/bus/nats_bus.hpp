// The NATS backend of the bus (nats.c against nats-server with JetStream).
//
// Channel kinds, by name:
// - names starting with `stream_prefix` (`qd.data.` by default) are
//   JetStream streams: work-queue retention, file storage, one durable pull
//   consumer named `reader`. CreateChannel/DeleteChannel are JetStream admin
//   calls (only a trusted user, the gateway, may make them). Publish is
//   asynchronous with a bounded number of unacknowledged frames, and is held
//   (kBackPressured) while the stream holds `queue_frames` unread frames or
//   `queue_bytes` unread bytes, so a
//   slow reader costs neither side memory and loses nothing. Subscribe binds
//   to the consumer and acknowledges each fetched batch once it is read.
// - every other name is a core NATS subject (control and error channels:
//   small, rare messages). Create/Delete are no-ops and HasChannel is true:
//   subjects need no admin. A pattern `prefix.*` is a NATS wildcard, joined to
//   `queue_group` when set (several gateways share the control subjects).
//
// The server enforces permissions; a refused subscribe or publish (which
// nats-server reports asynchronously) is turned into kPermissionDenied /
// kNotPermitted by a flush after the call. Each user needs its own inbox
// prefix (`_INBOX_<client id>` for clients) so no one can read others' replies.
// The connection reconnects forever; frames published while disconnected are
// buffered, and an acknowledgement that never comes marks the channel's
// order as broken (kLost on the next Publish).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "tickflow/bus/bus.hpp"
#include "tickflow/core/log.hpp"
#include "tickflow/core/result.hpp"

namespace tickflow::bus {

inline constexpr std::string_view kClientJetStreamApi = "qd.js";

struct NatsBusOptions {
  std::string url = "nats://127.0.0.1:4222";  // may carry user:password@; a cluster: comma-separated URLs
  std::string user{};
  std::string password{};
  std::string name = "tickflow";      // connection name shown by the server
  std::string inbox_prefix{};         // empty = "_INBOX"
  std::string stream_prefix = "qd.data.";
  // Where JetStream's API is reached: a client's own NATS account has no
  // JetStream and imports its stream's consumer from the gateway's account
  // under kClientJetStreamApi (gateway::NatsServerConfig).
  std::string jetstream_api = "$JS.API";
  std::string queue_group{};          // for pattern subscriptions
  std::size_t queue_frames = 256;     // unread frames per stream before Publish waits
  std::size_t queue_bytes = 16 << 20; // ... or unread bytes
  std::size_t max_frame_bytes = 1 << 20;
  std::size_t fetch_batch = 64;       // frames per pull
  int replicas = 1;                   // JetStream replicas of each stream (cluster)
  // A second connection for JetStream traffic (stream publishes, admin calls,
  // pull requests and acknowledgements). nats-server handles what one
  // connection sends in order, so a JetStream that stalls (its store full)
  // would otherwise hold back every core message behind it: logins,
  // heartbeats and the gateway's answers to every client.
  bool jetstream_connection = true;
  // A core publish waits for the server's PONG (one round trip) to learn at
  // once whether the server refused it (kNotPermitted: a client publishing on
  // another's control channel). The gateway, whose rights are known, turns it
  // off so that its answers are not flushed one by one.
  bool confirm_core_publishes = true;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds ack_timeout{5000};  // a publish unacknowledged this long is lost
  Logger log{};  // the connection's events: errors, disconnects (warn), reconnects (info), lost frames
};

Result<std::unique_ptr<Bus>> MakeNatsBus(const NatsBusOptions& options);

// The JetStream stream name of a stream channel: "qd.data.7" -> "QD_DATA_7".
std::string StreamNameOf(std::string_view channel);

}  // namespace tickflow::bus
