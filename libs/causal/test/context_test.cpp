#include "tickflow/causal/context.hpp"

#include <gtest/gtest.h>

namespace tickflow::causal {
namespace {

TEST(ContextTest, HoldsTypedNodesAndRelations) {
  Context ctx(7, "market");
  const NodeIndex root = ctx.AddNode(Node{NodeKind::kRoot, {}});
  const NodeIndex year = ctx.AddNode(Node{NodeKind::kTime, TimeData{UnixNanos{0}, TimeScale::kYear}});
  const NodeIndex data = ctx.AddNode(Node{NodeKind::kData, RangeData{}});
  const NodeIndex where = ctx.AddNode(Node{NodeKind::kSpace, SpaceData{1, 2, 3}});
  const NodeIndex both = ctx.AddNode(Node{NodeKind::kSpaceTime, SpaceTimeData{{1, 2, 3}, UnixNanos{5}}});
  const NodeIndex sym = ctx.AddNode(Node{NodeKind::kSymbol, SymbolId{42}});
  ASSERT_TRUE(ctx.Relate(RelationKind::kHierarchical, std::vector<NodeIndex>{root, year}).ok());
  ASSERT_TRUE(ctx.Relate(RelationKind::kTemporal, std::vector<NodeIndex>{year, data, sym}).ok());  // a hyperedge
  ASSERT_TRUE(ctx.Relate(RelationKind::kSpatioTemporal, std::vector<NodeIndex>{where, both}).ok());
  EXPECT_EQ(ctx.node_count(), 6u);
  EXPECT_EQ(ctx.relation_count(), 3u);
  EXPECT_EQ(ctx.RelationsOf(year), (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(ctx.relation(1).members.size(), 3u);
  EXPECT_EQ(*ctx.Get<SymbolId>(sym).value(), 42);
  EXPECT_FALSE(ctx.Get<RangeData>(sym).ok());
  EXPECT_FALSE(ctx.Relate(RelationKind::kData, std::vector<NodeIndex>{root}).ok());
  EXPECT_FALSE(ctx.Relate(RelationKind::kData, std::vector<NodeIndex>{root, 99}).ok());
  EXPECT_FALSE(ctx.UpdateNode(99, Node{}).ok());
}

TEST(ContextTest, TimeIndexTracksCurrentAndPreviousPerScale) {
  Context ctx(1, "t");
  const NodeIndex a = ctx.AddNode(Node{});
  const NodeIndex b = ctx.AddNode(Node{});
  EXPECT_FALSE(ctx.Current(TimeScale::kMonth).has_value());
  ASSERT_TRUE(ctx.Advance(TimeScale::kMonth, a).ok());
  EXPECT_EQ(ctx.Current(TimeScale::kMonth), a);
  EXPECT_FALSE(ctx.Previous(TimeScale::kMonth).has_value());
  ASSERT_TRUE(ctx.Advance(TimeScale::kMonth, b).ok());
  EXPECT_EQ(ctx.Current(TimeScale::kMonth), b);
  EXPECT_EQ(ctx.Previous(TimeScale::kMonth), a);
  EXPECT_FALSE(ctx.Current(TimeScale::kYear).has_value()) << "scales are independent";
  EXPECT_FALSE(ctx.SetTimeIndex(TimeScale::kDay, a, a).ok()) << "current and previous may not be the same node";
  EXPECT_FALSE(ctx.Advance(TimeScale::kDay, 9).ok());
}

TEST(ContextSetTest, AddressesContextsById) {
  ContextSet set;
  ASSERT_TRUE(set.Add(1, "prices").ok());
  ASSERT_TRUE(set.Add(2, "volumes").ok());
  EXPECT_FALSE(set.Add(1, "again").ok());
  EXPECT_EQ(set.Get(2).value()->name(), "volumes");
  EXPECT_EQ(set.Get(3).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace tickflow::causal
