// tickflow bench nats: the gateway as its own process serving a client over
// a nats-server started here, against raw nats.c publish -> subscribe of the
// same SBE frames in the same run; paced latency; and the RSS of gateway and
// nats-server while a client reads 10x slower than the gateway can send.
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bench_common.hpp"
#include "common.hpp"
#include "tickflow/bus/nats_bus.hpp"
#include "tickflow/client/client.hpp"
#include "tickflow/gateway/nats_server_config.hpp"
#include "tickflow/sbe/channels.hpp"
#include "tickflow/sbe/codec.hpp"


namespace tickflow::cli::bench {
namespace {

namespace fs = std::filesystem;

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Frames exactly as the gateway builds them: a DataBatch and `per_frame` TradeBars.
std::vector<std::vector<std::byte>> GatewayFrames(store::Store& store, std::size_t count, std::size_t per_frame) {
  const std::vector<SymbolId> one = {1};
  auto cursor = store.Trades(one, {}).value();
  std::vector<Trade> trades(per_frame);
  std::vector<std::vector<std::byte>> frames;
  std::uint32_t seq = 0;
  while (frames.size() < count) {
    const std::size_t n = cursor->Next(trades).value();
    if (n < trades.size()) break;
    std::vector<std::byte> buf(sbe::kHeaderSize + sbe::DataBatch::kBlockLength + per_frame * 40 + 64);
    sbe::FrameWriter w(buf);
    (void)w.Append(sbe::DataBatch{1, static_cast<std::uint16_t>(per_frame)});
    for (const Trade& t : trades) (void)w.Append(sbe::TradeBar{t.symbol, ++seq, t.time, t.price, t.volume});
    frames.emplace_back(w.frame().begin(), w.frame().end());
  }
  return frames;
}

// Raw nats.c: one connection publishes `total` frames, another receives them.
Result<double> RawCoreRate(const std::string& url, const std::string& user, const std::string& pass,
                           const std::vector<std::vector<std::byte>>& frames, std::size_t per_frame, std::size_t total,
                           std::size_t* lost) {
  natsOptions* opts = nullptr;
  natsOptions_Create(&opts);
  natsOptions_SetURL(opts, url.c_str());
  natsOptions_SetUserInfo(opts, user.c_str(), pass.c_str());
  natsOptions_SetMaxPendingMsgs(opts, 1 << 20);
  natsConnection *pub = nullptr, *sub = nullptr;
  if (natsConnection_Connect(&pub, opts) != NATS_OK || natsConnection_Connect(&sub, opts) != NATS_OK) {
    natsOptions_Destroy(opts);
    return MakeError(ErrorCode::kUnavailable, "raw nats.c connection failed");
  }
  natsSubscription* s = nullptr;
  natsConnection_SubscribeSync(&s, sub, "bench.raw");
  natsSubscription_SetPendingLimits(s, 1 << 20, 1 << 30);
  natsConnection_Flush(sub);
  std::atomic<std::size_t> got{0};
  std::thread reader([&] {
    natsMsg* m = nullptr;
    while (got.load() < total) {
      const natsStatus st = natsSubscription_NextMsg(&m, s, 2000);
      if (st == NATS_TIMEOUT) break;
      if (st != NATS_OK) continue;
      got += 1;
      natsMsg_Destroy(m);
    }
  });
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < total; ++i) {
    const auto& f = frames[i % frames.size()];
    natsConnection_Publish(pub, "bench.raw", f.data(), static_cast<int>(f.size()));
  }
  natsConnection_Flush(pub);
  reader.join();
  const double secs = Seconds(t0) - (got.load() < total ? 2.0 : 0.0);
  *lost = total - got.load();
  natsSubscription_Destroy(s);
  natsConnection_Destroy(pub);
  natsConnection_Destroy(sub);
  natsOptions_Destroy(opts);
  return static_cast<double>(got.load() * per_frame) / secs;
}

// The same frames through tickflow's NATS bus alone (JetStream stream with
// flow control, pull consumer): the ceiling of the JetStream path.
Result<double> BusOnlyRate(const std::string& url, const std::vector<std::vector<std::byte>>& frames,
                           std::size_t per_frame, std::size_t total) {
  bus::NatsBusOptions o;
  o.url = url;
  o.user = "admin";
  o.password = "admin";
  o.stream_prefix = "bench.js.";
  TICKFLOW_ASSIGN_OR_RETURN(auto pub, bus::MakeNatsBus(o));
  TICKFLOW_ASSIGN_OR_RETURN(auto sub, bus::MakeNatsBus(o));
  (void)pub->DeleteChannel("bench.js.1");
  TICKFLOW_RETURN_IF_ERROR(pub->CreateChannel("bench.js.1"));
  TICKFLOW_ASSIGN_OR_RETURN(auto reader, sub->Subscribe("bench.js.1"));
  std::size_t got = 0;
  std::thread consumer([&] {
    bus::Frame f;
    while (got < total && reader->Poll(&f, std::chrono::milliseconds(5000)) == bus::PollStatus::kFrame) ++got;
  });
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < total; ++i) {
    while (pub->Publish("bench.js.1", frames[i % frames.size()], std::chrono::milliseconds(50)) ==
           bus::PublishStatus::kBackPressured) {
    }
  }
  consumer.join();
  const double secs = Seconds(t0);
  reader.reset();
  (void)pub->DeleteChannel("bench.js.1");
  return static_cast<double>(got * per_frame) / secs;
}

