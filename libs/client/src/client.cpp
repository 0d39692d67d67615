#include "tickflow/client/client.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "tickflow/sbe/channels.hpp"
#include "tickflow/sbe/codec.hpp"
#include "tickflow/sbe/frame_auth.hpp"

namespace tickflow::client {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kFailureCauseWait{500};  // for the DataError of a Failed stream

template <class M>
Status Send(bus::Bus& bus, const std::string& channel, const M& m, std::chrono::milliseconds wait) {
  std::vector<std::byte> buf(sbe::EncodedSize(m));
  if (sbe::Encode(m, buf) == 0) {
    return MakeError(ErrorCode::kInvalidArgument, std::string("cannot encode ") + sbe::ToString(M::kType));
  }
  const auto status = bus.Publish(channel, buf, wait);
  if (status != bus::PublishStatus::kOk) {
    return MakeError(ErrorCode::kUnavailable, std::string("cannot send ") + sbe::ToString(M::kType) + " on " + channel +
                                                  ": " + bus::ToString(status));
  }
  return {};
}

std::string Describe(const StreamError& e) {
  std::string s = std::string("request ") + std::to_string(e.request) + " refused: " + sbe::ToString(e.code);
  if (e.symbol != sbe::kNoSymbol) s += " (symbol id " + std::to_string(e.symbol) + ")";
  return s;
}

}  // namespace

class Stream::State {
 public:
  enum class Phase : std::uint8_t { kPending, kAccepted, kRejected, kEnded };

  State(RequestId id, std::optional<Callbacks> cb, std::size_t queue_limit, bus::Bus* bus, std::string control,
        ClientId client, std::uint64_t resume_after, std::vector<std::string> patterns)
      : id_(id),
        cb_(cb ? std::move(*cb) : Callbacks{}),
        pull_(!cb),
        queue_limit_(queue_limit),
        bus_(bus),
        control_(std::move(control)),
        client_(client),
        patterns_(std::move(patterns)),
        expected_(resume_after + 1) {}

  // Held while this stream's callbacks may run (the receive thread holds it for
  // the stream's messages of a frame, the response thread around on_error), so
  // that Release waits for a running callback. Recursive: a callback may drop
  // its own stream's handle.
  std::unique_lock<std::recursive_mutex> EnterCallbacks() { return std::unique_lock(callback_mu_); }

  // Receive thread ------------------------------------------------------------
  // The batched trades so far (Callbacks::on_trades), delivered before any other
  // event of the stream and at the end of each frame.
  void Flush() {
    if (batch_.empty()) return;
    if (!released_.load(std::memory_order_relaxed)) cb_.on_trades(TradeBatch{id_, batch_first_, batch_});
    batch_.clear();
  }

  void OnStart() {
    Flush();
    Deliver([&] { return StreamStart{id_}; },
            [&] {
              if (cb_.on_start) cb_.on_start(id_);
            });
  }

  // The 64-bit sequence of a data message whose low 32 bits are `low`: the one
  // nearest the expected sequence (ahead by less than 2^31, or behind), so the
  // wire's 32-bit field wraps without the stream noticing.
  std::uint64_t Extend(std::uint32_t low) const {
    const auto ahead = static_cast<std::uint32_t>(low - static_cast<std::uint32_t>(expected_));
    if (ahead < 0x80000000u) return expected_ + ahead;
    const std::uint64_t behind = (std::uint64_t{1} << 32) - ahead;
    return behind > expected_ ? 0 : expected_ - behind;
  }

  std::uint64_t CheckSequence(std::uint32_t low) {
    const std::uint64_t seq = Extend(low);
    if (seq != expected_) [[unlikely]] {
      Flush();
      const Gap gap{id_, expected_, seq};
      if (seq > expected_) missing_ += seq - expected_;
      Deliver([&] { return gap; },
              [&] {
                if (cb_.on_gap) cb_.on_gap(gap);
              });
    }
    expected_ = seq + 1;
    ++received_;
    return seq;
  }

  void OnTrade(const sbe::TradeBar& m) {
    const std::uint64_t seq = CheckSequence(m.sequence);
    if (cb_.on_trades) {
      if (batch_.empty()) batch_first_ = seq;
      batch_.push_back(Trade{m.time, m.price, m.volume, m.symbol_id});
      if (batch_.size() >= kMaxBatch) Flush();
      return;
    }
    const TradeEvent t{id_, seq, Trade{m.time, m.price, m.volume, m.symbol_id}};
    Deliver([&] { return t; },
            [&] {
              if (cb_.on_trade) cb_.on_trade(t);
            });
  }

