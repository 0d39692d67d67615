#include "tickflow/bus/nats_bus.hpp"

#include <nats/nats.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "nats_pull_subscription.hpp"
#include "tickflow/core/text.hpp"

namespace tickflow::bus {
namespace {

using Clock = std::chrono::steady_clock;
using detail::kConsumer;

std::string Describe(natsStatus s, jsErrCode jerr = static_cast<jsErrCode>(0)) {
  std::string out = natsStatus_GetText(s);
  if (jerr != 0) out += " (JetStream error " + std::to_string(static_cast<int>(jerr)) + ")";
  return out;
}

// The connection's last error text if it concerns `what` ("Publish to \"x\"").
std::string LastErrorAbout(natsConnection* nc, const std::string& what) {
  const char* text = nullptr;
  (void)natsConnection_GetLastError(nc, &text);
  if (text != nullptr && std::strstr(text, "Permissions Violation") != nullptr &&
      std::strstr(text, what.c_str()) != nullptr) {
    return text;
  }
  return {};
}

// Per stream channel: an estimate of unread frames, and whether a frame
// already accepted was lost.
struct StreamState {
  std::mutex mu;
  std::size_t backlog = 0;        // unread frames at the last check
  std::size_t backlog_bytes = 0;  // unread bytes at the last check
  std::size_t since_check = 0;    // frames published since
  std::size_t since_bytes = 0;    // bytes published since
  bool checked = false;
  std::atomic<bool> broken{false};
  std::string broken_why;
};

// Core NATS subscription (control and error channels).
class CoreSubscription final : public Subscription {
 public:
  explicit CoreSubscription(natsSubscription* sub) : sub_(sub) {}
  ~CoreSubscription() override {
    (void)natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }
  PollStatus Poll(Frame* frame, std::chrono::milliseconds wait, std::string* subject) override {
    natsMsg* msg = nullptr;
    const natsStatus s = natsSubscription_NextMsg(&msg, sub_, std::max<std::int64_t>(1, wait.count()));
    if (s == NATS_TIMEOUT) return PollStatus::kTimeout;
    if (s != NATS_OK) {
      // Slow-consumer drops are reported but the subscription lives on.
      if (s == NATS_SLOW_CONSUMER) return PollStatus::kTimeout;
      return PollStatus::kClosed;
    }
    const auto* data = reinterpret_cast<const std::byte*>(natsMsg_GetData(msg));
    frame->assign(data, data + natsMsg_GetDataLength(msg));
    if (subject != nullptr) *subject = natsMsg_GetSubject(msg);
    natsMsg_Destroy(msg);
    return PollStatus::kFrame;
  }

 private:
  natsSubscription* sub_;
};

class NatsBus final : public Bus {
 public:
  explicit NatsBus(NatsBusOptions o) : o_(std::move(o)) {}

  ~NatsBus() override {
    if (js_ != nullptr) {
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.MaxWait = 2000;
      (void)js_PublishAsyncComplete(js_, &po);
      jsCtx_Destroy(js_);
    }
    if (jnc_ != nullptr) {
      natsConnection_Close(jnc_);
      natsConnection_Destroy(jnc_);
    }
    if (nc_ != nullptr) {
      natsConnection_Close(nc_);
      natsConnection_Destroy(nc_);
    }
    if (opts_ != nullptr) natsOptions_Destroy(opts_);
  }