// Answers on a core channel (what the gateway sends for every request: acks,
// errors, heartbeat acks), `count` ClientHeartbeatAcks, each published alone
// as the gateway does, with or without waiting for the server's PONG after
// each (confirm_core_publishes); received by another connection.
Result<double> CoreAnswerRate(const std::string& url, bool confirm, std::size_t count) {
  bus::NatsBusOptions o;
  o.url = url;
  o.user = "admin";
  o.password = "admin";
  o.confirm_core_publishes = confirm;
  TICKFLOW_ASSIGN_OR_RETURN(auto pub, bus::MakeNatsBus(o));
  TICKFLOW_ASSIGN_OR_RETURN(auto sub, bus::MakeNatsBus(o));
  TICKFLOW_ASSIGN_OR_RETURN(auto reader, sub->Subscribe("bench.answers"));
  std::vector<std::byte> ack(64);
  ack.resize(sbe::Encode(sbe::ClientHeartbeatAck{1}, ack));
  std::size_t got = 0;
  std::thread consumer([&] {
    bus::Frame f;
    while (got < count && reader->Poll(&f, std::chrono::milliseconds(5000)) == bus::PollStatus::kFrame) ++got;
  });
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < count; ++i) {
    if (pub->Publish("bench.answers", ack, std::chrono::milliseconds(1000)) != bus::PublishStatus::kOk) break;
  }
  consumer.join();
  const double secs = Seconds(t0);
  if (got != count)
    return MakeError(ErrorCode::kInternal, "answers lost: " + std::to_string(got) + " of " + std::to_string(count));
  return static_cast<double>(count) / secs;
}

}  // namespace

constexpr std::size_t kPerFrame = 4096;  // messages per frame, gateway and raw alike

