// Protocol conformance and end-to-end replay: store -> gateway -> in-process
// bus -> client, against the imported CSV and the store itself.
#include "tickflow/gateway/gateway.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <variant>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "tickflow/client/client.hpp"
#include "tickflow/importer/importer.hpp"
#include "tickflow/sbe/channels.hpp"
#include "tickflow/sbe/codec.hpp"
#include "tickflow/sbe/frame_auth.hpp"

namespace tickflow {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using client::Callbacks;
using client::Client;
using client::Request;

const fs::path kSample = fs::path(TICKFLOW_SOURCE_DIR) / "tests/data/kraken/XBTUSD.csv";

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tickflow_gw_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
    fs::copy_file(kSample, dir_ / "in/XBTUSD.csv");
    // A second market interleaved with the first, with ties on purpose.
    std::ofstream eth(dir_ / "in/ETHUSD.csv");
    for (int i = 0; i < 3000; ++i) eth << 1561939203 + i + (i % 5 == 0 ? 0 : 1) / 2 << "," << 290 + i % 7 << ".5,1." << i << "\n";
    eth.close();
    db_ = (dir_ / "store.db").string();
    {
      auto store = store::OpenStore(db_).value();
      auto summary = importer::Import(*store, (dir_ / "in").string(), {}).value();
      ASSERT_EQ(summary.files_failed, 0u);
    }
    store_ = store::OpenStore(db_).value();
    xbt_ = store_->FindSymbol("XBTUSD")->id;
    eth_ = store_->FindSymbol("ETHUSD")->id;
    bus_ = bus::MakeInProcessBus({.queue_frames = 16, .max_frame_bytes = 1 << 20});
    StartGateway();
  }
  void TearDown() override {
    gateway_.reset();
    bus_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  // The fixture's gateway options: the test store, short session timeout.
  gateway::GatewayOptions Options() const {
    gateway::GatewayOptions o;
    o.session_timeout = 300ms;
    const std::string db = db_;
    o.open_store = [db] { return store::OpenStore(db, {.create = false}); };
    return o;
  }
  void StartGateway(const gateway::GatewayOptions& o) {
    gateway_.reset();
    gateway_ = gateway::Gateway::Start(*bus_, o).value();
  }
  void StartGateway(std::size_t per_frame = 256, bool authenticate_frames = true) {
    gateway::GatewayOptions o = Options();
    o.authenticate_frames = authenticate_frames;
    o.messages_per_frame = per_frame;
    StartGateway(o);
  }

  std::unique_ptr<Client> Open(ClientId id) {
    auto c = Client::Open({.client_id = id, .bus = bus_.get(), .timeout = 5000ms, .heartbeat = 50ms});
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    return c.ok() ? std::move(c).value() : nullptr;
  }

  std::vector<Trade> StoreTrades(std::vector<SymbolId> ids, store::TimeRange range = {}) {
    auto cursor = store_->Trades(ids, range).value();
    std::vector<Trade> all, buf(1000);
    while (std::size_t n = cursor->Next(buf).value()) all.insert(all.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    return all;
  }

  // Trades received through the client, and the stream's end.
  std::pair<std::vector<Trade>, client::StreamEnd> Replay(Client& c, Request r) {
    std::vector<Trade> got;
    Callbacks cb;
    cb.on_trade = [&](const client::TradeEvent& e) { got.push_back(e.trade); };
    auto stream = c.RequestTrades(r, cb);
    EXPECT_TRUE(stream.ok()) << (stream.ok() ? "" : stream.error().message);
    if (!stream.ok()) return {};
    auto end = (*stream)->Wait(30000ms);
    EXPECT_TRUE(end.ok());
    return {got, end.ok() ? *end : client::StreamEnd{}};
  }

  // Raw protocol access: an error channel we read ourselves (the gateway
  // creates the data channel at login).
  struct Raw {
    std::unique_ptr<bus::Subscription> errors;
  };
  Raw RawClient(ClientId id) {
    EXPECT_TRUE(bus_->CreateChannel(sbe::ErrorChannel(id)).ok());
    return Raw{bus_->Subscribe(sbe::ErrorChannel(id)).value()};
  }
  // Sends a message on the control channel of `sender` (default: the client it names).
  template <class M>
  void SendRaw(const M& m, std::optional<ClientId> sender = std::nullopt) {
    std::vector<std::byte> buf(sbe::EncodedSize(m));
    ASSERT_EQ(sbe::Encode(m, buf), buf.size());
    ASSERT_EQ(bus_->Publish(sbe::ControlChannel("qd.control", sender.value_or(m.client_id)), buf, 1000ms),
              bus::PublishStatus::kOk);
  }
  // Next message on a raw subscription, decoded as M.
  template <class M>
  M Expect(bus::Subscription& sub) {
    bus::Frame f;
    EXPECT_EQ(sub.Poll(&f, 5000ms), bus::PollStatus::kFrame);
    M m{};
    EXPECT_EQ(sbe::Decode(std::span<const std::byte>(f), &m), sbe::DecodeStatus::kOk) << "expected " << sbe::ToString(M::kType);
    return m;
  }

  fs::path dir_;
  std::string db_;
  std::unique_ptr<store::Store> store_;
  SymbolId xbt_ = 0, eth_ = 0;
  std::unique_ptr<bus::Bus> bus_;
  std::unique_ptr<gateway::Gateway> gateway_;
};

// --- sessions ---------------------------------------------------------------

TEST_F(GatewayTest, LoginIsAcknowledgedAndASecondLoginIsRefused) {
  auto raw = RawClient(7);
  SendRaw(sbe::ClientLogin{7});
  EXPECT_EQ(Expect<sbe::ClientLoginAck>(*raw.errors).client_id, 7);
  SendRaw(sbe::ClientLogin{7});
  EXPECT_EQ(Expect<sbe::ClientError>(*raw.errors).code, sbe::ClientErrorCode::kClientAlreadyLoggedIn);
  SendRaw(sbe::ClientLogout{7});
  EXPECT_EQ(Expect<sbe::ClientLogoutAck>(*raw.errors).client_id, 7);
  SendRaw(sbe::ClientLogout{7});
  EXPECT_EQ(Expect<sbe::ClientError>(*raw.errors).code, sbe::ClientErrorCode::kClientNotLoggedIn);
}

// A client that gave the gateway up for dead logs in again: its own stale
// session is replaced at once, not refused until it expires.
TEST_F(GatewayTest, ALoginAfterASilenceReplacesTheCallersStaleSession) {
  gateway::GatewayOptions o = Options();
  o.session_timeout = 30000ms;  // far from expiring during the test; stale after 10 s of silence
  StartGateway(o);
  auto raw = RawClient(31);
  SendRaw(sbe::ClientLogin{31});
  Expect<sbe::ClientLoginAck>(*raw.errors);
  SendRaw(sbe::ClientLogin{31});  // heard from just now: a second login
  EXPECT_EQ(Expect<sbe::ClientError>(*raw.errors).code, sbe::ClientErrorCode::kClientAlreadyLoggedIn);
  o.session_timeout = 3000ms;  // stale after 1 s
  StartGateway(o);
  SendRaw(sbe::ClientLogin{31});
  Expect<sbe::ClientLoginAck>(*raw.errors);
  std::this_thread::sleep_for(1200ms);
  SendRaw(sbe::ClientLogin{31});
  EXPECT_EQ(Expect<sbe::ClientLoginAck>(*raw.errors).client_id, 31);
  EXPECT_EQ(gateway_->stats().sessions, 1u);
}

TEST_F(GatewayTest, RequestsBeforeLoginAreRefused) {
  auto raw = RawClient(8);
  sbe::StartData req;
  req.client_id = 8;
  req.request_id = 1;
  req.symbols = {xbt_};
  SendRaw(req);
  EXPECT_EQ(Expect<sbe::ClientError>(*raw.errors).code, sbe::ClientErrorCode::kClientNotLoggedIn);
  SendRaw(sbe::StopData{8, 1});
  EXPECT_EQ(Expect<sbe::ClientError>(*raw.errors).code, sbe::ClientErrorCode::kClientNotLoggedIn);
  SendRaw(sbe::StopAllData{8});
  EXPECT_EQ(Expect<sbe::ClientError>(*raw.errors).code, sbe::ClientErrorCode::kClientNotLoggedIn);
}

TEST_F(GatewayTest, ClientOpenFailsClearlyWithoutAGatewayOrWhenTheIdIsTaken) {
  auto taken = Open(3);
  auto again = Client::Open({.client_id = 3, .bus = bus_.get(), .timeout = 500ms});
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("in use"), std::string::npos);
  taken.reset();
  gateway_.reset();
  auto lonely = Client::Open({.client_id = 4, .bus = bus_.get(), .timeout = 300ms});
  ASSERT_FALSE(lonely.ok());
  EXPECT_NE(lonely.error().message.find("no gateway serves the control channel qd.control"), std::string::npos)
      << lonely.error().message;
  EXPECT_FALSE(bus_->HasChannel(sbe::ErrorChannel(4))) << "a failed open leaves no channels behind";
  ASSERT_TRUE(bus_->CreateChannel("qd.control.*").ok());  // a channel, but nobody serving it
  const auto t0 = std::chrono::steady_clock::now();
  auto unanswered = Client::Open({.client_id = 5, .bus = bus_.get(), .timeout = 300ms});
  ASSERT_FALSE(unanswered.ok());
  EXPECT_NE(unanswered.error().message.find("did not acknowledge the login of client 5 within 300 ms"),
            std::string::npos) << unanswered.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "a timeout, not a hang";
}