  Status Connect() {
    TICKFLOW_RETURN_IF_ERROR(Check(natsOptions_Create(&opts_), "options"));
    if (o_.url.find(',') == std::string::npos) {
      TICKFLOW_RETURN_IF_ERROR(Check(natsOptions_SetURL(opts_, o_.url.c_str()), "url " + Redacted(o_.url)));
    } else {  // a cluster: nats://a:4222,nats://b:4222,...
      std::vector<std::string> urls;
      for (std::size_t start = 0; start <= o_.url.size();) {
        const auto comma = std::min(o_.url.find(',', start), o_.url.size());
        urls.push_back(o_.url.substr(start, comma - start));
        start = comma + 1;
      }
      std::vector<const char*> ptrs;
      for (const auto& u : urls) ptrs.push_back(u.c_str());
      TICKFLOW_RETURN_IF_ERROR(Check(natsOptions_SetServers(opts_, ptrs.data(), static_cast<int>(ptrs.size())),
                                     "servers " + Redacted(o_.url)));
    }
    if (!o_.user.empty()) {
      TICKFLOW_RETURN_IF_ERROR(Check(natsOptions_SetUserInfo(opts_, o_.user.c_str(), o_.password.c_str()), "user"));
    }
    (void)natsOptions_SetName(opts_, o_.name.c_str());
    if (!o_.inbox_prefix.empty()) {
      TICKFLOW_RETURN_IF_ERROR(Check(natsOptions_SetCustomInboxPrefix(opts_, o_.inbox_prefix.c_str()), "inbox prefix"));
    }
    (void)natsOptions_SetTimeout(opts_, o_.connect_timeout.count());
    (void)natsOptions_SetMaxReconnect(opts_, -1);
    (void)natsOptions_SetReconnectWait(opts_, 100);
    (void)natsOptions_SetReconnectBufSize(opts_, 64 << 20);
    (void)natsOptions_SetMaxPendingMsgs(opts_, 1 << 20);
    // A frame larger than the connection's write buffer is written straight
    // from the message, which nats.c 3.4 has already handed to its pending
    // list: a quick error reply (e.g. JetStream out of space) frees it while
    // the write is still reading it (heap-use-after-free under ASan). With a
    // buffer larger than any frame every frame is copied first.
    (void)natsOptions_SetIOBufSize(opts_, static_cast<int>(o_.max_frame_bytes + (64 << 10)));
    (void)natsOptions_SetErrorHandler(opts_, &NatsBus::OnAsyncError, this);
    (void)natsOptions_SetDisconnectedCB(opts_, &NatsBus::OnDisconnected, this);
    (void)natsOptions_SetReconnectedCB(opts_, &NatsBus::OnReconnected, this);
    const natsStatus s = natsConnection_Connect(&nc_, opts_);
    if (s != NATS_OK) {
      const std::string where = "cannot connect to NATS at " + Redacted(o_.url);
      if (s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED) {
        return MakeError(ErrorCode::kPermissionDenied,
                         where + ": the server refused the credentials" +
                             (o_.user.empty() ? " (none given: pass --creds)" : " of user '" + o_.user + "'"));
      }
      return ConnectError(where, s);
    }
    if (o_.jetstream_connection) {
      (void)natsOptions_SetName(opts_, (o_.name + " (JetStream)").c_str());
      if (const natsStatus js = natsConnection_Connect(&jnc_, opts_); js != NATS_OK) {
        return ConnectError("cannot open the JetStream connection to " + Redacted(o_.url), js);
      }
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Prefix = o_.jetstream_api.c_str();
    jo.Wait = 5000;
    jo.PublishAsync.MaxPending = 256;
    jo.PublishAsync.StallWait = 50;
    jo.PublishAsync.ErrHandler = &NatsBus::OnPublishFailed;
    jo.PublishAsync.ErrHandlerClosure = this;
    return Check(natsConnection_JetStream(&js_, JsConn(), &jo), "JetStream context");
  }

  Status CreateChannel(std::string_view name) override {
    if (name.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty channel name");
    if (!IsStream(name)) return {};
    const std::string subject(name), stream = StreamNameOf(name);
    TICKFLOW_RETURN_IF_ERROR(ProbeAdmin(stream, "create channel " + subject));
    const char* subjects[] = {subject.c_str()};
    jsStreamConfig sc;
    InitStreamConfig(&sc, stream, subjects);
    sc.Retention = js_WorkQueuePolicy;  // a frame is gone once its reader acknowledged it
    sc.Discard = js_DiscardNew;
    sc.MaxBytes = static_cast<std::int64_t>(std::max<std::size_t>(4 * o_.queue_frames, 1024) * o_.max_frame_bytes);
    sc.MaxMsgSize = static_cast<std::int32_t>(o_.max_frame_bytes);
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = AddStream(&sc, &jerr);
    // A node of the cluster is down: fewer replicas rather than no stream, so
    // that clients can still log in (their data is transient).
    while (s != NATS_OK && jerr == JSClusterNoPeersErr && sc.Replicas > 1) {
      --sc.Replicas;
      jerr = static_cast<jsErrCode>(0);
      s = AddStream(&sc, &jerr);
      if (s == NATS_OK) {
        log(LogLevel::kWarn, "too few JetStream peers for " + std::to_string(o_.replicas) + " replicas of " + stream +
                                 ": created with " + std::to_string(sc.Replicas));
      }
    }
    if (s != NATS_OK) {
      if (jerr == JSStreamNameExistErr) {
        return MakeError(ErrorCode::kAlreadyExists, "channel '" + subject + "' already exists");
      }
      return AdminError("create stream " + stream + " for channel " + subject, s, jerr);
    }
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = kConsumer;
    cc.AckPolicy = js_AckExplicit;  // work-queue streams require it
    // Frames lost in flight (a cluster node died) come again after this; a
    // reader holding a batch longer gets duplicates, which it drops.
    cc.AckWait = std::int64_t{5} * 1000000000;
    cc.MaxAckPending = static_cast<std::int64_t>(4 * o_.fetch_batch);
    jsConsumerInfo* ci = nullptr;
    s = js_AddConsumer(&ci, js_, stream.c_str(), &cc, nullptr, &jerr);
    if (ci != nullptr) jsConsumerInfo_Destroy(ci);
    if (s != NATS_OK) {
      (void)js_DeleteStream(js_, stream.c_str(), nullptr, nullptr);
      return AdminError("create the reader of " + stream, s, jerr);
    }
    std::lock_guard lock(mu_);
    streams_[subject] = std::make_shared<StreamState>();
    return {};
  }

  Status DeleteChannel(std::string_view name) override {
    if (!IsStream(name)) return {};
    const std::string stream = StreamNameOf(name);
    TICKFLOW_RETURN_IF_ERROR(ProbeAdmin(stream, "delete channel " + std::string(name)));
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_DeleteStream(js_, stream.c_str(), nullptr, &jerr);
    {
      std::lock_guard lock(mu_);
      streams_.erase(std::string(name));
    }
    if (s == NATS_OK) return {};
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
      return MakeError(ErrorCode::kNotFound, "no channel '" + std::string(name) + "'");
    }
    return AdminError("delete stream " + stream, s, jerr);
  }

  bool HasChannel(std::string_view name) const override {
    if (!IsStream(name)) return true;
    return StreamMessages(name).ok();
  }

  PublishStatus Publish(std::string_view channel, std::span<const std::byte> frame,
                        std::chrono::milliseconds wait) override {
    if (frame.size() > o_.max_frame_bytes) return PublishStatus::kTooLarge;
    if (natsConnection_IsClosed(nc_)) return PublishStatus::kClosed;
    const std::string subject(channel);
    if (!IsStream(channel)) {
      if (o_.confirm_core_publishes) return PublishCore(nc_, subject, frame, wait);
      const natsStatus s = natsConnection_Publish(nc_, subject.c_str(), frame.data(), static_cast<int>(frame.size()));
      if (s == NATS_OK) return PublishStatus::kOk;
      return natsConnection_IsClosed(nc_) ? PublishStatus::kClosed : PublishStatus::kBackPressured;
    }
    const std::shared_ptr<StreamState> st = State(subject);
    std::lock_guard lock(st->mu);
    if (st->broken.exchange(false)) {
      if (const auto unread = StreamMessages(channel); !unread.ok() && unread.error().code == ErrorCode::kNotFound) {
        return PublishStatus::kNoSuchChannel;
      }
      log(LogLevel::kWarn, "frames on " + subject + " were lost: " + st->broken_why);
      return PublishStatus::kLost;
    }
    const auto deadline = Clock::now() + wait;
    const auto full = [&] {
      return st->backlog + st->since_check >= o_.queue_frames ||
             st->backlog_bytes + st->since_bytes + frame.size() > o_.queue_bytes;
    };
    while (!st->checked || full()) {
      const auto unread = StreamMessages(channel);
      if (!unread.ok() && unread.error().code == ErrorCode::kNotFound) return PublishStatus::kNoSuchChannel;
      if (unread.ok()) {
        st->backlog = unread->first;
        st->backlog_bytes = unread->second;
        st->since_check = st->since_bytes = 0;
        st->checked = true;
        if (!full()) break;
      }  // else the server cannot be asked now (reconnecting): wait like a full stream
      if (Clock::now() >= deadline) return PublishStatus::kBackPressured;
      std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(2), deadline - Clock::now()));
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = o_.ack_timeout.count();
    const natsStatus s = js_PublishAsync(js_, subject.c_str(), frame.data(), static_cast<int>(frame.size()), &po);
    if (s == NATS_TIMEOUT) return PublishStatus::kBackPressured;  // too many unacknowledged frames
    if (s != NATS_OK) return natsConnection_IsClosed(JsConn()) ? PublishStatus::kClosed : PublishStatus::kBackPressured;
    ++st->since_check;
    st->since_bytes += frame.size();
    return PublishStatus::kOk;
  }

