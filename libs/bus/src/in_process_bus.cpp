#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "tickflow/bus/bus.hpp"

namespace tickflow::bus {
namespace {

// One bounded FIFO of frames. Spent frame buffers are kept for reuse, so a
// steady stream allocates nothing.
class Channel {
 public:
  Channel(std::string name, std::size_t capacity)
      : name_(std::move(name)), pattern_(name_.ends_with(".*")), capacity_(capacity) {}

  PublishStatus Push(std::span<const std::byte> bytes, std::chrono::milliseconds wait, std::string_view subject) {
    std::unique_lock lock(mu_);
    if (frames_.size() >= capacity_ && !closed_) {
      ++publishers_waiting_;
      const bool room = room_.wait_for(lock, wait, [&] { return frames_.size() < capacity_ || closed_; });
      --publishers_waiting_;
      if (!room) return PublishStatus::kBackPressured;
    }
    if (closed_) return PublishStatus::kNoSuchChannel;
    Frame f;
    if (!spare_.empty()) {
      f = std::move(spare_.back());
      spare_.pop_back();
    }
    f.assign(bytes.begin(), bytes.end());
    frames_.push_back(std::move(f));
    if (pattern_) subjects_.emplace_back(subject);
    ready_.notify_one();
    return PublishStatus::kOk;
  }

  PollStatus Pop(Frame* out, std::chrono::milliseconds wait, std::string* subject) {
    std::unique_lock lock(mu_);
    if (!ready_.wait_for(lock, wait, [&] { return !frames_.empty() || closed_; })) return PollStatus::kTimeout;
    if (frames_.empty()) return PollStatus::kClosed;
    *out = std::move(frames_.front());
    frames_.pop_front();
    if (pattern_) {
      if (subject != nullptr) *subject = std::move(subjects_.front());
      subjects_.pop_front();
    } else if (subject != nullptr) {
      *subject = name_;
    }
    // A waiting publisher is woken once half the queue is free, not for every
    // frame read: a replay faster than its reader then switches threads once
    // per half queue instead of once per frame (on 2 cores, with a third thread
    // busy, the switches cost more than the frames; tickflow bench backtest).
    if (publishers_waiting_ > 0 && frames_.size() <= capacity_ / 2) room_.notify_one();
    return PollStatus::kFrame;
  }

  void Recycle(Frame&& f) {
    std::lock_guard lock(mu_);
    if (spare_.size() < 16) spare_.push_back(std::move(f));
  }

  // Refuses new frames; readers still get those already published (a stream's
  // Last marker among them), then kClosed.
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    ready_.notify_all();
    room_.notify_all();
  }

  std::size_t size() const {
    std::lock_guard lock(mu_);
    return frames_.size();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable ready_, room_;
  const std::string name_;
  const bool pattern_;  // `prefix.*`: remembers each frame's subject
  std::deque<Frame> frames_;
  std::deque<std::string> subjects_;
  std::vector<Frame> spare_;
  std::size_t capacity_;
  int publishers_waiting_ = 0;
  bool closed_ = false;
};

class InProcessSubscription final : public Subscription {
 public:
  explicit InProcessSubscription(std::shared_ptr<Channel> channel) : channel_(std::move(channel)) {}
  PollStatus Poll(Frame* frame, std::chrono::milliseconds wait, std::string* subject) override {
    Frame old = std::move(*frame);
    const PollStatus s = channel_->Pop(frame, wait, subject);
    if (s == PollStatus::kFrame) {
      old.clear();
      channel_->Recycle(std::move(old));
    } else {
      *frame = std::move(old);
    }
    return s;
  }

 private:
  std::shared_ptr<Channel> channel_;
};

class InProcessBus final : public Bus {
 public:
  explicit InProcessBus(const BusOptions& o) : options_(o) {}
  ~InProcessBus() override {
    std::lock_guard lock(mu_);
    for (auto& [name, ch] : channels_) ch->Close();
  }