int BenchNats(const Args& a) {
  auto db = ScanStore(a);
  if (!db.ok()) return Fail(db.error());
  auto store = store::OpenStore(*db, {.create = false});
  if (!store.ok()) return Fail(store.error());
  const std::string dir = a.dir + "/nats-bench";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir + "/creds", ec);
  const int port = FreePort();
  const std::string url = "nats://127.0.0.1:" + std::to_string(port);
  gateway::NatsServerSetup setup;
  setup.listen = "127.0.0.1:" + std::to_string(port);
  setup.http = "";
  setup.store_dir = dir + "/js";
  setup.users = {{"gateway", "gw", gateway::NatsRole::kGateway, 0},
                 {"admin", "admin", gateway::NatsRole::kAdmin, 0},
                 {"client-1", "c1", gateway::NatsRole::kClient, 1}};
  std::ofstream(dir + "/nats.conf") << gateway::NatsServerConfig(setup);
  std::ofstream(dir + "/creds/gateway.creds") << gateway::CredentialsFile(setup.users[0], setup);
  auto server = Child::Spawn({"nats-server", "-c", dir + "/nats.conf", "-l", dir + "/nats.log"});
  if (!server.ok()) return Fail(server.error().message + ": install it with scripts/install-deps.sh");
  bus::NatsBusOptions co;
  co.url = url;
  co.user = "client-1";
  co.password = "c1";
  co.inbox_prefix = sbe::InboxPrefix(1);
  co.jetstream_api = bus::kClientJetStreamApi;
  Result<std::unique_ptr<bus::Bus>> bus = MakeError(ErrorCode::kUnavailable, "nats-server did not start");
  for (int i = 0; i < 100 && !bus.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    bus = bus::MakeNatsBus(co);
  }
  if (!bus.ok()) return Fail(bus.error());
  auto gw = Child::Spawn(
      {"/proc/self/exe", "gateway", "--bus", url, "--creds", dir + "/creds/gateway.creds", "--db", *db, "--metrics",
       "127.0.0.1:0", "--log-level", "debug", "--messages-per-frame", std::to_string(kPerFrame)},
      dir + "/gateway.log");  // debug: the paced stream's anchor
  if (!gw.ok()) return Fail(gw.error());
  Result<std::unique_ptr<client::Client>> client = MakeError(ErrorCode::kUnavailable, "the gateway did not start");
  for (int i = 0; i < 50 && !client.ok(); ++i) {
    client = client::Client::Open({.client_id = 1, .bus = bus->get(), .timeout = std::chrono::milliseconds(500)});
  }
  if (!client.ok()) return Fail(client.error());

  const auto frames = GatewayFrames(**store, 256, kPerFrame);
  const std::size_t total_frames = a.rows / kPerFrame;
  std::vector<double> raw, js, ours, flushed, unflushed;
  std::uint64_t n = 0;
  for (int run = 0; run < a.runs; ++run) {
    std::size_t lost = 0;
    auto r = RawCoreRate(url, "admin", "admin", frames, kPerFrame, total_frames, &lost);
    if (!r.ok()) return Fail(r.error());
    raw.push_back(*r);
    auto j = BusOnlyRate(url, frames, kPerFrame, total_frames);
    if (!j.ok()) return Fail(j.error());
    js.push_back(*j);
    std::uint64_t received = 0;
    std::int64_t checksum = 0;
    const auto t0 = Clock::now();
    auto s = (*client)->RequestTrades({.symbols = {1}}, {.on_trade = [&](const client::TradeEvent& e) {
                                        checksum += e.trade.time.ns ^ e.trade.price.raw();
                                        ++received;
                                      }});
    if (!s.ok()) return Fail(s.error());
    auto end = (*s)->Wait(std::chrono::minutes(30));
    if (!end.ok()) return Fail(end.error());
    ours.push_back(static_cast<double>(received) / Seconds(t0));
    if (end->missing != 0 || received != end->sent) return Fail("the stream over NATS lost messages");
    n = received;
    auto f = CoreAnswerRate(url, true, 20000);
    if (!f.ok()) return Fail(f.error());
    flushed.push_back(*f);
    auto u = CoreAnswerRate(url, false, 200000);
    if (!u.ok()) return Fail(u.error());
    unflushed.push_back(*u);
    fmt::print("run {}: control answers {}/s flushed one by one, {}/s without a flush each\n", run + 1,
               Rate(flushed.back()), Rate(unflushed.back()));
    fmt::print("run {}: raw nats.c core pub->sub {}msgs/s (lost {} of {} frames); tickflow NATS bus alone {}msgs/s; "
               "gateway process -> NATS -> client {}msgs/s\n",
               run + 1, Rate(raw.back()), lost, total_frames, Rate(js.back()), Rate(ours.back()));
  }

  // As in `bench replay`; the gateway process logs where the paced stream's clock started.
  auto latency = PacedLatency(**store, **client, [&dir]() -> std::optional<PaceAnchor> {
    std::ifstream in(dir + "/gateway.log");
    std::optional<PaceAnchor> last;
    for (std::string line; std::getline(in, line);) {
      const auto t = line.find("event time "), d = line.find("due at steady ");
      if (line.find("paced stream ") == std::string::npos || t == std::string::npos || d == std::string::npos) continue;
      last = PaceAnchor{UnixNanos{std::stoll(line.substr(t + 11))},
                        Clock::time_point(std::chrono::nanoseconds(std::stoll(line.substr(d + 14))))};
    }
    return last;
  });
  if (!latency.ok()) return Fail(latency.error());

  // A client 10x slower than the median rate: RSS of gateway and server.
  const double slow_rate = Median(ours) / 10;
  const double rss_gw0 = RssMiB(gw->pid()), rss_srv0 = RssMiB(server->pid());
  double rss_gw = rss_gw0, rss_srv = rss_srv0;
  std::uint64_t slow_received = 0;
  const auto t_slow = Clock::now();
  auto slow = (*client)->RequestTrades({.symbols = {1}}, {.on_trade = [&](const client::TradeEvent&) {
                                          if (++slow_received % 1024 != 0) return;
                                          const auto due = t_slow + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                                                        1e9 * static_cast<double>(slow_received) / slow_rate));
                                          while (Clock::now() < due) std::this_thread::sleep_for(std::chrono::microseconds(200));
                                        }});
  if (!slow.ok()) return Fail(slow.error());
  while (!(*slow)->done()) {
    rss_gw = std::max(rss_gw, RssMiB(gw->pid()));
    rss_srv = std::max(rss_srv, RssMiB(server->pid()));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto slow_end = (*slow)->Wait(std::chrono::seconds(1));
  if (!slow_end.ok() || slow_end->missing != 0 || slow_received != n) return Fail("the slow client lost messages");
  const double slow_secs = Seconds(t_slow);
  (void)(*client)->Close();

  fmt::print("\n{} trades of one symbol, gateway and client in separate processes, nats-server with JetStream, "
             "median of {} runs:\n",
             Thousands(n), a.runs);
  fmt::print("| what | msgs/s | vs raw |\n|---|---:|---:|\n");
  fmt::print("| raw nats.c core publish -> subscribe, same frames ({} TradeBars each), no decode | {} | 100 % |\n",
             kPerFrame, Rate(Median(raw)));
  fmt::print("| tickflow NATS bus alone: JetStream publish with flow control -> pull consumer, same frames | {} | {:.0f} % |\n",
             Rate(Median(js)), 100 * Median(js) / Median(raw));
  fmt::print("| tickflow: store -> gateway process -> JetStream -> client process decode -> callback | {} | {:.0f} % |\n",
             Rate(Median(ours)), 100 * Median(ours) / Median(raw));
  fmt::print(
      "\ncontrol answers (ClientHeartbeatAck, one per publish) on a core subject: {}/s flushed one by one "
      "(a client's publishes, to learn of a refusal), {}/s unflushed as the gateway sends them ({:.1f}x)\n",
      Rate(Median(flushed)), Rate(Median(unflushed)), Median(unflushed) / Median(flushed));
  fmt::print("\npaced replay at 600x over NATS, {} trades: latency from due time to callback: p50 {:.0f} us, p99 {:.0f} us, "
             "max {:.0f} us\n",
             Thousands(latency->count), latency->p50, latency->p99, latency->max);
  fmt::print("\nslow client ({}msgs/s, 1/10 of the median): {} trades in {:.0f} s, nothing lost; peak RSS: gateway {:.0f} MiB "
             "(idle {:.0f}), nats-server {:.0f} MiB (idle {:.0f})\n",
             Rate(slow_rate), Thousands(slow_received), slow_secs, rss_gw, rss_gw0, rss_srv, rss_srv0);
  return 0;
}

}  // namespace tickflow::cli::bench
