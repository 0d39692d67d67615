// Identifiers shared by every component. Their widths are the wire widths
// (DESIGN §2): symbol ids are assigned at import and stable across re-imports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace tickflow {

using SymbolId = std::uint16_t;
using ExchangeId = std::uint8_t;
using ClientId = std::uint16_t;
using RequestId = std::uint32_t;

inline constexpr ExchangeId kKrakenExchangeId = 1;

// How many symbol ids there are: a table indexed by any SymbolId has this many entries.
inline constexpr std::size_t kSymbolIds = std::size_t{std::numeric_limits<SymbolId>::max()} + 1;

// A value for every symbol id, indexed by the id itself: no lookup, and no
// bounds to check (a SymbolId cannot reach past it).
template <class T>
class SymbolTable {
 public:
  explicit SymbolTable(const T& initial = T{}) : values_(kSymbolIds, initial) {}
  T& operator[](SymbolId id) { return values_[id]; }
  const T& operator[](SymbolId id) const { return values_[id]; }

 private:
  std::vector<T> values_;
};

}  // namespace tickflow