  void OnBar(const sbe::DataBar& m) {
    Flush();
    const std::uint64_t seq = CheckSequence(m.sequence);
    const BarEvent b{id_, seq, m.symbol_id, Bar{m.time, m.open, m.high, m.low, m.close, m.volume, m.trade_count}};
    Deliver([&] { return b; },
            [&] {
              if (cb_.on_bar) cb_.on_bar(b);
            });
  }

  void OnEnd(std::uint64_t sent, sbe::StreamEndReason reason) {
    Flush();
    if (sent + 1 > expected_) missing_ += sent + 1 - expected_;  // lost at the tail
    const StreamEnd end{id_, reason, sent, received_, missing_};
    Deliver([&] { return end; },
            [&] {
              if (cb_.on_end) cb_.on_end(end);
            });
    std::lock_guard lock(mu_);
    end_ = end;
    phase_ = Phase::kEnded;
    cv_.notify_all();
  }

  void OnAck() {
    std::lock_guard lock(mu_);
    if (phase_ == Phase::kPending) phase_ = Phase::kAccepted;
    cv_.notify_all();
  }

  void OnDataError(StreamError err) {
    if (err.code == sbe::DataErrorCode::kPatternMatchesNothing && err.symbol < patterns_.size()) {
      err.message = "request " + std::to_string(id_) + " refused: symbol pattern '" + patterns_[err.symbol] +
                    "' matches no symbol in the gateway's store";
    }
    bool rejected = false;
    {
      std::lock_guard lock(mu_);
      if (phase_ == Phase::kPending) {
        phase_ = Phase::kRejected;
        error_ = err;
        rejected = true;
        cv_.notify_all();
      }
    }
    if (!rejected) {
      const auto in_callbacks = EnterCallbacks();
      Deliver([&] { return err; },
              [&] {
                if (cb_.on_error) cb_.on_error(err);
              });
      std::lock_guard lock(mu_);
      error_seen_ = true;
      cv_.notify_all();
    }
  }

  // Ends the stream locally (client closing, gateway gone).
  void Abandon(const std::string& why) {
    std::lock_guard lock(mu_);
    if (phase_ == Phase::kEnded || phase_ == Phase::kRejected) return;
    error_ = StreamError{id_, sbe::DataErrorCode::kDataChannelError, sbe::kNoSymbol, why};
    phase_ = Phase::kRejected;
    closing_ = true;
    if (pull_) {
      // A pull-style reader sees why its stream ended, after the events already queued (beyond the
      // queue's bound: nothing more is queued after it).
      queue_.emplace_back(error_);
    }
    cv_.notify_all();
  }

