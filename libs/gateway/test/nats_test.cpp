// Gateway and clients over a real nats-server (JetStream, one user per
// client, permissions from NatsServerConfig), started by the test on free
// ports and stopped by its PID: isolation enforced by the server, flow
// control, expiry of vanished clients, gateway and server restarts.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nats/nats.h>

#include "tickflow/bus/nats_bus.hpp"
#include "tickflow/client/client.hpp"
#include "tickflow/gateway/gateway.hpp"
#include "tickflow/gateway/nats_server_config.hpp"
#include "tickflow/importer/importer.hpp"
#include "tickflow/sbe/channels.hpp"
#include "tickflow/sbe/codec.hpp"
#include "tickflow/test/servers.hpp"


namespace tickflow {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using client::Callbacks;
using client::Client;

const fs::path kSample = fs::path(TICKFLOW_SOURCE_DIR) / "tests/data/kraken/XBTUSD.csv";

using test::FreePort;
using test::SpawnTied;

class NatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tickflow_nats_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
    fs::copy_file(kSample, dir_ / "in/XBTUSD.csv");
    std::ofstream eth(dir_ / "in/ETHUSD.csv");
    for (int i = 0; i < 20000; ++i) eth << 1561939203 + i / 3 << "." << (i % 3) * 100 << "," << 290 + i % 7 << ".5,1." << i << "\n";
    eth.close();
    db_ = StoreLocation();
    {
      auto store = store::OpenStore(db_).value();
      ASSERT_EQ(importer::Import(*store, (dir_ / "in").string(), {}).value().files_failed, 0u);
    }
    store_ = store::OpenStore(db_).value();
    xbt_ = store_->FindSymbol("XBTUSD")->id;
    eth_ = store_->FindSymbol("ETHUSD")->id;

