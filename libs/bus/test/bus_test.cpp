#include "tickflow/bus/bus.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

namespace tickflow::bus {
namespace {

using namespace std::chrono_literals;

Frame Bytes(std::uint32_t v) {
  Frame f(4);
  std::memcpy(f.data(), &v, 4);
  return f;
}
std::uint32_t Value(const Frame& f) {
  std::uint32_t v = 0;
  std::memcpy(&v, f.data(), 4);
  return v;
}

TEST(InProcessBusTest, AdminCreatesAndDeletesChannels) {
  auto bus = MakeInProcessBus();
  ASSERT_TRUE(bus->CreateChannel("a").ok());
  EXPECT_EQ(bus->CreateChannel("a").error().code, ErrorCode::kAlreadyExists);
  EXPECT_TRUE(bus->HasChannel("a"));
  EXPECT_FALSE(bus->CreateChannel("").ok());
  ASSERT_TRUE(bus->DeleteChannel("a").ok());
  EXPECT_FALSE(bus->HasChannel("a"));
  EXPECT_EQ(bus->DeleteChannel("a").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(bus->Publish("a", Bytes(1), 0ms), PublishStatus::kNoSuchChannel);
  EXPECT_FALSE(bus->Subscribe("a").ok());
}

TEST(InProcessBusTest, DeliversFramesInOrder) {
  auto bus = MakeInProcessBus();
  ASSERT_TRUE(bus->CreateChannel("c").ok());
  auto sub = bus->Subscribe("c").value();
  for (std::uint32_t i = 0; i < 100; ++i) ASSERT_EQ(bus->Publish("c", Bytes(i), 0ms), PublishStatus::kOk);
  Frame f;
  for (std::uint32_t i = 0; i < 100; ++i) {
    ASSERT_EQ(sub->Poll(&f, 100ms), PollStatus::kFrame);
    EXPECT_EQ(Value(f), i);
  }
  EXPECT_EQ(sub->Poll(&f, 1ms), PollStatus::kTimeout);
}

TEST(InProcessBusTest, PatternChannelReceivesEveryMatchingNameAndReportsIt) {
  auto bus = MakeInProcessBus();
  ASSERT_TRUE(bus->CreateChannel("ctl.*").ok());
  ASSERT_TRUE(bus->CreateChannel("ctl.9").ok());  // an exact channel wins over the pattern
  auto sub = bus->Subscribe("ctl.*").value();
  ASSERT_EQ(bus->Publish("ctl.7", Bytes(7), 0ms), PublishStatus::kOk);
  ASSERT_EQ(bus->Publish("ctl.8", Bytes(8), 0ms), PublishStatus::kOk);
  ASSERT_EQ(bus->Publish("ctl.9", Bytes(9), 0ms), PublishStatus::kOk);
  EXPECT_EQ(bus->Publish("ctl", Bytes(1), 0ms), PublishStatus::kNoSuchChannel);
  EXPECT_EQ(bus->Publish("other.7", Bytes(1), 0ms), PublishStatus::kNoSuchChannel);
  Frame f;
  std::string subject;
  ASSERT_EQ(sub->Poll(&f, 100ms, &subject), PollStatus::kFrame);
  EXPECT_EQ(Value(f), 7u);
  EXPECT_EQ(subject, "ctl.7");
  ASSERT_EQ(sub->Poll(&f, 100ms, &subject), PollStatus::kFrame);
  EXPECT_EQ(subject, "ctl.8");
  EXPECT_EQ(sub->Poll(&f, 1ms, &subject), PollStatus::kTimeout);
  auto exact = bus->Subscribe("ctl.9").value();
  ASSERT_EQ(exact->Poll(&f, 100ms, &subject), PollStatus::kFrame);
  EXPECT_EQ(subject, "ctl.9");
}

TEST(InProcessBusTest, FullQueueBackPressuresInsteadOfGrowing) {
  auto bus = MakeInProcessBus({.queue_frames = 4, .max_frame_bytes = 16});
  ASSERT_TRUE(bus->CreateChannel("c").ok());
  for (std::uint32_t i = 0; i < 4; ++i) ASSERT_EQ(bus->Publish("c", Bytes(i), 0ms), PublishStatus::kOk);
  EXPECT_EQ(bus->Publish("c", Bytes(9), 5ms), PublishStatus::kBackPressured);
  EXPECT_EQ(bus->QueuedFrames("c"), 4u);
  EXPECT_EQ(bus->Publish("c", Frame(17), 0ms), PublishStatus::kTooLarge);
}

TEST(InProcessBusTest, SlowSubscriberLosesNothingAndMemoryStaysBounded) {
  auto bus = MakeInProcessBus({.queue_frames = 8, .max_frame_bytes = 64});
  ASSERT_TRUE(bus->CreateChannel("c").ok());
  auto sub = bus->Subscribe("c").value();
  constexpr std::uint32_t kFrames = 2000;
  std::atomic<std::size_t> max_queued{0};
  std::thread publisher([&] {
    for (std::uint32_t i = 0; i < kFrames; ++i) {
      while (bus->Publish("c", Bytes(i), 10ms) == PublishStatus::kBackPressured) {
      }
      max_queued = std::max(max_queued.load(), bus->QueuedFrames("c"));
    }
  });
  Frame f;
  for (std::uint32_t i = 0; i < kFrames; ++i) {
    ASSERT_EQ(sub->Poll(&f, 1000ms), PollStatus::kFrame);
    ASSERT_EQ(Value(f), i) << "lost or reordered";
    if (i % 100 == 0) std::this_thread::sleep_for(2ms);  // a slow reader
  }
  publisher.join();
  EXPECT_LE(max_queued.load(), 8u);
}

// A publisher waiting on a full queue is woken once half of it is free, not
// for each frame read (fewer thread switches when the reader is the slower).
TEST(InProcessBusTest, AWaitingPublisherIsWokenWhenHalfTheQueueIsFree) {
  auto bus = MakeInProcessBus({.queue_frames = 8, .max_frame_bytes = 64});
  ASSERT_TRUE(bus->CreateChannel("c").ok());
  auto sub = bus->Subscribe("c").value();
  for (std::uint32_t i = 0; i < 8; ++i) ASSERT_EQ(bus->Publish("c", Bytes(i), 0ms), PublishStatus::kOk);
  std::atomic<bool> started{false}, published{false};
  std::thread publisher([&] {
    started = true;
    EXPECT_EQ(bus->Publish("c", Bytes(8), 10000ms), PublishStatus::kOk);
    published = true;
  });
  Frame f;
  while (!started) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(20ms);  // into its wait on the full queue
  for (std::uint32_t i = 0; i < 3; ++i) ASSERT_EQ(sub->Poll(&f, 5000ms), PollStatus::kFrame);
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(published.load()) << "woken with 5 of 8 frames still queued";
  ASSERT_EQ(sub->Poll(&f, 5000ms), PollStatus::kFrame);  // 4 left: half free
  publisher.join();                                      // bounded by the publish's 10 s wait
  EXPECT_TRUE(published.load());
  for (std::uint32_t i = 4; i <= 8; ++i) {
    ASSERT_EQ(sub->Poll(&f, 5000ms), PollStatus::kFrame);
    EXPECT_EQ(Value(f), i) << "lost or reordered";
  }
}

TEST(InProcessBusTest, DeletingAChannelWakesItsWritersAndLetsItsReaderDrain) {
  auto bus = MakeInProcessBus({.queue_frames = 1, .max_frame_bytes = 64});
  ASSERT_TRUE(bus->CreateChannel("c").ok());
  auto sub = bus->Subscribe("c").value();
  ASSERT_EQ(bus->Publish("c", Bytes(1), 0ms), PublishStatus::kOk);
  std::thread blocked([&] { EXPECT_EQ(bus->Publish("c", Bytes(2), 5000ms), PublishStatus::kNoSuchChannel); });
  std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(bus->DeleteChannel("c").ok());
  blocked.join();
  Frame f;
  ASSERT_EQ(sub->Poll(&f, 5000ms), PollStatus::kFrame) << "what was published before the delete is still read";
  EXPECT_EQ(f, Bytes(1));
  EXPECT_EQ(sub->Poll(&f, 5000ms), PollStatus::kClosed);
}

TEST(CallbackSubscriberTest, DeliversOnItsOwnThreadUntilDestroyed) {
  auto bus = MakeInProcessBus();
  ASSERT_TRUE(bus->CreateChannel("c").ok());
  std::atomic<std::uint32_t> sum{0};
  std::atomic<bool> closed{false};
  {
    CallbackSubscriber cb(
        bus->Subscribe("c").value(), [&](std::span<const std::byte> f) { sum += Value(Frame(f.begin(), f.end())); },
        [&] { closed = true; });
    for (std::uint32_t i = 1; i <= 10; ++i) ASSERT_EQ(bus->Publish("c", Bytes(i), 100ms), PublishStatus::kOk);
    for (int i = 0; i < 200 && sum.load() != 55; ++i) std::this_thread::sleep_for(5ms);
    EXPECT_EQ(sum.load(), 55u);
    ASSERT_TRUE(bus->DeleteChannel("c").ok());
    for (int i = 0; i < 200 && !closed.load(); ++i) std::this_thread::sleep_for(5ms);
    EXPECT_TRUE(closed.load());
  }
}

}  // namespace
}  // namespace tickflow::bus
