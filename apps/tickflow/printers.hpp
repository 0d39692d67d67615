// Table, CSV and JSON Lines printers for symbols, trades and bars, and a
// terminal candle chart. Numbers are exact decimals (JSON: as strings, so no
// reader rounds them through a double), times ISO 8601 UTC.
#pragma once

#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "tickflow/core/market.hpp"
#include "tickflow/store/store.hpp"

namespace tickflow::cli {

enum class Format { kTable, kCsv, kJson };
// How times print: ISO 8601 UTC, or integer nanoseconds since the epoch (--ts ns;
// a string in JSON, as it exceeds a double's 2^53).
enum class TimeStyle { kIso, kNanos };
std::string FormatTime(UnixNanos t, TimeStyle style);

void PrintSymbols(std::span<const store::SymbolInfo> symbols, Format format);

class TradePrinter {
 public:
  TradePrinter(Format format, bool with_symbol, TimeStyle ts = TimeStyle::kIso)
      : format_(format), with_symbol_(with_symbol), ts_(ts) {}
  void Header() const;
  void Row(const Trade& t, const std::string& symbol) const;

 private:
  Format format_;
  bool with_symbol_;
  TimeStyle ts_;
};

class BarPrinter {
 public:
  explicit BarPrinter(Format format, TimeStyle ts = TimeStyle::kIso) : format_(format), ts_(ts) {}
  void Header() const;
  void Row(const Bar& b) const;

 private:
  Format format_;
  TimeStyle ts_;
};

// Candlesticks of up to `width` bars, `height` rows tall; colour when `color`.
std::string CandleChart(std::span<const Bar> bars, int height, bool color);

}  // namespace tickflow::cli