    const int nodes = Nodes();
    std::vector<int> route_ports;
    for (int i = 0; i < nodes; ++i) {
      ports_.push_back(FreePort());
      route_ports.push_back(FreePort());
    }
    pids_.assign(static_cast<std::size_t>(nodes), -1);
    for (int i = 0; i < nodes; ++i) {
      gateway::NatsServerSetup setup;
      setup.listen = "127.0.0.1:" + std::to_string(ports_[i]);
      setup.http = "";
      setup.store_dir = (dir_ / ("js" + std::to_string(i))).string();
      setup.client_accounts = nodes == 1;
      setup.users = {{"gateway", "gw-pass", gateway::NatsRole::kGateway, 0}};
      for (ClientId id = 1; id <= 4; ++id) {
        setup.users.push_back({"client-" + std::to_string(id), "pass-" + std::to_string(id), gateway::NatsRole::kClient, id});
      }
      if (nodes > 1) {
        setup.server_name = "n" + std::to_string(i);
        setup.cluster_name = "tickflow";
        setup.cluster_listen = "127.0.0.1:" + std::to_string(route_ports[i]);
        for (int j = 0; j < nodes; ++j) {
          if (j != i) setup.routes.push_back("nats-route://127.0.0.1:" + std::to_string(route_ports[j]));
        }
      }
      std::ofstream(dir_ / ("nats" + std::to_string(i) + ".conf")) << gateway::NatsServerConfig(setup);
    }
    for (int i = 0; i < nodes; ++i) StartServer(i);
  }
  virtual int Nodes() const { return 1; }
  virtual std::string StoreLocation() { return (dir_ / "store.db").string(); }
  virtual void StopStore() {}

  void TearDown() override {
    clients_.clear();
    gateway_.reset();
    gateway_bus_.reset();
    for (int i = 0; i < Nodes(); ++i) StopServer(i);
    store_.reset();
    StopStore();
    fs::remove_all(dir_);
  }

  void StartServer(int node = 0) {
    const std::string n = std::to_string(node);
    const std::string conf = (dir_ / ("nats" + n + ".conf")).string(), log = (dir_ / ("nats" + n + ".log")).string();
    const char* argv[] = {"nats-server", "-c", conf.c_str(), "-l", log.c_str(), nullptr};
    pids_[node] = SpawnTied(argv);
    ASSERT_GT(pids_[node], 0) << "cannot start nats-server (scripts/install-deps.sh installs it)";
    for (int i = 0; i < 100; ++i) {  // ready when a client can log in
      if (Connect("gateway", "gw-pass", "").ok()) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "nats-server did not start; see " << log;
  }

  void StopServer(int node = 0) { test::StopChild(&pids_[node]); }

  std::string Url() const {
    std::string url;
    for (int p : ports_) url += (url.empty() ? "" : ",") + std::string("nats://127.0.0.1:") + std::to_string(p);
    return url;
  }

  Result<std::unique_ptr<bus::Bus>> Connect(const std::string& user, const std::string& password,
                                            const std::string& inbox, std::size_t queue_frames = 64) {
    bus::NatsBusOptions o;
    o.url = Url();
    o.replicas = Nodes();
    o.user = user;
    o.password = password;
    o.inbox_prefix = inbox;
    if (user.starts_with("client-") && Nodes() == 1) o.jetstream_api = bus::kClientJetStreamApi;
    o.queue_frames = queue_frames;
    o.fetch_batch = 8;
    o.connect_timeout = 1000ms;
    o.queue_group = "qd.gateways";
    o.confirm_core_publishes = user != "gateway";  // as tickflow gateway runs
    o.log = Logger(
        [user](LogLevel, std::string_view, std::string_view line) {
          std::fprintf(stderr, "[%s] %.*s\n", user.c_str(), static_cast<int>(line.size()), line.data());
        },
        LogLevel::kDebug);
    return bus::MakeNatsBus(o);
  }

  void StartGateway(std::size_t per_frame = 256, std::size_t queue_frames = 64) {
    gateway_bus_ = Connect("gateway", "gw-pass", "", queue_frames).value();
    gateway_ = MakeGateway(*gateway_bus_, per_frame, 1);
  }
  std::unique_ptr<gateway::Gateway> MakeGateway(bus::Bus& bus, std::size_t per_frame, std::uint16_t id,
                                                const std::function<void(gateway::GatewayOptions&)>& tweak = {}) {
    gateway::GatewayOptions o;
    o.gateway_id = id;
    const std::string db = db_;
    o.open_store = [db] { return store::OpenStore(db, {.create = false}); };
    o.messages_per_frame = per_frame;
    o.session_timeout = 1500ms;
    o.log = Logger(
        [id](LogLevel, std::string_view, std::string_view line) {
          std::fprintf(stderr, "[gw%d] %.*s\n", id, static_cast<int>(line.size()), line.data());
        },
        LogLevel::kDebug);
    if (tweak) tweak(o);
    return gateway::Gateway::Start(bus, o).value();
  }

  // A client on its own connection, as its own NATS user.
  std::unique_ptr<Client> Open(ClientId id) {
    auto b = Connect("client-" + std::to_string(id), "pass-" + std::to_string(id), sbe::InboxPrefix(id));
    EXPECT_TRUE(b.ok()) << (b.ok() ? "" : b.error().message);
    if (!b.ok()) return nullptr;
    auto c = Client::Open({.client_id = id, .bus = b->get(), .timeout = 5000ms, .heartbeat = 200ms});
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    clients_.push_back(std::move(*b));
    return c.ok() ? std::move(c).value() : nullptr;
  }

  std::vector<Trade> StoreTrades(std::vector<SymbolId> ids) {
    auto cursor = store_->Trades(ids, {}).value();
    std::vector<Trade> all, buf(1000);
    while (std::size_t n = cursor->Next(buf).value()) all.insert(all.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    return all;
  }

  static std::string Key(const Trade& t) {
    return std::to_string(t.symbol) + "," + std::to_string(t.time.ns) + "," + t.price.ToString() + "," + t.volume.ToString();
  }
  static std::vector<std::string> Keys(const std::vector<Trade>& trades) {
    std::vector<std::string> out;
    for (const Trade& t : trades) out.push_back(Key(t));
    return out;
  }

  // Asks until a gateway accepts (the request logs in again first when the
  // session was lost), for up to 5 s.
  static Result<std::unique_ptr<client::Stream>> RequestUntilAccepted(Client& c, const client::Request& r,
                                                                      const Callbacks& cb) {
    auto s = c.RequestTrades(r, cb);
    for (int i = 0; i < 50 && !s.ok(); ++i) {
      std::this_thread::sleep_for(100ms);
      s = c.RequestTrades(r, cb);
    }
    return s;
  }

  // What one client received, in sequence order, across resumes.
  struct Run {
    std::vector<Trade> got;
    std::uint64_t last = 0;
    int cuts = 0;          // streams cut short and resumed
    std::string gave_up;  // why the resumes stopped before a stream completed (empty: one completed)
  };
  // Streams XBTUSD and ETHUSD to every client on its own thread. Only events in
  // sequence order are kept: after a gap (frames lost while a node died) or a
  // stream cut short (gateway gone, Last marker lost), the client resumes after
  // the last sequence it kept, until a stream completes. `started` counts the
  // clients that have 500 trades.
  std::vector<std::thread> StreamToAll(std::vector<std::unique_ptr<Client>>& clients, std::vector<Run>& runs,
                                       std::atomic<int>& started) {
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < clients.size(); ++i) {
      threads.emplace_back([this, &clients, &runs, &started, i] {
        Run& r = runs[i];
        Callbacks cb;
        cb.on_trade = [&](const client::TradeEvent& e) {
          if (e.sequence != r.last + 1) return;
          r.got.push_back(e.trade);
          r.last = e.sequence;
          if (r.got.size() == 500) ++started;
          if (r.got.size() % 100 == 0) std::this_thread::sleep_for(1ms);
        };
        // Bounded in attempts and in time: 100 resumes, 5 minutes in all.
        const auto deadline = std::chrono::steady_clock::now() + 5min;
        for (int attempt = 0; attempt < 100; ++attempt) {
          const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
          if (left <= 0ms) {
            r.gave_up = "no completed stream within 5 minutes (" + std::to_string(attempt) + " attempts, " +
                        std::to_string(r.got.size()) + " trades kept)";
            return;
          }
          auto s = clients[i]->RequestTrades({.symbols = {xbt_, eth_}, .resume_after = r.last}, cb);
          if (!s.ok()) {
            std::this_thread::sleep_for(200ms);
            continue;
          }
          auto end = (*s)->Wait(std::min<std::chrono::milliseconds>(20s, left));
          if (end.ok() && end->reason == sbe::StreamEndReason::kCompleted && end->missing == 0 && r.last == end->sent) {
            return;
          }
          ++r.cuts;
        }
        r.gave_up = "no completed stream in 100 attempts (" + std::to_string(r.got.size()) + " trades kept)";
      });
    }
    return threads;
  }

  fs::path dir_;
  std::string db_;
  std::unique_ptr<store::Store> store_;
  SymbolId xbt_ = 0, eth_ = 0;
  std::vector<int> ports_;
  std::vector<pid_t> pids_;
  std::unique_ptr<bus::Bus> gateway_bus_;
  std::unique_ptr<gateway::Gateway> gateway_;
  std::vector<std::unique_ptr<bus::Bus>> clients_;  // connections, outliving their clients
};