// --- request validation -------------------------------------------------------

TEST_F(GatewayTest, BadRequestsGetTheMatchingDataError) {
  auto raw = RawClient(9);
  SendRaw(sbe::ClientLogin{9});
  Expect<sbe::ClientLoginAck>(*raw.errors);
  const auto request = [&](auto edit) {
    sbe::StartData r;
    r.client_id = 9;
    r.request_id = 5;
    r.symbols = {xbt_};
    edit(r);
    SendRaw(r);
    return Expect<sbe::DataError>(*raw.errors);
  };
  auto e = request([&](sbe::StartData& r) { r.symbols = {999}; });
  EXPECT_EQ(e.code, sbe::DataErrorCode::kSymbolNotFound);
  EXPECT_EQ(e.symbol_id, 999);
  EXPECT_EQ(e.request_id, 5u);
  EXPECT_EQ(request([](sbe::StartData& r) { r.data_type = static_cast<sbe::DataType>(9); }).code,
            sbe::DataErrorCode::kDataTypeNotKnown);
  EXPECT_EQ(request([](sbe::StartData& r) {
              r.data_type = sbe::DataType::kBars;
              r.resolution = static_cast<TimeResolution>(42);
            }).code,
            sbe::DataErrorCode::kResolutionNotKnown);
  EXPECT_EQ(request([](sbe::StartData& r) {
              r.data_type = sbe::DataType::kBars;
              r.resolution = TimeResolution::kNone;
            }).code,
            sbe::DataErrorCode::kResolutionNotKnown);
  EXPECT_EQ(request([](sbe::StartData& r) { r.from = r.to = UnixNanos{1561939300LL * kNanosPerSecond}; }).code,
            sbe::DataErrorCode::kInvalidTimeRange);
  EXPECT_EQ(request([](sbe::StartData& r) {
              r.from = UnixNanos{1561939300LL * kNanosPerSecond};
              r.to = UnixNanos{1561939200LL * kNanosPerSecond};
            }).code,
            sbe::DataErrorCode::kInvalidTimeRange);
  EXPECT_EQ(request([](sbe::StartData& r) { r.symbols.clear(); }).code, sbe::DataErrorCode::kSymbolNotFound);
  SendRaw(sbe::StopData{9, 77});
  EXPECT_EQ(Expect<sbe::DataError>(*raw.errors).code, sbe::DataErrorCode::kUnknownRequest);
  // Errors went to this client only, and the gateway still serves it.
  EXPECT_EQ(bus_->QueuedFrames(sbe::DataChannel(9)), 0u);
  sbe::StartData ok;
  ok.client_id = 9;
  ok.request_id = 6;
  ok.symbols = {xbt_};
  SendRaw(ok);
  EXPECT_EQ(Expect<sbe::StartDataAck>(*raw.errors).request_id, 6u);
}

// Requests that cannot even be measured still get their answer, and no
// request can make a stream hold more than the limits allow.
TEST_F(GatewayTest, MalformedAndOversizedRequestsAreAnswered) {
  auto raw = RawClient(9);
  SendRaw(sbe::ClientLogin{9});
  Expect<sbe::ClientLoginAck>(*raw.errors);
  sbe::StartData r;
  r.client_id = 9;
  r.request_id = 5;
  r.symbols = {xbt_};
  std::vector<std::byte> buf(sbe::EncodedSize(r));
  ASSERT_EQ(sbe::Encode(r, buf), buf.size());
  const std::size_t group = sbe::kHeaderSize + sbe::StartData::kBlockLength;
  const auto send_patched = [&](std::uint16_t block, std::uint16_t count) {
    std::vector<std::byte> b = buf;
    std::memcpy(b.data() + group, &block, 2);
    std::memcpy(b.data() + group + 2, &count, 2);
    ASSERT_EQ(bus_->Publish(sbe::ControlChannel("qd.control", 9), b, 1000ms), bus::PublishStatus::kOk);
  };
  for (const std::uint16_t count : {std::uint16_t{1025}, std::uint16_t{10000}, std::uint16_t{65535}}) {
    send_patched(sbe::StartData::kSymbolBlockLength, count);
    const auto e = Expect<sbe::DataError>(*raw.errors);
    EXPECT_EQ(e.code, sbe::DataErrorCode::kTooManySymbols) << count;
    EXPECT_EQ(e.request_id, 5u) << count;
  }
  send_patched(0, 1);  // a group whose entries are smaller than a symbol id
  EXPECT_EQ(Expect<sbe::ClientError>(*raw.errors).code, sbe::ClientErrorCode::kMalformedMessage);
  send_patched(sbe::StartData::kSymbolBlockLength, 2);  // claims two symbols, holds one
  EXPECT_EQ(Expect<sbe::ClientError>(*raw.errors).code, sbe::ClientErrorCode::kMalformedMessage);

  r.speed_permille = 0xFFFFFFFFu;
  SendRaw(r);
  EXPECT_EQ(Expect<sbe::DataError>(*raw.errors).code, sbe::DataErrorCode::kInvalidSpeed);
  r.speed_permille = 0;
  r.symbols = {xbt_, eth_, xbt_};
  SendRaw(r);
  const auto dup = Expect<sbe::DataError>(*raw.errors);
  EXPECT_EQ(dup.code, sbe::DataErrorCode::kDuplicateSymbol);
  EXPECT_EQ(dup.symbol_id, xbt_);
}

