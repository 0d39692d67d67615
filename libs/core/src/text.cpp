#include "tickflow/core/text.hpp"

#include <array>
#include <cstdio>

namespace tickflow {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

std::string Hex(unsigned char c) {
  static constexpr std::array<char, 16> kDigits = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                  '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  return std::string("\\x") + kDigits[c >> 4] + kDigits[c & 15];
}

}  // namespace

std::string WithThousands(std::uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string EscapeForMessage(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\r': out += "\\r"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\0': out += "\\0"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c >= 0x20 && c < 0x7F) {
          out += ch;
        } else {
          out += Hex(c);
        }
    }
  }
  return out;
}

std::string RedactUrlPassword(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto start = scheme + 3;
  const auto at = url.find('@', start);
  const auto slash = url.find('/', start);
  if (at == std::string_view::npos || (slash != std::string_view::npos && slash < at)) return std::string(url);
  const auto colon = url.find(':', start);
  if (colon == std::string_view::npos || colon > at) return std::string(url);  // a user only
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

std::string DescribeUnusualBytes(std::string_view text) {
  std::string out;
  const auto add = [&](const std::string& what) {
    if (out.find(what) != std::string::npos) return;
    if (!out.empty()) out += ", ";
    out += what;
  };
  if (text.substr(0, kBom.size()) == kBom) {
    add("a UTF-8 byte order mark");
    text.remove_prefix(kBom.size());
  }
  bool non_ascii = false;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\r') {
      add("a carriage return (\\r) inside the line");
    } else if (c == '\0') {
      add("a NUL byte (\\0)");
    } else if (c == '\t') {
      add("a tab (\\t)");
    } else if (c >= 0x80 && !non_ascii) {
      non_ascii = true;
      add("a non-ASCII byte (" + Hex(c) + ")");
    } else if (c < 0x20 || c == 0x7F) {
      add("a control byte (" + Hex(c) + ")");
    }
  }
  return out;
}

std::string EscapeHtml(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
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

std::string EscapeQuotedValue(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace tickflow
