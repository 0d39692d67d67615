#include "tickflow/gateway/gateway.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <type_traits>
#include <vector>

#include "stream_sender.hpp"
#include "tickflow/sbe/channels.hpp"
#include "tickflow/sbe/codec.hpp"
#include "tickflow/sbe/frame_auth.hpp"
#include "tickflow/store/symbol_patterns.hpp"

namespace tickflow::gateway {
namespace {

using Clock = std::chrono::steady_clock;
// Control-channel fairness (docs/protocol.md): answers per client, how long an
// answer may wait for room in its channel, messages handled per control frame.
constexpr double kReplyBurst = 256;
constexpr double kRepliesPerSecond = 512;
constexpr std::chrono::milliseconds kReplyWait{50};
constexpr std::size_t kMaxMessagesPerControlFrame = 64;
// Logins (each deletes and creates a data channel: JetStream admin calls of
// milliseconds) per client: a burst of 8, then one a second.
constexpr double kLoginBurst = 8;
constexpr double kLoginsPerSecond = 1;
using detail::SendStatus;
using observability::LogLevel;
// A health check waits this long for the bus; abandoned channels are looked
// for at start and then this often.
constexpr std::chrono::milliseconds kHealthWait{1000};
constexpr std::chrono::seconds kSweepEvery{30};
constexpr std::chrono::milliseconds kRecheckAfter{500};

// One running stream: its request, its thread, and its stop flag.
struct StreamTask {
  ClientId client = 0;
  sbe::StartData request;
  std::shared_ptr<sbe::SessionAuth> auth;  // null: frames go untagged
  std::atomic<bool> stop{false};
  std::atomic<bool> finished{false};
  std::thread thread;
};

struct Session {
  std::map<RequestId, std::shared_ptr<StreamTask>> streams;
  std::shared_ptr<sbe::SessionAuth> auth;  // null when frames are not authenticated
  Clock::time_point last_seen = Clock::now();
};

// `burst` at once, then `per_second`; not thread-safe (the gateway holds budget_mu_).
class TokenBucket {
 public:
  TokenBucket(double burst, double per_second)
      : burst_(burst), per_second_(per_second), tokens_(burst), refilled_(Clock::now()) {}
  bool Take(Clock::time_point now) {
    tokens_ = std::min(burst_, tokens_ + per_second_ * std::chrono::duration<double>(now - refilled_).count());
    refilled_ = now;
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  double burst_, per_second_, tokens_;
  Clock::time_point refilled_;
};

// Waits until the event at `t` is due under the replay speed; false if stopped.
class Pacer {
 public:
  using OnStart = std::function<void(UnixNanos first, Clock::time_point due)>;
  Pacer(std::uint32_t speed_permille, OnStart on_start) : speed_(speed_permille), on_start_(std::move(on_start)) {}
  bool paced() const { return speed_ != 0; }
  // Returns how long to wait before the event at t (zero if due).
  Clock::duration Due(UnixNanos t) {
    if (speed_ == 0) return Clock::duration::zero();
    const auto now = Clock::now();
    if (!started_) {
      started_ = true;
      first_ = t;
      wall0_ = now;
      if (on_start_) on_start_(first_, wall0_);
    }
    const auto offset_ns = static_cast<double>(t.ns - first_.ns) * 1000.0 / speed_;
    const auto due = wall0_ + std::chrono::nanoseconds(static_cast<std::int64_t>(offset_ns));
    return due > now ? due - now : Clock::duration::zero();
  }

 private:
  std::uint32_t speed_;
  OnStart on_start_;
  bool started_ = false;
  UnixNanos first_;
  Clock::time_point wall0_;
};

}  // namespace

class Gateway::Impl {
 public:
  Impl(bus::Bus& bus, GatewayOptions options) : bus_(bus), options_(std::move(options)) {}

  Status Start() {
    if (!options_.open_store) return MakeError(ErrorCode::kInvalidArgument, "GatewayOptions.open_store is not set");
    TICKFLOW_ASSIGN_OR_RETURN(store_, options_.open_store());
    if (options_.gateway_id == 0) {
      std::random_device rd;
      options_.gateway_id = static_cast<std::uint16_t>(1 + rd() % 65535);
    }
    const std::string pattern = sbe::ControlPattern(options_.control_channel);
    if (!bus_.HasChannel(pattern)) {
      TICKFLOW_RETURN_IF_ERROR(bus_.CreateChannel(pattern));
      owns_control_ = true;
    }
    session_prefix_ = sbe::SessionPrefix(options_.control_channel, options_.gateway_id);
    const std::string sessions = sbe::ControlPattern(session_prefix_);
    if (!bus_.HasChannel(sessions)) {
      TICKFLOW_RETURN_IF_ERROR(bus_.CreateChannel(sessions));
      owns_sessions_ = true;
    }
    TICKFLOW_ASSIGN_OR_RETURN(control_, bus_.Subscribe(pattern));
    TICKFLOW_ASSIGN_OR_RETURN(session_sub_, bus_.Subscribe(sessions));
    health_thread_ = std::thread([this] { HealthLoop(); });
    control_thread_ = std::thread([this] { ControlLoop(*control_, options_.control_channel, true); });
    session_thread_ = std::thread([this] { ControlLoop(*session_sub_, session_prefix_, false); });
    Log(LogLevel::kInfo, [&] {
      return "gateway " + std::to_string(options_.gateway_id) + " listening on " + pattern + " and " + sessions;
    });
    return {};
  }