TEST_F(NatsTest, TradesArriveCompleteAndInOrderAcrossProcessesBoundaries) {
  StartGateway();
  auto c = Open(1);
  ASSERT_NE(c, nullptr);
  std::vector<Trade> got;
  auto s = c->RequestTrades({.symbols = {xbt_, eth_}}, {.on_trade = [&](const client::TradeEvent& e) { got.push_back(e.trade); }});
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto end = (*s)->Wait(60s);
  ASSERT_TRUE(end.ok()) << end.error().message;
  EXPECT_EQ(end->reason, sbe::StreamEndReason::kCompleted);
  EXPECT_EQ(end->missing, 0u);
  EXPECT_EQ(Keys(got), Keys(StoreTrades({xbt_, eth_})));
  ASSERT_TRUE(c->Close().ok());
  EXPECT_FALSE(gateway_bus_->HasChannel(sbe::DataChannel(1))) << "the gateway deleted the data stream at logout";
}

TEST_F(NatsTest, TheServerKeepsClientsOutOfEachOthersChannels) {
  StartGateway();
  auto a = Open(1);
  ASSERT_NE(a, nullptr);
  auto b = Connect("client-2", "pass-2", sbe::InboxPrefix(2)).value();

  // B cannot read A's replies, A's data stream, or anything in A's inbox.
  auto errors = b->Subscribe(sbe::ErrorChannel(1));
  ASSERT_FALSE(errors.ok());
  EXPECT_EQ(errors.error().code, ErrorCode::kPermissionDenied) << errors.error().message;
  EXPECT_NE(errors.error().message.find("Permissions Violation"), std::string::npos) << errors.error().message;
  auto data = b->Subscribe(sbe::DataChannel(1));
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.error().code, ErrorCode::kPermissionDenied) << data.error().message;
  EXPECT_FALSE(b->Subscribe("_INBOX_1.>").ok());
  // B cannot create or delete channels (the JetStream admin API).
  EXPECT_EQ(b->CreateChannel(sbe::DataChannel(2)).error().code, ErrorCode::kPermissionDenied);
  EXPECT_FALSE(b->DeleteChannel(sbe::DataChannel(1)).ok());
  // B cannot speak on A's control subject: log in, request or log out as A.
  std::vector<std::byte> buf(sbe::EncodedSize(sbe::ClientLogout{1}));
  (void)sbe::Encode(sbe::ClientLogout{1}, buf);
  EXPECT_EQ(b->Publish(sbe::ControlChannel("qd.control", 1), buf, 2000ms), bus::PublishStatus::kNotPermitted);
  // On its own subject, B claiming A's id is refused by the gateway.
  auto own = b->Subscribe(sbe::ErrorChannel(2)).value();
  EXPECT_EQ(b->Publish(sbe::ControlChannel("qd.control", 2), buf, 2000ms), bus::PublishStatus::kOk);
  bus::Frame reply;
  ASSERT_EQ(own->Poll(&reply, 5000ms), bus::PollStatus::kFrame);
  sbe::ClientError err;
  ASSERT_EQ(sbe::Decode(std::span<const std::byte>(reply), &err), sbe::DecodeStatus::kOk);
  EXPECT_EQ(err.code, sbe::ClientErrorCode::kClientIdentityMismatch);
  // A client library on B's connection cannot open as A.
  auto as_a = Client::Open({.client_id = 1, .bus = b.get(), .timeout = 2000ms});
  ASSERT_FALSE(as_a.ok());
  EXPECT_EQ(as_a.error().code, ErrorCode::kPermissionDenied) << as_a.error().message;
  // A wrong password is refused at connect.
  auto wrong = Connect("client-1", "not-it", sbe::InboxPrefix(1));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kPermissionDenied) << wrong.error().message;
  // A is unaffected by all of it.
  std::uint64_t n = 0;
  auto s = a->RequestTrades({.symbols = {xbt_}}, {.on_trade = [&](const client::TradeEvent&) { ++n; }}).value();
  EXPECT_EQ(s->Wait(30s)->missing, 0u);
  EXPECT_EQ(n, 2672u);
}

