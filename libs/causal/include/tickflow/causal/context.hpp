// Context: the hypergraph a contextual causaloid reads. Typed nodes (root,
// data, time, space, space-time, symbol) joined by typed relations; nodes are
// updated in place; a time index keeps the current and previous node per time
// scale (second .. year), the role the reference's TimeIndexExt played.
// Pure data: no I/O, no clock. Not thread-safe; one writer, or copies.
#pragma once

#include <array>
#include <memory>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "tickflow/core/decimal.hpp"
#include "tickflow/core/ids.hpp"
#include "tickflow/core/result.hpp"
#include "tickflow/core/time.hpp"

namespace tickflow::causal {

using NodeIndex = std::uint32_t;
using ContextId = std::uint16_t;

enum class NodeKind : std::uint8_t { kRoot, kData, kTime, kSpace, kSpaceTime, kSymbol };
enum class RelationKind : std::uint8_t { kTemporal, kData, kSpatial, kSpatioTemporal, kHierarchical, kSymbolic };
enum class TimeScale : std::uint8_t { kSecond, kMinute, kHour, kDay, kWeek, kMonth, kQuarter, kYear };
inline constexpr std::size_t kTimeScales = 8;

// Open, high, low, close of a period, exact.
struct RangeData {
  Decimal open, high, low, close;
  friend bool operator==(const RangeData& a, const RangeData& b) {
    return a.open == b.open && a.high == b.high && a.low == b.low && a.close == b.close;
  }
};
struct TimeData {
  UnixNanos start;
  TimeScale scale = TimeScale::kSecond;
};
struct SpaceData {
  double x = 0, y = 0, z = 0;
};
struct SpaceTimeData {
  SpaceData space;
  UnixNanos time;
};

using Payload = std::variant<std::monostate, RangeData, double, TimeData, SpaceData, SpaceTimeData, SymbolId>;

struct Node {
  NodeKind kind = NodeKind::kData;
  Payload payload;
};

struct Relation {
  RelationKind kind = RelationKind::kData;
  std::vector<NodeIndex> members;  // two for an edge, more for a hyperedge
};

class Context {
 public:
  Context(ContextId id, std::string name);

  ContextId id() const { return id_; }
  const std::string& name() const { return name_; }
  std::size_t node_count() const { return nodes_.size(); }
  std::size_t relation_count() const { return relations_.size(); }

  NodeIndex AddNode(Node node);
  // Replaces a node's kind and payload in place; kInvalidArgument for a bad index.
  Status UpdateNode(NodeIndex index, Node node);
  Result<const Node*> GetNode(NodeIndex index) const;
  // The node's payload as T, or an error naming the index and the expected type.
  template <class T>
  Result<const T*> Get(NodeIndex index) const {
    TICKFLOW_ASSIGN_OR_RETURN(const Node* n, GetNode(index));
    if (const T* v = std::get_if<T>(&n->payload)) return v;
    return MakeError(ErrorCode::kInvalidArgument,
                     "context '" + name_ + "' node " + std::to_string(index) + " holds other data than asked for");
  }

  // Hot-path lookup: the node's payload as T, or nullptr (bad index or other type).
  template <class T>
  const T* Find(NodeIndex index) const {
    return index < nodes_.size() ? std::get_if<T>(&nodes_[index].payload) : nullptr;
  }

  // The node's payload as T for updating in place.
  template <class T>
  Result<T*> GetMutable(NodeIndex index) {
    TICKFLOW_RETURN_IF_ERROR(Check(index));
    if (T* v = std::get_if<T>(&nodes_[index].payload)) return v;
    return MakeError(ErrorCode::kInvalidArgument,
                     "context '" + name_ + "' node " + std::to_string(index) + " holds other data than asked for");
  }

  // A relation among two or more nodes (a hyperedge for more than two).
  Status Relate(RelationKind kind, std::span<const NodeIndex> members);
  // Indices of the relations a node takes part in.
  std::vector<std::size_t> RelationsOf(NodeIndex index) const;
  const Relation& relation(std::size_t i) const { return relations_[i]; }

  // Time index: sets the current node of a scale; the former current becomes the previous.
  Status Advance(TimeScale scale, NodeIndex current);
  // Sets both explicitly (previous may be empty: no previous period).
  Status SetTimeIndex(TimeScale scale, std::optional<NodeIndex> current, std::optional<NodeIndex> previous);
  std::optional<NodeIndex> Current(TimeScale scale) const { return current_[static_cast<std::size_t>(scale)]; }
  std::optional<NodeIndex> Previous(TimeScale scale) const { return previous_[static_cast<std::size_t>(scale)]; }

 private:
  Status Check(NodeIndex index) const;

  ContextId id_;
  std::string name_;
  std::vector<Node> nodes_;
  std::vector<Relation> relations_;
  std::array<std::optional<NodeIndex>, kTimeScales> current_{}, previous_{};
};

// Several contexts, addressed by id.
class ContextSet {
 public:
  // kAlreadyExists if the id is taken.
  Result<Context*> Add(ContextId id, std::string name);
  Result<Context*> Get(ContextId id);
  Result<const Context*> Get(ContextId id) const;
  std::size_t size() const { return contexts_.size(); }

 private:
  std::vector<std::unique_ptr<Context>> contexts_;
};

}  // namespace tickflow::causal