  void Stop() {
    if (stopping_.exchange(true)) return;
    {
      std::lock_guard lock(health_mu_);
      health_cv_.notify_all();
    }
    if (health_thread_.joinable()) health_thread_.join();
    if (control_thread_.joinable()) control_thread_.join();
    if (session_thread_.joinable()) session_thread_.join();
    {
      std::lock_guard lock(mu_);
      for (auto& [id, s] : sessions_) {
        for (auto& [rid, t] : s.streams) t->stop = true;
      }
      for (auto& t : finished_) t->stop = true;
    }
    ReapFinished(true);
    std::vector<ClientId> clients;
    {
      std::lock_guard lock(mu_);
      for (const auto& [id, session] : sessions_) clients.push_back(id);
      sessions_.clear();
    }
    for (ClientId c : clients) (void)bus_.DeleteChannel(sbe::DataChannel(c));
    if (owns_control_) (void)bus_.DeleteChannel(sbe::ControlPattern(options_.control_channel));
    if (owns_sessions_) (void)bus_.DeleteChannel(sbe::ControlPattern(session_prefix_));
    Log(LogLevel::kInfo, [&] { return "gateway stopped"; });
  }

  GatewayStats stats() const {
    GatewayStats s;
    {
      std::lock_guard lock(mu_);
      s.sessions = sessions_.size();
      for (const auto& [id, session] : sessions_) {
        for (const auto& [rid, t] : session.streams) s.active_streams += !t->finished.load();
      }
    }
    s.streams_started = streams_started_.load();
    s.messages_sent = counters_.messages.load();
    s.frames_sent = counters_.frames.load();
    s.bytes_sent = counters_.bytes.load();
    s.errors_sent = errors_sent_.load();
    s.malformed_frames = malformed_.load();
    s.replies_dropped = replies_dropped_.load();
    s.sessions_expired = expired_.load();
    s.abandoned_deleted = abandoned_deleted_.load();
    s.bus_healthy = health().ok;
    {
      std::lock_guard lock(mu_);
      for (const auto& [id, session] : sessions_) {
        ClientStats c{id, 0, 0};
        for (const auto& [rid, t] : session.streams) c.active_streams += !t->finished.load();
        s.clients.push_back(c);
      }
    }
    // Asking the bus may wait (JetStream): never under the lock the control
    // thread needs, and not at all while the bus is known to be down.
    if (s.bus_healthy) {
      for (ClientStats& c : s.clients) c.queued_frames = bus_.QueuedFrames(sbe::DataChannel(c.client));
    }
    std::lock_guard lock(stats_mu_);
    s.errors_by_code = errors_by_code_;
    s.requests = requests_;
    s.request_seconds = request_seconds_;
    return s;
  }

  observability::Health health() const {
    std::lock_guard lock(health_mu_);
    return health_;
  }

 private:
  // Checks the bus every health_interval, logs each change of its state, and
  // deletes abandoned data channels at start and every kSweepEvery.
  void HealthLoop() {
    auto next_sweep = Clock::now();
    while (!stopping_.load()) {
      const bool ok = CheckHealth();
      if (ok && Clock::now() >= next_sweep) {
        DeleteAbandonedChannels();
        next_sweep = Clock::now() + std::min<Clock::duration>(kSweepEvery, options_.abandoned_after);
      }
      std::unique_lock lock(health_mu_);
      // After a first failure, look again soon: one failure alone is not
      // reported (a clustered JetStream electing a leader fails a probe).
      const auto wait = failed_checks_ == 1
                            ? std::min<std::chrono::milliseconds>(options_.health_interval, kRecheckAfter)
                            : options_.health_interval;
      health_cv_.wait_for(lock, wait, [this] { return stopping_.load(); });
    }
  }

  // Asks the bus now; true if it is healthy. The bus is reported unhealthy
  // after two failed checks in a row.
  bool CheckHealth() {
    const Status st = bus_.Health(kHealthWait);
    bool was_ok, now_ok;
    {
      std::lock_guard lock(health_mu_);
      failed_checks_ = st.ok() ? 0 : failed_checks_ + 1;
      was_ok = health_.ok;
      now_ok = failed_checks_ < 2;
      if (now_ok != was_ok) {
        health_ = now_ok ? observability::Health{} : observability::Health{false, "bus: " + st.error().message};
      } else if (!now_ok) {
        health_.detail = "bus: " + st.error().message;
      }
      bus_ok_ = now_ok;
    }
    if (was_ok && !now_ok) {
      Log(LogLevel::kError, [&] {
        return "bus unhealthy: " + st.error().message + "; logins are refused (BusUnavailable) until it recovers";
      });
    } else if (!was_ok && now_ok) {
      Log(LogLevel::kInfo, [&] { return std::string("bus healthy again: logins are served"); });
    }
    return st.ok();
  }

  void DeleteAbandonedChannels() {
    auto channels = bus_.AbandonedChannels(options_.abandoned_after);
    if (!channels.ok()) {
      Log(LogLevel::kWarn, [&] { return "cannot look for abandoned data channels: " + channels.error().message; });
      return;
    }
    for (const std::string& channel : *channels) {
      const std::string_view id_text =
          std::string_view(channel).substr(std::string_view(sbe::kDataChannelPrefix).size());
      unsigned id = 0;
      const auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
      if (ec != std::errc() || end != id_text.data() + id_text.size() || id > 65535) continue;  // not a client's
      // Under the control lock: a login of this client recreates the channel
      // and registers its session without a sweep in between.
      std::lock_guard handling(handle_mu_);
      {
        std::lock_guard lock(mu_);
        if (sessions_.contains(static_cast<ClientId>(id))) continue;
      }
      if (bus_.DeleteChannel(channel).ok()) {
        ++abandoned_deleted_;
        Log(LogLevel::kInfo, [&] {
          return "deleted abandoned data channel " + channel + ": no reader and no activity for " +
                 std::to_string(options_.abandoned_after.count()) + " s";
        });
      }
    }
  }

  // The line is built only when someone listens at its level.
  template <class MakeLine>
  void Log(LogLevel level, MakeLine&& make) const {
    options_.log.Log(level, std::forward<MakeLine>(make));
  }

  std::shared_ptr<sbe::SessionAuth> AuthOf(ClientId client) {
    std::lock_guard lock(auth_mu_);
    auto it = auth_.find(client);
    return it == auth_.end() ? nullptr : it->second;
  }

