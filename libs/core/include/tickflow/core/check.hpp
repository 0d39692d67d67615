// Always-on invariant checks (error tier 1): a broken invariant aborts with
// file:line. User input must never reach one; it gets a Result error instead.
#pragma once

namespace tickflow::detail {
[[noreturn]] void CheckFailed(const char* file, int line, const char* expr, const char* msg);
}  // namespace tickflow::detail

#define TICKFLOW_CHECK(cond, msg)                                        \
  do {                                                                   \
    if (!(cond)) [[unlikely]] {                                          \
      ::tickflow::detail::CheckFailed(__FILE__, __LINE__, #cond, (msg)); \
    }                                                                    \
  } while (0)