  Result<std::unique_ptr<Subscription>> Subscribe(std::string_view channel) override {
    const std::string subject(channel);
    if (IsStream(channel)) {
      const std::string stream = StreamNameOf(channel);
      // Probe the right to use the consumer: a JetStream API publish without a
      // reply is ignored by the server, but refused at once if not permitted.
      const std::string probe = o_.jetstream_api + ".CONSUMER.INFO." + stream + "." + kConsumer;
      if (PublishCore(JsConn(), probe, {}, std::chrono::milliseconds(5000)) == PublishStatus::kNotPermitted) {
        return MakeError(ErrorCode::kPermissionDenied,
                         "not permitted to read " + subject + ": " + LastErrorAbout(JsConn(), "Publish to \"" + probe));
      }
      const std::string inbox = (o_.inbox_prefix.empty() ? std::string("_INBOX") : o_.inbox_prefix) + ".pull." +
                                std::to_string(next_inbox_.fetch_add(1)) + "." + std::to_string(::getpid());
      natsSubscription* sub = nullptr;
      natsStatus s = natsConnection_SubscribeSync(&sub, nc_, inbox.c_str());
      if (s != NATS_OK) return MakeError(ErrorCode::kUnavailable, "cannot read channel " + subject + ": " + Describe(s));
      (void)natsSubscription_SetPendingLimits(sub, 1 << 20, 1 << 30);
      s = natsConnection_FlushTimeout(nc_, 5000);
      if (const std::string denied = LastErrorAbout(nc_, "Subscription to \"" + inbox + "\""); !denied.empty()) {
        natsSubscription_Destroy(sub);
        return MakeError(ErrorCode::kPermissionDenied, "not permitted to read " + inbox + ": " + denied);
      }
      jsConsumerInfo* ci = nullptr;
      jsErrCode jerr = static_cast<jsErrCode>(0);
      s = js_GetConsumerInfo(&ci, js_, stream.c_str(), kConsumer, nullptr, &jerr);
      if (ci != nullptr) jsConsumerInfo_Destroy(ci);
      if (s != NATS_OK) {
        natsSubscription_Destroy(sub);
        if (s == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr || jerr == JSStreamNotFoundErr) {
          return MakeError(ErrorCode::kNotFound, "cannot subscribe: no channel '" + subject + "'");
        }
        return MakeError(ErrorCode::kUnavailable, "cannot read channel " + subject + ": " + Describe(s, jerr));
      }
      return detail::MakePullSubscription(JsConn(), sub, inbox, js_, stream, subject, o_.jetstream_api,
                                          static_cast<int>(o_.fetch_batch));
    }
    natsSubscription* sub = nullptr;
    natsStatus s = !o_.queue_group.empty() && subject.ends_with(".*")
                       ? natsConnection_QueueSubscribeSync(&sub, nc_, subject.c_str(), o_.queue_group.c_str())
                       : natsConnection_SubscribeSync(&sub, nc_, subject.c_str());
    if (s != NATS_OK) return MakeError(ErrorCode::kUnavailable, "cannot subscribe to " + subject + ": " + Describe(s));
    (void)natsSubscription_SetPendingLimits(sub, 1 << 20, 1 << 30);
    s = natsConnection_FlushTimeout(nc_, 5000);  // the server answers a refused subscribe before the PONG
    if (const std::string denied = LastErrorAbout(nc_, "Subscription to \"" + subject + "\""); !denied.empty()) {
      natsSubscription_Destroy(sub);
      return MakeError(ErrorCode::kPermissionDenied, "not permitted to read " + subject + ": " + denied);
    }
    if (const char* text = nullptr; natsConnection_GetLastError(nc_, &text) != NATS_OK && text != nullptr &&
                                    ::strcasestr(text, "maximum subscriptions exceeded") != nullptr) {
      natsSubscription_Destroy(sub);  // nats.c closes the connection on this error
      return MakeError(ErrorCode::kBusy, "cannot subscribe to " + subject + ": " + text +
                                             " (the account's subscription limit: tickflow nats-config sets it)");
    }
    if (s != NATS_OK) log(LogLevel::kWarn, "subscribe to " + subject + " not confirmed: " + Describe(s));
    return std::unique_ptr<Subscription>(std::make_unique<CoreSubscription>(sub));
  }

