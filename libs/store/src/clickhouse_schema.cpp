#include "clickhouse_schema.hpp"

#include "clickhouse_rowbinary.hpp"

namespace tickflow::store::detail {
namespace {

// The tables that hold data: on a cluster, each is a Distributed table over
// `NAME_local` tables on every shard, sharded by symbol (all of a symbol on one
// shard, so its pages come from one shard and its seq run stays contiguous).
struct DataTable {
  const char* name;
  const char* columns;
  const char* order_by;
};
constexpr DataTable kDataTables[] = {
    {"trades", "symbol_id UInt16, ts Int64, seq UInt64, price Int64, volume Int64", "symbol_id, ts, seq"},
    {"bars_1m",
     "symbol_id UInt16, ts Int64, version UInt32, open Int64, high Int64, low Int64, close Int64, volume Int64, "
     "trades UInt64, volume_high Int64 DEFAULT 0",
     "symbol_id, ts, version"},
    {"imports",
     "symbol_id UInt16, version UInt32, exchange_id UInt8, symbol String, base String, quote String, first_ts Int64, "
     "last_ts Int64, trade_count UInt64, price_scale UInt8, volume_scale UInt8, file_name String, file_size UInt64, "
     "file_hash UInt64, file_rows UInt64, imported_at DateTime",
     "symbol_id, version"},
};

std::string CreateTable(const std::string& db, const DataTable& t, std::string_view suffix, const std::string& engine) {
  return "CREATE TABLE IF NOT EXISTS " + db + "." + t.name + std::string(suffix) + " (" + t.columns +
         ") ENGINE = " + engine;
}
std::string MergeTreeTable(const std::string& db, const DataTable& t, std::string_view suffix = {}) {
  return CreateTable(db, t, suffix, "MergeTree() ORDER BY (" + std::string(t.order_by) + ")");
}

// One statement per request (the HTTP interface runs one). On a cluster, the
// coordination tables (tickflow_meta, writer_leases) live on the node of the URL.

}  // namespace

std::string LeaseTable(const std::string& db) {
  return "CREATE TABLE IF NOT EXISTS " + db +
         ".writer_leases (token String, holder String, expires DateTime, released UInt8, host String, pid UInt32) "
         "ENGINE = MergeTree() ORDER BY token";
}

std::vector<std::string> SchemaStatements(const std::string& db, const std::string& cluster) {
  std::vector<std::string> out = {
      "CREATE DATABASE IF NOT EXISTS " + db,
      "CREATE TABLE IF NOT EXISTS " + db + ".tickflow_meta (key String, value String) ENGINE = TinyLog",
  };
  for (const DataTable& t : kDataTables) {
    out.push_back(
        cluster.empty()
            ? MergeTreeTable(db, t)
            : CreateTable(db, t, {}, "Distributed(" + cluster + ", " + db + ", " + t.name + "_local, symbol_id)"));
  }
  out.push_back(LeaseTable(db));
  // The latest committed state of each symbol, for plain SQL.
  out.push_back(
      "CREATE VIEW IF NOT EXISTS " + db +
      ".symbols AS SELECT symbol_id, argMax(exchange_id, version) AS exchange, argMax(symbol, version) AS name, "
      "argMax(first_ts, version) AS first_time, argMax(last_ts, version) AS last_time, "
      "argMax(trade_count, version) AS trades, argMax(price_scale, version) AS price_digits, "
      "argMax(volume_scale, version) AS volume_digits, max(version) AS imports_count FROM " +
      db + ".imports GROUP BY symbol_id");
  return out;
}

// What each shard of a cluster holds: the data tables, named NAME_local.
std::vector<std::string> ShardSchemaStatements(const std::string& db) {
  std::vector<std::string> out = {"CREATE DATABASE IF NOT EXISTS " + db};
  for (const DataTable& t : kDataTables) out.push_back(MergeTreeTable(db, t, "_local"));
  return out;
}

Result<std::vector<Committed>> ParseSymbols(const std::string& body) {
  std::vector<Committed> out;
  RowReader r(body);
  while (!r.done()) {
    Committed c;
    std::uint8_t exchange = 0, ps = 0, vs = 0;
    std::uint64_t count = 0;
    if (!r.Get(&c.info.id) || !r.Get(&exchange) || !r.Str(&c.info.symbol) || !r.Str(&c.info.base) ||
        !r.Str(&c.info.quote) || !r.Get(&c.info.first_time.ns) || !r.Get(&c.info.last_time.ns) || !r.Get(&count) ||
        !r.Get(&ps) || !r.Get(&vs) || !r.Get(&c.version)) {
      return MakeError(ErrorCode::kCorrupt, "ClickHouse returned a truncated symbol row");
    }
    c.info.exchange = exchange;
    c.info.trade_count = count;
    c.info.price_scale = ps;
    c.info.volume_scale = vs;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace tickflow::store::detail
