// What a backtest writes for other tools: CSV of fills, orders and round trips,
// the metrics JSON with the run's whole configuration, and the HTML tearsheet.
// Amounts are exact decimal strings; undefined metrics are null.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tickflow/backtest/backtest.hpp"

namespace tickflow::backtest {

// Everything that determines a run, recorded with its results.
struct RunConfig {
  std::string strategy;
  std::vector<std::pair<std::string, std::string>> parameters;
  std::vector<std::string> symbols;
  UnixNanos from = UnixNanos::Min(), to = UnixNanos::Max();
  std::map<std::string, Amount> initial_cash;
  std::string base_currency = "USD";
  std::string resolution = "1d";
  std::string fee_schedule = "data/fees/kraken_spot.csv (built in)";
  bool fee_in_base = false;
  std::string version;
  std::string data_fingerprint;  // of the trades the run saw (count, range, hash)
};

using SymbolNames = std::map<SymbolId, std::string>;

// time,model,symbol,order_id,side,price,quantity,fee,fee_currency,liquidity,realized_pnl
std::string FillsCsv(const Results& r, const SymbolNames& names);
// model,order_id,symbol,side,type,tif,post_only,quantity,limit,stop,placed,arrives,status,reason,filled,average_price
std::string OrdersCsv(const Results& r, const SymbolNames& names);
// model,symbol,opened,closed,quantity,entry_price,exit_price,fills,fees,pnl,pnl_base
std::string TripsCsv(const Results& r, const SymbolNames& names);
// {"config": ..., "models": {name: metrics}, "benchmark": metrics, "conversion": ...}
std::string ResultsJson(const Results& r, const RunConfig& config, const SymbolNames& names);
// The charting library for self-contained pages: uPlot's stylesheet and script
// (with its licence in a comment), to put in a page's <head>.
std::string ChartLibraryHtml();

// A self-contained HTML tearsheet (no network needed).
std::string HtmlReport(const Results& r, const RunConfig& config, const SymbolNames& names);

// What the tearsheet shows beyond the metrics, computed from one model's run.
struct Tearsheet {
  struct PeriodReturn {
    std::int64_t year = 0;
    int month = 0;  // 1..12; 0 for a whole year
    double ret = 0;
  };
  struct DrawdownPeriod {
    UnixNanos peak, trough, recovered;  // recovered: UnixNanos::Max() if never
    double depth = 0;                   // fraction of the peak
  };
  struct SymbolAttribution {
    SymbolId symbol = 0;
    std::uint64_t trips = 0, wins = 0, fills = 0;
    Amount pnl_quote, pnl_base, fees_quote;
  };
  struct Point {
    UnixNanos time;
    double value = 0;
  };
  std::vector<PeriodReturn> monthly, yearly;  // from the equity at each period's end
  std::vector<Point> rolling_sharpe, rolling_volatility;  // annualised, over rolling_window points
  std::size_t rolling_window = 0;
  std::vector<Point> exposure;                // fraction of equity not in base-currency cash
  std::vector<DrawdownPeriod> worst_drawdowns;  // deepest first, at most 5
  std::vector<SymbolAttribution> by_symbol;
  std::vector<double> pnl_edges;              // trade PnL histogram (base currency): bins [edge i, edge i+1)
  std::vector<std::uint64_t> pnl_counts;
};
Tearsheet Analyze(const ModelRun& run);

// At most about `points` points of a curve for drawing, keeping each bucket's
// first, lowest, highest and last point (extremes survive; order is kept).
std::vector<EquityPoint> Downsample(const std::vector<EquityPoint>& curve, std::size_t points);

// The symbol's name, or "symbol N".
std::string NameOf(const SymbolNames& names, SymbolId id);

}  // namespace tickflow::backtest
