// JSON string literals for the outputs and the tearsheet (internal).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace tickflow::backtest::detail {

// A JSON string literal; '<' is escaped so the text can sit inside a <script> element.
inline std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '<') {
      out += "\\u003c";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace tickflow::backtest::detail