TEST_F(GatewayTest, OneClientCannotTakeEveryStreamSlot) {
  gateway::GatewayOptions o = Options();
  o.session_timeout = 5000ms;
  o.max_streams_per_client = 2;
  o.max_open_symbols = 5;
  StartGateway(o);
  auto greedy = Open(20);
  auto other = Open(21);
  ASSERT_TRUE(greedy && other);
  const Request slow{.symbols = {xbt_, eth_}, .speed_permille = 1};  // never ends within the test
  auto s1 = greedy->RequestTrades(slow);
  auto s2 = greedy->RequestTrades(slow);
  ASSERT_TRUE(s1.ok() && s2.ok());
  auto s3 = greedy->RequestTrades(slow);
  ASSERT_FALSE(s3.ok());
  EXPECT_NE(s3.error().message.find("too many streams running for this client"), std::string::npos)
      << s3.error().message;
  // The other client still gets a stream, within the symbol budget (4 of 5 taken)...
  auto mine = other->RequestTrades({.symbols = {xbt_}});
  ASSERT_TRUE(mine.ok()) << mine.error().message;
  EXPECT_EQ((*mine)->Wait(30000ms)->reason, sbe::StreamEndReason::kCompleted);
  // ...and beyond it the gateway says it has no capacity, not that the client asked too much.
  auto over = other->RequestTrades({.symbols = {xbt_, eth_}});
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().message.find("unavailable"), std::string::npos) << over.error().message;
  ASSERT_TRUE((*s1)->Stop().ok());
  ASSERT_TRUE((*s2)->Stop().ok());
  EXPECT_EQ((*s1)->Wait(10000ms)->reason, sbe::StreamEndReason::kStopped);
  EXPECT_EQ((*s2)->Wait(10000ms)->reason, sbe::StreamEndReason::kStopped);
}

// Issue 13 item 12: a client flooding the control channel (and never reading
// its answers) must not stall the answers to everybody else.
TEST_F(GatewayTest, AFloodOfRequestsFromOneClientDoesNotStallTheOthers) {
  auto flooder = RawClient(40);  // never reads its error channel: 16 frames fill it
  SendRaw(sbe::ClientLogin{40});
  const auto frame_of = [](const auto& m, std::size_t copies) {
    std::vector<std::byte> one(sbe::EncodedSize(m));
    EXPECT_EQ(sbe::Encode(m, one), one.size());
    std::vector<std::byte> all;
    for (std::size_t i = 0; i < copies; ++i) all.insert(all.end(), one.begin(), one.end());
    return all;
  };
  const auto beats = frame_of(sbe::ClientHeartbeat{40}, 2000);
  sbe::StartData bad;
  bad.client_id = 40;
  bad.request_id = 1;
  bad.symbols = {999};
  const auto requests = frame_of(bad, 60);
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(bus_->Publish(sbe::ControlChannel("qd.control", 40), beats, 10000ms), bus::PublishStatus::kOk);
    ASSERT_EQ(bus_->Publish(sbe::ControlChannel("qd.control", 40), requests, 10000ms), bus::PublishStatus::kOk);
  }
  // 100,000 heartbeats and 3,000 bad requests later, another client logs in and replays.
  auto c = Open(41);
  ASSERT_NE(c, nullptr);
  auto [got, end] = Replay(*c, {.symbols = {xbt_}});
  EXPECT_EQ(end.reason, sbe::StreamEndReason::kCompleted);
  EXPECT_EQ(got.size(), StoreTrades({xbt_}).size());
  EXPECT_GT(gateway_->stats().replies_dropped, 0u);
}

// Issue 13 item 13: a storm of logins costs the gateway a token check each,
// not a data channel each, and other clients still log in.
TEST_F(GatewayTest, ALoginStormIsRefusedCheaply) {
  auto storm = RawClient(42);
  std::vector<std::byte> frame;
  for (int i = 0; i < 32; ++i) {
    for (const auto& m : {std::variant<sbe::ClientLogin, sbe::ClientLogout>(sbe::ClientLogin{42}),
                          std::variant<sbe::ClientLogin, sbe::ClientLogout>(sbe::ClientLogout{42})}) {
      std::visit([&](const auto& x) {
        std::vector<std::byte> one(sbe::EncodedSize(x));
        EXPECT_EQ(sbe::Encode(x, one), one.size());
        frame.insert(frame.end(), one.begin(), one.end());
      }, m);
    }
  }
  for (int i = 0; i < 20; ++i) {  // 640 logins and logouts
    ASSERT_EQ(bus_->Publish(sbe::ControlChannel("qd.control", 42), frame, 10000ms), bus::PublishStatus::kOk);
  }
  auto c = Open(43);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(Replay(*c, {.symbols = {xbt_}}).second.reason, sbe::StreamEndReason::kCompleted);
  // 640 logins, at most 8 + ~1 a second of them served: the rest refused (bounded wait for the count).
  std::uint64_t refused = 0;
  for (int i = 0; i < 100 && refused < 600; ++i) {
    const auto stats = gateway_->stats();
    const auto it = stats.errors_by_code.find("ClientError/login failed");
    refused = it == stats.errors_by_code.end() ? 0 : it->second;
    if (refused < 600) std::this_thread::sleep_for(50ms);
  }
  EXPECT_GE(refused, 600u) << "logins of the storm that were served instead of refused";
}

TEST_F(GatewayTest, ClientReturnsRequestErrorsAsErrors) {
  auto c = Open(10);
  auto r = c->RequestTrades({.symbols = {999}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("symbol not found (symbol id 999)"), std::string::npos) << r.error().message;
  auto inverted = c->RequestTrades({.symbols = {xbt_}, .from = UnixNanos{10}, .to = UnixNanos{5}});
  ASSERT_FALSE(inverted.ok());
  EXPECT_NE(inverted.error().message.find("empty or inverted time range"), std::string::npos);
}

TEST_F(GatewayTest, MalformedControlFramesNeverTakeTheGatewayDown) {
  const std::vector<std::byte> garbage(37, std::byte{0x5A});
  ASSERT_EQ(bus_->Publish("qd.control.11", garbage, 100ms), bus::PublishStatus::kOk);
  ASSERT_EQ(bus_->Publish("qd.control.eleven", garbage, 100ms), bus::PublishStatus::kOk);  // not a client id
  auto login = std::vector<std::byte>(sbe::EncodedSize(sbe::ClientLogin{}));
  (void)sbe::Encode(sbe::ClientLogin{11}, login);
  login.resize(login.size() - 1);  // truncated
  ASSERT_EQ(bus_->Publish("qd.control.11", login, 100ms), bus::PublishStatus::kOk);
  auto c = Open(11);
  ASSERT_NE(c, nullptr);
  EXPECT_GE(gateway_->stats().malformed_frames, 3u);
  EXPECT_EQ(Replay(*c, {.symbols = {xbt_}}).first.size(), 2672u);
}

// --- data ---------------------------------------------------------------------

std::string Csv(const std::vector<Trade>& trades) {
  std::string out;
  for (const Trade& t : trades) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03lld", static_cast<long long>(t.time.ns % kNanosPerSecond / 1000000));
    out += std::to_string(t.time.ns / kNanosPerSecond) + frac + "," + t.price.ToString() + "," + t.volume.ToString() + "\n";
  }
  return out;
}

