#include "tickflow/causal/causaloid.hpp"

#include <algorithm>

namespace tickflow::causal {
namespace {

void Record(Explanation* why, const Causaloid& c, bool holds, int depth) {
  if (why != nullptr) why->steps.push_back(Step{c.id(), c.description(), holds, depth});
}

// Whether a collection's outcome is decided after a member that holds (or not),
// with n_true members holding so far.
bool Decided(Aggregation a, bool holds, std::size_t n_true, std::size_t at_least) {
  switch (a) {
    case Aggregation::kAll:
      return !holds;
    case Aggregation::kAny:
    case Aggregation::kNone:
      return holds;
    case Aggregation::kAtLeast:
      return n_true >= at_least;
  }
  return false;
}

bool Outcome(Aggregation a, std::size_t n_true, std::size_t members, std::size_t at_least) {
  switch (a) {
    case Aggregation::kAll:
      return n_true == members;
    case Aggregation::kAny:
      return n_true > 0;
    case Aggregation::kNone:
      return n_true == 0;
    case Aggregation::kAtLeast:
      return n_true >= at_least;
  }
  return false;
}

}  // namespace

std::string Explanation::ToString() const {
  std::string out;
  for (const Step& s : steps) {
    out += std::string(static_cast<std::size_t>(s.depth) * 2, ' ');
    out += s.holds ? "[holds] " : "[fails] ";
    out += "#" + std::to_string(s.causaloid_id) + " " + s.description + "\n";
  }
  return out;
}

Causaloid Causaloid::Function(std::uint64_t id, CausalFn fn, std::string description) {
  Causaloid c;
  c.kind_ = Kind::kFunction;
  c.id_ = id;
  c.fn_ = fn;
  c.description_ = std::move(description);
  return c;
}

Causaloid Causaloid::Contextual(std::uint64_t id, ContextualCausalFn fn, const Context* context,
                                std::string description) {
  Causaloid c;
  c.kind_ = Kind::kContextual;
  c.id_ = id;
  c.contextual_fn_ = fn;
  c.context_ = context;
  c.description_ = std::move(description);
  return c;
}

Causaloid Causaloid::Collection(std::uint64_t id, std::vector<Causaloid> members, Aggregation aggregation,
                                std::string description, std::size_t at_least) {
  Causaloid c;
  c.kind_ = Kind::kCollection;
  c.id_ = id;
  c.aggregation_ = aggregation;
  c.at_least_ = at_least;
  const bool plain = std::all_of(members.begin(), members.end(), [](const Causaloid& m) {
    return (m.kind_ == Kind::kFunction && m.fn_ != nullptr) ||
           (m.kind_ == Kind::kContextual && m.contextual_fn_ != nullptr && m.context_ != nullptr);
  });
  if (plain && !(aggregation == Aggregation::kAtLeast && at_least > members.size())) {
    for (const Causaloid& m : members) c.leaves_.push_back(Leaf{m.fn_, m.contextual_fn_, m.context_});
  }
  c.members_ = std::make_shared<const std::vector<Causaloid>>(std::move(members));
  c.description_ = std::move(description);
  return c;
}

Causaloid Causaloid::Graph(std::uint64_t id, std::shared_ptr<const CausalGraph> graph, std::string description) {
  Causaloid c;
  c.kind_ = Kind::kGraph;
  c.id_ = id;
  c.graph_ = std::move(graph);
  c.description_ = std::move(description);
  return c;
}

Result<bool> Causaloid::Evaluate(const Evidence& evidence, Explanation* why) const {
  // The top-level plain collection straight to its table: Eval's frame (depth
  // check, error paths) costs ~40 instructions an evaluation (callgrind).
  if (why == nullptr && !leaves_.empty()) return EvalLeaves(evidence);
  return Eval(evidence, why, 0);
}

Result<bool> Causaloid::EvalLeaves(const Evidence& evidence) const {
  std::size_t n_true = 0;
  for (const Leaf& m : leaves_) {
    Result<bool> r = m.fn != nullptr ? m.fn(evidence) : m.contextual_fn(evidence, *m.context);
    if (!r.ok()) return r;
    const bool h = *r;
    n_true += h;
    if (Decided(aggregation_, h, n_true, at_least_)) break;
  }
  return Outcome(aggregation_, n_true, leaves_.size(), at_least_);
}

Result<bool> Causaloid::Eval(const Evidence& evidence, Explanation* why, int depth) const {
  if (depth > CausalGraph::kMaxNesting) {
    return MakeError(ErrorCode::kInvalidArgument, "causaloid #" + std::to_string(id_) + " is nested deeper than " +
                                                      std::to_string(CausalGraph::kMaxNesting) +
                                                      " levels: does a graph contain itself?");
  }
  bool holds = false;
  switch (kind_) {
    case Kind::kFunction: {
      if (fn_ == nullptr) return MakeError(ErrorCode::kInvalidArgument, "causaloid #" + std::to_string(id_) + " has no function");
      TICKFLOW_ASSIGN_OR_RETURN(holds, fn_(evidence));
      break;
    }
    case Kind::kContextual: {
      if (contextual_fn_ == nullptr) {
        return MakeError(ErrorCode::kInvalidArgument, "causaloid #" + std::to_string(id_) + " has no function");
      }
      if (context_ == nullptr) {
        return MakeError(ErrorCode::kInvalidArgument, "causaloid #" + std::to_string(id_) + " (" + description_ +
                                                          ") needs a context but has none");
      }
      TICKFLOW_ASSIGN_OR_RETURN(holds, contextual_fn_(evidence, *context_));
      break;
    }
    case Kind::kCollection: {
      if (why == nullptr && !leaves_.empty()) {  // plain members only: the flat table, at any nesting
        TICKFLOW_ASSIGN_OR_RETURN(holds, EvalLeaves(evidence));
        break;
      }
      std::size_t n_true = 0;
      const auto& members = *members_;
      if (aggregation_ == Aggregation::kAtLeast && at_least_ > members.size()) {
        return MakeError(ErrorCode::kInvalidArgument, "collection #" + std::to_string(id_) + " asks for at least " +
                                                          std::to_string(at_least_) + " of " +
                                                          std::to_string(members.size()) + " members");
      }
      for (const Causaloid& m : members) {
        // Without an explanation, call plain members directly.
        Result<bool> r = why != nullptr ? m.Eval(evidence, why, depth + 1)
                         : m.kind_ == Kind::kFunction && m.fn_ != nullptr ? m.fn_(evidence)
                         : m.kind_ == Kind::kContextual && m.contextual_fn_ != nullptr && m.context_ != nullptr
                             ? m.contextual_fn_(evidence, *m.context_)
                             : m.Eval(evidence, why, depth + 1);
        if (!r.ok()) return r;
        const bool h = *r;
        n_true += h;
        if (Decided(aggregation_, h, n_true, at_least_)) break;  // stop as soon as the outcome is decided
      }
      holds = Outcome(aggregation_, n_true, members.size(), at_least_);
      break;
    }
    case Kind::kGraph: {
      if (!graph_) return MakeError(ErrorCode::kInvalidArgument, "causaloid #" + std::to_string(id_) + " has no graph");
      TICKFLOW_ASSIGN_OR_RETURN(holds, graph_->AllCausesAt(evidence, why, depth + 1));
      break;
    }
  }
  Record(why, *this, holds, depth);
  return holds;
}

CausalGraph::CausalGraph(const CausalGraph& o)
    : nodes_(o.nodes_), out_(o.out_), root_(o.root_), edge_count_(o.edge_count_) {}

CausalGraph& CausalGraph::operator=(const CausalGraph& o) {
  if (this != &o) {
    nodes_ = o.nodes_;
    out_ = o.out_;
    root_ = o.root_;
    edge_count_ = o.edge_count_;
    frozen_ = false;
  }
  return *this;
}

Status CausalGraph::Check(NodeIndex node) const {
  if (node >= nodes_.size()) {
    return MakeError(ErrorCode::kInvalidArgument, "the causal graph has no node " + std::to_string(node) + " (it has " +
                                                      std::to_string(nodes_.size()) + ")");
  }
  return {};
}

Result<NodeIndex> CausalGraph::AddRoot(Causaloid causaloid) {
  if (root_) return MakeError(ErrorCode::kAlreadyExists, "the causal graph already has a root (node " + std::to_string(*root_) + ")");
  root_ = AddNode(std::move(causaloid));
  return *root_;
}

NodeIndex CausalGraph::AddNode(Causaloid causaloid) {
  nodes_.push_back(std::move(causaloid));
  out_.emplace_back();
  frozen_ = false;
  return static_cast<NodeIndex>(nodes_.size() - 1);
}

Status CausalGraph::AddEdge(NodeIndex from, NodeIndex to) {
  TICKFLOW_RETURN_IF_ERROR(Check(from));
  TICKFLOW_RETURN_IF_ERROR(Check(to));
  if (from == to) return MakeError(ErrorCode::kInvalidArgument, "edge " + std::to_string(from) + " -> itself would be a cycle");
  // A cycle would appear if `from` is reachable from `to`.
  std::vector<NodeIndex> stack = {to};
  std::vector<bool> seen(nodes_.size(), false);
  seen[to] = true;
  while (!stack.empty()) {
    const NodeIndex n = stack.back();
    stack.pop_back();
    for (NodeIndex m : out_[n]) {
      if (m == from) {
        return MakeError(ErrorCode::kInvalidArgument, "edge " + std::to_string(from) + " -> " + std::to_string(to) +
                                                          " would close a cycle");
      }
      if (!seen[m]) {
        seen[m] = true;
        stack.push_back(m);
      }
    }
  }
  out_[from].push_back(to);
  ++edge_count_;
  frozen_ = false;
  return {};
}

void CausalGraph::Freeze() const {
  if (frozen_) return;
  const std::size_t n = nodes_.size();
  offsets_.assign(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) offsets_[i + 1] = offsets_[i] + static_cast<std::uint32_t>(out_[i].size());
  targets_.clear();
  targets_.reserve(edge_count_);
  for (const auto& o : out_) targets_.insert(targets_.end(), o.begin(), o.end());
  // Kahn's algorithm; ties keep insertion order, so a chain evaluates cause first.
  std::vector<std::uint32_t> indegree(n, 0);
  for (NodeIndex t : targets_) ++indegree[t];
  topo_.clear();
  topo_.reserve(n);
  for (NodeIndex i = 0; i < n; ++i) {
    if (indegree[i] == 0) topo_.push_back(i);
  }
  for (std::size_t k = 0; k < topo_.size(); ++k) {
    const NodeIndex v = topo_[k];
    for (std::uint32_t e = offsets_[v]; e < offsets_[v + 1]; ++e) {
      if (--indegree[targets_[e]] == 0) topo_.push_back(targets_[e]);
    }
  }
  fn_.assign(n, nullptr);
  for (std::size_t i = 0; i < n; ++i) {
    if (nodes_[i].kind_ == Causaloid::Kind::kFunction) fn_[i] = nodes_[i].fn_;
  }
  fn_topo_.resize(n);
  for (std::size_t k = 0; k < n; ++k) fn_topo_[k] = fn_[topo_[k]];
  mark_.assign(n, 0);
  epoch_ = 0;
  parent_.assign(n, 0);
  queue_.reserve(n);
  path_.reserve(n);
  frozen_ = true;
}

Result<bool> CausalGraph::EvalNode(NodeIndex node, const Evidence& evidence, Explanation* why, int depth) const {
  if (why == nullptr && fn_[node] != nullptr) return fn_[node](evidence);
  return nodes_[node].Eval(evidence, why, depth);
}

Result<bool> CausalGraph::SingleCause(NodeIndex node, const Evidence& evidence, Explanation* why) const {
  TICKFLOW_RETURN_IF_ERROR(Check(node));
  Freeze();
  return EvalNode(node, evidence, why, 0);
}

Result<bool> CausalGraph::AllCausesAt(const Evidence& evidence, Explanation* why, int depth) const {
  if (nodes_.empty()) return MakeError(ErrorCode::kInvalidArgument, "the causal graph is empty");
  Freeze();
  const std::size_t n = topo_.size();
  for (std::size_t k = 0; k < n; ++k) {
    const CausalFn fn = fn_topo_[k];
    Result<bool> r = (why == nullptr && fn != nullptr) ? fn(evidence) : nodes_[topo_[k]].Eval(evidence, why, depth);
    if (!r.ok()) return r;
    if (!*r) return false;
  }
  return true;
}

Result<bool> CausalGraph::AllCauses(const Evidence& evidence, Explanation* why) const {
  return AllCausesAt(evidence, why, 0);
}

Result<bool> CausalGraph::SubgraphFrom(NodeIndex start, const Evidence& evidence, Explanation* why) const {
  TICKFLOW_RETURN_IF_ERROR(Check(start));
  Freeze();
  // Breadth-first from start; each node once.
  BeginSearch(start);
  for (std::size_t k = 0; k < queue_.size(); ++k) {
    const NodeIndex v = queue_[k];
    TICKFLOW_ASSIGN_OR_RETURN(const bool h, EvalNode(v, evidence, why, 0));
    if (!h) return false;
    for (std::uint32_t e = offsets_[v]; e < offsets_[v + 1]; ++e) {
      const NodeIndex t = targets_[e];
      if (mark_[t] != epoch_) {
        mark_[t] = epoch_;
        queue_.push_back(t);
      }
    }
  }
  return true;
}

void CausalGraph::BeginSearch(NodeIndex start) const {
  // A new epoch unmarks every node at once; clear the marks only on wrap-around.
  if (++epoch_ == 0) {
    std::fill(mark_.begin(), mark_.end(), 0);
    epoch_ = 1;
  }
  queue_.clear();
  queue_.push_back(start);
  mark_[start] = epoch_;
}

bool CausalGraph::PathTo(NodeIndex from, NodeIndex to) const {
  BeginSearch(from);
  bool found = from == to;
  for (std::size_t k = 0; k < queue_.size() && !found; ++k) {
    const NodeIndex v = queue_[k];
    for (std::uint32_t e = offsets_[v]; e < offsets_[v + 1]; ++e) {
      const NodeIndex t = targets_[e];
      if (mark_[t] == epoch_) continue;
      mark_[t] = epoch_;
      parent_[t] = v;
      if (t == to) {
        found = true;
        break;
      }
      queue_.push_back(t);
    }
  }
  if (!found) return false;
  path_.clear();
  for (NodeIndex v = to; v != from; v = parent_[v]) path_.push_back(v);
  path_.push_back(from);
  return true;
}

Result<std::vector<NodeIndex>> CausalGraph::FindShortestPath(NodeIndex from, NodeIndex to) const {
  TICKFLOW_RETURN_IF_ERROR(Check(from));
  TICKFLOW_RETURN_IF_ERROR(Check(to));
  Freeze();
  if (!PathTo(from, to)) {
    return MakeError(ErrorCode::kNotFound, "no path from node " + std::to_string(from) + " to node " + std::to_string(to));
  }
  return std::vector<NodeIndex>(path_.rbegin(), path_.rend());
}

Result<bool> CausalGraph::ShortestPath(NodeIndex from, NodeIndex to, const Evidence& evidence, Explanation* why) const {
  TICKFLOW_RETURN_IF_ERROR(Check(from));
  TICKFLOW_RETURN_IF_ERROR(Check(to));
  Freeze();
  if (!PathTo(from, to)) {
    return MakeError(ErrorCode::kNotFound, "no path from node " + std::to_string(from) + " to node " + std::to_string(to));
  }
  for (auto it = path_.rbegin(); it != path_.rend(); ++it) {
    TICKFLOW_ASSIGN_OR_RETURN(const bool h, EvalNode(*it, evidence, why, 0));
    if (!h) return false;
  }
  return true;
}

}  // namespace tickflow::causal
