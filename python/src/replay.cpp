// tickflow.replay: a gateway's stream (in process on a store, or over NATS)
// as an iterator of column batches, resumed after a cut like `tickflow replay`.
#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "bindings.hpp"
#include "tickflow/core/resolution.hpp"
#include "tickflow/sbe/messages.hpp"
#include "tickflow/session/replay.hpp"

namespace tickflow::python {
namespace {

using Clock = std::chrono::steady_clock;

struct ReplayArgs {
  std::vector<std::string> symbols;
  std::string bus, store, creds;
  std::optional<ClientId> client_id;
  std::uint32_t speed_permille = 0;
  store::TimeRange range;
  TimeResolution resolution = TimeResolution::kNone;
  std::size_t batch_rows = 0;
  std::chrono::milliseconds idle_timeout{0};
  int retries = 0;
};

class Replay {
 public:
  explicit Replay(ReplayArgs a) : a_(std::move(a)) {
    Status started;
    {
      py::gil_scoped_release release;
      started = Start();
    }
    Check(started);
  }

  ~Replay() {
    py::gil_scoped_release release;  // logging out waits for the gateway
    stream_.reset();
    session_.reset();
  }

  py::dict Next() {
    TradeColumnsOut trades;
    BarColumnsOut bars;
    std::vector<std::int64_t> sequences;
    Status failure;
    bool interrupted = false;
    {
      py::gil_scoped_release release;
      const auto size = [&] { return sequences.size(); };
      Clock::time_point last_event = Clock::now();
      while (!finished_ && size() < a_.batch_rows) {
        // Short waits: a paced stream's batch is handed over when the stream pauses, and Ctrl-C is seen.
        const std::optional<client::Event> e = stream_->Next(std::chrono::milliseconds(100));
        if (!e) {
          if (size() > 0) break;
          {
            py::gil_scoped_acquire acquire;
            if (PyErr_CheckSignals() != 0) {
              interrupted = true;
              break;
            }
          }
          if (stream_->done()) {
            // Ended without an end event: the client gave the stream up (the gateway stopped answering).
            auto ended = stream_->Wait(std::chrono::milliseconds(0));
            failure = Resume(ended.ok() ? "the stream ended without its end" : ended.error().message);
            if (!failure.ok()) break;
            last_event = Clock::now();
            continue;
          }
          if (Clock::now() - last_event > a_.idle_timeout) {
            failure = MakeError(ErrorCode::kUnavailable,
                                fmt::format("no event of stream {} from the gateway for {:.1f} s (after sequence {}); "
                                            "raise timeout= for slow paced replays",
                                            stream_->id(), a_.idle_timeout.count() / 1e3, last_seq_));
            break;
          }
          continue;
        }
        last_event = Clock::now();
        if (const auto* error = std::get_if<client::StreamError>(&*e)) {
          last_error_ = fmt::format("gateway reported {}{}", sbe::ToString(error->code),
                                    error->message.empty() ? "" : ": " + error->message);
        } else if (const auto* t = std::get_if<client::TradeEvent>(&*e)) {
          // Only events in sequence order count: after a gap the stream resumes after the last in order.
          if (t->sequence == last_seq_ + 1) {
            last_seq_ = t->sequence;
            trades.Append(std::span<const Trade>(&t->trade, 1), symbols_.code_of);
            sequences.push_back(last_seq_);
          }
        } else if (const auto* b = std::get_if<client::BarEvent>(&*e)) {
          if (b->sequence == last_seq_ + 1) {
            last_seq_ = b->sequence;
            bars.Append(b->bar, symbols_.code_of[b->symbol]);
            sequences.push_back(last_seq_);
          }
        } else if (const auto* end = std::get_if<client::StreamEnd>(&*e)) {
          end_ = *end;
          if (Status s = AfterEnd(); !s.ok()) failure = std::move(s);
        }  // StreamStart and Gap: nothing to do
        if (!failure.ok()) break;
      }
    }
    if (interrupted) throw py::error_already_set();
    Check(failure);
    if (sequences.empty()) throw py::stop_iteration();
    py::dict d = a_.resolution == TimeResolution::kNone ? std::move(trades).ToDict(symbols_.names) : std::move(bars).ToDict(symbols_.names);
    d["sequence"] = ToNumpy(std::move(sequences));
    return d;
  }

  py::dict End() const {
    py::dict d;
    d["reason"] = end_ ? std::string(sbe::ToString(end_->reason)) : std::string("running");
    d["sent"] = end_ ? end_->sent : 0;
    d["received"] = last_seq_;
    d["resumed"] = resumes_;
    return d;
  }

 private:
  Status ResolveNames() {
    store::OpenOptions o;
    o.create = false;
    o.read_only = true;
    if (a_.store.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "store: needed to resolve symbol names (the gateway's store, or a "
                                                    "copy of it); over NATS the gateway reads its own");
    }
    TICKFLOW_ASSIGN_OR_RETURN(auto s, store::OpenStore(a_.store, o));
    TICKFLOW_ASSIGN_OR_RETURN(symbols_, Resolve(*s, a_.symbols));
    return {};
  }

