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

// A URL with its password hidden: "nats://gw:s3cret@host:4222" ->
// "nats://gw:***@host:4222" (a user without a password, or no credentials,
// are left as they are). For every URL that is printed or logged.
std::string RedactUrlPassword(std::string_view url);

// Names the unusual bytes in text, for an error message: "a UTF-8 byte order
// mark", "a carriage return (\r) inside the line", "a NUL byte (\0)",
// "a non-ASCII byte (\xff)"; joined with ", ". Empty when there are none.
std::string DescribeUnusualBytes(std::string_view text);

// Text inside HTML (element content or a quoted attribute): < > & " as entities.
std::string EscapeHtml(std::string_view text);

// The inside of a double-quoted value in logfmt and in Prometheus's text
// format: backslash and double quote escaped with a backslash, newline as \n.
std::string EscapeQuotedValue(std::string_view text);

// A JSON string literal, quotes included; control bytes as \u00XX, and '<' as
// \u003c so the literal can sit inside an HTML <script> element.
std::string JsonString(std::string_view text);

}  // namespace tickflow
