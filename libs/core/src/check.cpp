#include "tickflow/core/check.hpp"

#include <cstdio>
#include <cstdlib>

namespace tickflow::detail {

void CheckFailed(const char* file, int line, const char* expr, const char* msg) {
  std::fprintf(stderr, "%s:%d: invariant violated: %s (%s)\n", file, line, expr, msg);
  std::abort();
}

}  // namespace tickflow::detail
