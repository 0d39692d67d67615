// Graph reasoning, compared with DeepCausality's published figures (Apple M3
// Max): linear chain of 10 nodes 52 ns, 1,000 nodes 2.63 us, 10,000 nodes
// 25.8 us; 4-node diamond subgraph 32 ns. Run: build/release/libs/causal/causal_bench
#include <benchmark/benchmark.h>

#include "tickflow/causal/causaloid.hpp"

namespace tickflow::causal {
namespace {

Result<bool> Holds(const Evidence& e) { return e.value > 0.5; }

CausalGraph Chain(std::size_t n) {
  CausalGraph g;
  (void)g.AddRoot(Causaloid::Function(0, Holds, "node"));
  for (std::size_t i = 1; i < n; ++i) {
    g.AddNode(Causaloid::Function(i, Holds, "node"));
    (void)g.AddEdge(static_cast<NodeIndex>(i - 1), static_cast<NodeIndex>(i));
  }
  return g;
}

void BM_ChainAllCauses(benchmark::State& state) {
  const CausalGraph g = Chain(static_cast<std::size_t>(state.range(0)));
  const Evidence e{0.99, Decimal(), UnixNanos{}};
  for (auto _ : state) benchmark::DoNotOptimize(g.AllCauses(e));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ChainAllCauses)->Arg(10)->Arg(1000)->Arg(10000)->Arg(100000)->Arg(1000000);

void BM_ChainSubgraphFromRoot(benchmark::State& state) {
  const CausalGraph g = Chain(static_cast<std::size_t>(state.range(0)));
  const Evidence e{0.99, Decimal(), UnixNanos{}};
  for (auto _ : state) benchmark::DoNotOptimize(g.SubgraphFrom(0, e));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ChainSubgraphFromRoot)->Arg(10)->Arg(1000)->Arg(10000)->Arg(100000)->Arg(1000000);

void BM_ChainShortestPath(benchmark::State& state) {
  const CausalGraph g = Chain(static_cast<std::size_t>(state.range(0)));
  const Evidence e{0.99, Decimal(), UnixNanos{}};
  const auto last = static_cast<NodeIndex>(state.range(0) - 1);
  for (auto _ : state) benchmark::DoNotOptimize(g.ShortestPath(0, last, e));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ChainShortestPath)->Arg(10)->Arg(1000)->Arg(10000)->Arg(100000)->Arg(1000000);

CausalGraph Diamond() {
  CausalGraph g;
  (void)g.AddRoot(Causaloid::Function(0, Holds, "a"));
  g.AddNode(Causaloid::Function(1, Holds, "b"));
  g.AddNode(Causaloid::Function(2, Holds, "c"));
  g.AddNode(Causaloid::Function(3, Holds, "d"));
  (void)g.AddEdge(0, 1);
  (void)g.AddEdge(0, 2);
  (void)g.AddEdge(1, 3);
  (void)g.AddEdge(2, 3);
  return g;
}

void BM_DiamondSubgraph(benchmark::State& state) {
  const CausalGraph g = Diamond();
  const Evidence e{0.99, Decimal(), UnixNanos{}};
  for (auto _ : state) benchmark::DoNotOptimize(g.SubgraphFrom(0, e));
}
BENCHMARK(BM_DiamondSubgraph);

void BM_DiamondShortestPath(benchmark::State& state) {
  const CausalGraph g = Diamond();
  const Evidence e{0.99, Decimal(), UnixNanos{}};
  for (auto _ : state) benchmark::DoNotOptimize(g.ShortestPath(0, 3, e));
}
BENCHMARK(BM_DiamondShortestPath);

void BM_DiamondAllCauses(benchmark::State& state) {
  const CausalGraph g = Diamond();
  const Evidence e{0.99, Decimal(), UnixNanos{}};
  for (auto _ : state) benchmark::DoNotOptimize(g.AllCauses(e));
}
BENCHMARK(BM_DiamondAllCauses);

void BM_SingleCause(benchmark::State& state) {
  const CausalGraph g = Diamond();
  const Evidence e{0.99, Decimal(), UnixNanos{}};
  for (auto _ : state) benchmark::DoNotOptimize(g.SingleCause(1, e));
}
BENCHMARK(BM_SingleCause);

}  // namespace
}  // namespace tickflow::causal