// The hostile probes: client 2, logged in as itself, asks JetStream to answer
// onto client 1's subjects (NATS checks the subject published on, not the
// reply subject). In its own account those names reach nothing of client 1,
// on the imported API as on the server's own: client 1 sees no frame that is
// not its own. A frame forged into client 1's stream by a user who can reach
// it (the gateway's account) carries no tag of client 1's session and is
// dropped: client 1 still receives exactly its own trades.
TEST_F(NatsTest, AnotherUsersJetStreamRepliesCannotWriteIntoAClientsStream) {
  StartGateway(/*per_frame=*/64);
  auto a = Open(1);
  auto b = Open(2);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  // B's stream of ETHUSD, which B's own reader leaves mostly unread.
  std::atomic<bool> release{false};
  auto bs = b->RequestTrades({.symbols = {eth_}}, {.on_trade = [&](const client::TradeEvent&) {
                                 for (int i = 0; i < 500 && !release.load(); ++i) std::this_thread::sleep_for(1ms);
                               }}).value();
  // A's stream of XBTUSD, paced to stay open while B probes (an hour at x1000: ~3.6 s).
  std::vector<Trade> got;
  auto as = a->RequestTrades({.symbols = {xbt_}, .speed_permille = 1000000},
                             {.on_trade = [&](const client::TradeEvent& e) { got.push_back(e.trade); }})
                .value();
  std::this_thread::sleep_for(300ms);

  const auto raw = [&](const std::string& user, const std::string& password) {
    natsConnection* nc = nullptr;
    const std::string url = "nats://" + user + ":" + password + "@127.0.0.1:" + std::to_string(ports_[0]);
    EXPECT_EQ(natsConnection_ConnectTo(&nc, url.c_str()), NATS_OK);
    return nc;
  };
  natsConnection* nc = raw("client-2", "pass-2");
  ASSERT_NE(nc, nullptr);
  for (const std::string& api : {std::string(bus::kClientJetStreamApi), std::string("$JS.API")}) {
    for (int i = 0; i < 20; ++i) {
      EXPECT_EQ(natsConnection_PublishRequestString(nc, (api + ".CONSUMER.MSG.NEXT.QD_DATA_2.reader").c_str(),
                                                    sbe::DataChannel(1).c_str(), "{\"batch\":1}"),
                NATS_OK);
      EXPECT_EQ(natsConnection_PublishRequestString(nc, (api + ".CONSUMER.INFO.QD_DATA_2.reader").c_str(),
                                                    sbe::DataChannel(1).c_str(), ""),
                NATS_OK);
      EXPECT_EQ(natsConnection_PublishRequestString(nc, (api + ".CONSUMER.INFO.QD_DATA_2.reader").c_str(),
                                                    sbe::ErrorChannel(1).c_str(), ""),
                NATS_OK);
    }
  }
  EXPECT_EQ(natsConnection_FlushTimeout(nc, 5000), NATS_OK);
  natsConnection_Destroy(nc);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(a->rejected_frames(), 0u) << "another client's JetStream replies reached client 1's stream";

  // A frame forged into A's stream from inside the gateway's account.
  nc = raw("gateway", "gw-pass");
  ASSERT_NE(nc, nullptr);
  std::vector<std::byte> forged(sbe::EncodedSize(sbe::ClientLogout{1}));
  (void)sbe::Encode(sbe::ClientLogout{1}, forged);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(natsConnection_Publish(nc, sbe::DataChannel(1).c_str(), forged.data(), static_cast<int>(forged.size())),
              NATS_OK);
  }
  EXPECT_EQ(natsConnection_FlushTimeout(nc, 5000), NATS_OK);
  natsConnection_Destroy(nc);

  auto end = as->Wait(60s);
  ASSERT_TRUE(end.ok()) << end.error().message;
  EXPECT_EQ(end->reason, sbe::StreamEndReason::kCompleted);
  EXPECT_EQ(end->missing, 0u);
  EXPECT_EQ(Keys(got), Keys(StoreTrades({xbt_}))) << "client 1 received trades that are not its own";
  EXPECT_EQ(a->rejected_frames(), 5u) << "the forged frames did not reach client 1's stream: the test proves nothing";
  release = true;
  ASSERT_TRUE(bs->Stop().ok());
  (void)bs->Wait(30s);
}