  // Caller threads --------------------------------------------------------------
  // Waits for the gateway's verdict on the request.
  Status AwaitAck(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return phase_ != Phase::kPending; })) {
      return MakeError(ErrorCode::kUnavailable, "no answer from the gateway to request " + std::to_string(id_) +
                                                    " within " + std::to_string(timeout.count()) + " ms");
    }
    if (phase_ == Phase::kRejected) {
      const bool not_found = error_.code == sbe::DataErrorCode::kSymbolNotFound ||
                             error_.code == sbe::DataErrorCode::kPatternMatchesNothing;
      return MakeError(not_found ? ErrorCode::kNotFound : ErrorCode::kInvalidArgument,
                       error_.message.empty() ? Describe(error_) : error_.message);
    }
    return {};
  }

  Result<StreamEnd> Wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return phase_ == Phase::kEnded || phase_ == Phase::kRejected; })) {
      return MakeError(ErrorCode::kUnavailable,
                       "stream " + std::to_string(id_) + " did not end within " + std::to_string(timeout.count()) + " ms");
    }
    if (phase_ == Phase::kRejected) return MakeError(ErrorCode::kUnavailable, error_.message.empty() ? Describe(error_) : error_.message);
    // The DataError explaining a failure travels on the error channel and may
    // come just after the Last marker: give it a moment, so on_error has run
    // (and the cause is known) when Wait returns.
    if (end_.reason == sbe::StreamEndReason::kFailed) {
      cv_.wait_for(lock, kFailureCauseWait, [&] { return error_seen_; });
    }
    return end_;
  }

  std::optional<Event> Next(std::chrono::milliseconds timeout) {
    if (!pull_) return std::nullopt;
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || (phase_ == Phase::kRejected); })) {
      return std::nullopt;
    }
    if (queue_.empty()) return std::nullopt;
    std::optional<Event> e(std::move(queue_.front()));
    queue_.pop_front();
    cv_.notify_all();
    return e;
  }

  bool done() const {
    std::lock_guard lock(mu_);
    return phase_ == Phase::kEnded || phase_ == Phase::kRejected;
  }

  Status Stop(std::chrono::milliseconds wait) { return Send(*bus_, control_, sbe::StopData{client_, id_}, wait); }

  bool pull() const { return pull_; }

  // The handle is gone: nothing more is delivered or queued, a callback running
  // on another thread is waited for, and a running stream is stopped at the
  // gateway (its Last marker then ends it here as usual).
  void Release() {
    bool running;
    {
      std::lock_guard lock(mu_);
      released_.store(true, std::memory_order_relaxed);
      running = phase_ == Phase::kPending || phase_ == Phase::kAccepted;
      closing_ = true;  // a pull-style delivery waiting for room gives up
      queue_.clear();
      cv_.notify_all();
    }
    { const std::lock_guard wait_for_callbacks(callback_mu_); }
    // After Close every stream has ended (Abandon), so this never reaches a closed client's bus.
    if (running) (void)Stop(kReleaseStopWait);
  }

 private:
  // Callback mode calls `call`; pull mode queues the event `make` returns (waiting for room).
  template <class Make, class Call>
  void Deliver(Make make, Call call) {
    if (!pull_) {
      if (!released_.load(std::memory_order_relaxed)) call();
      return;
    }
    Event e = make();
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return queue_.size() < queue_limit_ || closing_; });
    if (closing_) return;
    queue_.push_back(std::move(e));
    cv_.notify_all();
  }

  const RequestId id_;
  const Callbacks cb_;
  const bool pull_;
  const std::size_t queue_limit_;
  bus::Bus* bus_;
  const std::string control_;
  const ClientId client_;
  const std::vector<std::string> patterns_;  // the request's, to name one in an error
  // Receive thread only.
  static constexpr std::size_t kMaxBatch = 1024;  // a frame holds fewer; bounds the buffer whatever arrives
  std::vector<Trade> batch_;
  std::uint64_t batch_first_ = 0;
  std::uint64_t expected_;
  std::uint64_t received_ = 0;
  std::uint64_t missing_ = 0;
  // Shared.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Phase phase_ = Phase::kPending;
  StreamEnd end_;
  StreamError error_;
  bool error_seen_ = false;  // a DataError was delivered after the ack
  std::deque<Event> queue_;
  bool closing_ = false;
  // Set by Release, under mu_ and before callback_mu_ is taken: read by the
  // callback threads under callback_mu_, so a relaxed atomic suffices.
  std::atomic<bool> released_{false};
  std::recursive_mutex callback_mu_;
  static constexpr std::chrono::milliseconds kReleaseStopWait{200};
};

Result<StreamEnd> Stream::Wait(std::chrono::milliseconds timeout) { return state_->Wait(timeout); }
Status Stream::Stop() { return state_->Stop(std::chrono::milliseconds(1000)); }
std::optional<Event> Stream::Next(std::chrono::milliseconds timeout) { return state_->Next(timeout); }
bool Stream::done() const { return state_->done(); }
bool Stream::pull() const { return state_->pull(); }
Stream::~Stream() {
  if (state_) state_->Release();
}

class Client::Impl {
 public:
  explicit Impl(const ClientOptions& o)
      : options_(o),
        bus_(*o.bus),
        control_(sbe::ControlChannel(o.control_channel, o.client_id)),
        data_(sbe::DataChannel(o.client_id)),
        errors_(sbe::ErrorChannel(o.client_id)) {}

  Status Open() {
    if (auto s = bus_.CreateChannel(errors_); !s.ok()) {
      if (s.error().code == ErrorCode::kAlreadyExists) {
        return MakeError(ErrorCode::kAlreadyExists, "client id " + std::to_string(options_.client_id) +
                                                        " is in use: channel " + errors_ + " exists");
      }
      return s;
    }
    errors_created_ = true;
    if (!bus_.HasChannel(sbe::ControlPattern(options_.control_channel))) {
      return MakeError(ErrorCode::kUnavailable, "no gateway serves the control channel " + options_.control_channel +
                                                    ": start one first (the channel does not exist)");
    }
    TICKFLOW_ASSIGN_OR_RETURN(error_sub_, bus_.Subscribe(errors_));
    responder_ = std::thread([this] { ResponseLoop(); });
    TICKFLOW_RETURN_IF_ERROR(LogIn());
    if (options_.heartbeat.count() > 0) heartbeat_ = std::thread([this] { HeartbeatLoop(); });
    return {};
  }

