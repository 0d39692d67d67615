#include "tickflow/causal/context.hpp"

#include <memory>

namespace tickflow::causal {

Context::Context(ContextId id, std::string name) : id_(id), name_(std::move(name)) {}

Status Context::Check(NodeIndex index) const {
  if (index >= nodes_.size()) {
    return MakeError(ErrorCode::kInvalidArgument, "context '" + name_ + "' has no node " + std::to_string(index) +
                                                      " (it has " + std::to_string(nodes_.size()) + ")");
  }
  return {};
}

NodeIndex Context::AddNode(Node node) {
  nodes_.push_back(std::move(node));
  return static_cast<NodeIndex>(nodes_.size() - 1);
}

Status Context::UpdateNode(NodeIndex index, Node node) {
  TICKFLOW_RETURN_IF_ERROR(Check(index));
  nodes_[index] = std::move(node);
  return {};
}

Result<const Node*> Context::GetNode(NodeIndex index) const {
  TICKFLOW_RETURN_IF_ERROR(Check(index));
  return &nodes_[index];
}

Status Context::Relate(RelationKind kind, std::span<const NodeIndex> members) {
  if (members.size() < 2) return MakeError(ErrorCode::kInvalidArgument, "a relation needs at least two nodes");
  for (NodeIndex m : members) TICKFLOW_RETURN_IF_ERROR(Check(m));
  relations_.push_back(Relation{kind, std::vector<NodeIndex>(members.begin(), members.end())});
  return {};
}

std::vector<std::size_t> Context::RelationsOf(NodeIndex index) const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < relations_.size(); ++i) {
    for (NodeIndex m : relations_[i].members) {
      if (m == index) {
        out.push_back(i);
        break;
      }
    }
  }
  return out;
}

Status Context::Advance(TimeScale scale, NodeIndex current) {
  TICKFLOW_RETURN_IF_ERROR(Check(current));
  const auto s = static_cast<std::size_t>(scale);
  previous_[s] = current_[s];
  current_[s] = current;
  return {};
}

Status Context::SetTimeIndex(TimeScale scale, std::optional<NodeIndex> current, std::optional<NodeIndex> previous) {
  if (current) TICKFLOW_RETURN_IF_ERROR(Check(*current));
  if (previous) TICKFLOW_RETURN_IF_ERROR(Check(*previous));
  if (current && previous && *current == *previous) {
    return MakeError(ErrorCode::kInvalidArgument, "current and previous period must be different nodes");
  }
  current_[static_cast<std::size_t>(scale)] = current;
  previous_[static_cast<std::size_t>(scale)] = previous;
  return {};
}

Result<Context*> ContextSet::Add(ContextId id, std::string name) {
  for (const auto& c : contexts_) {
    if (c->id() == id) return MakeError(ErrorCode::kAlreadyExists, "context id " + std::to_string(id) + " exists");
  }
  contexts_.push_back(std::make_unique<Context>(id, std::move(name)));
  return contexts_.back().get();
}

Result<Context*> ContextSet::Get(ContextId id) {
  for (const auto& c : contexts_) {
    if (c->id() == id) return c.get();
  }
  return MakeError(ErrorCode::kNotFound, "no context with id " + std::to_string(id));
}

Result<const Context*> ContextSet::Get(ContextId id) const {
  for (const auto& c : contexts_) {
    if (c->id() == id) return static_cast<const Context*>(c.get());
  }
  return MakeError(ErrorCode::kNotFound, "no context with id " + std::to_string(id));
}

}  // namespace tickflow::causal