// Each client's account holds at most max_connections_per_client connections
// (a bus takes two: core and JetStream); the next is refused with the
// server's reason, and the other clients are not affected.
TEST_F(NatsTest, OneClientCannotTakeMoreThanItsAccountsConnections) {
  StartGateway();
  std::vector<std::unique_ptr<bus::Bus>> held;
  for (int i = 0; i < gateway::NatsServerSetup{}.max_connections_per_client / 2; ++i) {
    auto b = Connect("client-2", "pass-2", sbe::InboxPrefix(2));
    ASSERT_TRUE(b.ok()) << b.error().message;
    held.push_back(std::move(*b));
  }
  auto refused = Connect("client-2", "pass-2", sbe::InboxPrefix(2));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kBusy);
  EXPECT_NE(refused.error().message.find("maximum account active connections exceeded"), std::string::npos)
      << refused.error().message;
  auto a = Open(1);
  ASSERT_NE(a, nullptr);
  std::uint64_t n = 0;
  auto s = a->RequestTrades({.symbols = {xbt_}}, {.on_trade = [&](const client::TradeEvent&) { ++n; }}).value();
  EXPECT_EQ(s->Wait(30s)->missing, 0u);
  EXPECT_EQ(n, 2672u);
  // Nor more subscriptions than its account allows, whatever it subscribes to.
  {
    std::vector<std::unique_ptr<bus::Subscription>> subs;
    std::string refusal;
    for (int i = 0; i <= gateway::NatsServerSetup{}.max_subscriptions_per_client && refusal.empty(); ++i) {
      auto sub = held.front()->Subscribe(sbe::ErrorChannel(2));
      if (sub.ok()) subs.push_back(std::move(*sub));
      else refusal = sub.error().message;
    }
    EXPECT_NE(refusal.find("maximum subscriptions exceeded"), std::string::npos)
        << "client 2 held " << subs.size() << " subscriptions: " << refusal;
  }
  held.clear();  // and the account's connections come back once closed
  bool again = false;
  for (int i = 0; i < 50 && !again; ++i) {
    again = Connect("client-2", "pass-2", sbe::InboxPrefix(2)).ok();
    if (!again) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(again) << "client 2 could not connect again after closing its connections";
}

TEST_F(NatsTest, ASlowClientLosesNothingWhileTheBacklogStaysBounded) {
  StartGateway(/*per_frame=*/64, /*queue_frames=*/8);
  auto c = Open(1);
  ASSERT_NE(c, nullptr);
  std::vector<Trade> got;
  auto s = c->RequestTrades({.symbols = {xbt_, eth_}}, {.on_trade = [&](const client::TradeEvent& e) {
                              got.push_back(e.trade);
                              if (got.size() % 256 == 0) std::this_thread::sleep_for(2ms);
                            }}).value();
  std::size_t max_backlog = 0;
  while (!s->done()) {
    max_backlog = std::max(max_backlog, gateway_bus_->QueuedFrames(sbe::DataChannel(1)));
    std::this_thread::sleep_for(5ms);
  }
  auto end = s->Wait(1s).value();
  EXPECT_EQ(end.missing, 0u);
  EXPECT_EQ(Keys(got), Keys(StoreTrades({xbt_, eth_})));
  EXPECT_GT(max_backlog, 0u);
  EXPECT_LE(max_backlog, 8u + 4u) << "the gateway waits at 8 unread frames (plus what is in flight)";
}

