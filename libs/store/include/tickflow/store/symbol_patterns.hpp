// Symbol globs: '*USD', 'XBT*', 'ETH?UR', '[XE]*' and '*' for every market, so a
// user can name 708 markets without typing them. Matching is POSIX fnmatch(3),
// case-sensitive like symbol names.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tickflow/core/result.hpp"
#include "tickflow/store/store.hpp"

namespace tickflow::store {

// True when `text` is a glob (holds *, ? or [).
bool IsSymbolPattern(std::string_view text);

// Names and globs to the symbols they name, in the order of `args`; a glob's
// matches come in the order of `known` (ListSymbols: by id, i.e. in import order), and each symbol comes once: a glob's
// match already named is left out, and so is a name a glob already matched (a name given twice stays twice, for the
// caller's duplicate check). Plain names pass through unchecked (their lookup names what is unknown). A glob that
// matches nothing is kNotFound naming it and how many symbols there are.
Result<std::vector<std::string>> ExpandSymbolPatterns(std::span<const std::string> args,
                                                      std::span<const SymbolInfo> known);

// The same, listing the known symbols (`list`, e.g. a store's ListSymbols) only
// when some arg is a glob; plain names alone come back as they are.
Result<std::vector<std::string>> ExpandSymbolPatternsWith(std::span<const std::string> args,
                                                          const std::function<Result<std::vector<SymbolInfo>>()>& list);

// "XBTUSD, ETHUSD" for a few symbols; "708 markets (XBTUSD, ETHUSD, XBTEUR, ...)" for many.
std::string DescribeSymbols(std::span<const std::string> names, std::size_t at_most = 6);

}  // namespace tickflow::store