  Status Start() {
    TICKFLOW_RETURN_IF_ERROR(ResolveNames());
    session::BusSpec spec;
    spec.url = a_.bus;
    spec.creds = a_.creds;
    auto s = a_.bus == "inproc" ? session::ReplaySession::Start(a_.store, a_.client_id.value_or(1))
                                : session::ReplaySession::Connect(spec, a_.client_id);
    if (!s.ok()) return s.error();
    session_ = std::make_unique<session::ReplaySession>(std::move(*s));
    return Request();
  }

  Status Request() {
    client::Request req;
    req.symbols = symbols_.ids;
    req.from = a_.range.from;
    req.to = a_.range.to;
    req.speed_permille = a_.speed_permille;
    req.resume_after = last_seq_;
    auto s = a_.resolution == TimeResolution::kNone ? session_->client->RequestTrades(req)
                                                    : session_->client->RequestBars(req, a_.resolution);
    if (!s.ok()) return s.error();
    stream_ = std::move(*s);
    return {};
  }

  // The stream ended: done, or cut short (a gateway restart) and resumed after the last sequence in order.
  Status AfterEnd() {
    const bool cut = end_->reason == sbe::StreamEndReason::kFailed || last_seq_ != end_->sent;
    if (!cut) {
      finished_ = true;
      return {};
    }
    return Resume(fmt::format("ended {} after sequence {} of {} sent{}", sbe::ToString(end_->reason), last_seq_,
                              end_->sent, last_error_.empty() ? "" : " (" + last_error_ + ")"));
  }

  // Over NATS a cut stream is requested again after the last sequence in order (the client logs in again
  // to whichever gateway answers), up to `retries` times, a second apart.
  Status Resume(const std::string& why) {
    std::string last = why;
    while (a_.bus != "inproc" && resumes_ < a_.retries) {
      ++resumes_;
      std::this_thread::sleep_for(std::chrono::seconds(1));
      Status s = Request();
      if (s.ok()) return s;
      last = why + "; resuming: " + s.error().message;
    }
    finished_ = true;
    return MakeError(ErrorCode::kUnavailable, fmt::format("the replay of {} was cut: {}{}{}", fmt::join(symbols_.names, ", "),
                                                          last, resumes_ > 0 ? fmt::format(" ({} resumes)", resumes_) : "",
                                                          session_->Cause()));
  }

  ReplayArgs a_;
  Resolved symbols_;
  std::unique_ptr<session::ReplaySession> session_;
  std::shared_ptr<client::Stream> stream_;
  std::uint64_t last_seq_ = 0;
  int resumes_ = 0;
  bool finished_ = false;
  std::optional<client::StreamEnd> end_;
  std::string last_error_;
};

std::unique_ptr<Replay> MakeReplay(const std::vector<std::string>& symbols, const std::string& bus, const std::string& store,
                                   const std::string& creds, std::optional<int> client_id, std::optional<double> speed,
                                   const py::object& start, const py::object& end, const std::string& resolution,
                                   std::size_t batch_rows, double timeout, int retries) {
  ReplayArgs a;
  a.symbols = symbols;
  a.bus = bus;
  a.store = store;
  a.creds = creds;
  if (bus != "inproc" && !bus.starts_with("nats://")) {
    throw py::value_error("bus '" + bus + "': use \"inproc\" or \"nats://HOST:PORT\"");
  }
  if (client_id) {
    if (*client_id < 1 || *client_id > 65535) throw py::value_error("client_id: must be 1 .. 65535, got " + std::to_string(*client_id));
    a.client_id = static_cast<ClientId>(*client_id);
  }
  if (speed) {
    if (!(*speed > 0 && *speed <= 4e6)) throw py::value_error(fmt::format("speed: must be > 0 and <= 4000000 (x real time), got {}", *speed));
    a.speed_permille = static_cast<std::uint32_t>(std::max(1.0, *speed * 1000));
  }
  a.range = RangeArg(start, end);
  if (!resolution.empty()) {
    auto r = ParseResolution(resolution);
    if (!r.ok()) throw py::value_error("resolution '" + resolution + "': " + r.error().message);
    a.resolution = *r;
  }
  if (batch_rows == 0 || batch_rows > 100'000'000) throw py::value_error("batch_rows: must be 1 .. 100,000,000");
  a.batch_rows = batch_rows;
  if (!(timeout > 0 && timeout <= 86400)) throw py::value_error("timeout: must be > 0 and <= 86400 seconds");
  a.idle_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(timeout * 1000));
  if (retries < 0 || retries > 1000) throw py::value_error("retries: must be 0 .. 1000");
  a.retries = retries;
  return std::make_unique<Replay>(std::move(a));
}

}  // namespace

void RegisterReplay(py::module_& m) {
  py::class_<Replay>(m, "_Replay")
      .def(py::init(&MakeReplay), py::arg("symbols"), py::arg("bus"), py::arg("store"), py::arg("creds"),
           py::arg("client_id"), py::arg("speed"), py::arg("start"), py::arg("end"), py::arg("resolution"),
           py::arg("batch_rows"), py::arg("timeout"), py::arg("retries"))
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &Replay::Next)
      .def_property_readonly("end", &Replay::End);
}

}  // namespace tickflow::python