TEST_F(NatsTest, AClientThatVanishesIsExpiredAndItsIdCanLogInAgain) {
  StartGateway();
  {
    // Logs in and starts a stream, then its connection dies without a logout.
    auto raw = Connect("client-3", "pass-3", sbe::InboxPrefix(3)).value();
    auto errors = raw->Subscribe(sbe::ErrorChannel(3)).value();
    std::vector<std::byte> buf(64);
    const auto n = sbe::Encode(sbe::ClientLogin{3}, buf);
    ASSERT_EQ(raw->Publish(sbe::ControlChannel("qd.control", 3), std::span(buf).first(n), 2000ms), bus::PublishStatus::kOk);
    bus::Frame f;
    ASSERT_EQ(errors->Poll(&f, 5000ms), bus::PollStatus::kFrame);
    EXPECT_TRUE(gateway_bus_->HasChannel(sbe::DataChannel(3)));
  }
  for (int i = 0; i < 400 && gateway_->stats().sessions_expired == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(gateway_->stats().sessions_expired, 1u);
  EXPECT_FALSE(gateway_bus_->HasChannel(sbe::DataChannel(3))) << "its data stream was deleted";
  auto again = Open(3);
  ASSERT_NE(again, nullptr);
  std::uint64_t got = 0;
  auto s = again->RequestTrades({.symbols = {xbt_}}, {.on_trade = [&](const client::TradeEvent&) { ++got; }}).value();
  EXPECT_EQ(s->Wait(30s)->missing, 0u);
  EXPECT_EQ(got, 2672u);
}

// A client and its gateway SIGKILLed together leave the client's data stream
// behind: a gateway deletes streams nobody reads or writes, and keeps those
// of live clients (even idle ones, logged in at another gateway).
TEST_F(NatsTest, AbandonedDataStreamsAreDeletedAndLiveOnesKept) {
  StartGateway();
  auto live = Open(1);  // logged in at gateway 1, idle
  ASSERT_NE(live, nullptr);
  ASSERT_TRUE(gateway_bus_->CreateChannel(sbe::DataChannel(9)).ok());  // as a dead gateway left it
  const std::byte frame[8]{};
  ASSERT_EQ(gateway_bus_->Publish(sbe::DataChannel(9), frame, 2000ms), bus::PublishStatus::kOk);
  auto bus2 = Connect("gateway", "gw-pass", "").value();
  auto second =
      MakeGateway(*bus2, 16, 2, [](gateway::GatewayOptions& o) { o.abandoned_after = std::chrono::seconds(1); });
  // The gateway counts a deletion once the bus has done it: wait for both.
  for (int i = 0; i < 150 && (gateway_bus_->HasChannel(sbe::DataChannel(9)) || second->stats().abandoned_deleted == 0);
       ++i) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_FALSE(gateway_bus_->HasChannel(sbe::DataChannel(9))) << "the abandoned stream is still there after 15 s";
  EXPECT_EQ(second->stats().abandoned_deleted, 1u);
  std::this_thread::sleep_for(2500ms);  // two more sweeps
  EXPECT_TRUE(gateway_bus_->HasChannel(sbe::DataChannel(1))) << "a live client's stream was deleted";
  std::uint64_t got = 0;
  auto s = live->RequestTrades({.symbols = {xbt_}}, {.on_trade = [&](const client::TradeEvent&) { ++got; }}).value();
  EXPECT_EQ(s->Wait(30s)->missing, 0u);
  EXPECT_EQ(got, 2672u);
  EXPECT_EQ(second->stats().abandoned_deleted, 1u);
  EXPECT_TRUE(second->health().ok) << second->health().detail;
}

TEST_F(NatsTest, AGatewayRestartEndsTheStreamWithAnErrorAndTheRestCanBeResumed) {
  StartGateway(/*per_frame=*/16);
  auto c = Open(4);
  ASSERT_NE(c, nullptr);
  std::vector<Trade> got;
  std::uint64_t last = 0;
  std::atomic<std::size_t> received{0};  // what this thread may read while the data thread writes `got`
  Callbacks cb;
  cb.on_trade = [&](const client::TradeEvent& e) {
    got.push_back(e.trade);
    last = e.sequence;
    if (++received % 100 == 0) std::this_thread::sleep_for(1ms);
  };
  auto s = c->RequestTrades({.symbols = {xbt_, eth_}}, cb).value();
  for (int i = 0; i < 30000 && received.load() < 2000; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_GE(received.load(), 2000u) << "timed out after 30 s waiting for the first 2000 trades";
  gateway_.reset();  // the gateway goes away mid-stream
  gateway_bus_.reset();
  auto end = s->Wait(15s);
  ASSERT_TRUE(!end.ok() || end->reason == sbe::StreamEndReason::kFailed) << "an error, not a hang";
  StartGateway(/*per_frame=*/16);
  // The next request logs in again (the new gateway has no session) and resumes.
  auto rest = RequestUntilAccepted(*c, {.symbols = {xbt_, eth_}, .resume_after = last}, cb);
  ASSERT_TRUE(rest.ok()) << rest.error().message;
  auto rest_end = (*rest)->Wait(60s);
  ASSERT_TRUE(rest_end.ok()) << rest_end.error().message;
  EXPECT_EQ(rest_end->missing, 0u);
  EXPECT_EQ(Keys(got), Keys(StoreTrades({xbt_, eth_}))) << "nothing missing, nothing doubled";
}

TEST_F(NatsTest, ANatsServerRestartIsSurvivedOrReportedAndNothingIsLost) {
  StartGateway(/*per_frame=*/16);
  auto c = Open(2);
  ASSERT_NE(c, nullptr);
  std::vector<Trade> got;
  std::uint64_t last = 0;
  std::atomic<std::size_t> received{0};  // what this thread may read while the data thread writes `got`
  Callbacks cb;
  cb.on_trade = [&](const client::TradeEvent& e) {
    got.push_back(e.trade);
    last = e.sequence;
    if (++received % 100 == 0) std::this_thread::sleep_for(1ms);
  };
  auto s = c->RequestTrades({.symbols = {xbt_, eth_}}, cb).value();
  for (int i = 0; i < 30000 && received.load() < 2000; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_GE(received.load(), 2000u) << "timed out after 30 s waiting for the first 2000 trades";
  StopServer(0);
  std::this_thread::sleep_for(300ms);
  StartServer(0);
  auto end = s->Wait(60s);
  if (!end.ok() || end->reason != sbe::StreamEndReason::kCompleted || end->missing != 0) {
    // Reported: the client resumes after what it received.
    got.resize(last);
    auto rest = RequestUntilAccepted(*c, {.symbols = {xbt_, eth_}, .resume_after = last}, cb);
    ASSERT_TRUE(rest.ok()) << rest.error().message;
    ASSERT_TRUE((*rest)->Wait(60s).ok());
  }
  EXPECT_EQ(Keys(got), Keys(StoreTrades({xbt_, eth_})));
  // Both sides are connected again: a new stream works.
  std::uint64_t n = 0;
  auto again = c->RequestTrades({.symbols = {xbt_}}, {.on_trade = [&](const client::TradeEvent&) { ++n; }});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ((*again)->Wait(30s)->missing, 0u);
  EXPECT_EQ(n, 2672u);
}

TEST_F(NatsTest, TwoGatewaysInAQueueGroupServeEveryStreamOnceAndTakeOverFromEachOther) {
  StartGateway(/*per_frame=*/16);  // gateway 1
  std::vector<std::unique_ptr<Client>> clients;
  clients.push_back(Open(1));
  clients.push_back(Open(2));  // both logged in at gateway 1: the only one up
  auto bus2 = Connect("gateway", "gw-pass", "").value();
  auto second = MakeGateway(*bus2, 16, 2);
  clients.push_back(Open(3));
  clients.push_back(Open(4));  // at gateway 1 or 2, as the queue group decides
  for (const auto& c : clients) ASSERT_NE(c, nullptr);
  std::vector<Run> runs(clients.size());
  std::atomic<int> started{0};
  auto threads = StreamToAll(clients, runs, started);
  while (started.load() < 4) std::this_thread::sleep_for(1ms);
  const auto served_by_1 = gateway_->stats().sessions;
  gateway_.reset();  // gateway 1 goes away mid-stream
  for (auto& t : threads) t.join();
  EXPECT_GE(served_by_1, 2u);
  const auto expected = Keys(StoreTrades({xbt_, eth_}));
  for (std::size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(Keys(runs[i].got), expected) << "client " << i + 1 << ": nothing missing, nothing doubled " << runs[i].gave_up;
  }
  EXPECT_GE(runs[0].cuts + runs[1].cuts, 2) << "the streams of gateway 1 were cut and resumed at gateway 2";
  EXPECT_GE(second->stats().streams_started, 2u);
  clients.clear();
  second.reset();
}

// The scale-out deployment on one machine: three nodes with JetStream
// (streams replicated 3 times), two gateways in a queue group, ClickHouse as
// the store, four clients; one gateway is stopped in the middle of a run, then
// one node in the middle of the next.
class NatsClusterTest : public NatsTest {
 protected:
  int Nodes() const override { return 3; }
  std::string StoreLocation() override {
    const std::string error = clickhouse_.Start(dir_ / "clickhouse");
    EXPECT_EQ(error, "");
    return clickhouse_.Url("tickflow");
  }
  void StopStore() override { clickhouse_.Stop(); }
  test::ClickHouseServer clickhouse_;
};

TEST_F(NatsClusterTest, StreamsCompleteExactlyOnceWhenAGatewayAndThenANodeStop) {
  // A clustered JetStream answers only once the nodes have elected a leader.
  gateway_bus_ = Connect("gateway", "gw-pass", "").value();
  Status ready = MakeError(ErrorCode::kUnavailable, "JetStream not ready");
  for (int i = 0; i < 100 && !ready.ok(); ++i) {
    ready = gateway_bus_->CreateChannel(sbe::DataChannel(999));
    if (!ready.ok()) std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(ready.ok()) << ready.error().message;
  ASSERT_TRUE(gateway_bus_->DeleteChannel(sbe::DataChannel(999)).ok());
  gateway_ = MakeGateway(*gateway_bus_, 16, 1);
  auto bus2 = Connect("gateway", "gw-pass", "").value();
  auto second = MakeGateway(*bus2, 16, 2);
  std::vector<std::unique_ptr<Client>> clients;
  for (ClientId id = 1; id <= 4; ++id) {
    clients.push_back(Open(id));
    ASSERT_NE(clients.back(), nullptr);
  }
  const auto expected = Keys(StoreTrades({xbt_, eth_}));
  const auto check = [&](const std::vector<Run>& runs, const char* phase) {
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const auto got = Keys(runs[i].got);
      std::size_t first_diff = 0;
      while (first_diff < std::min(got.size(), expected.size()) && got[first_diff] == expected[first_diff]) ++first_diff;
      EXPECT_TRUE(got == expected) << phase << ", client " << i + 1 << ": nothing missing, nothing doubled; got "
                                   << got.size() << " of " << expected.size() << ", first difference at " << first_diff
                                   << " " << runs[i].gave_up;
    }
  };
  {  // Gateway 1 goes away mid-run: its streams end with an error and the rest completes through gateway 2.
    std::vector<Run> runs(clients.size());
    std::atomic<int> started{0};
    auto threads = StreamToAll(clients, runs, started);
    while (started.load() < 4) std::this_thread::sleep_for(1ms);
    const auto served_by_1 = gateway_->stats().streams_started;
    gateway_.reset();
    for (auto& t : threads) t.join();
    check(runs, "gateway 1 stopped");
    int cuts = 0;
    for (const Run& r : runs) cuts += r.cuts;
    EXPECT_GE(cuts, served_by_1 > 0 ? 1 : 0) << "gateway 1's streams were cut and resumed at gateway 2";
  }
  {  // Then one NATS node stops mid-run: clients and gateway 2 carry on through the other two.
    std::vector<Run> runs(clients.size());
    std::atomic<int> started{0};
    auto threads = StreamToAll(clients, runs, started);
    while (started.load() < 4) std::this_thread::sleep_for(1ms);
    StopServer(0);
    for (auto& t : threads) t.join();
    check(runs, "node 0 stopped");
  }
  // Still working with two nodes: a new stream completes. The gateway's
  // connection may still be failing over from the stopped node, in which case
  // the stream reports lost frames (DataSendError) and is requested again.
  std::uint64_t n = 0;
  Result<client::StreamEnd> end = MakeError(ErrorCode::kInternal, "not run");
  for (int attempt = 0; attempt < 3; ++attempt) {
    n = 0;
    auto again = clients[0]->RequestTrades({.symbols = {xbt_}}, {.on_trade = [&](const client::TradeEvent&) { ++n; }});
    ASSERT_TRUE(again.ok()) << again.error().message;
    end = (*again)->Wait(60s);
    if (end.ok() || end.error().message.find("DataSendError") == std::string::npos) break;
  }
  ASSERT_TRUE(end.ok()) << end.error().message;
  EXPECT_EQ(end->missing, 0u);
  EXPECT_EQ(n, 2672u);
  // A client logging in now gets a data stream on the two nodes left (fewer
  // replicas than configured, rather than no stream).
  clients[3].reset();  // logs out: its data stream is deleted
  std::vector<std::unique_ptr<Client>> back(1);
  for (int i = 0; i < 20 && back[0] == nullptr; ++i) {
    auto b = Connect("client-4", "pass-4", sbe::InboxPrefix(4));
    if (!b.ok()) continue;
    auto c = Client::Open({.client_id = 4, .bus = b->get(), .timeout = 5000ms, .heartbeat = 200ms});
    clients_.push_back(std::move(*b));
    if (c.ok()) {
      back[0] = std::move(c).value();
    } else {  // e.g. BusUnavailable while the cluster elects new stream leaders: back off, as clients do
      std::this_thread::sleep_for(500ms);
    }
  }
  ASSERT_NE(back[0], nullptr) << "client 4 could not log in again with one node down";
  std::vector<Run> runs(1);
  std::atomic<int> started{0};
  for (auto& t : StreamToAll(back, runs, started)) t.join();
  check(runs, "logged in again with node 0 down");
  back.clear();
  clients.clear();
  second.reset();
}

}  // namespace
}  // namespace tickflow
