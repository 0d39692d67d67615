#include "nats_pull_subscription.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <map>
#include <string_view>

namespace tickflow::bus::detail {
namespace {

using Clock = std::chrono::steady_clock;

// A pull consumer read by hand over core NATS (the client needs no JetStream
// API rights beyond fetching from and acknowledging its own consumer): up to
// two pull requests of `batch` frames are kept outstanding on a private
// inbox, and each frame is acknowledged when the reader comes back for the
// next one. Frames are handed out strictly in stream order: the one consumer
// of a work-queue stream sees every sequence, so a jump means deliveries were
// lost in flight (a cluster node died); later frames wait until the server
// redelivers the missing ones (after the consumer's ack wait), and
// redeliveries of frames already handed out are dropped. Requests and
// acknowledgements go out on `nc`, the JetStream connection, while frames
// arrive on the inbox subscription of the core one.
class PullSubscription final : public Subscription {
 public:
  PullSubscription(natsConnection* nc, natsSubscription* inbox, std::string inbox_subject, jsCtx* js,
                   std::string stream, std::string channel, const std::string& api, int batch)
      : nc_(nc),
        inbox_(inbox),
        inbox_subject_(std::move(inbox_subject)),
        js_(js),
        stream_(std::move(stream)),
        channel_(std::move(channel)),
        next_subject_(api + ".CONSUMER.MSG.NEXT." + stream_ + "." + kConsumer),
        batch_(batch) {}
  ~PullSubscription() override {
    AckPrevious();
    for (auto& [seq, m] : ahead_) natsMsg_Destroy(m);
    (void)natsSubscription_Unsubscribe(inbox_);
    natsSubscription_Destroy(inbox_);
  }

  PollStatus Poll(Frame* frame, std::chrono::milliseconds wait, std::string* subject) override {
    AckPrevious();
    const auto deadline = Clock::now() + wait;
    while (true) {
      if (auto it = ahead_.find(last_seq_ + 1); it != ahead_.end()) {  // the gap before it was filled
        natsMsg* msg = it->second;
        ahead_.erase(it);
        return HandOut(msg, frame, subject);
      }
      if (outstanding_ <= batch_) RequestMore();
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      natsMsg* msg = nullptr;
      const natsStatus s = natsSubscription_NextMsg(&msg, inbox_, std::max<std::int64_t>(1, left.count()));
      if (s == NATS_TIMEOUT) {
        // Requests the server forgot (it restarted) never answer: ask anew
        // once they would have expired.
        if (Clock::now() - last_heard_ > std::chrono::milliseconds(5500)) {
          outstanding_ = 0;
          last_heard_ = Clock::now();
        }
        return PollStatus::kTimeout;
      }
      if (s != NATS_OK) {
        if (s == NATS_SLOW_CONSUMER) continue;
        return PollStatus::kClosed;
      }
      last_heard_ = Clock::now();
      const char* status = nullptr;
      if (natsMsg_GetDataLength(msg) == 0 && natsMsgHeader_Get(msg, "Status", &status) == NATS_OK) {
        const int code = std::atoi(status);
        natsMsg_Destroy(msg);
        outstanding_ = std::max(0, outstanding_ - batch_);  // a request ended (404 no messages, 408 expired, 409)
        if (code == 409 && !ConsumerExists()) return PollStatus::kClosed;
        if (Clock::now() >= deadline) return PollStatus::kTimeout;
        continue;
      }
      --outstanding_;
      const std::uint64_t seq = StreamSequence(natsMsg_GetReply(msg));
      if (seq != 0 && seq <= last_seq_) {  // redelivered after a lost ack: already handed out
        Ack(msg);
        natsMsg_Destroy(msg);
        continue;
      }
      if (seq != 0 && last_seq_ != 0 && seq > last_seq_ + 1) {  // earlier deliveries were lost: wait for them
        if (!ahead_.emplace(seq, msg).second) natsMsg_Destroy(msg);
        continue;
      }
      return HandOut(msg, frame, subject);
    }
  }

 private:
  PollStatus HandOut(natsMsg* msg, Frame* frame, std::string* subject) {
    if (const std::uint64_t seq = StreamSequence(natsMsg_GetReply(msg)); seq != 0) last_seq_ = seq;
    const auto* data = reinterpret_cast<const std::byte*>(natsMsg_GetData(msg));
    frame->assign(data, data + natsMsg_GetDataLength(msg));
    if (subject != nullptr) *subject = channel_;
    pending_ack_ = msg;
    return PollStatus::kFrame;
  }

  void RequestMore() {
    // expires: 5 s, so an idle reader re-asks a few times a minute.
    const std::string req = "{\"batch\":" + std::to_string(batch_) + ",\"expires\":5000000000}";
    if (natsConnection_PublishRequestString(nc_, next_subject_.c_str(), inbox_subject_.c_str(), req.c_str()) ==
        NATS_OK) {
      outstanding_ += batch_;
    }
  }
  void Ack(natsMsg* msg) {
    if (const char* reply = natsMsg_GetReply(msg); reply != nullptr)
      (void)natsConnection_PublishString(nc_, reply, "+ACK");
  }
  void AckPrevious() {
    if (pending_ack_ == nullptr) return;
    Ack(pending_ack_);
    natsMsg_Destroy(pending_ack_);
    pending_ack_ = nullptr;
  }
  bool ConsumerExists() {
    jsConsumerInfo* ci = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_GetConsumerInfo(&ci, js_, stream_.c_str(), kConsumer, nullptr, &jerr);
    if (ci != nullptr) jsConsumerInfo_Destroy(ci);
    return !(s == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr || jerr == JSStreamNotFoundErr);
  }
  // "$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>" -> stream seq.
  static std::uint64_t StreamSequence(const char* reply) {
    if (reply == nullptr) return 0;
    std::string_view r(reply);
    for (int dots = 0; dots < 5; ++dots) {
      const auto p = r.find('.');
      if (p == std::string_view::npos) return 0;
      r.remove_prefix(p + 1);
    }
    std::uint64_t v = 0;
    std::from_chars(r.data(), r.data() + r.size(), v);
    return v;
  }

  natsConnection* nc_;
  natsSubscription* inbox_;
  std::string inbox_subject_;
  jsCtx* js_;
  std::string stream_, channel_, next_subject_;
  int batch_;
  int outstanding_ = 0;  // frames asked for and not yet received
  Clock::time_point last_heard_ = Clock::now();
  natsMsg* pending_ack_ = nullptr;
  std::uint64_t last_seq_ = 0;               // stream sequence of the last frame handed out
  std::map<std::uint64_t, natsMsg*> ahead_;  // frames after a gap, by stream sequence
};

}  // namespace

std::unique_ptr<Subscription> MakePullSubscription(natsConnection* nc, natsSubscription* inbox,
                                                   std::string inbox_subject, jsCtx* js, std::string stream,
                                                   std::string channel, const std::string& api, int batch) {
  return std::make_unique<PullSubscription>(nc, inbox, std::move(inbox_subject), js, std::move(stream),
                                            std::move(channel), api, batch);
}

}  // namespace tickflow::bus::detail
