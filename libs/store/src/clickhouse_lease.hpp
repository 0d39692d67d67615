// The ClickHouse store's writer lease: one import at a time, without locks.
#pragma once

#include <memory>
#include <string_view>

#include "clickhouse_http.hpp"
#include "tickflow/store/store.hpp"

namespace tickflow::store::detail {

// The lease of the store at `url` for `holder`, renewed on its own thread
// until destroyed; kBusy naming the other writer while one holds it.
Result<std::unique_ptr<WriterLock>> AcquireClickHouseLease(const ClickHouseUrl& url, std::string_view holder);

}  // namespace tickflow::store::detail