  // Stores a message in a probe stream (`<stream prefix>health`, one message
  // kept, file storage like the data streams), and looks at the frames the
  // server refused lately: JetStream answering is not enough, since a full
  // disk still answers admin calls but refuses frames ("no space left on
  // device"). The probe is 16 KiB so that each one needs fresh disk pages.
  Status Health(std::chrono::milliseconds wait) override {
    std::lock_guard probing(probe_mu_);  // the gateway's health thread and a failed login may both ask
    natsConnStatus cs = natsConnection_Status(nc_);
    if (cs == NATS_CONN_STATUS_CONNECTED) cs = natsConnection_Status(JsConn());
    if (cs != NATS_CONN_STATUS_CONNECTED) {
      return MakeError(ErrorCode::kUnavailable,
                       "NATS at " + Redacted(o_.url) + ": " +
                           (cs == NATS_CONN_STATUS_CLOSED ? "connection closed" : "disconnected, reconnecting"));
    }
    const std::string subject = o_.stream_prefix + "health", stream = StreamNameOf(subject);
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = NATS_OK;
    if (!health_probe_ready_) {
      const char* subjects[] = {subject.c_str()};
      jsStreamConfig sc;
      InitStreamConfig(&sc, stream, subjects);
      sc.MaxMsgs = 1;
      s = AddStream(&sc, &jerr);
      if (s != NATS_OK && jerr != JSStreamNameExistErr)
        return JetStreamTrouble("cannot create its health probe", s, jerr);
      health_probe_ready_ = true;
      probe_created_ = Clock::now();
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = std::max<std::int64_t>(1, wait.count());
    static const std::vector<char> kProbe(16 << 10, 'p');
    jsPubAck* ack = nullptr;
    jerr = static_cast<jsErrCode>(0);
    s = js_Publish(&ack, js_, subject.c_str(), kProbe.data(), static_cast<int>(kProbe.size()), &po, &jerr);
    if (ack != nullptr) jsPubAck_Destroy(ack);
    if (s != NATS_OK) {
      // A stream just created in a cluster has no leader for a moment.
      if (s == NATS_NO_RESPONDERS && Clock::now() - probe_created_ < std::chrono::seconds(10)) return {};
      if (s == NATS_NO_RESPONDERS || jerr == JSStreamNotFoundErr)
        health_probe_ready_ = false;  // a new server: create it again
      return JetStreamTrouble("cannot store a message", s, jerr);
    }
    std::lock_guard lock(trouble_mu_);
    if (!refused_why_.empty() && Clock::now() - refused_at_ < kRefusalsRemembered) {
      return MakeError(
          ErrorCode::kUnavailable,
          "JetStream at " + Redacted(o_.url) + " refused frames " +
              std::to_string(std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - refused_at_).count()) +
              " s ago (" + refused_why_ + ")" + StoreHint(refused_why_));
    }
    return {};
  }

