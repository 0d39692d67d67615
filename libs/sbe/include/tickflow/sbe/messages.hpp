// The QD protocol messages as plain values. Their ids, enum values, field
// types and block lengths are generated at build time from schema/qd.xml (the
// single source of truth) into tickflow/sbe/schema.hpp by schema/sbe_tool.py
// (docs/adr/0005-the-codec-is-generated-by-the-projects-own-tool.md);
// docs/protocol.md lists every field with its offset. Encoding and decoding
// live in codec.hpp.
#pragma once

#include <cstdint>

#include "tickflow/core/ids.hpp"
#include "tickflow/sbe/schema.hpp"

namespace tickflow::sbe {

// Schema version 2 added resumeAfterHigh (StartData) and messageCountHigh
// (LastTradeBar, LastDataBar): 64-bit sequences and counts; and StartData's
// patterns group (globs the gateway expands) with DataErrorCode
// PatternMatchesNothing. Data messages carry the low 32 bits of their
// sequence; the receiver extends them. Messages of version 1 (shorter blocks)
// are still decoded, the added fields as 0.
static_assert(kSchemaVersion == 2, "a new schema version: say above what it added");

// Limits of the protocol that the schema does not express.
inline constexpr std::uint16_t kMaxSymbolsPerRequest = 1024;
inline constexpr std::uint16_t kMaxPatternsPerRequest = 64;
// The fastest replay: x4,000,000 (SpeedPermille's null, 0xFFFFFFFF, lies above it).
inline constexpr std::uint32_t kMaxSpeedPermille = 4'000'000'000u;

}  // namespace tickflow::sbe
