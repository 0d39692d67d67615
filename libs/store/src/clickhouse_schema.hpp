// The ClickHouse store's tables (docs/storage.md#the-clickhouse-store) and the
// query of its committed symbols.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tickflow/core/result.hpp"
#include "tickflow/store/store.hpp"

namespace tickflow::store::detail {

// 2 added bars_1m.volume_high (bar volumes are 128-bit WideDecimals).
inline constexpr int kSchemaVersion = 2;

// Writer leases (one import at a time): a row per grant or renewal, and one to release.
std::string LeaseTable(const std::string& db);
// The database and its tables on the node of the URL: on a cluster the
// Distributed tables over every shard's `NAME_local` tables.
std::vector<std::string> SchemaStatements(const std::string& db, const std::string& cluster);
// What each shard of a cluster holds: the `NAME_local` MergeTree tables.
std::vector<std::string> ShardSchemaStatements(const std::string& db);

// A symbol's committed state: what readers may see.
struct Committed {
  SymbolInfo info;
  std::uint32_t version = 0;  // imports committed; 0 = none
};

inline constexpr const char* kSymbolAggregates =
    "SELECT symbol_id, argMax(exchange_id, version), argMax(symbol, version), argMax(base, version), "
    "argMax(quote, version), argMax(first_ts, version), argMax(last_ts, version), argMax(trade_count, version), "
    "argMax(price_scale, version), argMax(volume_scale, version), max(version) FROM ";

// The rows of kSymbolAggregates ... FORMAT RowBinary.
Result<std::vector<Committed>> ParseSymbols(const std::string& body);

}  // namespace tickflow::store::detail