TEST_F(GatewayTest, TradesArriveExactlyAsImportedInOrder) {
  auto c = Open(12);
  auto [got, end] = Replay(*c, {.symbols = {xbt_}});
  std::ifstream in(kSample);
  std::stringstream csv;
  csv << in.rdbuf();
  EXPECT_EQ(Csv(got), csv.str());
  EXPECT_EQ(end.reason, sbe::StreamEndReason::kCompleted);
  EXPECT_EQ(end.sent, 2672u);
  EXPECT_EQ(end.received, 2672u);
  EXPECT_EQ(end.missing, 0u);
  EXPECT_GT(gateway_->stats().frames_sent, 10u) << "many messages per frame, several frames";
}

// The same trades, each with the same representation of its numbers.
void ExpectSameTrades(const std::vector<Trade>& got, const std::vector<Trade>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].symbol, want[i].symbol) << i;
    ASSERT_EQ(got[i].time, want[i].time) << i;
    ASSERT_TRUE(got[i].price.SameRepresentation(want[i].price)) << i;
    ASSERT_TRUE(got[i].volume.SameRepresentation(want[i].volume)) << i;
  }
}

TEST_F(GatewayTest, TradeBatchesHoldEveryTradeInOrderBeforeTheEnd) {
  auto c = Open(15);
  const auto want = StoreTrades({xbt_, eth_});
  std::vector<Trade> got;
  std::vector<std::string> order;  // the callbacks, in the order they came
  std::uint32_t next_sequence = 1;
  std::size_t batches = 0, largest = 0;
  Callbacks cb;
  cb.on_start = [&](RequestId) { order.push_back("start"); };
  cb.on_trades = [&](const client::TradeBatch& b) {
    if (order.empty() || order.back() != "trades") order.push_back("trades");
    EXPECT_EQ(b.first_sequence, next_sequence);
    EXPECT_FALSE(b.trades.empty());
    next_sequence += static_cast<std::uint32_t>(b.trades.size());
    got.insert(got.end(), b.trades.begin(), b.trades.end());
    ++batches;
    largest = std::max(largest, b.trades.size());
  };
  cb.on_trade = [&](const client::TradeEvent&) { ADD_FAILURE() << "on_trade is not called when on_trades is set"; };
  cb.on_end = [&](const client::StreamEnd&) { order.push_back("end"); };
  auto s = c->RequestTrades({.symbols = {xbt_, eth_}}, cb).value();
  auto end = s->Wait(30000ms).value();
  EXPECT_EQ(order, (std::vector<std::string>{"start", "trades", "end"}));
  ExpectSameTrades(got, want);
  EXPECT_EQ(end.received, want.size());
  EXPECT_EQ(end.missing, 0u);
  EXPECT_GT(largest, 1u) << "trades come several to a call";
  EXPECT_LE(largest, 256u) << "at most one frame's trades (messages_per_frame)";
  EXPECT_LT(batches, want.size() / 10);
}

TEST_F(GatewayTest, SeveralSymbolsAndTimeRangesMatchTheStore) {
  auto c = Open(13);
  const UnixNanos from{1561939500LL * kNanosPerSecond}, to{1561941000LL * kNanosPerSecond};
  for (const Request& r : {Request{.symbols = {xbt_, eth_}}, Request{.symbols = {eth_, xbt_}, .from = from, .to = to},
                           Request{.symbols = {xbt_}, .from = from}, Request{.symbols = {eth_}, .to = to}}) {
    auto [got, end] = Replay(*c, r);
    const auto want = StoreTrades(r.symbols, {r.from, r.to});
    ExpectSameTrades(got, want);
    EXPECT_EQ(end.received, want.size());
    for (std::size_t i = 1; i < got.size(); ++i) ASSERT_LE(got[i - 1].time, got[i].time);
  }
}

TEST_F(GatewayTest, BarsMatchBarsComputedFromTheStore) {
  auto c = Open(14);
  for (TimeResolution res : {TimeResolution::kOneMinute, TimeResolution::kFiveMinutes, TimeResolution::kOneHour}) {
    for (const std::vector<SymbolId>& ids : {std::vector<SymbolId>{xbt_}, std::vector<SymbolId>{xbt_, eth_}}) {
      std::vector<client::BarEvent> got;
      Callbacks cb;
      cb.on_bar = [&](const client::BarEvent& b) { got.push_back(b); };
      auto s = c->RequestBars({.symbols = ids}, res, cb);
      ASSERT_TRUE(s.ok()) << s.error().message;
      ASSERT_TRUE((*s)->Wait(10000ms).ok());
      std::vector<std::pair<SymbolId, Bar>> want;
      for (SymbolId id : ids) {
        auto cursor = store::ReadBars(*store_, id, res, {}).value();
        std::vector<Bar> buf(1000);
        while (std::size_t n = cursor->Next(buf).value()) {
          for (std::size_t i = 0; i < n; ++i) want.emplace_back(id, buf[i]);
        }
      }
      std::stable_sort(want.begin(), want.end(), [](const auto& a, const auto& b) { return a.second.time < b.second.time; });
      ASSERT_EQ(got.size(), want.size()) << ToString(res);
      for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].symbol, want[i].first);
        EXPECT_TRUE(got[i].bar == want[i].second) << ToString(res) << " bar " << i;
        EXPECT_EQ(got[i].sequence, i + 1);
      }
    }
  }
}

TEST_F(GatewayTest, PullStyleStreamEndedByTheClientYieldsItsReasonLast) {
  auto c = Open(16);
  // Paced at real time: the stream would run for hours.
  auto s = c->RequestTrades({.symbols = {xbt_}, .speed_permille = 1000}).value();
  ASSERT_TRUE(s->Next(5000ms));
  ASSERT_TRUE(c->Close().ok());
  std::optional<client::StreamError> error;
  while (auto e = s->Next(5000ms)) {
    EXPECT_FALSE(error) << "an event after the error";
    if (const auto* err = std::get_if<client::StreamError>(&*e)) error = *err;
  }
  ASSERT_TRUE(error) << "the stream ended without saying why";
  EXPECT_NE(error->message.find("the client was closed before stream"), std::string::npos) << error->message;
  EXPECT_TRUE(s->done());
}

