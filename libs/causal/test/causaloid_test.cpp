#include "tickflow/causal/causaloid.hpp"

#include <gtest/gtest.h>

namespace tickflow::causal {
namespace {

Result<bool> Positive(const Evidence& e) { return e.value > 0; }
Result<bool> Large(const Evidence& e) { return e.value > 100; }
Result<bool> Always(const Evidence&) { return true; }
Result<bool> Never(const Evidence&) { return false; }
Result<bool> Broken(const Evidence&) { return MakeError(ErrorCode::kInvalidArgument, "observation is NaN"); }
Result<bool> AboveThreshold(const Evidence& e, const Context& ctx) {
  TICKFLOW_ASSIGN_OR_RETURN(const double* threshold, ctx.Get<double>(0));
  return e.value > *threshold;
}

Evidence E(double v) { return Evidence{v, Decimal(), UnixNanos{}}; }
Causaloid F(std::uint64_t id, CausalFn fn) { return Causaloid::Function(id, fn, "fn " + std::to_string(id)); }

TEST(CausaloidTest, EvaluatesFunctionsAndContextualFunctions) {
  EXPECT_TRUE(F(1, Positive).Evaluate(E(1)).value());
  EXPECT_FALSE(F(1, Positive).Evaluate(E(-1)).value());
  Context ctx(1, "thresholds");
  ctx.AddNode(Node{NodeKind::kData, 10.0});
  const auto c = Causaloid::Contextual(2, AboveThreshold, &ctx, "above threshold");
  EXPECT_TRUE(c.Evaluate(E(11)).value());
  EXPECT_FALSE(c.Evaluate(E(9)).value());
  ASSERT_TRUE(ctx.UpdateNode(0, Node{NodeKind::kData, 5.0}).ok());  // updated in place
  EXPECT_TRUE(c.Evaluate(E(9)).value());
}

TEST(CausaloidTest, ErrorsAreValues) {
  auto r = F(3, Broken).Evaluate(E(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "observation is NaN");
  auto no_ctx = Causaloid::Contextual(4, AboveThreshold, nullptr, "needs context").Evaluate(E(1));
  ASSERT_FALSE(no_ctx.ok());
  EXPECT_NE(no_ctx.error().message.find("needs a context"), std::string::npos);
  Context empty(1, "empty");
  auto missing = Causaloid::Contextual(5, AboveThreshold, &empty, "missing data").Evaluate(E(1));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("has no node 0"), std::string::npos);
  Context wrong(1, "wrong");
  wrong.AddNode(Node{NodeKind::kSymbol, SymbolId{3}});
  EXPECT_FALSE(Causaloid::Contextual(6, AboveThreshold, &wrong, "wrong type").Evaluate(E(1)).ok());
  EXPECT_FALSE(Causaloid::Collection(7, {F(1, Always)}, Aggregation::kAtLeast, "k too big", 2).Evaluate(E(1)).ok());
}

TEST(CausaloidTest, CollectionsAggregate) {
  const std::vector<Causaloid> m = {F(1, Positive), F(2, Large), F(3, Always)};
  const auto all = Causaloid::Collection(10, m, Aggregation::kAll, "all");
  const auto any = Causaloid::Collection(11, m, Aggregation::kAny, "any");
  const auto none = Causaloid::Collection(12, {F(1, Positive), F(2, Large)}, Aggregation::kNone, "none");
  const auto two = Causaloid::Collection(13, m, Aggregation::kAtLeast, "two", 2);
  EXPECT_TRUE(all.Evaluate(E(200)).value());
  EXPECT_FALSE(all.Evaluate(E(50)).value());
  EXPECT_TRUE(any.Evaluate(E(-5)).value());  // Always holds
  EXPECT_TRUE(none.Evaluate(E(-5)).value());
  EXPECT_FALSE(none.Evaluate(E(5)).value());
  EXPECT_TRUE(two.Evaluate(E(50)).value());   // Positive + Always
  EXPECT_FALSE(two.Evaluate(E(-50)).value());  // Always only
}

// Collections of plain functions evaluate from a flat table without an
// explanation: it must agree with the explained evaluation for every
// aggregation, member order and input, and report a member's error the same.
TEST(CausaloidTest, PlainCollectionsGiveWhatTheExplainedEvaluationGives) {
  const std::vector<CausalFn> fns = {Positive, Large, Always, Never};
  const std::vector<double> inputs = {-5, 0, 5, 50, 200};
  for (const Aggregation a : {Aggregation::kAll, Aggregation::kAny, Aggregation::kNone, Aggregation::kAtLeast}) {
    for (std::size_t n = 1; n <= fns.size(); ++n) {
      for (std::size_t first = 0; first < fns.size(); ++first) {
        std::vector<Causaloid> members;
        for (std::size_t k = 0; k < n; ++k) members.push_back(F(k + 1, fns[(first + k) % fns.size()]));
        const auto c = Causaloid::Collection(9, members, a, "c", 2);
        for (const double v : inputs) {
          Explanation why;
          const auto fast = c.Evaluate(E(v));
          const auto explained = c.Evaluate(E(v), &why);
          ASSERT_EQ(fast.ok(), explained.ok());
          if (fast.ok()) {
            EXPECT_EQ(*fast, *explained) << "aggregation " << static_cast<int>(a) << ", " << n << " members, input "
                                         << v;
          }
          // Nested (the outer has a collection as member, so Eval reaches the inner's table).
          const auto nested = Causaloid::Collection(10, {c}, Aggregation::kAll, "outer").Evaluate(E(v));
          ASSERT_EQ(nested.ok(), explained.ok());
          if (nested.ok()) {
            EXPECT_EQ(*nested, *explained) << "nested, aggregation " << static_cast<int>(a);
          }
        }
      }
    }
  }
  const auto broken = Causaloid::Collection(8, {F(1, Always), F(2, Broken)}, Aggregation::kAll, "broken");
  auto r = broken.Evaluate(E(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "observation is NaN");
}

TEST(CausaloidTest, ExplanationsListWhatWasEvaluatedInOrder) {
  const auto all = Causaloid::Collection(10, {F(1, Positive), F(2, Large), F(3, Always)}, Aggregation::kAll, "all");
  Explanation why;
  EXPECT_FALSE(all.Evaluate(E(50), &why).value());
  ASSERT_EQ(why.steps.size(), 3u);  // 1 holds, 2 fails and decides, then the collection
  EXPECT_EQ(why.steps[0].causaloid_id, 1u);
  EXPECT_TRUE(why.steps[0].holds);
  EXPECT_EQ(why.steps[1].causaloid_id, 2u);
  EXPECT_FALSE(why.steps[1].holds);
  EXPECT_EQ(why.steps[2].causaloid_id, 10u);
  EXPECT_EQ(why.steps[2].depth, 0);
  EXPECT_EQ(why.steps[0].depth, 1);
  EXPECT_EQ(why.ToString(), "  [holds] #1 fn 1\n  [fails] #2 fn 2\n[fails] #10 all\n");
}

// A diamond: 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3.
CausalGraph Diamond(CausalFn at3 = Always) {
  CausalGraph g;
  EXPECT_TRUE(g.AddRoot(F(100, Always)).ok());
  g.AddNode(F(101, Positive));
  g.AddNode(F(102, Always));
  g.AddNode(F(103, at3));
  EXPECT_TRUE(g.AddEdge(0, 1).ok());
  EXPECT_TRUE(g.AddEdge(0, 2).ok());
  EXPECT_TRUE(g.AddEdge(1, 3).ok());
  EXPECT_TRUE(g.AddEdge(2, 3).ok());
  return g;
}

TEST(CausalGraphTest, ReasonsInEveryMode) {
  const CausalGraph g = Diamond();
  EXPECT_TRUE(g.SingleCause(1, E(1)).value());
  EXPECT_FALSE(g.SingleCause(1, E(-1)).value());
  EXPECT_TRUE(g.AllCauses(E(1)).value());
  EXPECT_FALSE(g.AllCauses(E(-1)).value());
  EXPECT_TRUE(g.SubgraphFrom(2, E(-1)).value()) << "node 1 is not below node 2";
  EXPECT_FALSE(g.SubgraphFrom(0, E(-1)).value());
  EXPECT_EQ(g.FindShortestPath(0, 3).value(), (std::vector<NodeIndex>{0, 1, 3}));
  EXPECT_TRUE(g.ShortestPath(0, 3, E(1)).value());
  EXPECT_FALSE(g.ShortestPath(0, 3, E(-1)).value());
  EXPECT_TRUE(g.ShortestPath(2, 3, E(-1)).value());
  EXPECT_TRUE(g.ShortestPath(2, 2, E(-1)).value());
}

TEST(CausalGraphTest, ExplainsEachMode) {
  const CausalGraph g = Diamond(Never);
  Explanation why;
  EXPECT_FALSE(g.AllCauses(E(1), &why).value());
  ASSERT_EQ(why.steps.size(), 4u);
  EXPECT_EQ(why.steps[0].causaloid_id, 100u);  // topological: root first
  EXPECT_EQ(why.steps[3].causaloid_id, 103u);
  EXPECT_FALSE(why.steps[3].holds);
  why = {};
  EXPECT_FALSE(g.SubgraphFrom(2, E(1), &why).value());
  ASSERT_EQ(why.steps.size(), 2u);
  EXPECT_EQ(why.steps[0].causaloid_id, 102u);
  EXPECT_EQ(why.steps[1].causaloid_id, 103u);
  why = {};
  EXPECT_FALSE(g.ShortestPath(0, 3, E(1), &why).value());
  ASSERT_EQ(why.steps.size(), 3u);
  EXPECT_EQ(why.steps[1].causaloid_id, 101u);
}

TEST(CausalGraphTest, RefusesBadIndicesCyclesAndMissingPaths) {
  CausalGraph g = Diamond();
  EXPECT_NE(g.AddEdge(3, 0).error().message.find("would close a cycle"), std::string::npos);
  EXPECT_FALSE(g.AddEdge(1, 1).ok());
  EXPECT_NE(g.AddEdge(0, 9).error().message.find("no node 9"), std::string::npos);
  EXPECT_FALSE(g.AddRoot(F(1, Always)).ok());
  EXPECT_FALSE(g.SingleCause(9, E(1)).ok());
  EXPECT_FALSE(g.SubgraphFrom(9, E(1)).ok());
  EXPECT_EQ(g.ShortestPath(3, 0, E(1)).error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(CausalGraph().AllCauses(E(1)).ok());
  CausalGraph broken = Diamond(Broken);
  EXPECT_EQ(broken.AllCauses(E(1)).error().message, "observation is NaN");
}

TEST(CausalGraphTest, GraphsAndCollectionsNestAtAnyDepth) {
  // A graph whose node is a collection holding a graph, itself holding a collection...
  auto inner = std::make_shared<CausalGraph>(Diamond());
  Causaloid level = Causaloid::Graph(1000, inner, "diamond");
  for (int d = 0; d < 100; ++d) {
    auto g = std::make_shared<CausalGraph>();
    (void)g->AddRoot(Causaloid::Collection(2000 + static_cast<std::uint64_t>(d), {level, F(1, Always)},
                                           Aggregation::kAll, "level " + std::to_string(d)));
    g->AddNode(F(3, Positive));
    (void)g->AddEdge(0, 1);
    level = Causaloid::Graph(3000 + static_cast<std::uint64_t>(d), g, "graph " + std::to_string(d));
  }
  EXPECT_TRUE(level.Evaluate(E(1)).value());
  EXPECT_FALSE(level.Evaluate(E(-1)).value());
  Explanation why;
  ASSERT_TRUE(level.Evaluate(E(1), &why).value());
  EXPECT_EQ(why.steps.back().causaloid_id, 3099u);
  int deepest = 0;
  for (const Step& s : why.steps) deepest = std::max(deepest, s.depth);
  EXPECT_GE(deepest, 200);
  // As a node of yet another graph, reasoned over by path.
  CausalGraph top;
  (void)top.AddRoot(F(1, Always));
  top.AddNode(level);
  ASSERT_TRUE(top.AddEdge(0, 1).ok());
  EXPECT_TRUE(top.ShortestPath(0, 1, E(1)).value());
}

TEST(CausalGraphTest, AGraphContainingItselfIsAnErrorNotACrash) {
  auto g = std::make_shared<CausalGraph>();
  (void)g->AddRoot(F(1, Always));
  g->AddNode(Causaloid::Graph(2, g, "myself"));
  auto r = g->AllCauses(E(1));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("contain itself"), std::string::npos);
  *g = CausalGraph();  // break the shared_ptr cycle so the graph is freed
}

TEST(CausalGraphTest, LongChainsEvaluateInOrder) {
  CausalGraph g;
  (void)g.AddRoot(F(0, Always));
  for (NodeIndex i = 1; i < 10000; ++i) {
    g.AddNode(F(i, i == 9999 ? Positive : Always));
    ASSERT_TRUE(g.AddEdge(i - 1, i).ok());
  }
  EXPECT_TRUE(g.AllCauses(E(1)).value());
  EXPECT_FALSE(g.AllCauses(E(-1)).value());
  EXPECT_EQ(g.FindShortestPath(0, 9999).value().size(), 10000u);
  const CausalGraph copy = g;
  EXPECT_TRUE(copy.SubgraphFrom(5000, E(1)).value());
}

}  // namespace
}  // namespace tickflow::causal