  // Sends `m` on the client's error channel, tagged with its session's key
  // when it has one; a login's ack carries the new key instead, untagged.
  template <class M>
  void Reply(ClientId client, const M& m, const sbe::SessionKey* new_key = nullptr) {
    if (!TakeReplyToken(client)) {
      ++replies_dropped_;
      return;
    }
    std::array<std::byte, 128> buf{};
    std::size_t n = sbe::Encode(m, buf);
    if (new_key != nullptr) n += sbe::Encode(*new_key, std::span(buf).subspan(n));
    const std::string channel = sbe::ErrorChannel(client);
    if (auto auth = AuthOf(client); auth != nullptr && new_key == nullptr) {
      n = sbe::FrameSigner(std::move(auth)).Sign(channel, buf, n);
      TICKFLOW_CHECK(n != 0, "no room to tag a reply");
    }
    // A short wait: a client that does not read its replies must not hold up
    // the control thread, which answers everybody.
    const auto status = bus_.Publish(channel, std::span(buf).first(n), kReplyWait);
    if (status != bus::PublishStatus::kOk) {
      ++replies_dropped_;
      if (status == bus::PublishStatus::kBackPressured) BlockReplies(client);
      Log(LogLevel::kWarn, [&] {
        return "cannot reply " + std::string(sbe::ToString(M::kType)) + " to client " + std::to_string(client) + ": " +
               bus::ToString(status);
      });
    }
  }
  // Fairness: each client gets at most kReplyBurst answers at once and
  // kRepliesPerSecond after that; a flood of requests costs the gateway one
  // decode each and its sender the answers beyond, never other clients' turns.
  // A client whose reply channel stayed full is not waited for again for a
  // second: its answers are dropped at once, so it costs kReplyWait per second.
  void BlockReplies(ClientId client) {
    std::lock_guard lock(budget_mu_);
    budgets_[client].blocked_until = Clock::now() + std::chrono::seconds(1);
  }

  bool TakeLoginToken(ClientId client) {
    std::lock_guard lock(budget_mu_);
    return budgets_[client].logins.Take(Clock::now());
  }

  bool TakeReplyToken(ClientId client) {
    std::lock_guard lock(budget_mu_);
    ClientBudget& b = budgets_[client];
    const auto now = Clock::now();
    return now >= b.blocked_until && b.replies.Take(now);
  }

  void CountError(const std::string& key) {
    std::lock_guard lock(stats_mu_);
    ++errors_by_code_[key];
  }
  void ClientErr(ClientId client, sbe::ClientErrorCode code) {
    ++errors_sent_;
    CountError(std::string("ClientError/") + sbe::ToString(code));
    Reply(client, sbe::ClientError{client, code});
  }
  void DataErr(ClientId client, RequestId request, sbe::DataErrorCode code, SymbolId symbol = sbe::kNoSymbol) {
    ++errors_sent_;
    CountError(std::string("DataError/") + sbe::ToString(code));
    Reply(client, sbe::DataError{client, request, code, symbol});
  }

  // Reads one control subscription: the shared control pattern (`prefix` is
  // the control channel) or this gateway's session pattern. Messages from
  // both are handled one at a time (HandleMessage), heartbeats aside.
  void ControlLoop(bus::Subscription& sub, const std::string& prefix, bool housekeeping) {
    bus::Frame frame;
    std::string subject;
    auto last_reap = Clock::now();
    while (!stopping_.load()) {
      const auto s = sub.Poll(&frame, std::chrono::milliseconds(50), &subject);
      if (s == bus::PollStatus::kClosed) break;
      if (s == bus::PollStatus::kFrame) {
        try {
          HandleFrame(prefix, subject, frame);
        } catch (const std::exception& e) {  // a handler error must not take the gateway down
          Log(LogLevel::kError, [&] { return std::string("control handler failed: ") + e.what(); });
        }
      }
      if (housekeeping && Clock::now() - last_reap > std::chrono::milliseconds(200)) {
        ReapFinished(false);
        ExpireSilentSessions();
        last_reap = Clock::now();
      }
    }
  }

  void HandleFrame(const std::string& prefix, const std::string& subject, std::span<const std::byte> frame) {
    const std::optional<ClientId> sender = sbe::SenderOf(prefix, subject);
    if (!sender) {
      ++malformed_;
      Log(LogLevel::kDebug, [&] { return "control frame on '" + subject + "' ignored: not <control>.<client id>"; });
      return;
    }
    sbe::FrameReader reader(frame);
    sbe::MessageView view;
    bool beat_answered = false;  // one heartbeat ack per frame, however many it holds
    for (std::size_t handled = 0; !reader.done(); ++handled) {
      if (handled == kMaxMessagesPerControlFrame) {
        ++malformed_;
        Log(LogLevel::kDebug, [&] {
          return "control frame from client " + std::to_string(*sender) + " holds more than " +
                 std::to_string(kMaxMessagesPerControlFrame) + " messages: the rest is dropped";
        });
        return ClientErr(*sender, sbe::ClientErrorCode::kMalformedMessage);
      }
      if (const auto st = reader.Next(&view); st != sbe::DecodeStatus::kOk) {
        ++malformed_;
        Log(LogLevel::kDebug, [&] {
          return std::string("malformed control frame from client ") + std::to_string(*sender) + ": " +
                 sbe::ToString(st) + " at byte " + std::to_string(reader.offset());
        });
        AnswerUndecodableStartData(*sender, frame.subspan(reader.offset()));
        return;
      }
      if (view.type() == sbe::MessageType::kClientHeartbeat) {
        if (beat_answered) continue;
        beat_answered = true;
      }
      HandleMessage(*sender, view);
    }
  }

  // A StartData whose length cannot even be read (its group claims more than
  // 1,024 entries or more bytes than the frame holds) still gets an answer.
  void AnswerUndecodableStartData(ClientId sender, std::span<const std::byte> rest) {
    sbe::StartData m;
    const sbe::DecodeStatus st = sbe::Decode(rest, &m);
    if (st == sbe::DecodeStatus::kTooManyEntries) {
      DataErr(sender, m.client_id == sender ? m.request_id : 0, sbe::DataErrorCode::kTooManySymbols);
    } else if (sbe::MessageType type; st != sbe::DecodeStatus::kOk && sbe::PeekType(rest, &type) == sbe::DecodeStatus::kOk &&
                                      type == sbe::MessageType::kStartData) {
      ClientErr(sender, sbe::ClientErrorCode::kMalformedMessage);
    }
  }