  Result<std::vector<std::string>> AbandonedChannels(std::chrono::seconds idle) override {
    jsOptions jo;
    jsOptions_Init(&jo);
    jsStreamInfoList* list = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_Streams(&list, js_, &jo, &jerr);
    if (s == NATS_NOT_FOUND) return std::vector<std::string>{};  // no streams at all
    if (s != NATS_OK) return MakeError(ErrorCode::kUnavailable, "list JetStream streams: " + Describe(s, jerr));
    const std::string prefix = StreamNameOf(o_.stream_prefix);
    const auto now_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    const std::int64_t idle_ns = std::chrono::nanoseconds(idle).count();
    std::vector<std::string> out;
    for (int i = 0; i < list->Count; ++i) {
      const jsStreamInfo* si = list->List[i];
      if (si->Config == nullptr || si->Config->Name == nullptr || si->Config->SubjectsLen != 1 ||
          !std::string_view(si->Config->Name).starts_with(prefix) || !IsStream(si->Config->Subjects[0])) {
        continue;
      }
      std::int64_t last = std::max(si->Created, si->State.LastTime);
      jsConsumerInfo* ci = nullptr;
      jerr = static_cast<jsErrCode>(0);
      s = js_GetConsumerInfo(&ci, js_, si->Config->Name, kConsumer, nullptr, &jerr);
      if (s != NATS_OK) continue;  // no reader was ever set up, or it cannot be asked now: leave it
      const bool in_use = ci->NumWaiting > 0 || ci->NumAckPending > 0;
      last = std::max({last, ci->Delivered.Last, ci->AckFloor.Last});
      jsConsumerInfo_Destroy(ci);
      if (!in_use && now_ns - last > idle_ns) out.emplace_back(si->Config->Subjects[0]);
    }
    jsStreamInfoList_Destroy(list);
    return out;
  }

