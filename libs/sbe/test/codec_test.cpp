#include "tickflow/sbe/codec.hpp"

#include <gtest/gtest.h>

#include "tickflow/test/values.hpp"

#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace tickflow::sbe {
namespace {

using tickflow::test::D;

std::vector<std::byte> ReadGolden(const std::string& name, const std::string& folder = "") {
  std::ifstream in(std::string(TICKFLOW_SOURCE_DIR) + "/tests/data/sbe/" + folder + name + ".bin", std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  std::memcpy(bytes.data(), chars.data(), chars.size());
  return bytes;
}

// The same values as tests/data/sbe/messages.json.
auto Samples() {
  StartData start;
  start.client_id = 7;
  start.request_id = 42;
  start.data_type = DataType::kBars;
  start.resolution = TimeResolution::kOneHour;
  start.speed_permille = 10000;
  start.from = UnixNanos{1561939200000000000};
  start.to = UnixNanos{1561942800000000000};
  start.resume_after = 1000 + (std::uint64_t{1} << 32);
  start.symbols = {1, 513};
  start.patterns = {"XBT*", "[A-E]??EUR"};
  // A volume past Decimal's 60 bits: its high half travels in volumeHigh (golden bytes by sbe_tool.py).
  WideDecimal wide;
  EXPECT_TRUE(WideDecimal::Add(D("99999999"), D("0.000000000000001"), &wide));
  DataBar bar{1, 3, UnixNanos{1561939200000000000}, D("10749.4"), D("11041.8"), D("10600"), D("10812.20"), wide, 2672};
  TradeBar trade{1, 1, UnixNanos{1561939203172000000}, D("10749.4"), D("0.03869709")};
  return std::make_tuple(
      ClientLogin{7}, ClientLogout{7}, ClientLoginAck{7, 3}, ClientLogoutAck{7}, ClientHeartbeat{7},
      ClientHeartbeatAck{7}, SessionKey{7, 0x0706050403020100, 0x0F0E0D0C0B0A0908}, start, StopData{7, 42},
      StopAllData{7}, StartDataAck{7, 42, 2}, DataBatch{42, 256}, FrameTag{9, 0x1122334455667788, 0x99AABBCC}, bar,
      FirstDataBar{42, TimeResolution::kOneHour}, LastDataBar{42, 24, StreamEndReason::kCompleted}, trade,
      FirstTradeBar{42}, LastTradeBar{42, 2672 + (std::uint64_t{3} << 32), StreamEndReason::kStopped},
      ClientError{7, ClientErrorCode::kClientAlreadyLoggedIn}, DataError{7, 42, DataErrorCode::kSymbolNotFound, 999});
}

template <class M>
std::vector<std::byte> EncodeToVector(const M& m) {
  std::vector<std::byte> buf(EncodedSize(m));
  EXPECT_EQ(Encode(m, buf), buf.size());
  return buf;
}

TEST(CodecTest, EveryMessageRoundTripsAndMatchesGoldenBytes) {
  std::apply(
      [](const auto&... msgs) {
        (([&](const auto& m) {
           using M = std::decay_t<decltype(m)>;
           const std::string name = ToString(M::kType);
           const auto bytes = EncodeToVector(m);
           EXPECT_EQ(bytes, ReadGolden(name)) << name << " differs from the schema's golden bytes";
           M back{};
           ASSERT_EQ(Decode(std::span<const std::byte>(bytes), &back), DecodeStatus::kOk) << name;
           EXPECT_TRUE(back == m) << name;
           MessageType type;
           ASSERT_EQ(PeekType(bytes, &type), DecodeStatus::kOk);
           EXPECT_EQ(type, M::kType);
         }(msgs)),
         ...);
      },
      Samples());
}

// Schema version 1's bytes (tests/data/sbe/v1, the golden files before version
// 2) still decode, directly and inside a frame: the fields version 2 added
// read as 0, everything else as before.
TEST(CodecTest, MessagesOfSchemaVersion1StillDecode) {
  std::apply(
      [](const auto&... msgs) {
        (([&](const auto& m) {
           using M = std::decay_t<decltype(m)>;
           const std::string name = ToString(M::kType);
           const auto bytes = ReadGolden(name, "v1/");
           ASSERT_FALSE(bytes.empty()) << name;
           EXPECT_EQ(detail::Load<std::uint16_t>(bytes.data() + 6), 1) << name << ": not a version-1 message";
           M want = m;
           if constexpr (std::is_same_v<M, StartData>) {
             want.resume_after &= 0xFFFFFFFF;
             want.patterns.clear();
           }
           if constexpr (std::is_same_v<M, LastTradeBar> || std::is_same_v<M, LastDataBar>)
             want.message_count &= 0xFFFFFFFF;
           M direct{};
           ASSERT_EQ(Decode(std::span<const std::byte>(bytes), &direct), DecodeStatus::kOk) << name;
           EXPECT_TRUE(direct == want) << name;
           FrameReader reader(bytes);
           MessageView view;
           ASSERT_EQ(reader.Next(&view), DecodeStatus::kOk) << name;
           EXPECT_TRUE(reader.done()) << name;
           M framed{};
           ASSERT_EQ(view.As(&framed), DecodeStatus::kOk) << name;
           EXPECT_TRUE(framed == want) << name;
         }(msgs)),
         ...);
      },
      Samples());
}

TEST(CodecTest, MessagesStayWithinTheirSizeBudgets) {
  EXPECT_LE(EncodedSize(TradeBar{}), 40u);
  for (std::size_t size : {EncodedSize(ClientLogin{}), EncodedSize(ClientLoginAck{}), EncodedSize(StopData{}),
                           EncodedSize(StopAllData{}), EncodedSize(StartDataAck{}), EncodedSize(DataBatch{}),
                           EncodedSize(FirstTradeBar{}), EncodedSize(LastTradeBar{}), EncodedSize(FirstDataBar{}),
                           EncodedSize(LastDataBar{}), EncodedSize(ClientError{}), EncodedSize(DataError{}),
                           EncodedSize(SessionKey{}), EncodedSize(FrameTag{})}) {
    EXPECT_LE(size, 32u);
  }
}

TEST(CodecTest, RejectsEveryTruncation) {
  std::apply(
      [](const auto&... msgs) {
        (([&](const auto& m) {
           using M = std::decay_t<decltype(m)>;
           const auto bytes = EncodeToVector(m);
           for (std::size_t n = 0; n < bytes.size(); ++n) {
             // A copy of exactly n bytes, so ASan catches any read past the end.
             std::vector<std::byte> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
             M out{};
             EXPECT_EQ(Decode(std::span<const std::byte>(cut.data(), n), &out), DecodeStatus::kTruncated)
                 << ToString(M::kType) << " cut to " << n;
             std::size_t len = 0;
             EXPECT_NE(MessageLength(std::span<const std::byte>(cut.data(), n), &len), DecodeStatus::kOk);
           }
         }(msgs)),
         ...);
      },
      Samples());
}

TEST(CodecTest, EncodeRefusesTooSmallBuffers) {
  TradeBar t{};
  std::vector<std::byte> buf(39);
  EXPECT_EQ(Encode(t, buf), 0u);
  StartData s;
  s.symbols.assign(kMaxSymbolsPerRequest + 1, 1);
  std::vector<std::byte> big(EncodedSize(s));
  EXPECT_EQ(Encode(s, big), 0u);
  // Patterns: at most 64, each at most 32 bytes, no NUL (the wire pads with NULs).
  StartData p;
  p.symbols = {1};
  p.patterns.assign(kMaxPatternsPerRequest + 1, "*");
  std::vector<std::byte> room(EncodedSize(p));
  EXPECT_EQ(Encode(p, room), 0u);
  p.patterns = {std::string(kMaxPatternLength + 1, 'X')};
  room.resize(EncodedSize(p));
  EXPECT_EQ(Encode(p, room), 0u);
  p.patterns = {std::string("XBT\0*", 5)};
  EXPECT_EQ(Encode(p, room), 0u);
  p.patterns = {std::string(kMaxPatternLength, 'X')};  // exactly 32: no NUL on the wire, still read back whole
  room.resize(EncodedSize(p));
  ASSERT_EQ(Encode(p, room), room.size());
  StartData back;
  ASSERT_EQ(Decode(std::span<const std::byte>(room), &back), DecodeStatus::kOk);
  EXPECT_EQ(back.patterns, p.patterns);
}

TEST(CodecTest, RejectsHostileHeadersAndBodies) {
  auto bytes = EncodeToVector(std::get<TradeBar>(Samples()));  // TradeBar
  TradeBar t;
  auto bad = bytes;
  bad[4] = std::byte{9};  // schemaId
  EXPECT_EQ(Decode(std::span<const std::byte>(bad), &t), DecodeStatus::kWrongSchema);
  bad = bytes;
  bad[0] = std::byte{8};  // blockLength shorter than the body
  EXPECT_EQ(Decode(std::span<const std::byte>(bad), &t), DecodeStatus::kBadBlockLength);
  bad = bytes;
  bad[0] = std::byte{200};  // blockLength longer than the buffer
  EXPECT_EQ(Decode(std::span<const std::byte>(bad), &t), DecodeStatus::kTruncated);
  bad = bytes;
  bad[8] = std::byte{0xD0};  // messageType 208 in a 207 template
  EXPECT_EQ(Decode(std::span<const std::byte>(bad), &t), DecodeStatus::kBadMessageType);
  ClientLogin login;
  EXPECT_EQ(Decode(std::span<const std::byte>(bytes), &login), DecodeStatus::kWrongTemplate);
  const auto short_login = EncodeToVector(ClientLogin{7});  // shorter than a TradeBar
  EXPECT_EQ(Decode(std::span<const std::byte>(short_login), &t), DecodeStatus::kWrongTemplate);
  bad = bytes;
  bad[2] = std::byte{0x11};
  bad[3] = std::byte{0x11};
  EXPECT_EQ(Decode(std::span<const std::byte>(bad), &t), DecodeStatus::kUnknownTemplate);

  auto err = EncodeToVector(ClientError{7, ClientErrorCode::kClientNotLoggedIn});
  err[12] = std::byte{200};
  ClientError ce;
  EXPECT_EQ(Decode(std::span<const std::byte>(err), &ce), DecodeStatus::kBadEnumValue);
}

TEST(CodecTest, RejectsOversizedGroups) {
  StartData sample = std::get<StartData>(Samples());
  sample.patterns.clear();  // the symbols group last: a claim past it is a truncation
  auto bytes = EncodeToVector(sample);
  const std::size_t group = kHeaderSize + StartData::kBlockLength;
  StartData s;
  auto bad = bytes;
  detail::Store<std::uint16_t>(bad.data() + group + 2, 60000);
  EXPECT_EQ(Decode(std::span<const std::byte>(bad), &s), DecodeStatus::kTooManyEntries);
  bad = bytes;
  bad.resize(bad.size() - kGroupHeaderSize);                // the (empty) patterns group's dimension gone
  detail::Store<std::uint16_t>(bad.data() + group + 2, 3);  // claims 3 symbols, carries 2
  EXPECT_EQ(Decode(std::span<const std::byte>(bad), &s), DecodeStatus::kTruncated);
  bad = bytes;
  detail::Store<std::uint16_t>(bad.data() + group, 1);
  EXPECT_EQ(Decode(std::span<const std::byte>(bad), &s), DecodeStatus::kBadGroupBlockLength);
  // The patterns group (version 2), the same checks.
  bytes = EncodeToVector(std::get<StartData>(Samples()));
  const std::size_t patterns = group + kGroupHeaderSize + 2 * StartData::kSymbolBlockLength;
  bad = bytes;
  detail::Store<std::uint16_t>(bad.data() + patterns + 2, kMaxPatternsPerRequest + 1);
  EXPECT_EQ(Decode(std::span<const std::byte>(bad), &s), DecodeStatus::kTooManyEntries);
  bad = bytes;
  detail::Store<std::uint16_t>(bad.data() + patterns + 2, 3);  // claims 3, carries 2
  EXPECT_EQ(Decode(std::span<const std::byte>(bad), &s), DecodeStatus::kTruncated);
  bad = bytes;
  detail::Store<std::uint16_t>(bad.data() + patterns, 31);
  EXPECT_EQ(Decode(std::span<const std::byte>(bad), &s), DecodeStatus::kBadGroupBlockLength);
  std::size_t len = 0;
  EXPECT_EQ(MessageLength(bad, &len), DecodeStatus::kBadGroupBlockLength);
}

TEST(CodecTest, AcceptsNewerVersionWithLongerBlock) {
  const TradeBar t = std::get<TradeBar>(Samples());
  auto bytes = EncodeToVector(t);
  bytes.insert(bytes.end(), 4, std::byte{0xAB});  // a field added by a later version
  detail::Store<std::uint16_t>(bytes.data(), TradeBar::kBlockLength + 4);
  detail::Store<std::uint16_t>(bytes.data() + 6, kSchemaVersion + 1);
  TradeBar back;
  ASSERT_EQ(Decode(std::span<const std::byte>(bytes), &back), DecodeStatus::kOk);
  EXPECT_TRUE(back == t);
  std::size_t len = 0;
  ASSERT_EQ(MessageLength(bytes, &len), DecodeStatus::kOk);
  EXPECT_EQ(len, bytes.size());
}

TEST(FrameTest, BatchesManyMessagesAndReadsThemBack) {
  std::vector<std::byte> buf(64 * 1024);
  FrameWriter w(buf);
  ASSERT_TRUE(w.Append(DataBatch{5, 1000}));
  ASSERT_TRUE(w.Append(std::get<StartData>(Samples())));  // a message with a group in the middle
  for (std::uint32_t i = 1; i <= 1000; ++i) {
    ASSERT_TRUE(w.Append(TradeBar{3, i, UnixNanos{i * 1000LL}, D("1.5"), D("2")}));
  }
  ASSERT_TRUE(w.Append(LastTradeBar{5, 1000, StreamEndReason::kCompleted}));
  EXPECT_EQ(w.count(), 1003u);

  FrameReader r(w.frame());
  MessageView v;
  std::uint32_t trades = 0;
  int others = 0;
  while (!r.done()) {
    ASSERT_EQ(r.Next(&v), DecodeStatus::kOk) << "at offset " << r.offset();
    if (v.type() == MessageType::kTradeBar) {
      TradeBar t;
      ASSERT_EQ(v.As(&t), DecodeStatus::kOk);
      EXPECT_EQ(t.sequence, ++trades);
    } else {
      ++others;
    }
  }
  EXPECT_EQ(trades, 1000u);
  EXPECT_EQ(others, 3);
}

TEST(FrameTest, WriterStopsAtCapacityWithoutPartialMessages) {
  std::vector<std::byte> buf(100);
  FrameWriter w(buf);
  int n = 0;
  while (w.Append(TradeBar{})) ++n;
  EXPECT_EQ(n, 2);
  EXPECT_EQ(w.size(), 80u);
}

TEST(FrameTest, GarbageNeverCrashesTheReader) {
  std::mt19937 rng(1);
  const auto valid = EncodeToVector(std::get<StartData>(Samples()));
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::byte> frame;
    if (i % 2 == 0) {
      frame.resize(rng() % 96);
      for (auto& b : frame) b = static_cast<std::byte>(rng());
    } else {  // mutate a valid frame
      frame = valid;
      frame[rng() % frame.size()] = static_cast<std::byte>(rng());
      frame.resize(rng() % (frame.size() + 1));
    }
    FrameReader r(frame);
    MessageView v;
    int guard = 0;
    while (!r.done() && r.Next(&v) == DecodeStatus::kOk && ++guard < 100) {
      StartData s;
      TradeBar t;
      (void)v.As(&s);
      (void)v.As(&t);
    }
  }
  SUCCEED();
}

}  // namespace
}  // namespace tickflow::sbe