  // Decodes a message that names a client; false (after answering) when it
  // does not decode or names a client other than the sender.
  template <class M>
  bool Accept(ClientId sender, const sbe::MessageView& view, M* m) {
    if (const auto st = view.As(m); st != sbe::DecodeStatus::kOk) {
      ++malformed_;
      if (st == sbe::DecodeStatus::kTooManyEntries) {
        DataErr(sender, 0, sbe::DataErrorCode::kTooManySymbols);
      } else {
        ClientErr(sender, sbe::ClientErrorCode::kMalformedMessage);
      }
      return false;
    }
    if (m->client_id != sender) {
      Log(LogLevel::kDebug, [&] {
        return "client " + std::to_string(sender) + " sent " + sbe::ToString(M::kType) + " for client " +
               std::to_string(m->client_id) + ": refused";
      });
      ClientErr(sender, sbe::ClientErrorCode::kClientIdentityMismatch);
      return false;
    }
    // A login is judged by how long the session it would replace was silent (Login).
    if constexpr (!std::is_same_v<M, sbe::ClientLogin>) {
      std::lock_guard lock(mu_);
      if (auto it = sessions_.find(sender); it != sessions_.end()) it->second.last_seen = Clock::now();
    }
    return true;
  }

  void HandleMessage(ClientId sender, const sbe::MessageView& view) {
    // One message at a time, but for heartbeats: they touch only the session
    // table, and waiting behind a slow login (JetStream admin calls take
    // seconds while a cluster node is down) would expire live sessions.
    std::unique_lock handling(handle_mu_, std::defer_lock);
    if (view.type() != sbe::MessageType::kClientHeartbeat) handling.lock();
    switch (view.type()) {
      case sbe::MessageType::kClientLogin: {
        sbe::ClientLogin m;
        if (Accept(sender, view, &m)) Login(m.client_id);
        return;
      }
      case sbe::MessageType::kClientLogout: {
        sbe::ClientLogout m;
        if (Accept(sender, view, &m)) Logout(m.client_id);
        return;
      }
      case sbe::MessageType::kClientHeartbeat: {
        sbe::ClientHeartbeat m;
        if (Accept(sender, view, &m)) Heartbeat(m.client_id);
        return;
      }
      case sbe::MessageType::kStartData: {
        sbe::StartData m;
        if (!Accept(sender, view, &m)) return;
        const auto t0 = Clock::now();
        StartData(std::move(m));
        std::lock_guard lock(stats_mu_);
        ++requests_;
        request_seconds_.Observe(std::chrono::duration<double>(Clock::now() - t0).count());
        return;
      }
      case sbe::MessageType::kStopData: {
        sbe::StopData m;
        if (Accept(sender, view, &m)) StopData(m.client_id, m.request_id);
        return;
      }
      case sbe::MessageType::kStopAllData: {
        sbe::StopAllData m;
        if (Accept(sender, view, &m)) StopAll(m.client_id);
        return;
      }
      default:
        ++malformed_;
        Log(LogLevel::kDebug, [&] {
          return std::string("unexpected ") + sbe::ToString(view.type()) + " on the control channel from client " +
                 std::to_string(sender);
        });
        return;
    }
  }

  // Opens a session and gives the client a fresh data channel (one left over
  // from an earlier session, e.g. before a gateway restart, is replaced).
  // A login only ever comes from the client's own control channel (the bus
  // checks who publishes there), so a login for a session that has been
  // silent a while is that client starting over (it gave the gateway up for
  // dead): the stale session is replaced at once instead of refused until it
  // expires. A session heard from recently is a second login: refused.
  void Login(ClientId client) {
    if (!TakeLoginToken(client)) {
      Log(LogLevel::kDebug, [&] {
        return "login of client " + std::to_string(client) + " refused: more than " +
               std::to_string(static_cast<int>(kLoginBurst)) + " logins at once (then one a second)";
      });
      return ClientErr(client, sbe::ClientErrorCode::kClientLogInError);
    }
    bool replace = false;
    {
      std::lock_guard lock(mu_);
      if (auto it = sessions_.find(client); it != sessions_.end()) {
        const auto stale_after = std::max<Clock::duration>(options_.session_timeout / 3, std::chrono::seconds(1));
        if (Clock::now() - it->second.last_seen < stale_after) {
          return ClientErr(client, sbe::ClientErrorCode::kClientAlreadyLoggedIn);
        }
        replace = true;
      }
    }
    if (replace) {
      Log(LogLevel::kInfo, [&] {
        return "client " + std::to_string(client) + " logged in again after a silence: its old session is replaced";
      });
      (void)EndSession(client);
    }
    if (const observability::Health h = health(); !h.ok) {
      Log(LogLevel::kWarn, [&] { return "login of client " + std::to_string(client) + " refused: " + h.detail; });
      return ClientErr(client, sbe::ClientErrorCode::kClientBusUnavailable);
    }
    const std::string data = sbe::DataChannel(client);
    Status created = bus_.HasChannel(data) ? bus_.DeleteChannel(data) : Status{};
    if (created.ok()) created = bus_.CreateChannel(data);
    if (!created.ok()) {
      Log(LogLevel::kWarn, [&] {
        return "login of client " + std::to_string(client) + " failed: cannot create " + data + ": " +
               created.error().message;
      });
      // The bus may have gone bad since the last check: look again now.
      return ClientErr(client, CheckHealth() ? sbe::ClientErrorCode::kClientLogInError
                                             : sbe::ClientErrorCode::kClientBusUnavailable);
    }
    std::shared_ptr<sbe::SessionAuth> auth;
    if (options_.authenticate_frames) auth = std::make_shared<sbe::SessionAuth>(sbe::NewSessionKey());
    {
      std::lock_guard lock(mu_);
      sessions_.try_emplace(client).first->second.auth = auth;
    }
    Log(LogLevel::kInfo, [&] { return "client " + std::to_string(client) + " logged in"; });
    if (auth == nullptr) return Reply(client, sbe::ClientLoginAck{client, options_.gateway_id});
    // The key goes out untagged, beside the ack, on the client's private channel.
    const sbe::SessionKey key{client, auth->key.low, auth->key.high};
    {
      std::lock_guard lock(auth_mu_);
      auth_[client] = auth;
    }
    Reply(client, sbe::ClientLoginAck{client, options_.gateway_id}, &key);
  }

