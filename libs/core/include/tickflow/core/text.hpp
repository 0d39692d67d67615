// Number formatting shared by reports (import notes, CLI summaries).
#pragma once

#include <cstdint>
#include <string>

namespace tickflow {

// 1234567 -> "1,234,567".
std::string WithThousands(std::uint64_t n);

}  // namespace tickflow