  Result<std::unique_ptr<Stream>> Request(const client::Request& r, sbe::DataType type, TimeResolution res,
                                          std::optional<Callbacks> cb) {
    if (cb && type == sbe::DataType::kTrades && !cb->on_trade && !cb->on_trades) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "RequestTrades with callbacks needs on_trade or on_trades (a request without callbacks is "
                       "pull-style: read its events with Stream::Next)");
    }
    if (cb && type == sbe::DataType::kBars && !cb->on_bar) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "RequestBars with callbacks needs on_bar (a request without callbacks is pull-style: read its "
                       "events with Stream::Next)");
    }
    if (r.symbols.empty() && r.patterns.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "a request needs at least one symbol or symbol pattern");
    }
    if (r.patterns.size() > sbe::kMaxPatternsPerRequest) {
      return MakeError(ErrorCode::kInvalidArgument, "at most " + std::to_string(sbe::kMaxPatternsPerRequest) +
                                                        " symbol patterns per request, got " +
                                                        std::to_string(r.patterns.size()));
    }
    for (const std::string& p : r.patterns) {
      if (p.empty() || p.size() > sbe::kMaxPatternLength || p.find('\0') != std::string::npos) {
        return MakeError(ErrorCode::kInvalidArgument, "symbol pattern '" + p + "': must be 1 to " +
                                                          std::to_string(sbe::kMaxPatternLength) +
                                                          " characters without NUL");
      }
    }
    if (r.symbols.size() > sbe::kMaxSymbolsPerRequest) {
      return MakeError(ErrorCode::kInvalidArgument, "at most " + std::to_string(sbe::kMaxSymbolsPerRequest) +
                                                        " symbols per request, got " + std::to_string(r.symbols.size()));
    }
    TICKFLOW_RETURN_IF_ERROR(EnsureLoggedIn());
    std::shared_ptr<Stream::State> state;
    RequestId id;
    {
      std::lock_guard lock(mu_);
      if (closed_) return MakeError(ErrorCode::kCancelled, "the client is closed");
      id = next_request_++;
      state = std::make_shared<Stream::State>(id, std::move(cb), options_.pull_queue, &bus_, session_,
                                              options_.client_id, r.resume_after, r.patterns);
      streams_[id] = state;  // registered before the request: data may beat the ack
    }
    sbe::StartData m;
    m.client_id = options_.client_id;
    m.request_id = id;
    m.data_type = type;
    m.resolution = res;
    m.speed_permille = r.speed_permille;
    m.from = r.from;
    m.to = r.to == UnixNanos::Max() ? UnixNanos::Min() : r.to;  // the wire's null means unbounded
    m.resume_after = r.resume_after;
    m.symbols = r.symbols;
    m.patterns = r.patterns;
    Status s = Send(bus_, Session(), m, options_.timeout);
    if (s.ok()) s = state->AwaitAck(options_.timeout);
    if (!s.ok()) {
      std::lock_guard lock(mu_);
      streams_.erase(id);
      return std::move(s).error();
    }
    return std::make_unique<Stream>(id, state);
  }

  Status StopAll() { return Send(bus_, Session(), sbe::StopAllData{options_.client_id}, options_.timeout); }

  Status Close() {
    {
      std::lock_guard lock(mu_);
      if (closed_) return {};
      closed_ = true;
    }
    stop_heartbeat_ = true;
    if (heartbeat_.joinable()) heartbeat_.join();
    Status result;
    bool logged_in;
    {
      std::lock_guard lock(mu_);
      logged_in = login_ == LoginState::kAcked;
    }
    if (logged_in) {
      result = Send(bus_, Session(), sbe::ClientLogout{options_.client_id}, options_.timeout);
      if (result.ok()) {
        std::unique_lock lock(mu_);
        if (!cv_.wait_for(lock, options_.timeout, [&] { return logged_out_; })) {
          result = MakeError(ErrorCode::kUnavailable, "the gateway did not acknowledge the logout of client " +
                                                          std::to_string(options_.client_id));
        }
      }
    }
    AbandonStreams("the client was closed before stream ", " ended");
    StopReceiver();
    stop_responses_ = true;
    if (responder_.joinable()) responder_.join();
    if (errors_created_) {
      (void)bus_.DeleteChannel(errors_);
      errors_created_ = false;
    }
    return result;
  }

  ClientId id() const { return options_.client_id; }
  std::uint64_t rejected_frames() const { return rejected_.load(); }

 private:
  enum class LoginState : std::uint8_t { kPending, kAcked, kRefused, kLost };

  // Sends ClientLogin, waits for the answer, then reads the data channel the
  // gateway created for this session.
  Status LogIn() {
    {
      std::lock_guard lock(mu_);
      login_ = LoginState::kPending;
    }
    Status sent = Send(bus_, control_, sbe::ClientLogin{options_.client_id}, options_.timeout);
    {
      std::unique_lock lock(mu_);
      // A login that fails leaves the session lost, so the next request tries
      // again (left pending, requests would go to the old gateway forever).
      struct LostUnlessAcked {
        LoginState& state;
        ~LostUnlessAcked() {
          if (state != LoginState::kAcked) state = LoginState::kLost;
        }
      } lost_unless_acked{login_};
      TICKFLOW_RETURN_IF_ERROR(sent);
      if (!cv_.wait_for(lock, options_.timeout, [&] { return login_ != LoginState::kPending; })) {
        return MakeError(ErrorCode::kUnavailable, "the gateway did not acknowledge the login of client " +
                                                      std::to_string(options_.client_id) + " within " +
                                                      std::to_string(options_.timeout.count()) +
                                                      " ms: is a gateway serving " + options_.control_channel + "?");
      }
      if (login_ == LoginState::kRefused) {
        if (login_error_ == sbe::ClientErrorCode::kClientAlreadyLoggedIn) {
          return MakeError(ErrorCode::kAlreadyExists, "client id " + std::to_string(options_.client_id) +
                                                          " is in use: it is already logged in at the gateway");
        }
        return MakeError(ErrorCode::kUnavailable,
                         "login of client " + std::to_string(options_.client_id) +
                             " refused: " + sbe::ToString(login_error_) +
                             (login_error_ == sbe::ClientErrorCode::kClientLogInError
                                  ? " (the gateway could not create the data channel; its log says why)"
                              : login_error_ == sbe::ClientErrorCode::kClientBusUnavailable
                                  ? " (it cannot create data channels now; its /healthz and log say why, e.g. "
                                    "JetStream's store is full)"
                                  : ""));
      }
      last_heard_ = Clock::now();
    }
    StopReceiver();
    TICKFLOW_ASSIGN_OR_RETURN(data_sub_, bus_.Subscribe(data_));
    stop_receiver_ = false;
    receiver_ = std::thread([this] { DataLoop(); });
    return {};
  }

  // Logs in again after the session was lost (gateway restarted or silent).
  Status EnsureLoggedIn() {
    std::lock_guard relogin(relogin_mu_);
    {
      std::lock_guard lock(mu_);
      if (closed_) return MakeError(ErrorCode::kCancelled, "the client is closed");
      if (login_ != LoginState::kLost) return {};
    }
    return LogIn();
  }

  void StopReceiver() {
    stop_receiver_ = true;
    if (receiver_.joinable()) receiver_.join();
    data_sub_.reset();
  }

  void AbandonStreams(const std::string& before, const std::string& after) {
    std::map<RequestId, std::shared_ptr<Stream::State>> streams;
    {
      std::lock_guard lock(mu_);
      streams.swap(streams_);
    }
    for (auto& [id, st] : streams) st->Abandon(before + std::to_string(id) + after);
  }

  // The session is gone: every running stream ends with `why`; the next
  // request logs in again.
  void SessionLost(const std::string& why) {
    {
      std::lock_guard lock(mu_);
      if (login_ != LoginState::kAcked || closed_) return;
      login_ = LoginState::kLost;
    }
    AbandonStreams("stream ", " ended without its Last marker: " + why);
  }

  void HeartbeatLoop() {
    const auto silence = std::max(options_.timeout, 3 * options_.heartbeat);
    while (!stop_heartbeat_.load()) {
      std::this_thread::sleep_for(std::min(options_.heartbeat, std::chrono::milliseconds(50)));
      const auto now = Clock::now();
      if (now - last_beat_ < options_.heartbeat) continue;
      last_beat_ = now;
      Clock::time_point heard;
      {
        std::lock_guard lock(mu_);
        if (login_ != LoginState::kAcked) continue;
        heard = last_heard_;
      }
      if (now - heard > silence) {
        SessionLost("no answer from the gateway for " +
                    std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now - heard).count()) +
                    " ms");
        continue;
      }
      (void)Send(bus_, Session(), sbe::ClientHeartbeat{options_.client_id}, options_.heartbeat);
    }
  }

  // Where the session's messages go: the channel the gateway holding it reads.
  std::string Session() {
    std::lock_guard lock(mu_);
    return session_;
  }

  // A running stream, or one that ended recently: a DataError travels on the
  // error channel and may arrive after the stream's Last marker.
  std::shared_ptr<Stream::State> Find(RequestId id) {
    std::lock_guard lock(mu_);
    if (auto it = streams_.find(id); it != streams_.end()) return it->second;
    for (const auto& [rid, st] : ended_) {
      if (rid == id) return st;
    }
    return nullptr;
  }

  // The session's key as last set by a login, for one thread's verifier;
  // false when the session does not authenticate its frames.
  bool CurrentVerifier(std::unique_ptr<sbe::FrameVerifier>* v) {
    std::lock_guard lock(key_mu_);
    if (!key_) {
      v->reset();
      return false;
    }
    if (*v == nullptr || (*v)->key() != *key_) *v = std::make_unique<sbe::FrameVerifier>(*key_);
    return true;
  }

  // Data and responses have a thread each, so a slow data callback never
  // delays an acknowledgement or a heartbeat.
  void DataLoop() {
    bus::Frame frame;
    std::unique_ptr<sbe::FrameVerifier> verifier;
    while (!stop_receiver_.load()) {
      switch (data_sub_->Poll(&frame, std::chrono::milliseconds(20))) {
        case bus::PollStatus::kFrame: {
          std::span<const std::byte> body = frame;
          if (CurrentVerifier(&verifier) && verifier->Verify(data_, frame, &body) != sbe::VerifyStatus::kOk) {
            ++rejected_;  // not the gateway's: dropped
            break;
          }
          HandleData(body);
          break;
        }
        case bus::PollStatus::kTimeout: break;
        case bus::PollStatus::kClosed:
          SessionLost("the gateway closed the data channel " + data_);
          return;
      }
    }
  }

  void ResponseLoop() {
    bus::Frame frame;
    std::unique_ptr<sbe::FrameVerifier> verifier;
    while (!stop_responses_.load()) {
      if (error_sub_->Poll(&frame, std::chrono::milliseconds(20)) != bus::PollStatus::kFrame) continue;
      // Untagged or foreign frames may still carry what comes before a key
      // (a login's ack and key, session errors); nothing else is believed.
      std::span<const std::byte> body = frame;
      const bool trusted = !CurrentVerifier(&verifier) || verifier->Verify(errors_, frame, &body) == sbe::VerifyStatus::kOk;
      HandleResponses(body, trusted);
    }
  }

  // A ClientLoginAck and the SessionKey beside it in the frame, if any.
  void HandleLoginAck(const sbe::ClientLoginAck& m, std::span<const std::byte> frame) {
    std::optional<sbe::SessionKeyBits> key;
    sbe::FrameReader reader(frame);
    sbe::MessageView v;
    while (!reader.done() && reader.Next(&v) == sbe::DecodeStatus::kOk) {
      sbe::SessionKey k;
      if (v.type() == sbe::MessageType::kSessionKey && v.As(&k) == sbe::DecodeStatus::kOk &&
          k.client_id == options_.client_id) {
        key = sbe::SessionKeyBits{k.key_low, k.key_high};
      }
    }
    std::lock_guard lock(mu_);
    if (login_ == LoginState::kPending) {
      {
        std::lock_guard key_lock(key_mu_);
        key_ = key;  // before anyone learns of the login, so no frame of it is checked without it
      }
      login_ = LoginState::kAcked;
      session_ = sbe::SessionChannel(options_.control_channel, m.gateway_id, options_.client_id);
    }
    cv_.notify_all();
  }

  void HandleResponses(std::span<const std::byte> frame, bool trusted) {
    {
      std::lock_guard lock(mu_);
      last_heard_ = Clock::now();
    }
    sbe::FrameReader reader(frame);
    sbe::MessageView v;
    bool counted = false;
    while (!reader.done() && reader.Next(&v) == sbe::DecodeStatus::kOk) {
      const auto type = v.type();
      if (!trusted && type != sbe::MessageType::kClientLoginAck && type != sbe::MessageType::kClientError &&
          type != sbe::MessageType::kSessionKey) {
        if (!counted) ++rejected_;
        counted = true;
        continue;
      }
      switch (type) {
        case sbe::MessageType::kClientLoginAck: {
          sbe::ClientLoginAck m;
          if (v.As(&m) != sbe::DecodeStatus::kOk) break;
          HandleLoginAck(m, frame);
          break;
        }
        case sbe::MessageType::kClientLogoutAck: {
          std::lock_guard lock(mu_);
          logged_out_ = true;
          cv_.notify_all();
          break;
        }
        case sbe::MessageType::kClientError: {
          sbe::ClientError m;
          if (v.As(&m) != sbe::DecodeStatus::kOk) break;
          bool lost = false;
          {
            std::lock_guard lock(mu_);
            if (login_ == LoginState::kPending) {
              login_ = LoginState::kRefused;
              login_error_ = m.code;
            }
            lost = login_ == LoginState::kAcked && m.code == sbe::ClientErrorCode::kClientNotLoggedIn;
            cv_.notify_all();
          }
          if (lost) SessionLost("the gateway has no session for client " + std::to_string(options_.client_id) +
                                " (it restarted or expired the session)");
          break;
        }
        case sbe::MessageType::kStartDataAck: {
          sbe::StartDataAck m;
          if (v.As(&m) != sbe::DecodeStatus::kOk) break;
          if (auto st = Find(m.request_id)) st->OnAck();
          break;
        }
        case sbe::MessageType::kDataError: {
          sbe::DataError m;
          if (v.As(&m) != sbe::DecodeStatus::kOk) break;
          if (auto st = Find(m.request_id)) {
            st->OnDataError(StreamError{m.request_id, m.code, m.symbol_id, {}});
            // The bus lost frames of a running stream: its Last marker may be
            // lost too, so it ends here (the caller resumes).
            if (m.code == sbe::DataErrorCode::kDataSendError) {
              st->Abandon("the bus lost frames of stream " + std::to_string(m.request_id) +
                          " (DataSendError): resume after the last sequence received in order");
            } else if (m.code == sbe::DataErrorCode::kDataChannelError) {
              st->Abandon("the gateway ended stream " + std::to_string(m.request_id) +
                          ": its data channel stayed full too long (DataChannelError)");
            }
          }
          break;
        }
        default:
          break;
      }
    }
  }

  void HandleData(std::span<const std::byte> frame) {
    sbe::FrameReader reader(frame);
    sbe::MessageView v;
    std::shared_ptr<Stream::State> current;
    std::unique_lock<std::recursive_mutex> in_callbacks;  // current's (declared after it: released first)
    while (!reader.done()) {
      if (reader.Next(&v) != sbe::DecodeStatus::kOk) {
        ++malformed_;
        break;  // what came before the bad message is delivered
      }
      switch (v.type()) {
        case sbe::MessageType::kDataBatch: {
          sbe::DataBatch m;
          if (v.As(&m) == sbe::DecodeStatus::kOk) {
            if (current) current->Flush();
            if (in_callbacks.owns_lock()) in_callbacks.unlock();
            current = Find(m.request_id);
            if (current) in_callbacks = current->EnterCallbacks();
          }
          break;
        }
        case sbe::MessageType::kTradeBar: {
          sbe::TradeBar m;
          if (current && v.As(&m) == sbe::DecodeStatus::kOk) current->OnTrade(m);
          break;
        }
        case sbe::MessageType::kDataBar: {
          sbe::DataBar m;
          if (current && v.As(&m) == sbe::DecodeStatus::kOk) current->OnBar(m);
          break;
        }
        case sbe::MessageType::kFirstTradeBar:
        case sbe::MessageType::kFirstDataBar:
          if (current) current->OnStart();
          break;
        case sbe::MessageType::kLastTradeBar: {
          sbe::LastTradeBar m;
          if (current && v.As(&m) == sbe::DecodeStatus::kOk) End(current, m.message_count, m.reason);
          break;
        }
        case sbe::MessageType::kLastDataBar: {
          sbe::LastDataBar m;
          if (current && v.As(&m) == sbe::DecodeStatus::kOk) End(current, m.message_count, m.reason);
          break;
        }
        default:
          break;
      }
    }
    if (current) current->Flush();
  }

  void End(std::shared_ptr<Stream::State>& st, std::uint64_t sent, sbe::StreamEndReason reason) {
    st->OnEnd(sent, reason);
    std::lock_guard lock(mu_);
    for (auto it = streams_.begin(); it != streams_.end(); ++it) {
      if (it->second == st) {
        ended_.emplace_back(it->first, it->second);
        if (ended_.size() > 64) ended_.pop_front();
        streams_.erase(it);
        break;
      }
    }
  }

  ClientOptions options_;
  bus::Bus& bus_;
  const std::string control_, data_, errors_;
  bool errors_created_ = false;
  std::unique_ptr<bus::Subscription> data_sub_, error_sub_;
  std::thread receiver_, responder_, heartbeat_;
  std::atomic<bool> stop_receiver_{false}, stop_responses_{false}, stop_heartbeat_{false};
  std::atomic<std::uint64_t> malformed_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::mutex key_mu_;                            // never held while taking mu_
  std::optional<sbe::SessionKeyBits> key_;       // the session's, set by each login
  std::mutex relogin_mu_;  // one re-login at a time
  std::mutex mu_;
  std::condition_variable cv_;
  Clock::time_point last_heard_ = Clock::now();  // any answer from the gateway
  std::string session_;                          // set by each ClientLoginAck
  Clock::time_point last_beat_;                  // heartbeat thread only
  LoginState login_ = LoginState::kPending;
  sbe::ClientErrorCode login_error_ = sbe::ClientErrorCode::kUnknownClientError;
  bool logged_out_ = false;
  bool closed_ = false;
  RequestId next_request_ = 1;
  std::map<RequestId, std::shared_ptr<Stream::State>> streams_;
  std::deque<std::pair<RequestId, std::shared_ptr<Stream::State>>> ended_;  // the last 64 that ended
};