  std::size_t QueuedFrames(std::string_view channel) const override {
    if (!IsStream(channel)) return 0;
    const auto unread = StreamMessages(channel);
    return unread.ok() ? unread->first : 0;
  }

 private:
  bool IsStream(std::string_view name) const { return name.starts_with(o_.stream_prefix); }
  natsConnection* JsConn() const { return jnc_ != nullptr ? jnc_ : nc_; }

  // A stream of one subject on file storage (memory storage was measured to
  // keep ~1 GiB RSS after use) with the configured replicas; `name` and
  // `subject` must outlive the config.
  void InitStreamConfig(jsStreamConfig* sc, const std::string& name, const char** subject) const {
    jsStreamConfig_Init(sc);
    sc->Name = name.c_str();
    sc->Subjects = subject;
    sc->SubjectsLen = 1;
    sc->Storage = js_FileStorage;
    sc->Replicas = o_.replicas;
  }
  natsStatus AddStream(jsStreamConfig* sc, jsErrCode* jerr) {
    jsStreamInfo* si = nullptr;
    const natsStatus s = js_AddStream(&si, js_, sc, nullptr, jerr);
    if (si != nullptr) jsStreamInfo_Destroy(si);
    return s;
  }

  std::shared_ptr<StreamState> State(const std::string& subject) {
    std::lock_guard lock(mu_);
    auto& st = streams_[subject];
    if (!st) st = std::make_shared<StreamState>();
    return st;
  }