  Status CreateChannel(std::string_view name) override {
    if (name.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty channel name");
    std::lock_guard lock(mu_);
    auto [it, inserted] = channels_.try_emplace(std::string(name), nullptr);
    if (!inserted) return MakeError(ErrorCode::kAlreadyExists, "channel '" + std::string(name) + "' already exists");
    it->second = std::make_shared<Channel>(std::string(name), options_.queue_frames);
    return {};
  }

  Status DeleteChannel(std::string_view name) override {
    std::shared_ptr<Channel> ch;
    {
      std::lock_guard lock(mu_);
      auto it = channels_.find(name);
      if (it == channels_.end()) return MakeError(ErrorCode::kNotFound, "no channel '" + std::string(name) + "'");
      ch = std::move(it->second);
      channels_.erase(it);
    }
    ch->Close();
    return {};
  }

  bool HasChannel(std::string_view name) const override {
    std::lock_guard lock(mu_);
    return channels_.find(name) != channels_.end();
  }

  PublishStatus Publish(std::string_view channel, std::span<const std::byte> frame,
                        std::chrono::milliseconds wait) override {
    if (frame.size() > options_.max_frame_bytes) return PublishStatus::kTooLarge;
    std::shared_ptr<Channel> ch = Find(channel);
    if (!ch) ch = FindPattern(channel);
    if (!ch) return PublishStatus::kNoSuchChannel;
    return ch->Push(frame, wait, channel);
  }

  Result<std::unique_ptr<Subscription>> Subscribe(std::string_view channel) override {
    std::shared_ptr<Channel> ch = Find(channel);
    if (!ch) return MakeError(ErrorCode::kNotFound, "cannot subscribe: no channel '" + std::string(channel) + "'");
    return std::unique_ptr<Subscription>(std::make_unique<InProcessSubscription>(std::move(ch)));
  }

  std::size_t QueuedFrames(std::string_view channel) const override {
    std::shared_ptr<Channel> ch = Find(channel);
    return ch ? ch->size() : 0;
  }

 private:
  std::shared_ptr<Channel> Find(std::string_view name) const {
    std::lock_guard lock(mu_);
    auto it = channels_.find(name);
    return it == channels_.end() ? nullptr : it->second;
  }
  // The pattern channel `prefix.*` that matches `prefix.token`, if any.
  std::shared_ptr<Channel> FindPattern(std::string_view name) const {
    const auto dot = name.rfind('.');
    if (dot == std::string_view::npos || dot + 1 == name.size()) return nullptr;
    return Find(std::string(name.substr(0, dot + 1)) + "*");
  }

  BusOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Channel>, std::less<>> channels_;
};

}  // namespace

const char* ToString(PublishStatus status) {
  switch (status) {
    case PublishStatus::kOk: return "ok";
    case PublishStatus::kBackPressured: return "back-pressured";
    case PublishStatus::kNoSuchChannel: return "no such channel";
    case PublishStatus::kTooLarge: return "frame too large";
    case PublishStatus::kClosed: return "bus closed";
    case PublishStatus::kNotPermitted: return "not permitted";
    case PublishStatus::kLost: return "earlier frames were lost";
  }
  return "?";
}

struct CallbackSubscriber::State {
  std::unique_ptr<Subscription> sub;
  std::function<void(std::span<const std::byte>)> on_frame;
  std::function<void()> on_closed;
  std::atomic<bool> stop{false};
  std::thread thread;
};

CallbackSubscriber::CallbackSubscriber(std::unique_ptr<Subscription> sub,
                                       std::function<void(std::span<const std::byte>)> on_frame,
                                       std::function<void()> on_closed)
    : state_(std::make_unique<State>()) {
  state_->sub = std::move(sub);
  state_->on_frame = std::move(on_frame);
  state_->on_closed = std::move(on_closed);
  State* s = state_.get();
  s->thread = std::thread([s] {
    Frame frame;
    while (!s->stop.load(std::memory_order_relaxed)) {
      switch (s->sub->Poll(&frame, std::chrono::milliseconds(50))) {
        case PollStatus::kFrame: s->on_frame(frame); break;
        case PollStatus::kTimeout: break;
        case PollStatus::kClosed:
          if (s->on_closed) s->on_closed();
          return;
      }
    }
  });
}

CallbackSubscriber::~CallbackSubscriber() {
  state_->stop = true;
  if (state_->thread.joinable()) state_->thread.join();
}

std::unique_ptr<Bus> MakeInProcessBus(const BusOptions& options) { return std::make_unique<InProcessBus>(options); }

}  // namespace tickflow::bus