  // Ends the session's streams and deletes its data channel; false if there
  // was no session.
  bool EndSession(ClientId client) {
    {
      std::lock_guard lock(mu_);
      auto it = sessions_.find(client);
      if (it == sessions_.end()) return false;
      // Streams end on their own threads; the reaper joins them, so a client
      // that stopped reading delays nobody.
      for (auto& [rid, t] : it->second.streams) {
        t->stop = true;
        finished_.push_back(t);
      }
      sessions_.erase(it);
    }
    // While the bus is down its admin calls only time out, holding up the
    // control thread: the channel is left to the client's next login (which
    // replaces it) or to the sweep for abandoned channels.
    if (health().ok) (void)bus_.DeleteChannel(sbe::DataChannel(client));
    return true;
  }

  void Logout(ClientId client) {
    if (!EndSession(client)) return ClientErr(client, sbe::ClientErrorCode::kClientNotLoggedIn);
    Log(LogLevel::kInfo, [&] { return "client " + std::to_string(client) + " logged out"; });
    Reply(client, sbe::ClientLogoutAck{client});  // still tagged with the ended session's key
    ForgetAuth(client);
  }

  void ForgetAuth(ClientId client) {
    std::lock_guard lock(auth_mu_);
    auth_.erase(client);
  }

  void Heartbeat(ClientId client) {
    bool known;
    {
      std::lock_guard lock(mu_);
      known = sessions_.contains(client);
    }
    if (!known) return ClientErr(client, sbe::ClientErrorCode::kClientNotLoggedIn);
    Reply(client, sbe::ClientHeartbeatAck{client});
  }

  void ExpireSilentSessions() {
    std::vector<ClientId> silent;
    {
      std::lock_guard lock(mu_);
      const auto now = Clock::now();
      for (const auto& [id, session] : sessions_) {
        if (now - session.last_seen > options_.session_timeout) silent.push_back(id);
      }
    }
    for (ClientId c : silent) {
      if (!EndSession(c)) continue;
      ForgetAuth(c);
      ++expired_;
      Log(LogLevel::kInfo, [&] {
        return "client " + std::to_string(c) + " expired: nothing heard for " +
               std::to_string(options_.session_timeout.count()) + " ms; its streams and data channel are gone";
      });
    }
  }

  void StopData(ClientId client, RequestId request) {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(client);
    if (it == sessions_.end()) return ClientErr(client, sbe::ClientErrorCode::kClientNotLoggedIn);
    auto s = it->second.streams.find(request);
    if (s == it->second.streams.end() || s->second->finished.load()) {
      return DataErr(client, request, sbe::DataErrorCode::kUnknownRequest);
    }
    s->second->stop = true;
  }

  void StopAll(ClientId client) {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(client);
    if (it == sessions_.end()) return ClientErr(client, sbe::ClientErrorCode::kClientNotLoggedIn);
    for (auto& [rid, t] : it->second.streams) t->stop = true;
  }