  // Unread frames and bytes in a stream channel: kNotFound if the stream does not
  // exist, kUnavailable if the server could not be asked (reconnecting).
  Result<std::pair<std::size_t, std::size_t>> StreamMessages(std::string_view channel) const {
    const std::string stream = StreamNameOf(channel);
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
      return MakeError(ErrorCode::kNotFound, "no channel '" + std::string(channel) + "'");
    }
    if (s != NATS_OK || si == nullptr) {
      return MakeError(ErrorCode::kUnavailable, "stream " + stream + " info: " + Describe(s, jerr));
    }
    const std::pair<std::size_t, std::size_t> unread{static_cast<std::size_t>(si->State.Msgs),
                                                     static_cast<std::size_t>(si->State.Bytes)};
    jsStreamInfo_Destroy(si);
    return unread;
  }

  PublishStatus PublishCore(natsConnection* nc, const std::string& subject, std::span<const std::byte> frame,
                            std::chrono::milliseconds wait) {
    const natsStatus s = natsConnection_Publish(nc, subject.c_str(), frame.data(), static_cast<int>(frame.size()));
    if (s != NATS_OK) return natsConnection_IsClosed(nc) ? PublishStatus::kClosed : PublishStatus::kBackPressured;
    // A refused publish is reported asynchronously, before the PONG of a flush.
    if (natsConnection_FlushTimeout(nc, std::max<std::int64_t>(1, wait.count())) == NATS_OK &&
        !LastErrorAbout(nc, "Publish to \"" + subject + "\"").empty()) {
      return PublishStatus::kNotPermitted;
    }
    return PublishStatus::kOk;
  }

  // A refused JetStream API request is never answered (the call would wait
  // for its timeout): probe the right first with a reply-less INFO request,
  // which the server ignores when it is allowed.
  Status ProbeAdmin(const std::string& stream, const std::string& what) {
    const std::string probe = o_.jetstream_api + ".STREAM.INFO." + stream;
    if (PublishCore(JsConn(), probe, {}, std::chrono::milliseconds(5000)) == PublishStatus::kNotPermitted) {
      return MakeError(ErrorCode::kPermissionDenied, "not permitted to " + what + " (JetStream admin): " +
                                                         LastErrorAbout(JsConn(), "Publish to \"" + probe));
    }
    return {};
  }

  // A refused connect: the server's reason when it gave one (an account at
  // its connection limit), else the likely cause.
  Status ConnectError(const std::string& where, natsStatus s) const {
    const char* text = nats_GetLastError(nullptr);
    const std::string reason = text != nullptr && *text != '\0' ? text : Describe(s);
    if (reason.find("maximum account active connections exceeded") != std::string::npos) {
      return MakeError(ErrorCode::kBusy,
                       where + ": " + reason + " (user '" + o_.user +
                           "' already holds as many connections as its account allows, two per client process: "
                           "close the others, or raise the limit with tickflow nats-config --max-connections)");
    }
    return MakeError(ErrorCode::kUnavailable, where + ": " + reason +
                                                  " (is nats-server running? scripts/nats.sh start starts one)");
  }

  Status Check(natsStatus s, const std::string& what) const {
    if (s == NATS_OK) return {};
    return MakeError(ErrorCode::kUnavailable, "NATS " + what + ": " + Describe(s));
  }

  Status AdminError(const std::string& what, natsStatus s, jsErrCode jerr) const {
    if (const std::string denied = LastErrorAbout(JsConn(), "\""); !denied.empty()) {
      return MakeError(ErrorCode::kPermissionDenied, "cannot " + what + ": " + denied);
    }
    return MakeError(ErrorCode::kUnavailable, "cannot " + what + ": " + Describe(s, jerr));
  }

