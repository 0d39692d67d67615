#include "tickflow/store/symbol_patterns.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <unordered_set>

namespace tickflow::store {

bool IsSymbolPattern(std::string_view text) { return text.find_first_of("*?[") != std::string_view::npos; }

Result<std::vector<std::string>> ExpandSymbolPatterns(std::span<const std::string> args,
                                                      std::span<const SymbolInfo> known) {
  std::vector<std::string> out;
  std::unordered_set<std::string> named, globbed;  // in out; in out by a glob only
  for (const std::string& a : args) {
    if (!IsSymbolPattern(a)) {
      // A name twice is kept twice (the caller's duplicate check names it); a name a
      // glob already matched is not repeated.
      if (globbed.erase(a) == 0) out.push_back(a);
      named.insert(a);
      continue;
    }
    std::size_t matched = 0;
    for (const SymbolInfo& s : known) {
      if (::fnmatch(a.c_str(), s.symbol.c_str(), 0) != 0) continue;
      ++matched;
      if (named.insert(s.symbol).second) {
        out.push_back(s.symbol);
        globbed.insert(s.symbol);
      }
    }
    if (matched == 0) {
      return MakeError(
          ErrorCode::kNotFound,
          "symbol pattern '" + a + "' matches none of the " + std::to_string(known.size()) +
              " symbols in the store (patterns are case-sensitive, like XBTUSD; `tickflow symbols` lists them)");
    }
  }
  return out;
}

Result<std::vector<std::string>> ExpandSymbolPatternsWith(
    std::span<const std::string> args, const std::function<Result<std::vector<SymbolInfo>>()>& list) {
  if (std::none_of(args.begin(), args.end(), [](const std::string& a) { return IsSymbolPattern(a); })) {
    return std::vector<std::string>(args.begin(), args.end());
  }
  TICKFLOW_ASSIGN_OR_RETURN(const std::vector<SymbolInfo> known, list());
  return ExpandSymbolPatterns(args, known);
}

std::string DescribeSymbols(std::span<const std::string> names, std::size_t at_most) {
  std::string s;
  const std::size_t shown = names.size() <= at_most ? names.size() : std::min<std::size_t>(3, names.size());
  for (std::size_t i = 0; i < shown; ++i) s += (i == 0 ? "" : ", ") + names[i];
  if (shown == names.size()) return s;
  return std::to_string(names.size()) + " markets (" + s + ", ...)";
}

}  // namespace tickflow::store
