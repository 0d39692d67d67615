#include "printers.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "tickflow/core/text.hpp"

namespace tickflow::cli {

void PrintSymbols(std::span<const store::SymbolInfo> symbols, Format format) {
  if (format == Format::kJson) {
    for (const auto& s : symbols) {
      fmt::print(
          "{{\"id\":{},\"symbol\":{},\"base\":{},\"quote\":{},\"trades\":{},\"first\":\"{}\",\"last\":\"{}\","
          "\"price_decimals\":{},\"volume_decimals\":{}}}\n",
          s.id, JsonString(s.symbol), JsonString(s.base), JsonString(s.quote), s.trade_count,
          FormatIso8601(s.first_time), FormatIso8601(s.last_time), s.price_scale, s.volume_scale);
    }
    return;
  }
  if (format == Format::kCsv) {
    fmt::print("id,symbol,base,quote,trades,first,last,price_decimals,volume_decimals\n");
    for (const auto& s : symbols) {
      fmt::print("{},{},{},{},{},{},{},{},{}\n", s.id, s.symbol, s.base, s.quote, s.trade_count,
                 FormatIso8601(s.first_time), FormatIso8601(s.last_time), s.price_scale, s.volume_scale);
    }
    return;
  }
  fmt::print("{:>5}  {:<10} {:<6} {:<6} {:>14}  {:<24}  {:<24}  {:>4} {:>4}\n", "id", "symbol", "base", "quote",
             "trades", "first", "last", "p.dp", "v.dp");
  for (const auto& s : symbols) {
    fmt::print("{:>5}  {:<10} {:<6} {:<6} {:>14}  {:<24}  {:<24}  {:>4} {:>4}\n", s.id, s.symbol, s.base, s.quote,
               s.trade_count, FormatIso8601(s.first_time), FormatIso8601(s.last_time), s.price_scale, s.volume_scale);
  }
}

std::string FormatTime(UnixNanos t, TimeStyle style) {
  return style == TimeStyle::kNanos ? std::to_string(t.ns) : FormatIso8601(t);
}

void TradePrinter::Header() const {
  if (format_ == Format::kJson) return;  // JSON Lines: every line names its fields
  if (format_ == Format::kCsv) {
    fmt::print("{}time,price,volume\n", with_symbol_ ? "symbol," : "");
  } else {
    fmt::print("{}{:<30} {:>18} {:>20}\n", with_symbol_ ? fmt::format("{:<10} ", "symbol") : "", "time", "price",
               "volume");
  }
}

void TradePrinter::Row(const Trade& t, const std::string& symbol) const {
  if (format_ == Format::kJson) {
    fmt::print("{{{}\"time\":\"{}\",\"price\":\"{}\",\"volume\":\"{}\"}}\n",
               with_symbol_ ? "\"symbol\":" + JsonString(symbol) + "," : "", FormatTime(t.time, ts_),
               t.price.ToString(), t.volume.ToString());
    return;
  }
  if (format_ == Format::kCsv) {
    fmt::print("{}{},{},{}\n", with_symbol_ ? symbol + "," : "", FormatTime(t.time, ts_), t.price.ToString(),
               t.volume.ToString());
  } else {
    fmt::print("{}{:<30} {:>18} {:>20}\n", with_symbol_ ? fmt::format("{:<10} ", symbol) : "", FormatTime(t.time, ts_),
               t.price.ToString(), t.volume.ToString());
  }
}

void BarPrinter::Header() const {
  if (format_ == Format::kJson) return;
  if (format_ == Format::kCsv) {
    fmt::print("time,open,high,low,close,volume,trades\n");
  } else {
    fmt::print("{:<24} {:>14} {:>14} {:>14} {:>14} {:>22} {:>9}\n", "time", "open", "high", "low", "close", "volume",
               "trades");
  }
}

void BarPrinter::Row(const Bar& b) const {
  if (format_ == Format::kJson) {
    fmt::print(
        "{{\"time\":\"{}\",\"open\":\"{}\",\"high\":\"{}\",\"low\":\"{}\",\"close\":\"{}\",\"volume\":\"{}\","
        "\"trades\":{}}}\n",
        FormatTime(b.time, ts_), b.open.ToString(), b.high.ToString(), b.low.ToString(), b.close.ToString(),
        b.volume.ToString(), b.trades);
    return;
  }
  if (format_ == Format::kCsv) {
    fmt::print("{},{},{},{},{},{},{}\n", FormatTime(b.time, ts_), b.open.ToString(), b.high.ToString(),
               b.low.ToString(), b.close.ToString(), b.volume.ToString(), b.trades);
  } else {
    fmt::print("{:<24} {:>14} {:>14} {:>14} {:>14} {:>22} {:>9}\n", FormatTime(b.time, ts_), b.open.ToString(),
               b.high.ToString(), b.low.ToString(), b.close.ToString(), b.volume.ToString(), b.trades);
  }
}

std::string CandleChart(std::span<const Bar> bars, int height, bool color) {
  if (bars.empty() || height < 2) return "";
  double lo = bars[0].low.ToDouble(), hi = bars[0].high.ToDouble();
  for (const Bar& b : bars) {
    lo = std::min(lo, b.low.ToDouble());
    hi = std::max(hi, b.high.ToDouble());
  }
  if (hi <= lo) hi = lo + 1;
  const auto row_of = [&](double price) {
    return static_cast<int>((price - lo) / (hi - lo) * (height - 1) + 0.5);
  };
  std::string out;
  for (int row = height - 1; row >= 0; --row) {
    const double level = lo + (hi - lo) * row / (height - 1);
    out += fmt::format("{:>12.6g} ┤", level);
    for (const Bar& b : bars) {
      const int h = row_of(b.high.ToDouble()), l = row_of(b.low.ToDouble());
      const int o = row_of(b.open.ToDouble()), c = row_of(b.close.ToDouble());
      const bool up = b.close >= b.open;
      const char* glyph = " ";
      if (row <= std::max(o, c) && row >= std::min(o, c)) {
        glyph = "█";
      } else if (row <= h && row >= l) {
        glyph = "│";
      }
      if (color && glyph[0] != ' ') {
        out += up ? "\033[32m" : "\033[31m";
        out += glyph;
        out += "\033[0m";
      } else {
        out += glyph;
      }
    }
    out += '\n';
  }
  out += fmt::format("{:>12} └{}\n", "", std::string(bars.size(), '-'));
  out += fmt::format("{:>14}{}{:>{}}\n", "", FormatIso8601(bars.front().time).substr(0, 10),
                     FormatIso8601(bars.back().time).substr(0, 10), std::max<int>(static_cast<int>(bars.size()) - 10, 11));
  return out;
}

}  // namespace tickflow::cli
