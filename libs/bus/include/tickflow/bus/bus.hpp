// The message bus: named channels carrying frames (byte buffers holding one
// or more complete SBE messages). An admin API creates and deletes channels;
// publishers get back-pressure instead of unbounded queues; subscribers poll
// or get a callback on their own thread.
//
// Delivery is point to point: each frame goes to one subscriber of its
// channel, in publish order (tickflow gives every channel one reader). A
// channel named `prefix.*` (a pattern) receives the frames published to any
// `prefix.<token>`; Poll reports the name each frame was published to, which
// is how the gateway learns who sent a request.
//
// Backends: in-process (MakeInProcessBus, the default) and NATS
// (MakeNatsBus in nats_bus.hpp), where the server enforces who may publish
// and read what.
//
// Thread-safety: every Bus method may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tickflow/core/result.hpp"

namespace tickflow::bus {

using Frame = std::vector<std::byte>;

enum class [[nodiscard]] PublishStatus : std::uint8_t {
  kOk,
  kBackPressured,  // the channel's queue stayed full for the whole wait
  kNoSuchChannel,  // never created, or deleted (the reader went away)
  kTooLarge,       // frame larger than the bus allows
  kClosed,         // the bus is shutting down
  kNotPermitted,   // the server refused this publisher on this channel
  kLost,           // a frame accepted earlier on this channel was lost (e.g. server restart): order is broken
};
const char* ToString(PublishStatus status);

enum class [[nodiscard]] PollStatus : std::uint8_t {
  kFrame,    // *frame holds the next frame
  kTimeout,  // nothing arrived within the wait
  kClosed,   // the channel was deleted or the bus closed; nothing more will come
};

struct BusOptions {
  std::size_t queue_frames = 256;         // per channel; publishers wait beyond this
  std::size_t max_frame_bytes = 1 << 20;  // larger frames are refused
};

class Subscription {
 public:
  virtual ~Subscription() = default;
  // Waits up to `wait` for the next frame; reuses *frame's storage. When
  // `subject` is given it receives the channel name the frame was published
  // to (differs from the subscribed name for a pattern).
  virtual PollStatus Poll(Frame* frame, std::chrono::milliseconds wait, std::string* subject = nullptr) = 0;
};

// Runs `on_frame` on its own thread for every frame of a subscription until
// the channel closes or this object is destroyed (which joins the thread).
class CallbackSubscriber {
 public:
  CallbackSubscriber(std::unique_ptr<Subscription> sub, std::function<void(std::span<const std::byte>)> on_frame,
                     std::function<void()> on_closed = {});
  ~CallbackSubscriber();
  CallbackSubscriber(const CallbackSubscriber&) = delete;
  CallbackSubscriber& operator=(const CallbackSubscriber&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

class Bus {
 public:
  virtual ~Bus() = default;

  // Admin. Creating an existing channel is kAlreadyExists; deleting a missing one kNotFound.
  // After a delete, publishers get kNoSuchChannel; in process, subscribers still read the
  // frames published before it, then kClosed (on NATS the stream and its frames are gone).
  virtual Status CreateChannel(std::string_view name) = 0;
  virtual Status DeleteChannel(std::string_view name) = 0;
  virtual bool HasChannel(std::string_view name) const = 0;

  // Copies the frame into the channel, waiting up to `wait` for room.
  virtual PublishStatus Publish(std::string_view channel, std::span<const std::byte> frame,
                                std::chrono::milliseconds wait) = 0;

  virtual Result<std::unique_ptr<Subscription>> Subscribe(std::string_view channel) = 0;

  // Frames queued in a channel now (for tests and metrics); 0 if it does not exist.
  virtual std::size_t QueuedFrames(std::string_view channel) const = 0;

  // Whether the bus can serve now: ok, or kUnavailable saying what is wrong
  // (NATS: disconnected, or JetStream not answering). Waits at most `wait`.
  // In process: always ok.
  virtual Status Health(std::chrono::milliseconds /*wait*/) { return {}; }

  // Stream channels nobody reads: no reader waiting, no frame unacknowledged
  // and no activity (publish, delivery, acknowledgement) for `idle` — left
  // behind by a reader and its writer that died together. In process: none
  // (channels do not outlive the process).
  virtual Result<std::vector<std::string>> AbandonedChannels(std::chrono::seconds /*idle*/) {
    return std::vector<std::string>{};
  }
};

std::unique_ptr<Bus> MakeInProcessBus(const BusOptions& options = {});

}  // namespace tickflow::bus
