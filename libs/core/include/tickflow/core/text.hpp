// Text helpers shared by reports and error messages (import notes, CLI summaries).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tickflow {

// 1234567 -> "1,234,567".
std::string WithThousands(std::uint64_t n);

// Text from outside (a CSV line, a request field) made safe to print: printable
// ASCII is kept, \r \n \t \0 and backslash are written as escapes, every other
// byte as \xNN. Nothing raw reaches a terminal or a log.
std::string EscapeForMessage(std::string_view text);

// Names the unusual bytes in text, for an error message: "a UTF-8 byte order
// mark", "a carriage return (\r) inside the line", "a NUL byte (\0)",
// "a non-ASCII byte (\xff)"; joined with ", ". Empty when there are none.
std::string DescribeUnusualBytes(std::string_view text);

}  // namespace tickflow