  void StartData(sbe::StartData req) {
    const ClientId client = req.client_id;
    const RequestId rid = req.request_id;
    {
      std::lock_guard lock(mu_);
      auto it = sessions_.find(client);
      if (it == sessions_.end()) return ClientErr(client, sbe::ClientErrorCode::kClientNotLoggedIn);
      auto s = it->second.streams.find(rid);
      if (s != it->second.streams.end() && !s->second->finished.load()) {
        return DataErr(client, rid, sbe::DataErrorCode::kDuplicateRequest);
      }
    }
    if (req.data_type != sbe::DataType::kTrades && req.data_type != sbe::DataType::kBars) {
      return DataErr(client, rid, sbe::DataErrorCode::kDataTypeNotKnown);
    }
    if (req.data_type == sbe::DataType::kBars && !IsValid(req.resolution)) {
      return DataErr(client, rid, sbe::DataErrorCode::kResolutionNotKnown);
    }
    if (!req.patterns.empty()) {  // globs: expanded here, so a remote client needs no symbol list
      auto known = store_->ListSymbols();
      if (!known.ok()) return DataErr(client, rid, sbe::DataErrorCode::kDataUnavailable);
      std::map<std::string, SymbolId, std::less<>> id_of;
      for (const store::SymbolInfo& k : *known) id_of.emplace(k.symbol, k.id);
      for (std::size_t i = 0; i < req.patterns.size(); ++i) {
        const std::string pattern[] = {req.patterns[i]};
        auto names = store::ExpandSymbolPatterns(pattern, *known);
        if (!names.ok()) {
          return DataErr(client, rid, sbe::DataErrorCode::kPatternMatchesNothing, static_cast<SymbolId>(i));
        }
        bool matched = false;
        for (const std::string& name : *names) {
          // A plain name comes back as it is, found or not: only a known one counts.
          const auto id = id_of.find(name);
          if (id == id_of.end()) continue;
          matched = true;
          if (std::find(req.symbols.begin(), req.symbols.end(), id->second) == req.symbols.end()) {
            req.symbols.push_back(id->second);  // each symbol once, after those named by id
          }
        }
        if (!matched) return DataErr(client, rid, sbe::DataErrorCode::kPatternMatchesNothing, static_cast<SymbolId>(i));
      }
      if (req.symbols.size() > sbe::kMaxSymbolsPerRequest) {
        return DataErr(client, rid, sbe::DataErrorCode::kTooManySymbols);
      }
    }
    if (req.symbols.empty()) return DataErr(client, rid, sbe::DataErrorCode::kSymbolNotFound);
    if (req.speed_permille > sbe::kMaxSpeedPermille) return DataErr(client, rid, sbe::DataErrorCode::kInvalidSpeed);
    {
      std::vector<SymbolId> sorted = req.symbols;
      std::sort(sorted.begin(), sorted.end());
      if (auto dup = std::adjacent_find(sorted.begin(), sorted.end()); dup != sorted.end()) {
        return DataErr(client, rid, sbe::DataErrorCode::kDuplicateSymbol, *dup);
      }
    }
    const UnixNanos to = req.to == UnixNanos::Min() ? UnixNanos::Max() : req.to;
    if (req.from != UnixNanos::Min() && req.from >= to) {
      return DataErr(client, rid, sbe::DataErrorCode::kInvalidTimeRange);
    }
    for (SymbolId s : req.symbols) {
      auto found = store_->FindSymbol(s);
      if (!found.ok()) {
        return DataErr(client, rid,
                       found.error().code == ErrorCode::kNotFound ? sbe::DataErrorCode::kSymbolNotFound
                                                                   : sbe::DataErrorCode::kDataUnavailable,
                       s);
      }
    }
    auto task = std::make_shared<StreamTask>();
    task->client = client;
    task->request = std::move(req);
    {
      std::lock_guard lock(mu_);
      auto it = sessions_.find(client);
      if (it == sessions_.end()) return;
      task->auth = it->second.auth;
      std::size_t active = 0, open_symbols = 0, own = 0;
      for (const auto& [id, session] : sessions_) {
        for (const auto& [r, t] : session.streams) {
          if (t->finished.load()) continue;
          ++active;
          open_symbols += t->request.symbols.size();
          own += id == client;
        }
      }
      if (own >= options_.max_streams_per_client) return DataErr(client, rid, sbe::DataErrorCode::kTooManyStreams);
      if (active >= options_.max_streams || open_symbols + task->request.symbols.size() > options_.max_open_symbols) {
        Log(LogLevel::kWarn, [&] {
          return "stream " + std::to_string(rid) + " of client " + std::to_string(client) +
                 " refused: " + std::to_string(active) + " streams with " + std::to_string(open_symbols) +
                 " symbols running (limits: max_streams " + std::to_string(options_.max_streams) +
                 ", max_open_symbols " + std::to_string(options_.max_open_symbols) + ")";
        });
        return DataErr(client, rid, sbe::DataErrorCode::kDataUnavailable);
      }
      if (auto old = it->second.streams.find(rid); old != it->second.streams.end()) {
        finished_.push_back(old->second);  // a finished stream with the same id: reaped later
        it->second.streams.erase(old);
      }
      it->second.streams[rid] = task;
    }
    Reply(client, sbe::StartDataAck{client, rid, static_cast<std::uint16_t>(task->request.symbols.size())});
    ++streams_started_;
    task->thread = std::thread([this, task] { RunStream(*task); });
  }

