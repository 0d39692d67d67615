// Plain SQL against the ClickHouse server of a clickhouse:// store URL, for
// tools around the store (benchmarks, tests, maintenance): one statement per
// call over the HTTP interface. The store itself needs none of this.
#pragma once

#include <string>
#include <string_view>

#include "tickflow/core/result.hpp"

namespace tickflow::store {

// Runs `sql` on the server of `url` (clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE)
// and returns the response body; with `body`, it is sent as the data of an
// INSERT (`sql` then ends in "FORMAT CSV", "FORMAT RowBinary", ...).
Result<std::string> ClickHouseQuery(std::string_view url, std::string_view sql, std::string_view body = {});

// The DATABASE part of a clickhouse:// URL.
Result<std::string> ClickHouseDatabase(std::string_view url);

}  // namespace tickflow::store
