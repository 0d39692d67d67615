#pragma once

#include <memory>
#include <string>

#include "tickflow/store/store.hpp"

namespace tickflow::store::detail {

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, const OpenOptions& options);

}  // namespace tickflow::store::detail
