#include "tickflow/sbe/frame_auth.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "tickflow/sbe/codec.hpp"

namespace tickflow::sbe {
namespace {

std::vector<std::byte> DataFrame(std::vector<std::byte>* buffer) {
  buffer->assign(4096, std::byte{0});
  FrameWriter w(*buffer);
  EXPECT_TRUE(w.Append(DataBatch{5, 3}));
  for (std::uint32_t i = 1; i <= 3; ++i) {
    EXPECT_TRUE(w.Append(TradeBar{3, i, UnixNanos{i * 1000LL}, Decimal::FromRaw(0x10), Decimal::FromRaw(0x20)}));
  }
  return {w.frame().begin(), w.frame().end()};
}

struct Signed {
  std::vector<std::byte> bytes;
  std::size_t payload = 0;
};
Signed Sign(const std::shared_ptr<SessionAuth>& auth, std::string_view channel) {
  std::vector<std::byte> buffer;
  const auto frame = DataFrame(&buffer);
  FrameSigner signer(auth);
  const std::size_t n = signer.Sign(channel, buffer, frame.size());
  EXPECT_EQ(n, frame.size() + kFrameTagSize);
  buffer.resize(n);
  return {buffer, frame.size()};
}

TEST(FrameAuthTest, ASignedFrameVerifiesAndItsPayloadIsTheFrame) {
  auto auth = std::make_shared<SessionAuth>(NewSessionKey());
  const Signed s = Sign(auth, "qd.data.1");
  FrameVerifier v(auth->key);
  std::span<const std::byte> payload;
  ASSERT_EQ(v.Verify("qd.data.1", s.bytes, &payload), VerifyStatus::kOk);
  EXPECT_EQ(payload.size(), s.payload);
  EXPECT_EQ(payload.data(), s.bytes.data());
}

TEST(FrameAuthTest, RefusesAnotherSessionsKeyAnotherChannelAndAnyChangedByte) {
  auto auth = std::make_shared<SessionAuth>(NewSessionKey());
  const Signed s = Sign(auth, "qd.data.1");
  std::span<const std::byte> payload;
  // Client 2's frame (its own key) does not pass as client 1's.
  FrameVerifier other(NewSessionKey());
  EXPECT_EQ(other.Verify("qd.data.1", s.bytes, &payload), VerifyStatus::kBadTag);
  FrameVerifier v(auth->key);
  EXPECT_EQ(v.Verify("qd.data.2", s.bytes, &payload), VerifyStatus::kBadTag);
  EXPECT_EQ(v.Verify("qd.error.1", s.bytes, &payload), VerifyStatus::kBadTag);
  for (std::size_t i = 0; i < s.bytes.size(); ++i) {
    auto changed = s.bytes;
    changed[i] ^= std::byte{0x01};
    EXPECT_NE(v.Verify("qd.data.1", changed, &payload), VerifyStatus::kOk) << "byte " << i;
  }
}

TEST(FrameAuthTest, UntaggedFramesAndJsonAreRefused) {
  FrameVerifier v(NewSessionKey());
  std::vector<std::byte> buffer;
  const auto frame = DataFrame(&buffer);
  std::span<const std::byte> payload;
  EXPECT_EQ(v.Verify("qd.data.1", frame, &payload), VerifyStatus::kNoTag);
  const std::string json = R"({"type":"io.nats.jetstream.api.v1.consumer_info_response","error":{"code":404}})";
  EXPECT_EQ(v.Verify("qd.data.1", std::as_bytes(std::span(json)), &payload), VerifyStatus::kNoTag);
  EXPECT_EQ(v.Verify("qd.data.1", {}, &payload), VerifyStatus::kNoTag);
}

TEST(FrameAuthTest, EveryFrameOfASessionGetsItsOwnNonce) {
  auto auth = std::make_shared<SessionAuth>(NewSessionKey());
  const Signed a = Sign(auth, "qd.data.1");
  const Signed b = Sign(auth, "qd.data.1");
  FrameTag ta, tb;
  ASSERT_EQ(Decode(std::span<const std::byte>(a.bytes).last(kFrameTagSize), &ta), DecodeStatus::kOk);
  ASSERT_EQ(Decode(std::span<const std::byte>(b.bytes).last(kFrameTagSize), &tb), DecodeStatus::kOk);
  EXPECT_NE(ta.counter, tb.counter);
  EXPECT_NE(ta.tag_low, tb.tag_low);
  EXPECT_NE(NewSessionKey(), NewSessionKey());
}

TEST(FrameAuthTest, SignRefusesABufferWithoutRoom) {
  auto auth = std::make_shared<SessionAuth>(NewSessionKey());
  std::vector<std::byte> buffer;
  const auto frame = DataFrame(&buffer);
  buffer.resize(frame.size() + kFrameTagSize - 1);
  FrameSigner signer(auth);
  EXPECT_EQ(signer.Sign("qd.data.1", buffer, frame.size()), 0u);
}

}  // namespace
}  // namespace tickflow::sbe
