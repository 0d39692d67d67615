#include "tickflow/symdb/symdb.hpp"

#include "tickflow/core/text.hpp"

namespace tickflow::symdb {

SymbolManager::SymbolManager(std::vector<store::SymbolInfo> symbols, std::map<ExchangeId, std::string> exchanges)
    : symbols_(std::move(symbols)), exchanges_(std::move(exchanges)) {
  for (std::size_t i = 0; i < symbols_.size(); ++i) {
    by_name_.emplace(symbols_[i].symbol, symbols_[i].id);
    by_id_.emplace(symbols_[i].id, i);
  }
}

Result<SymbolManager> SymbolManager::FromStore(store::Store& store) {
  TICKFLOW_ASSIGN_OR_RETURN(auto symbols, store.ListSymbols());
  return SymbolManager(std::move(symbols), {{kKrakenExchangeId, "Kraken"}});
}

Result<std::string> SymbolManager::ExchangeName(ExchangeId id) const {
  auto it = exchanges_.find(id);
  if (it == exchanges_.end()) return MakeError(ErrorCode::kNotFound, "unknown exchange id " + std::to_string(id));
  return it->second;
}

Result<std::string> SymbolManager::Symbol(SymbolId id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return MakeError(ErrorCode::kNotFound, "unknown symbol id " + std::to_string(id));
  return symbols_[it->second].symbol;
}

Result<SymbolId> SymbolManager::Id(std::string_view symbol) const {
  if (symbol.empty()) return MakeError(ErrorCode::kInvalidArgument, "symbol: empty name");
  auto it = by_name_.find(symbol);
  if (it == by_name_.end()) {
    // A name from the wire: echo at most 64 bytes of it, escaped, so a hostile 1 MB name
    // cannot make the answer too large to send (the client would see RESOURCE_EXHAUSTED).
    constexpr std::size_t kEcho = 64;
    const std::string shown = EscapeForMessage(symbol.substr(0, kEcho));
    return MakeError(ErrorCode::kNotFound, "unknown symbol '" + shown + "'" +
                                               (symbol.size() > kEcho ? " (the first 64 of its " +
                                                                            std::to_string(symbol.size()) + " bytes)"
                                                                      : std::string()));
  }
  return it->second;
}

}  // namespace tickflow::symdb