TEST_F(GatewayTest, PullStyleStreamsYieldEveryEvent) {
  auto c = Open(15);
  auto s = c->RequestTrades({.symbols = {xbt_}}).value();  // no callbacks: pull
  std::size_t trades = 0;
  bool started = false, ended = false;
  while (!ended) {
    const auto e = s->Next(5000ms);
    if (!e) break;
    if (std::holds_alternative<client::StreamStart>(*e)) started = true;
    if (std::holds_alternative<client::TradeEvent>(*e)) ++trades;
    if (const auto* end = std::get_if<client::StreamEnd>(&*e)) {
      ended = true;
      EXPECT_EQ(end->sent, 2672u);
    }
  }
  EXPECT_TRUE(started);
  EXPECT_TRUE(ended);
  EXPECT_EQ(trades, 2672u);
}

TEST_F(GatewayTest, StopEndsAStreamPromptlyAndCountsAgree) {
  gateway_.reset();
  StartGateway(/*per_frame=*/16);
  auto c = Open(16);
  std::atomic<std::size_t> n{0};
  Callbacks cb;
  cb.on_trade = [&](const client::TradeEvent&) {
    ++n;
    std::this_thread::sleep_for(200us);  // a slow consumer
  };
  auto s = c->RequestTrades({.symbols = {xbt_, eth_}}, cb).value();
  while (n.load() < 300) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(s->Stop().ok());
  auto end = s->Wait(5000ms);
  ASSERT_TRUE(end.ok()) << end.error().message;
  EXPECT_EQ(end->reason, sbe::StreamEndReason::kStopped);
  EXPECT_LT(end->sent, 5672u);
  EXPECT_EQ(end->received, end->sent) << "everything sent before the stop arrives";
  EXPECT_EQ(end->missing, 0u);
}