  Status JetStreamTrouble(const std::string& what, natsStatus s, jsErrCode jerr) const {
    std::string why = Describe(s, jerr);
    if (const char* text = nats_GetLastError(nullptr); text != nullptr && *text != '\0')
      why += ": " + std::string(text);
    // nats-server 2.9 turns JetStream off (or wedges it) when its store ran out of space.
    const std::string hint =
        s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS
            ? "; JetStream is not answering: if nats-server's log says \"out of resources\" or \"no space left\", free "
              "space in its store_dir and restart nats-server"
            : StoreHint(why);
    return MakeError(ErrorCode::kUnavailable,
                     "JetStream at " + Redacted(o_.url) + " " + what + " (" + why + ")" + hint);
  }
  static std::string StoreHint(const std::string& why) {
    if (why.find("no space left") == std::string::npos && why.find("insufficient") == std::string::npos) return {};
    return "; JetStream's store is full: free space in nats-server's store_dir (or raise max_file_store)";
  }

  void log(LogLevel level, const std::string& line) const {
    o_.log.Log(level, [&] { return line; });
  }

  static std::string Redacted(const std::string& url) { return RedactUrlPassword(url); }

  static void OnAsyncError(natsConnection* nc, natsSubscription*, natsStatus err, void* closure) {
    auto* self = static_cast<NatsBus*>(closure);
    const char* text = nullptr;
    (void)natsConnection_GetLastError(nc, &text);
    self->log(LogLevel::kError,
              std::string("NATS: ") + (text != nullptr && *text != '\0' ? text : natsStatus_GetText(err)));
  }
  static void OnDisconnected(natsConnection* nc, void* closure) {
    if (!natsConnection_IsClosed(nc))
      static_cast<NatsBus*>(closure)->log(LogLevel::kWarn, "NATS: disconnected; reconnecting");
  }
  static void OnReconnected(natsConnection*, void* closure) {
    static_cast<NatsBus*>(closure)->log(LogLevel::kInfo, "NATS: reconnected");
  }
  static void OnPublishFailed(jsCtx*, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<NatsBus*>(closure);
    const std::string subject = natsMsg_GetSubject(pae->Msg);
    const std::string why = pae->ErrText != nullptr ? pae->ErrText : natsStatus_GetText(pae->Err);
    std::shared_ptr<StreamState> st;
    {
      std::lock_guard lock(self->mu_);
      auto it = self->streams_.find(subject);
      if (it == self->streams_.end()) return;  // deleted: nobody reads it any more
      st = it->second;
    }
    st->broken_why = why;  // read only after `broken` is seen
    st->broken = true;
    // The server refused it with a JetStream error (e.g. 10077, its store is full): Health
    // reports it. Timeouts and "no responders" (a stream leader moving in a cluster) pass.
    if (pae->ErrCode != 0) {
      std::lock_guard lock(self->trouble_mu_);
      self->refused_why_ = why;
      self->refused_at_ = Clock::now();
    }
  }

  NatsBusOptions o_;
  natsOptions* opts_ = nullptr;
  natsConnection* nc_ = nullptr;
  natsConnection* jnc_ = nullptr;  // JetStream's own connection (jetstream_connection), else null
  jsCtx* js_ = nullptr;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<StreamState>> streams_;
  std::atomic<std::uint64_t> next_inbox_{1};
  std::mutex probe_mu_;  // Health(): one probe at a time
  bool health_probe_ready_ = false;
  Clock::time_point probe_created_{};
  // The last frame the server refused (not merely unacknowledged), for Health.
  static constexpr std::chrono::seconds kRefusalsRemembered{10};
  std::mutex trouble_mu_;
  std::string refused_why_;
  Clock::time_point refused_at_{};
};

}  // namespace

std::string StreamNameOf(std::string_view channel) {
  std::string out;
  out.reserve(channel.size());
  for (char c : channel) {
    out += (c == '.' || c == '*' || c == '>' || c == ' ') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

Result<std::unique_ptr<Bus>> MakeNatsBus(const NatsBusOptions& options) {
  auto bus = std::make_unique<NatsBus>(options);
  TICKFLOW_RETURN_IF_ERROR(bus->Connect());
  return std::unique_ptr<Bus>(std::move(bus));
}

}  // namespace tickflow::bus
