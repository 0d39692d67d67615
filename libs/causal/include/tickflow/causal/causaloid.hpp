// Causaloids and causal graphs, in the spirit of DeepCausality (DESIGN §7).
//
// A Causaloid is one of: a causal function of the evidence; a causal function
// of the evidence and a Context; a collection of causaloids aggregated as All,
// Any, None or AtLeast(k); or a whole CausalGraph. Collections and graphs are
// causaloids themselves, so they nest as nodes of other graphs at any depth
// (a guard reports a graph that contains itself instead of recursing forever).
//
// Reasoning over a graph: one cause, all causes (every node, in topological
// order), the subgraph reachable from a node, or the shortest path between two
// nodes. Each answers whether the causes hold and, when asked, explains which
// causaloids were evaluated, in which order, with which outcome. Evaluation
// stops at the first cause that does not hold. Errors (a failing causal
// function, a missing context, a bad node index, an edge that would close a
// cycle) are Error values, never undefined behaviour.
//
// Pure and deterministic: no I/O, no clock. Without an explanation the
// reasoning allocates nothing. A graph keeps scratch space for its searches:
// one graph must not be reasoned over from two threads at once (copy it).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tickflow/causal/context.hpp"
#include "tickflow/core/result.hpp"

namespace tickflow::causal {

// What a causaloid is evaluated against: a number, its exact decimal form
// when it has one, and the time of the observation.
struct Evidence {
  double value = 0;
  Decimal exact;
  UnixNanos time;
};

using CausalFn = Result<bool> (*)(const Evidence& evidence);
using ContextualCausalFn = Result<bool> (*)(const Evidence& evidence, const Context& context);

enum class Aggregation : std::uint8_t {
  kAll,      // every member holds
  kAny,      // at least one holds
  kNone,     // no member holds
  kAtLeast,  // at least k hold
};

struct Step {
  std::uint64_t causaloid_id = 0;
  std::string description;
  bool holds = false;
  int depth = 0;  // nesting level: 0 for the top
};

struct Explanation {
  std::vector<Step> steps;  // in evaluation order; a composite follows its members
  std::string ToString() const;
};

class CausalGraph;

class Causaloid {
 public:
  enum class Kind : std::uint8_t { kFunction, kContextual, kCollection, kGraph };

  static Causaloid Function(std::uint64_t id, CausalFn fn, std::string description);
  // `context` must outlive the causaloid; nullptr is reported at evaluation.
  static Causaloid Contextual(std::uint64_t id, ContextualCausalFn fn, const Context* context, std::string description);
  static Causaloid Collection(std::uint64_t id, std::vector<Causaloid> members, Aggregation aggregation,
                              std::string description, std::size_t at_least = 1);
  // Holds when all causes of the graph hold.
  static Causaloid Graph(std::uint64_t id, std::shared_ptr<const CausalGraph> graph, std::string description);

  Result<bool> Evaluate(const Evidence& evidence, Explanation* why = nullptr) const;

  std::uint64_t id() const { return id_; }
  Kind kind() const { return kind_; }
  const std::string& description() const { return description_; }

 private:
  friend class CausalGraph;
  Result<bool> Eval(const Evidence& evidence, Explanation* why, int depth) const;
  // A collection of plain functions only, evaluated without an explanation.
  Result<bool> EvalLeaves(const Evidence& evidence) const;

  // A member of a collection that is a plain function, called straight from a
  // flat array (callgrind, the breakout model: 253 -> 216 instructions a trade).
  struct Leaf {
    CausalFn fn = nullptr;
    ContextualCausalFn contextual_fn = nullptr;
    const Context* context = nullptr;
  };

  Kind kind_ = Kind::kFunction;
  Aggregation aggregation_ = Aggregation::kAll;
  std::uint64_t id_ = 0;
  CausalFn fn_ = nullptr;
  ContextualCausalFn contextual_fn_ = nullptr;
  const Context* context_ = nullptr;
  std::size_t at_least_ = 1;
  std::shared_ptr<const std::vector<Causaloid>> members_;
  std::vector<Leaf> leaves_;  // a collection whose members are all plain functions (else empty)
  std::shared_ptr<const CausalGraph> graph_;
  std::string description_;
};

class CausalGraph {
 public:
  static constexpr int kMaxNesting = 1000;

  CausalGraph() = default;
  CausalGraph(const CausalGraph& other);
  CausalGraph& operator=(const CausalGraph& other);

  // The root is where subgraph and path searches usually start; one per graph.
  Result<NodeIndex> AddRoot(Causaloid causaloid);
  NodeIndex AddNode(Causaloid causaloid);
  // A directed edge cause -> effect; refused if it names a missing node or would close a cycle.
  Status AddEdge(NodeIndex from, NodeIndex to);

  std::size_t size() const { return nodes_.size(); }
  std::size_t edge_count() const { return edge_count_; }
  std::optional<NodeIndex> root() const { return root_; }

  Result<bool> SingleCause(NodeIndex node, const Evidence& evidence, Explanation* why = nullptr) const;
  Result<bool> AllCauses(const Evidence& evidence, Explanation* why = nullptr) const;
  Result<bool> SubgraphFrom(NodeIndex start, const Evidence& evidence, Explanation* why = nullptr) const;
  Result<bool> ShortestPath(NodeIndex from, NodeIndex to, const Evidence& evidence, Explanation* why = nullptr) const;

  // The nodes of the shortest path from -> to (inclusive), or an error if none.
  Result<std::vector<NodeIndex>> FindShortestPath(NodeIndex from, NodeIndex to) const;

 private:
  friend class Causaloid;
  Status Check(NodeIndex node) const;
  void Freeze() const;  // builds the compact adjacency and topological order
  Result<bool> EvalNode(NodeIndex node, const Evidence& evidence, Explanation* why, int depth) const;
  Result<bool> AllCausesAt(const Evidence& evidence, Explanation* why, int depth) const;
  void BeginSearch(NodeIndex start) const;          // queue_ = {start}, only start marked
  bool PathTo(NodeIndex from, NodeIndex to) const;  // fills path_ (reversed)

  std::vector<Causaloid> nodes_;
  std::vector<std::vector<NodeIndex>> out_;
  std::optional<NodeIndex> root_;
  std::size_t edge_count_ = 0;
  // Derived and scratch state (rebuilt after a change; not thread-safe).
  mutable bool frozen_ = false;
  mutable std::vector<std::uint32_t> offsets_;
  mutable std::vector<NodeIndex> targets_;
  mutable std::vector<NodeIndex> topo_;
  // Per node, its function when it is a plain function causaloid (else nullptr):
  // the fast path when no explanation is asked for. fn_topo_ follows topo_.
  mutable std::vector<CausalFn> fn_;
  mutable std::vector<CausalFn> fn_topo_;
  mutable std::vector<std::uint32_t> mark_;
  mutable std::uint32_t epoch_ = 0;
  mutable std::vector<NodeIndex> queue_;
  mutable std::vector<NodeIndex> parent_;
  mutable std::vector<NodeIndex> path_;
};

}  // namespace tickflow::causal
