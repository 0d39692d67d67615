// Writes one stream's messages into frames on the client's data channel:
// each frame opens with a DataBatch naming the stream, holds up to N
// messages, ends with the session's FrameTag when the session authenticates
// its frames, and is published with back-pressure.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tickflow/bus/bus.hpp"
#include "tickflow/sbe/codec.hpp"
#include "tickflow/sbe/frame_auth.hpp"

namespace tickflow::gateway::detail {

enum class SendStatus : std::uint8_t {
  kOk,
  kStopped,     // the stop flag was raised
  kClientGone,  // the channel no longer exists
  kStalled,     // the channel stayed full for `stalled_after`
  kBroken,      // the bus lost frames of this channel (or refused it): the stream cannot continue in order
};

struct SenderCounters {
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> frames{0};
  std::atomic<std::uint64_t> bytes{0};
};

class StreamSender {
 public:
  StreamSender(bus::Bus& bus, std::string channel, RequestId request, std::size_t messages_per_frame,
               std::chrono::milliseconds publish_wait, std::chrono::milliseconds stalled_after,
               const std::atomic<bool>& stop, SenderCounters& counters,
               std::shared_ptr<sbe::SessionAuth> auth = nullptr, const std::atomic<bool>* bus_ok = nullptr)
      : bus_(bus),
        channel_(std::move(channel)),
        request_(request),
        per_frame_(messages_per_frame),
        publish_wait_(publish_wait),
        stalled_after_(stalled_after),
        stop_(stop),
        counters_(counters),
        bus_ok_(bus_ok),
        buffer_(sbe::kHeaderSize + sbe::DataBatch::kBlockLength + messages_per_frame * 80 + sbe::kFrameTagSize),
        writer_(std::span(buffer_).first(buffer_.size() - sbe::kFrameTagSize)) {
    if (auth != nullptr) signer_.emplace(std::move(auth));
  }

  // Appends a message; publishes the frame when it is full.
  template <class M>
  SendStatus Append(const M& m) {
    if (writer_.count() == 0) (void)writer_.Append(sbe::DataBatch{request_, 0});
    (void)writer_.Append(m);
    return writer_.count() - 1 >= per_frame_ ? Flush() : SendStatus::kOk;
  }

  // Publishes what is buffered. Waits while the channel is full, checking the
  // stop flag; `ignore_stop` lets the final Last… marker go out after a stop.
  SendStatus Flush(bool ignore_stop = false) {
    if (writer_.count() <= 1) {
      writer_.Clear();
      return SendStatus::kOk;
    }
    const auto n = static_cast<std::uint16_t>(writer_.count() - 1);
    (void)sbe::Encode(sbe::DataBatch{request_, n}, buffer_);  // patch the count in place
    std::span<const std::byte> frame = writer_.frame();
    if (signer_) {
      const std::size_t signed_size = signer_->Sign(channel_, buffer_, frame.size());
      if (signed_size == 0) {
        writer_.Clear();
        return SendStatus::kBroken;
      }
      frame = std::span<const std::byte>(buffer_).first(signed_size);
    }
    const auto start = std::chrono::steady_clock::now();
    while (true) {
      switch (bus_.Publish(channel_, frame, publish_wait_)) {
        case bus::PublishStatus::kOk:
          counters_.frames += 1;
          counters_.bytes += frame.size();
          counters_.messages += n;
          writer_.Clear();
          return SendStatus::kOk;
        case bus::PublishStatus::kBackPressured:
          if (!ignore_stop && stop_.load(std::memory_order_relaxed)) return SendStatus::kStopped;
          // Held because the bus itself is down (its health check fails):
          // nothing will drain, so the stream fails now rather than after
          // stalled_after.
          if (bus_ok_ != nullptr && !bus_ok_->load(std::memory_order_relaxed)) {
            writer_.Clear();
            return SendStatus::kBroken;
          }
          if (std::chrono::steady_clock::now() - start > stalled_after_) return SendStatus::kStalled;
          continue;
        case bus::PublishStatus::kLost:
        case bus::PublishStatus::kNotPermitted:
        case bus::PublishStatus::kTooLarge:
          writer_.Clear();
          return SendStatus::kBroken;
        case bus::PublishStatus::kNoSuchChannel:
        case bus::PublishStatus::kClosed:
          writer_.Clear();
          return SendStatus::kClientGone;
      }
    }
  }

  bool empty() const { return writer_.count() <= 1; }

 private:
  bus::Bus& bus_;
  std::string channel_;
  RequestId request_;
  std::size_t per_frame_;
  std::chrono::milliseconds publish_wait_;
  std::chrono::milliseconds stalled_after_;
  const std::atomic<bool>& stop_;
  SenderCounters& counters_;
  const std::atomic<bool>* bus_ok_;  // the gateway's view of the bus's health; null: not watched
  std::vector<std::byte> buffer_;
  sbe::FrameWriter writer_;
  std::optional<sbe::FrameSigner> signer_;
};

}  // namespace tickflow::gateway::detail