  // Joins the threads of streams that have finished (all of them when the
  // gateway stops) and forgets them.
  void ReapFinished(bool all) {
    std::vector<std::shared_ptr<StreamTask>> done;
    {
      std::lock_guard lock(mu_);
      for (auto& [id, session] : sessions_) {
        for (auto it = session.streams.begin(); it != session.streams.end();) {
          if (all || it->second->finished.load()) {
            done.push_back(it->second);
            it = session.streams.erase(it);
          } else {
            ++it;
          }
        }
      }
      for (auto it = finished_.begin(); it != finished_.end();) {
        if (all || (*it)->finished.load()) {
          done.push_back(*it);
          it = finished_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& t : done) {
      if (t->thread.joinable()) t->thread.join();
    }
  }

  void RunStream(StreamTask& task) {
    const sbe::StartData& req = task.request;
    detail::StreamSender sender(bus_, sbe::DataChannel(task.client), req.request_id, options_.messages_per_frame,
                                options_.publish_wait, options_.stalled_client, task.stop, counters_, task.auth,
                                &bus_ok_);
    const bool trades = req.data_type == sbe::DataType::kTrades;
    // 64-bit: a stream may pass 2^32 messages; data messages carry the low 32 bits.
    std::uint64_t sent = 0;
    SendStatus status = trades ? sender.Append(sbe::FirstTradeBar{req.request_id})
                               : sender.Append(sbe::FirstDataBar{req.request_id, req.resolution});
    Status store_status;
    if (status == SendStatus::kOk) {
      store_status = trades ? StreamTrades(task, sender, &sent, &status) : StreamBars(task, sender, &sent, &status);
    }
    sbe::StreamEndReason reason = sbe::StreamEndReason::kCompleted;
    if (!store_status.ok()) {
      Log(LogLevel::kWarn, [&] {
        return "stream " + std::to_string(req.request_id) + " of client " + std::to_string(task.client) +
               " failed: " + store_status.error().message;
      });
      DataErr(task.client, req.request_id, sbe::DataErrorCode::kDataUnavailable);
      reason = sbe::StreamEndReason::kFailed;
    } else if (status == SendStatus::kStopped || task.stop.load()) {
      reason = stopping_.load() ? sbe::StreamEndReason::kFailed : sbe::StreamEndReason::kStopped;
    } else if (status == SendStatus::kStalled) {
      reason = sbe::StreamEndReason::kFailed;
      Log(LogLevel::kInfo, [&] {
        return "client " + std::to_string(task.client) + " stopped reading; stream " + std::to_string(req.request_id) +
               " ended";
      });
      DataErr(task.client, req.request_id,
              sbe::DataErrorCode::kDataChannelError);  // the Last marker may never get through
    } else if (status == SendStatus::kBroken) {
      reason = sbe::StreamEndReason::kFailed;
      Log(LogLevel::kWarn, [&] {
        return "stream " + std::to_string(req.request_id) + " of client " + std::to_string(task.client) +
               " broken: " + (bus_ok_ ? std::string("the bus lost frames") : health().detail) +
               "; the client can resume after its last sequence";
      });
      DataErr(task.client, req.request_id, sbe::DataErrorCode::kDataSendError);
    }
    if (status != SendStatus::kClientGone) {
      if (trades) {
        (void)sender.Append(sbe::LastTradeBar{req.request_id, sent, reason});
      } else {
        (void)sender.Append(sbe::LastDataBar{req.request_id, sent, reason});
      }
      (void)sender.Flush(/*ignore_stop=*/true);
    } else {
      Log(LogLevel::kInfo, [&] {
        return "client " + std::to_string(task.client) + " went away during stream " + std::to_string(req.request_id);
      });
    }
    task.finished = true;
  }

  // Sleeps until `wait` has passed, looking at the stop flag every 20 ms. The
  // last 200 us are spent yielding instead of sleeping: a sleeping thread wakes
  // up to a few hundred microseconds late here, which a paced event would carry.
  static bool SleepUnlessStopped(Clock::duration wait, const StreamTask& task) {
    constexpr auto kSpin = std::chrono::microseconds(200);
    const auto until = Clock::now() + wait;
    for (auto now = Clock::now(); now < until; now = Clock::now()) {
      if (task.stop.load(std::memory_order_relaxed)) return false;
      if (until - now > kSpin) {
        std::this_thread::sleep_for(std::min<Clock::duration>(until - now - kSpin, std::chrono::milliseconds(20)));
      } else {
        std::this_thread::yield();
      }
    }
    return true;
  }

  // What a paced stream reports when it starts (GatewayOptions::on_paced_start).
  Pacer::OnStart PaceAnchor(const StreamTask& task) const {
    if (task.request.speed_permille == 0) return {};
    return [this, &task](UnixNanos first, Clock::time_point due) {
      if (options_.on_paced_start) options_.on_paced_start(task.client, task.request.request_id, first, due);
      Log(LogLevel::kDebug, [&] {
        return "paced stream " + std::to_string(task.request.request_id) + " of client " + std::to_string(task.client) +
               " at " + std::to_string(task.request.speed_permille) + " permille: event time " +
               std::to_string(first.ns) + " due at steady " +
               std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(due.time_since_epoch()).count()) +
               " ns";
      });
    };
  }

  // How many of the store's rows a stream skips (resuming after `resume_after`
  // messages), with *sent set to the messages counted as sent before the
  // store's first row: GatewayOptions::sequence_offset, 0 but in tests.
  std::uint64_t SkipBefore(const StreamTask& task, std::uint64_t* sent) const {
    *sent = options_.sequence_offset;
    const std::uint64_t resume = task.request.resume_after;
    return resume > options_.sequence_offset ? resume - options_.sequence_offset : 0;
  }

  // Paces, then appends. Returns false when the stream must end.
  template <class M>
  bool Emit(StreamTask& task, detail::StreamSender& sender, Pacer& pacer, UnixNanos time, const M& m,
            SendStatus* status) {
    if (pacer.paced()) {
      if (const auto wait = pacer.Due(time); wait > Clock::duration::zero()) {
        if ((*status = sender.Flush()) != SendStatus::kOk) return false;  // deliver what is due now
        if (!SleepUnlessStopped(wait, task)) {
          *status = SendStatus::kStopped;
          return false;
        }
      }
    }
    *status = sender.Append(m);
    return *status == SendStatus::kOk && !task.stop.load(std::memory_order_relaxed);
  }

  store::TimeRange RangeOf(const sbe::StartData& req) const {
    store::TimeRange r;
    r.from = req.from;
    if (req.to != UnixNanos::Min()) r.to = req.to;
    return r;
  }

  Status StreamTrades(StreamTask& task, detail::StreamSender& sender, std::uint64_t* sent, SendStatus* status) {
    TICKFLOW_ASSIGN_OR_RETURN(auto store, options_.open_store());
    // Opening and priming 1,024 symbols costs a block each (a query each on ClickHouse):
    // the stop flag is looked at in between.
    const auto stopped = [&task] { return task.stop.load(); };
    auto opened = store::ReadTrades(*store, task.request.symbols, RangeOf(task.request), stopped);
    if (!opened.ok() && opened.error().code == ErrorCode::kCancelled && stopped()) return {};
    TICKFLOW_ASSIGN_OR_RETURN(auto cursor, std::move(opened));
    Pacer pacer(task.request.speed_permille, PaceAnchor(task));
    std::uint64_t skip = SkipBefore(task, sent);
    while (true) {
      auto next = cursor->NextView();
      if (!next.ok() && next.error().code == ErrorCode::kCancelled && stopped()) return {};
      TICKFLOW_ASSIGN_OR_RETURN(std::span<const Trade> batch, std::move(next));
      if (batch.empty()) return {};
      if (skip > 0) {  // resuming: the first `resume_after` trades were delivered before
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(skip, batch.size()));
        batch = batch.subspan(n);
        skip -= n;
        *sent += n;
      }
      for (const Trade& t : batch) {
        if (!Emit(task, sender, pacer, t.time,
                  sbe::TradeBar{t.symbol, static_cast<std::uint32_t>(*sent + 1), t.time, t.price, t.volume}, status)) {
          if (*status == SendStatus::kOk) ++*sent;  // appended, then a stop was seen
          return {};
        }
        ++*sent;
      }
    }
  }

