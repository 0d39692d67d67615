// Identifiers shared by every component. Their widths are the wire widths
// (DESIGN §2): symbol ids are assigned at import and stable across re-imports.
#pragma once

#include <cstdint>

namespace tickflow {

using SymbolId = std::uint16_t;
using ExchangeId = std::uint8_t;
using ClientId = std::uint16_t;
using RequestId = std::uint32_t;

inline constexpr ExchangeId kKrakenExchangeId = 1;

}  // namespace tickflow
