// A store built with TICKFLOW_WITH_CLICKHOUSE=OFF (no libcurl): clickhouse://
// locations are refused with what to do instead.
#include "clickhouse_store.hpp"
#include "tickflow/store/clickhouse.hpp"

namespace tickflow::store {
namespace {
Error Disabled(std::string_view url) {
  return MakeError(ErrorCode::kUnavailable, "store '" + std::string(url) +
                                                "': this tickflow was built with TICKFLOW_WITH_CLICKHOUSE=OFF; "
                                                "rebuild with -DTICKFLOW_WITH_CLICKHOUSE=ON or use a SQLite file");
}
}  // namespace

Result<std::string> ClickHouseQuery(std::string_view url, std::string_view, std::string_view) { return Disabled(url); }
Result<std::string> ClickHouseDatabase(std::string_view url) { return Disabled(url); }

namespace detail {
Result<std::unique_ptr<Store>> OpenClickHouseStore(std::string_view url, const OpenOptions&) { return Disabled(url); }
}  // namespace detail

}  // namespace tickflow::store