  Status StreamBars(StreamTask& task, detail::StreamSender& sender, std::uint64_t* sent, SendStatus* status) {
    TICKFLOW_ASSIGN_OR_RETURN(auto store, options_.open_store());
    const auto stopped = [&task] { return task.stop.load(); };
    auto opened = store::ReadBars(*store, task.request.symbols, task.request.resolution, RangeOf(task.request), stopped);
    if (!opened.ok() && opened.error().code == ErrorCode::kCancelled && stopped()) return {};
    TICKFLOW_ASSIGN_OR_RETURN(auto cursor, std::move(opened));
    Pacer pacer(task.request.speed_permille, PaceAnchor(task));
    std::vector<store::SymbolBar> batch(1024);
    std::uint64_t skip = SkipBefore(task, sent);
    while (true) {
      auto next = cursor->Next(batch);
      if (!next.ok() && next.error().code == ErrorCode::kCancelled && stopped()) return {};
      TICKFLOW_ASSIGN_OR_RETURN(const std::size_t n, std::move(next));
      if (n == 0) return {};
      const auto first = static_cast<std::size_t>(std::min<std::uint64_t>(skip, n));  // resuming: delivered before
      skip -= first;
      *sent += first;
      for (std::size_t i = first; i < n; ++i) {
        const Bar& b = batch[i].bar;
        const sbe::DataBar m{
            batch[i].symbol, static_cast<std::uint32_t>(*sent + 1), b.time, b.open, b.high, b.low, b.close, b.volume,
            b.trades};
        if (!Emit(task, sender, pacer, b.time, m, status)) {
          if (*status == SendStatus::kOk) ++*sent;
          return {};
        }
        ++*sent;
      }
    }
  }

  bus::Bus& bus_;
  GatewayOptions options_;
  std::unique_ptr<store::Store> store_;  // control thread only
  std::unique_ptr<bus::Subscription> control_, session_sub_;
  bool owns_control_ = false, owns_sessions_ = false;
  std::string session_prefix_;  // <control>.s.<gateway id>
  std::thread control_thread_, session_thread_, health_thread_;
  mutable std::mutex health_mu_;
  std::condition_variable health_cv_;
  observability::Health health_;
  int failed_checks_ = 0;           // in a row; under health_mu_
  std::atomic<bool> bus_ok_{true};  // health_.ok, for the stream threads
  std::mutex handle_mu_;  // one control message at a time (the control store connection is not shared)
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::map<ClientId, Session> sessions_;
  std::mutex auth_mu_;  // never held while taking mu_
  std::map<ClientId, std::shared_ptr<sbe::SessionAuth>> auth_;  // sessions' keys, for replies
  struct ClientBudget {
    TokenBucket replies{kReplyBurst, kRepliesPerSecond};
    TokenBucket logins{kLoginBurst, kLoginsPerSecond};
    Clock::time_point blocked_until{};  // its reply channel stayed full: answers dropped until then
  };
  std::mutex budget_mu_;
  std::map<ClientId, ClientBudget> budgets_;  // at most 65,536 entries: one per client id
  std::atomic<std::uint64_t> replies_dropped_{0};
  std::vector<std::shared_ptr<StreamTask>> finished_;
  detail::SenderCounters counters_;
  std::atomic<std::uint64_t> streams_started_{0};
  std::atomic<std::uint64_t> errors_sent_{0};
  std::atomic<std::uint64_t> malformed_{0};
  std::atomic<std::uint64_t> expired_{0};
  std::atomic<std::uint64_t> abandoned_deleted_{0};
  mutable std::mutex stats_mu_;
  std::map<std::string, std::uint64_t> errors_by_code_;
  std::uint64_t requests_ = 0;
  observability::Histogram request_seconds_ = observability::Histogram::Latency();
};

Result<std::unique_ptr<Gateway>> Gateway::Start(bus::Bus& bus, GatewayOptions options) {
  auto impl = std::make_unique<Impl>(bus, std::move(options));
  TICKFLOW_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Gateway::~Gateway() { Stop(); }
void Gateway::Stop() { impl_->Stop(); }
GatewayStats Gateway::stats() const { return impl_->stats(); }
observability::Health Gateway::health() const { return impl_->health(); }

void WriteMetrics(const GatewayStats& s, observability::MetricsWriter& out) {
  out.Gauge("tickflow_gateway_sessions", "Clients logged in", static_cast<double>(s.sessions));
  out.Gauge("tickflow_gateway_active_streams", "Streams running", static_cast<double>(s.active_streams));
  out.Counter("tickflow_gateway_streams_started_total", "Streams started", static_cast<double>(s.streams_started));
  out.Counter("tickflow_gateway_messages_sent_total", "Messages sent in data frames (data and stream markers)",
              static_cast<double>(s.messages_sent));
  out.Counter("tickflow_gateway_frames_sent_total", "Bus frames sent", static_cast<double>(s.frames_sent));
  out.Counter("tickflow_gateway_bytes_sent_total", "Bytes sent in data frames", static_cast<double>(s.bytes_sent));
  out.Counter("tickflow_gateway_malformed_frames_total", "Control frames that did not decode",
              static_cast<double>(s.malformed_frames));
  out.Counter("tickflow_gateway_replies_dropped_total",
              "Answers not sent: beyond a client's reply budget (a flood) or its full reply channel",
              static_cast<double>(s.replies_dropped));
  out.Gauge("tickflow_gateway_bus_up", "1 if the last health check of the bus passed (see /healthz)",
            s.bus_healthy ? 1 : 0);
  out.Counter("tickflow_gateway_abandoned_channels_deleted_total",
              "Data channels deleted because nobody read or wrote them (client and gateway died together)",
              static_cast<double>(s.abandoned_deleted));
  out.Counter("tickflow_gateway_sessions_expired_total", "Sessions ended because the client fell silent",
              static_cast<double>(s.sessions_expired));
  for (const auto& [code, n] : s.errors_by_code) {
    out.Counter("tickflow_gateway_errors_total", "Error messages sent to clients, by code", static_cast<double>(n),
                {{"code", code}});
  }
  out.Histogram("tickflow_gateway_request_seconds", "Time from StartData to its answer (ack or error), in seconds",
                s.request_seconds);
  for (const ClientStats& c : s.clients) {
    const observability::Labels l = {{"client", std::to_string(c.client)}};
    out.Gauge("tickflow_gateway_client_lag_frames", "Frames waiting in the client's data channel",
              static_cast<double>(c.queued_frames), l);
    out.Gauge("tickflow_gateway_client_streams", "Streams running per client", static_cast<double>(c.active_streams), l);
  }
}

}  // namespace tickflow::gateway
