// tickflow symbols | bars | trades
#include <vector>

#include "common.hpp"
#include "printers.hpp"

namespace tickflow::cli {
namespace {

void AddFormatOption(CLI::App* cmd, std::string* format) {
  *format = "table";
  cmd->add_option("--format", *format,
                  "Output format: table, csv, or json (JSON Lines: one object per line, decimals as exact strings)")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
}

void AddTimeOption(CLI::App* cmd, std::string* ts) {
  *ts = "iso";
  cmd->add_option("--ts", *ts, "Times as iso (ISO 8601 UTC) or ns (integer nanoseconds since the epoch)")
      ->check(CLI::IsMember({"iso", "ns"}))
      ->capture_default_str();
}

TimeStyle ToTimeStyle(const std::string& ts) { return ts == "ns" ? TimeStyle::kNanos : TimeStyle::kIso; }

Format ToFormat(const std::string& f) {
  if (f == "csv") return Format::kCsv;
  return f == "json" ? Format::kJson : Format::kTable;
}

}  // namespace

Command AddSymbols(CLI::App& app) {
  auto* cmd = app.add_subcommand("symbols", "List imported symbols: id, trades, first and last trade, precision");
  auto db = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>();
  AddDbOption(cmd, db.get());
  AddFormatOption(cmd, format.get());
  return {cmd, [db, format] {
            auto store = OpenExistingStore(*db);
            if (!store.ok()) return Fail(store.error());
            auto symbols = (*store)->ListSymbols();
            if (!symbols.ok()) return Fail(symbols.error());
            if (symbols->empty()) {
              fmt::print(stderr, "the store {} holds no symbols yet: run `tickflow import PATH`\n", *db);
            }
            PrintSymbols(*symbols, ToFormat(*format));
            return 0;
          }};
}

Command AddBars(CLI::App& app) {
  auto* cmd = app.add_subcommand("bars", "Print OHLCV bars of a symbol at a resolution");
  cmd->footer(
      "Bars are aggregated exactly from the stored 1-minute bars, aligned to the UTC calendar (weeks start\n"
      "Monday 00:00, months and years by the calendar); a bar's time is its bucket start. With --from/--to,\n"
      "the bars whose start lies in [from, to) are printed, each complete.\n"
      "Times: ISO 8601 UTC (2023-01-01, 2023-01-01T12:00:00Z) or unix seconds.\n\n"
      "Example: tickflow bars XBTUSD --res 1w --from 2023-01-01 --format csv");
  struct Args {
    std::string symbol, res, from, to, db, format, ts;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("SYMBOL", a->symbol, "Symbol, as listed by `tickflow symbols`")->required();
  cmd->add_option("--res", a->res, "Resolution: 1m 5m 15m 30m 1h 1d 1w 1M (month) 1y")->required();
  cmd->add_option("--from", a->from, "Start time, inclusive");
  cmd->add_option("--to", a->to, "End time, exclusive");
  AddDbOption(cmd, &a->db);
  AddFormatOption(cmd, &a->format);
  AddTimeOption(cmd, &a->ts);
  return {cmd, [a] {
            auto res = ParseResolution(a->res);
            if (!res.ok()) return Fail(res.error());
            auto range = ParseRange(a->from, a->to);
            if (!range.ok()) return Fail(range.error());
            auto store = OpenExistingStore(a->db);
            if (!store.ok()) return Fail(store.error());
            auto symbol = (*store)->FindSymbol(a->symbol);
            if (!symbol.ok()) return Fail(symbol.error());
            auto cursor = store::ReadBars(**store, symbol->id, *res, *range);
            if (!cursor.ok()) return Fail(cursor.error());
            const BarPrinter printer(ToFormat(a->format), ToTimeStyle(a->ts));
            printer.Header();
            std::vector<Bar> buf(4096);
            while (true) {
              auto n = (*cursor)->Next(buf);
              if (!n.ok()) return Fail(n.error());
              if (*n == 0) break;
              for (std::size_t i = 0; i < *n; ++i) printer.Row(buf[i]);
            }
            return 0;
          }};
}

Command AddTrades(CLI::App& app) {
  auto* cmd = app.add_subcommand("trades", "Print trades of one symbol, or of several merged in time order");
  cmd->footer(
      "Prices and volumes are printed exactly as they were imported. With several symbols, a symbol column\n"
      "is added and equal timestamps keep the order the symbols were given in.\n\n"
      "Examples:\n"
      "  tickflow trades XBTUSD --from 2023-06-01T12:00:00Z --limit 20 --format csv\n"
      "  tickflow trades '*EUR' --from 2023-06-01T12:00:00Z --to 2023-06-01T13:00:00Z   # every EUR market, merged\n"
      "  tickflow trades --all --limit 100                                            # every market");
  struct Args {
    std::vector<std::string> symbols;
    std::string from, to, db, format, ts;
    std::uint64_t limit = 0;
    bool all = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("SYMBOL", a->symbols, "Symbols or globs ('*USD', 'XBT*'; quote them), merged in time order");
  cmd->add_flag("--all", a->all, "Every symbol in the store (the same as '*')");
  cmd->parse_complete_callback([a] {  // during parsing: a usage error (exit 2)
    if (a->symbols.empty() && !a->all) throw CLI::RequiredError("SYMBOL... (names or globs such as '*USD') or --all");
  });
  cmd->add_option("--from", a->from, "Start time, inclusive");
  cmd->add_option("--to", a->to, "End time, exclusive");
  cmd->add_option("--limit", a->limit, "Print at most N trades (0 = all)")->check(CLI::NonNegativeNumber);
  AddDbOption(cmd, &a->db);
  AddFormatOption(cmd, &a->format);
  AddTimeOption(cmd, &a->ts);
  return {cmd, [a] {
            auto range = ParseRange(a->from, a->to);
            if (!range.ok()) return Fail(range.error());
            auto store = OpenExistingStore(a->db);
            if (!store.ok()) return Fail(store.error());
            if (a->all) a->symbols.push_back("*");
            auto resolved = ResolveSymbols(**store, a->symbols);
            if (!resolved.ok()) return Fail(resolved.error());
            const std::vector<SymbolId>& ids = resolved->ids;
            const SymbolTable<std::string>& names = resolved->names;
            auto cursor = (*store)->Trades(ids, *range);
            if (!cursor.ok()) return Fail(cursor.error());
            const TradePrinter printer(ToFormat(a->format), ids.size() > 1, ToTimeStyle(a->ts));
            printer.Header();
            std::vector<Trade> buf(4096);
            std::uint64_t printed = 0;
            while (a->limit == 0 || printed < a->limit) {
              auto n = (*cursor)->Next(buf);
              if (!n.ok()) return Fail(n.error());
              if (*n == 0) break;
              for (std::size_t i = 0; i < *n && (a->limit == 0 || printed < a->limit); ++i, ++printed) {
                printer.Row(buf[i], names[buf[i].symbol]);
              }
            }
            return 0;
          }};
}

}  // namespace tickflow::cli
