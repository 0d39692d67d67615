#pragma once

#include <memory>
#include <string_view>

#include "tickflow/store/store.hpp"

namespace tickflow::store::detail {

// `url` is clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE.
Result<std::unique_ptr<Store>> OpenClickHouseStore(std::string_view url, const OpenOptions& options);

}  // namespace tickflow::store::detail