TEST_F(GatewayTest, StopAllAndLogoutEndEveryStreamOfTheClient) {
  auto c = Open(17);
  Callbacks slow;
  slow.on_trade = [](const client::TradeEvent&) { std::this_thread::sleep_for(100us); };
  auto a = c->RequestTrades({.symbols = {xbt_}, .speed_permille = 1000}, slow).value();  // real time: an hour
  auto b = c->RequestTrades({.symbols = {eth_}, .speed_permille = 1000}, slow).value();
  ASSERT_TRUE(c->StopAll().ok());
  EXPECT_EQ(a->Wait(5000ms)->reason, sbe::StreamEndReason::kStopped);
  EXPECT_EQ(b->Wait(5000ms)->reason, sbe::StreamEndReason::kStopped);
  auto d = c->RequestTrades({.symbols = {xbt_}, .speed_permille = 1000}, slow).value();
  ASSERT_TRUE(c->Close().ok());
  EXPECT_TRUE(d->done());
  EXPECT_FALSE(bus_->HasChannel(sbe::DataChannel(17)));
  for (int i = 0; i < 100 && gateway_->stats().active_streams > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(gateway_->stats().active_streams, 0u);
  EXPECT_EQ(gateway_->stats().sessions, 0u);
}

TEST_F(GatewayTest, ASlowClientLosesNothing) {
  auto c = Open(18);
  std::vector<Trade> got;
  Callbacks cb;
  cb.on_trade = [&](const client::TradeEvent& e) {
    got.push_back(e.trade);
    if (got.size() % 50 == 0) std::this_thread::sleep_for(1ms);
  };
  auto s = c->RequestTrades({.symbols = {xbt_, eth_}}, cb).value();
  auto end = s->Wait(60000ms).value();
  EXPECT_EQ(end.missing, 0u);
  EXPECT_EQ(got.size(), 5672u);
  EXPECT_LE(bus_->QueuedFrames(sbe::DataChannel(18)), 16u);
}

TEST_F(GatewayTest, ClientsProgressIndependently) {
  // Client A stops reading (its callback blocks); B and C must still complete.
  auto a = Open(20);
  std::atomic<bool> release{false};
  Callbacks blocked;
  blocked.on_trade = [&](const client::TradeEvent&) {
    while (!release.load()) std::this_thread::sleep_for(1ms);
  };
  auto sa = a->RequestTrades({.symbols = {xbt_, eth_}}, blocked).value();
  auto b = Open(21);
  auto c = Open(22);
  std::thread tb([&] { EXPECT_EQ(Replay(*b, {.symbols = {eth_}}).first.size(), 3000u); });
  std::thread tc([&] { EXPECT_EQ(Replay(*c, {.symbols = {xbt_}}).first.size(), 2672u); });
  tb.join();
  tc.join();
  EXPECT_FALSE(sa->done());
  release = true;
  EXPECT_EQ(sa->Wait(30000ms)->received, 5672u);
}

TEST_F(GatewayTest, AClientThatDisappearsAffectsNobodyElse) {
  auto raw = RawClient(30);
  SendRaw(sbe::ClientLogin{30});
  Expect<sbe::ClientLoginAck>(*raw.errors);
  sbe::StartData r;
  r.client_id = 30;
  r.request_id = 1;
  r.symbols = {xbt_, eth_};
  SendRaw(r);
  Expect<sbe::StartDataAck>(*raw.errors);
  // It vanishes without reading, heartbeats or logging out.
  raw = Raw{};
  ASSERT_TRUE(bus_->DeleteChannel(sbe::ErrorChannel(30)).ok());
  auto other = Open(31);
  EXPECT_EQ(Replay(*other, {.symbols = {xbt_}}).first.size(), 2672u);
  // The session expires after session_timeout (300 ms here): stream ended, channel deleted.
  for (int i = 0; i < 300 && gateway_->stats().sessions_expired == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(gateway_->stats().sessions_expired, 1u);
  for (int i = 0; i < 200 && gateway_->stats().active_streams > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(gateway_->stats().active_streams, 0u) << "the orphaned stream ended";
  EXPECT_FALSE(bus_->HasChannel(sbe::DataChannel(30)));
  EXPECT_EQ(gateway_->stats().sessions, 1u) << "the heartbeating client keeps its session";
  auto again = Open(30);  // the id is free again
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(Replay(*again, {.symbols = {eth_}}).first.size(), 3000u);
}

TEST_F(GatewayTest, OnlyTheClientANameBelongsToMaySpeakForIt) {
  auto a = Open(50);
  auto raw = RawClient(51);
  SendRaw(sbe::ClientLogin{51});
  Expect<sbe::ClientLoginAck>(*raw.errors);
  // 51 speaks for 50 on its own control channel: every kind of message is refused.
  sbe::StartData r;
  r.client_id = 50;
  r.request_id = 1;
  r.symbols = {xbt_};
  SendRaw(r, 51);
  EXPECT_EQ(Expect<sbe::ClientError>(*raw.errors).code, sbe::ClientErrorCode::kClientIdentityMismatch);
  SendRaw(sbe::ClientLogout{50}, 51);
  EXPECT_EQ(Expect<sbe::ClientError>(*raw.errors).code, sbe::ClientErrorCode::kClientIdentityMismatch);
  SendRaw(sbe::ClientLogin{50}, 51);
  EXPECT_EQ(Expect<sbe::ClientError>(*raw.errors).code, sbe::ClientErrorCode::kClientIdentityMismatch);
  SendRaw(sbe::StopAllData{50}, 51);
  EXPECT_EQ(Expect<sbe::ClientError>(*raw.errors).code, sbe::ClientErrorCode::kClientIdentityMismatch);
  // 50 is untouched.
  EXPECT_EQ(Replay(*a, {.symbols = {xbt_}}).first.size(), 2672u);
  EXPECT_EQ(gateway_->stats().errors_by_code.at("ClientError/client id does not match the authenticated identity"), 4u);
}

std::string Csv(const std::vector<Trade>& trades);

TEST_F(GatewayTest, AStreamCutShortCanBeResumedWithNothingMissingOrDoubled) {
  auto c = Open(60);
  std::vector<Trade> first;
  std::uint64_t last_seq = 0;
  std::atomic<std::size_t> received{0};  // what this thread may read while the data thread writes `first`
  Callbacks cb;
  cb.on_trade = [&](const client::TradeEvent& e) {
    first.push_back(e.trade);
    last_seq = e.sequence;
    ++received;
  };
  auto s = c->RequestTrades({.symbols = {xbt_, eth_}, .speed_permille = 0}, cb).value();
  while (received.load() < 1000 && !s->done()) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(s->Stop().ok());
  (void)s->Wait(5000ms);
  ASSERT_GT(last_seq, 0u);
  ASSERT_EQ(first.size(), last_seq);
  auto [rest, end] = Replay(*c, {.symbols = {xbt_, eth_}, .resume_after = last_seq});
  EXPECT_EQ(end.reason, sbe::StreamEndReason::kCompleted);
  EXPECT_EQ(end.missing, 0u);
  EXPECT_EQ(end.sent, 5672u) << "the Last marker counts the whole stream";
  first.insert(first.end(), rest.begin(), rest.end());
  EXPECT_EQ(Csv(first), Csv(StoreTrades({xbt_, eth_})));
}

// Sequences are 64-bit end to end, though data messages carry 32 bits: a
// stream numbered from just below 2^32 (GatewayOptions::sequence_offset) runs
// across the wrap with no gap, its end counts past 2^32, and a resume after a
// sequence beyond 2^32 starts at the right trade. Trades and bars alike.
TEST_F(GatewayTest, AStreamCrossesTwoToThe32WithoutAGapAndResumesPastIt) {
  constexpr std::uint64_t kOffset = (std::uint64_t{1} << 32) - 1000;
  gateway::GatewayOptions o = Options();
  o.sequence_offset = kOffset;
  StartGateway(o);
  auto c = Open(61);
  std::vector<std::uint64_t> seqs;
  std::vector<client::Gap> gaps;
  Callbacks cb;
  cb.on_trade = [&](const client::TradeEvent& e) { seqs.push_back(e.sequence); };
  cb.on_gap = [&](const client::Gap& g) { gaps.push_back(g); };
  auto s = c->RequestTrades({.symbols = {xbt_}, .resume_after = kOffset}, cb).value();
  const auto end = s->Wait(30000ms).value();
  ASSERT_EQ(seqs.size(), 2672u);
  for (std::size_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], kOffset + 1 + i) << "trade " << i;
  EXPECT_GT(seqs.back(), std::uint64_t{0xFFFFFFFF});
  EXPECT_TRUE(gaps.empty()) << gaps.size() << " gaps, the first at " << (gaps.empty() ? 0 : gaps[0].expected);
  EXPECT_EQ(end.sent, kOffset + 2672);
  EXPECT_EQ(end.received, 2672u);
  EXPECT_EQ(end.missing, 0u);
  // Resuming after a sequence past the wrap: trade 1,100 of the store onwards.
  const std::uint64_t after = kOffset + 1100;
  ASSERT_GT(after, std::uint64_t{0xFFFFFFFF});
  auto [rest, rest_end] = Replay(*c, {.symbols = {xbt_}, .resume_after = after});
  const auto all = StoreTrades({xbt_});
  EXPECT_EQ(Csv(rest), Csv(std::vector<Trade>(all.begin() + 1100, all.end())));
  EXPECT_EQ(rest_end.sent, kOffset + 2672);
  EXPECT_EQ(rest_end.missing, 0u);
  // Bars: the same numbering, across the wrap at the 30th of XBTUSD's 60 minutes.
  constexpr std::uint64_t kBarOffset = (std::uint64_t{1} << 32) - 30;
  c.reset();
  o.sequence_offset = kBarOffset;
  StartGateway(o);
  c = Open(62);
  std::vector<std::uint64_t> bar_seqs;
  Callbacks bars;
  bars.on_bar = [&](const client::BarEvent& e) { bar_seqs.push_back(e.sequence); };
  bars.on_gap = [&](const client::Gap& g) { gaps.push_back(g); };
  auto b =
      c->RequestBars({.symbols = {xbt_}, .resume_after = kBarOffset + 5}, TimeResolution::kOneMinute, bars).value();
  const auto bar_end = b->Wait(30000ms).value();
  ASSERT_EQ(bar_seqs.size(), 55u);
  for (std::size_t i = 0; i < bar_seqs.size(); ++i) ASSERT_EQ(bar_seqs[i], kBarOffset + 6 + i) << "bar " << i;
  EXPECT_TRUE(gaps.empty());
  EXPECT_EQ(bar_end.sent, kBarOffset + 60);
  EXPECT_EQ(bar_end.missing, 0u);
}

// Globs in the request, expanded by the gateway (a remote client needs no
// symbol list): the same stream as the symbols they match, each symbol once,
// after those named by id; a pattern matching nothing refuses the request,
// naming the pattern; malformed ones are refused by the client before sending.
// A Stream handle owns its stream. Dropping an unread pull-style stream frees
// the client's data thread (before, its full queue blocked every other stream of
// the client), dropping a running stream stops it at the gateway, and no
// callback of a dropped push-style stream runs after the handle is gone.
TEST_F(GatewayTest, ADroppedStreamStopsAndTheClientsOtherStreamsContinue) {
  auto c = Client::Open({.client_id = 30, .bus = bus_.get(), .timeout = 5000ms, .heartbeat = 50ms, .pull_queue = 16});
  ASSERT_TRUE(c.ok()) << c.error().message;
  // 5,672 trades into a queue of 16 that nobody reads: the data thread waits for room.
  auto unread = (*c)->RequestTrades({.symbols = {xbt_, eth_}});
  ASSERT_TRUE(unread.ok()) << unread.error().message;
  auto paced = (*c)->RequestTrades({.symbols = {xbt_}, .speed_permille = 1});  // would run for days
  ASSERT_TRUE(paced.ok()) << paced.error().message;
  for (int i = 0; i < 200 && gateway_->stats().messages_sent < 100; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE((*unread)->done()) << "the unread stream should be held up by its full queue";
  unread->reset();
  paced->reset();
  auto [all, end] = Replay(**c, {.symbols = {xbt_, eth_}});
  EXPECT_EQ(end.reason, sbe::StreamEndReason::kCompleted);
  EXPECT_EQ(all.size(), 5672u) << "the client's other stream runs to its end";
  std::uint64_t active = 1;
  for (int i = 0; i < 500 && (active = gateway_->stats().active_streams) != 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(active, 0u) << "the dropped paced stream still runs at the gateway";

  // Push style: after the handle is destroyed, its callbacks are never called again.
  std::atomic<std::uint64_t> delivered{0};
  Callbacks cb;
  cb.on_trades = [&](const client::TradeBatch& b) {
    delivered += b.trades.size();
    std::this_thread::sleep_for(1ms);  // a slow consumer: a callback is often running when the handle goes
  };
  auto pushed = (*c)->RequestTrades({.symbols = {xbt_, eth_}, .speed_permille = 3'600'000}, cb);
  ASSERT_TRUE(pushed.ok()) << pushed.error().message;
  for (int i = 0; i < 500 && delivered.load() == 0; ++i) std::this_thread::sleep_for(1ms);
  pushed->reset();
  const std::uint64_t at_drop = delivered.load();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(delivered.load(), at_drop) << "a callback ran after its stream's handle was destroyed";
  EXPECT_LT(at_drop, 5672u) << "the paced stream ended before it could be dropped: pace it slower";

  // Push or pull is the caller's choice, never a guess: callbacks without the data callback are refused.
  Callbacks only_errors;
  only_errors.on_error = [](const client::StreamError&) {};
  auto refused = (*c)->RequestTrades({.symbols = {xbt_}}, only_errors);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("needs on_trade or on_trades"), std::string::npos) << refused.error().message;
  auto no_bars = (*c)->RequestBars({.symbols = {xbt_}}, TimeResolution::kOneHour, only_errors);
  ASSERT_FALSE(no_bars.ok());
  EXPECT_NE(no_bars.error().message.find("needs on_bar"), std::string::npos) << no_bars.error().message;
  Callbacks trades_only;
  trades_only.on_trades = [](const client::TradeBatch&) {};
  auto push = (*c)->RequestTrades({.symbols = {xbt_}}, trades_only);
  ASSERT_TRUE(push.ok());
  EXPECT_FALSE((*push)->Next(0ms)) << "a push-style stream has nothing to pull";
  EXPECT_FALSE((*push)->pull());
  EXPECT_EQ((*push)->Wait(30000ms)->reason, sbe::StreamEndReason::kCompleted);
}

TEST_F(GatewayTest, SymbolPatternsAreExpandedByTheGateway) {
  auto c = Open(63);
  // '*' is every symbol in id order (ties in the merge follow it).
  auto [all, all_end] = Replay(*c, {.symbols = {}, .patterns = {"*"}});
  EXPECT_TRUE(Csv(all) == Csv(StoreTrades({std::min(xbt_, eth_), std::max(xbt_, eth_)}))) << all.size() << " trades";
  EXPECT_EQ(all.size(), 5672u);
  EXPECT_EQ(all_end.missing, 0u);
  auto [usd, usd_end] = Replay(*c, {.symbols = {xbt_}, .patterns = {"*USD", "XBT*"}});
  EXPECT_TRUE(Csv(usd) == Csv(StoreTrades({xbt_, eth_})))
      << "XBTUSD once, though named and matched twice: " << usd.size() << " trades";
  auto [eth, eth_end] = Replay(*c, {.symbols = {}, .patterns = {"ETH?SD"}});
  EXPECT_TRUE(Csv(eth) == Csv(StoreTrades({eth_}))) << eth.size() << " trades";
  auto bad = c->RequestTrades({.symbols = {xbt_}, .patterns = {"XBT*", "*XYZ"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kNotFound);
  EXPECT_NE(bad.error().message.find("symbol pattern '*XYZ' matches no symbol"), std::string::npos)
      << bad.error().message;
  auto plain = c->RequestTrades({.symbols = {}, .patterns = {"NOSUCH"}});  // a name without wildcards
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.error().message.find("symbol pattern 'NOSUCH' matches no symbol"), std::string::npos)
      << plain.error().message;
  auto [named, named_end] = Replay(*c, {.symbols = {}, .patterns = {"ETHUSD"}});
  EXPECT_EQ(named.size(), 3000u) << "a plain name is a pattern matching itself";
  auto too_long = c->RequestTrades({.symbols = {}, .patterns = {std::string(33, '*')}});
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().message.find("must be 1 to 32 characters"), std::string::npos) << too_long.error().message;
  // Bars too.
  std::size_t bars = 0;
  Callbacks b;
  b.on_bar = [&](const client::BarEvent&) { ++bars; };
  auto stream = c->RequestBars({.symbols = {}, .patterns = {"*"}}, TimeResolution::kOneHour, b).value();
  ASSERT_TRUE(stream->Wait(30000ms).ok());
  EXPECT_GE(bars, 2u);
  EXPECT_EQ(gateway_->stats().errors_by_code.at("DataError/a symbol pattern matches no symbol in the store"), 2u);
}

TEST_F(GatewayTest, ALoginThatFailsIsTriedAgainByTheNextRequest) {
  auto c = Client::Open({.client_id = 70, .bus = bus_.get(), .timeout = 300ms, .heartbeat = 50ms}).value();
  gateway_.reset();  // the session is gone and nobody answers a login
  std::this_thread::sleep_for(100ms);
  auto refused = c->RequestTrades({.symbols = {xbt_}});
  ASSERT_FALSE(refused.ok()) << "no gateway runs";
  StartGateway();
  auto [trades, end] = Replay(*c, {.symbols = {xbt_}});
  EXPECT_EQ(end.reason, sbe::StreamEndReason::kCompleted);
  EXPECT_EQ(trades.size(), 2672u) << "the request after the failed login logged in again";
}

// Frames that someone other than the gateway puts on a client's data channel
// (on NATS: another user's stream frames delivered there through a JetStream
// reply subject) are dropped and counted, never delivered.
TEST_F(GatewayTest, ForgedFramesOnADataChannelAreRejected) {
  auto c = Open(41);
  std::size_t trades = 0, forged = 0;
  std::vector<client::Gap> gaps;
  Callbacks cb;
  cb.on_gap = [&](const client::Gap& g) { gaps.push_back(g); };
  cb.on_trade = [&](const client::TradeEvent& e) {
    ++trades;
    forged += e.sequence == 1000;
  };
  auto s = c->RequestTrades({.symbols = {xbt_}, .from = UnixNanos{1561941000LL * kNanosPerSecond}, .speed_permille = 1}, cb)
               .value();
  std::this_thread::sleep_for(50ms);
  // An untagged frame, then one tagged with another session's key.
  for (bool tagged : {false, true}) {
    std::vector<std::byte> buf(256);
    sbe::FrameWriter w(std::span<std::byte>(buf).first(200));
    ASSERT_TRUE(w.Append(sbe::DataBatch{s->id(), 2}));
    ASSERT_TRUE(w.Append(sbe::TradeBar{xbt_, 1000, UnixNanos{1}, Decimal(), Decimal()}));
    ASSERT_TRUE(w.Append(sbe::LastTradeBar{s->id(), 1005, sbe::StreamEndReason::kCompleted}));
    std::size_t n = w.frame().size();
    if (tagged) {
      n = sbe::FrameSigner(std::make_shared<sbe::SessionAuth>(sbe::NewSessionKey())).Sign(sbe::DataChannel(41), buf, n);
    }
    ASSERT_EQ(bus_->Publish(sbe::DataChannel(41), std::span(buf).first(n), 1000ms), bus::PublishStatus::kOk);
  }
  for (int i = 0; i < 200 && c->rejected_frames() < 2; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(c->rejected_frames(), 2u);
  ASSERT_TRUE(s->Stop().ok());
  auto end = s->Wait(5000ms);
  ASSERT_TRUE(end.ok()) << end.error().message;
  EXPECT_EQ(end->reason, sbe::StreamEndReason::kStopped);
  EXPECT_EQ(forged, 0u);
  EXPECT_TRUE(gaps.empty());
}

// Without frame authentication (an in-process bus no one else shares), a
// gap in sequence numbers is still detected and reported.
TEST_F(GatewayTest, GapsInSequenceNumbersAreReported) {
  gateway_.reset();
  StartGateway(256, /*authenticate_frames=*/false);
  auto c = Open(40);
  std::vector<client::Gap> gaps;
  std::size_t trades = 0;
  Callbacks cb;
  cb.on_gap = [&](const client::Gap& g) { gaps.push_back(g); };
  cb.on_trade = [&](const client::TradeEvent&) { ++trades; };
  // A paced stream stays open while we inject a forged frame into its channel.
  auto s = c->RequestTrades({.symbols = {xbt_}, .from = UnixNanos{1561941000LL * kNanosPerSecond}, .speed_permille = 1}, cb)
               .value();
  std::this_thread::sleep_for(50ms);
  std::vector<std::byte> buf(256);
  sbe::FrameWriter w(buf);
  ASSERT_TRUE(w.Append(sbe::DataBatch{s->id(), 2}));
  ASSERT_TRUE(w.Append(sbe::TradeBar{xbt_, 1000, UnixNanos{1}, Decimal(), Decimal()}));
  ASSERT_TRUE(w.Append(sbe::LastTradeBar{s->id(), 1005, sbe::StreamEndReason::kCompleted}));
  ASSERT_EQ(bus_->Publish(sbe::DataChannel(40), w.frame(), 1000ms), bus::PublishStatus::kOk);
  auto end = s->Wait(5000ms).value();
  ASSERT_FALSE(gaps.empty());
  EXPECT_EQ(gaps.back().received, 1000u);
  EXPECT_GT(end.missing, 0u);
}

TEST_F(GatewayTest, AGapEndsATradeBatchAndComesBetweenTheTwo) {
  gateway_.reset();
  StartGateway(256, /*authenticate_frames=*/false);
  auto c = Open(41);
  std::mutex mu;
  std::vector<std::string> order;  // written by the client's data thread
  Callbacks cb;
  cb.on_gap = [&](const client::Gap& g) {
    std::lock_guard lock(mu);
    order.push_back("gap " + std::to_string(g.expected) + "->" + std::to_string(g.received));
  };
  cb.on_trades = [&](const client::TradeBatch& b) {
    std::lock_guard lock(mu);
    order.push_back("trades " + std::to_string(b.first_sequence) + "+" + std::to_string(b.trades.size()));
  };
  // A paced stream stays open (and quiet) while we inject a forged frame into its channel.
  auto s =
      c->RequestTrades({.symbols = {xbt_}, .from = UnixNanos{1561941000LL * kNanosPerSecond}, .speed_permille = 1}, cb)
          .value();
  std::this_thread::sleep_for(50ms);
  std::vector<std::byte> buf(512);
  sbe::FrameWriter w(buf);
  ASSERT_TRUE(w.Append(sbe::DataBatch{s->id(), 2}));
  for (std::uint32_t seq : {2000u, 2001u, 2005u, 2006u, 2007u}) {
    ASSERT_TRUE(w.Append(sbe::TradeBar{xbt_, seq, UnixNanos{1}, Decimal(), Decimal()}));
  }
  ASSERT_EQ(bus_->Publish(sbe::DataChannel(41), w.frame(), 1000ms), bus::PublishStatus::kOk);
  const std::vector<std::string> want = {"trades 2000+2", "gap 2002->2005", "trades 2005+3"};
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::vector<std::string> seen;
  for (;;) {
    {
      std::lock_guard lock(mu);
      seen = order;
    }
    const auto it = std::find(seen.begin(), seen.end(), want[0]);
    if (seen.end() - it >= 3) {
      EXPECT_EQ(std::vector<std::string>(it, it + 3), want);
      break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "waited 10 s for the forged frame's batches and gap";
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(s->Stop().ok());
  EXPECT_TRUE(s->Wait(10000ms).ok());
}

TEST_F(GatewayTest, AStoreFailureMidStreamIsReportedAndEndsTheStream) {
  // Damage XBTUSD's trade blocks: its stream fails; ETHUSD's is untouched.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
    const std::string sql = "UPDATE trade_blocks SET price = substr(price, 1, 3) WHERE symbol_id = " + std::to_string(xbt_);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto c = Open(50);
  std::vector<client::StreamError> errors;
  Callbacks cb;
  cb.on_trades = [](const client::TradeBatch&) {};
  cb.on_error = [&](const client::StreamError& e) { errors.push_back(e); };
  auto s = c->RequestTrades({.symbols = {xbt_}}, cb).value();
  auto end = s->Wait(5000ms);
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(end->reason, sbe::StreamEndReason::kFailed);
  for (int i = 0; i < 100 && errors.empty(); ++i) std::this_thread::sleep_for(10ms);  // errors come on the response thread
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, sbe::DataErrorCode::kDataUnavailable);
  EXPECT_EQ(Replay(*c, {.symbols = {eth_}}).first.size(), 3000u) << "other symbols still stream";
}

TEST_F(GatewayTest, StoppingTheGatewayEndsStreamsInsteadOfLeavingThemHanging) {
  auto c = Open(51);
  auto s = c->RequestTrades({.symbols = {xbt_}, .speed_permille = 1000}).value();  // an hour in real time
  std::this_thread::sleep_for(100ms);
  gateway_->Stop();
  auto end = s->Wait(5000ms);
  ASSERT_TRUE(end.ok()) << end.error().message;
  EXPECT_EQ(end->reason, sbe::StreamEndReason::kFailed);
  EXPECT_EQ(end->missing, 0u);
}

TEST_F(GatewayTest, PacedReplayFollowsTheEventClock) {
  auto c = Open(41);
  // 60 s of market time at 100x real time: about 0.6 s.
  const UnixNanos from{1561939260LL * kNanosPerSecond}, to{1561939320LL * kNanosPerSecond};
  const auto t0 = std::chrono::steady_clock::now();
  auto [got, end] = Replay(*c, {.symbols = {xbt_}, .from = from, .to = to, .speed_permille = 100000});
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_GT(got.size(), 10u);
  const double span = static_cast<double>(got.back().time.ns - got.front().time.ns) / 1e9 / 100.0;
  EXPECT_GE(secs, span * 0.9) << "delivered faster than 100x";
  EXPECT_EQ(end.received, got.size());
}

}  // namespace
}  // namespace tickflow
