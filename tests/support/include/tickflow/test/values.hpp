// Shared test helpers: linked into every test binary by tickflow_add_test.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "tickflow/core/decimal.hpp"

namespace tickflow::test {

// A Decimal from its text; a malformed literal fails the calling test.
inline Decimal D(std::string_view text) {
  Decimal d;
  EXPECT_EQ(Decimal::Parse(text, &d), DecimalParseStatus::kOk) << text;
  return d;
}

}  // namespace tickflow::test