Result<std::unique_ptr<Client>> Client::Open(const ClientOptions& options) { return OpenOn(options, nullptr); }

Result<std::unique_ptr<Client>> Client::OpenOn(const ClientOptions& options, std::unique_ptr<bus::Bus> owned_bus) {
  if (options.bus == nullptr) return MakeError(ErrorCode::kInvalidArgument, "ClientOptions.bus is not set");
  auto impl = std::make_unique<Impl>(options);
  if (Status s = impl->Open(); !s.ok()) {
    (void)impl->Close();
    return std::move(s).error();
  }
  return std::unique_ptr<Client>(new Client(std::move(impl), std::move(owned_bus)));
}

Client::Client(std::unique_ptr<Impl> impl, std::unique_ptr<bus::Bus> owned_bus)
    : owned_bus_(std::move(owned_bus)), impl_(std::move(impl)) {}
Client::~Client() { (void)impl_->Close(); }

Result<std::unique_ptr<Stream>> Client::RequestTrades(const Request& request, Callbacks callbacks) {
  return impl_->Request(request, sbe::DataType::kTrades, TimeResolution::kNone, std::move(callbacks));
}
Result<std::unique_ptr<Stream>> Client::RequestBars(const Request& request, TimeResolution resolution,
                                                    Callbacks callbacks) {
  if (!IsValid(resolution)) return MakeError(ErrorCode::kInvalidArgument, "invalid bar resolution");
  return impl_->Request(request, sbe::DataType::kBars, resolution, std::move(callbacks));
}
Result<std::unique_ptr<Stream>> Client::RequestTrades(const Request& request) {
  return impl_->Request(request, sbe::DataType::kTrades, TimeResolution::kNone, std::nullopt);
}
Result<std::unique_ptr<Stream>> Client::RequestBars(const Request& request, TimeResolution resolution) {
  if (!IsValid(resolution)) return MakeError(ErrorCode::kInvalidArgument, "invalid bar resolution");
  return impl_->Request(request, sbe::DataType::kBars, resolution, std::nullopt);
}
Status Client::StopAll() { return impl_->StopAll(); }
Status Client::Close() { return impl_->Close(); }
ClientId Client::id() const { return impl_->id(); }
std::uint64_t Client::rejected_frames() const { return impl_->rejected_frames(); }

}  // namespace tickflow::client
