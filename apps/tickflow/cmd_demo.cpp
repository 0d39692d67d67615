// tickflow demo: generate sample data when there is none, import it, and show
// what is in the store.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <vector>

#include "backtest_run.hpp"
#include "common.hpp"
#include "import_view.hpp"
#include "printers.hpp"
#include "replay_session.hpp"
#include "tickflow/models/monthly_breakout.hpp"
#include "tickflow/importer/generator.hpp"
#include "tickflow/importer/importer.hpp"

namespace tickflow::cli {
namespace {

namespace fs = std::filesystem;

Result<std::vector<Bar>> LoadBars(store::Store& store, SymbolId id, TimeResolution res, store::TimeRange range) {
  TICKFLOW_ASSIGN_OR_RETURN(auto cursor, store::ReadBars(store, id, res, range));
  std::vector<Bar> all, buf(1024);
  while (true) {
    TICKFLOW_ASSIGN_OR_RETURN(const std::size_t n, cursor->Next(buf));
    if (n == 0) break;
    all.insert(all.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return all;
}

}  // namespace

Command AddDemo(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "demo",
      "Generate sample Kraken data, import it, show symbols and bars, replay it through the gateway, run the causal model, backtest");
  cmd->footer("Everything lives under --dir: data/ (the CSVs) and tickflow.db (the store). Running it again\n"
              "reuses the data and shows that the re-import changes nothing.");
  struct Args {
    std::string dir = "tickflow-demo";
    int symbols = 4;
    std::uint64_t trades = 250000;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--dir", a->dir, "Working folder")->capture_default_str();
  cmd->add_option("--symbols", a->symbols, "Markets to generate when there is no data")->capture_default_str();
  cmd->add_option("--trades", a->trades, "Trades per market to generate")->capture_default_str();
  return {cmd, [a] {
            const bool color = IsTerminal(1);
            const auto title = [&](const std::string& t) {
              fmt::print(fmt::runtime(color ? "\n\033[1m== {}\033[0m\n" : "\n== {}\n"), t);
              std::fflush(stdout);
            };
            const std::string data = (fs::path(a->dir) / "data").string();
            const std::string db = (fs::path(a->dir) / "tickflow.db").string();

            std::error_code ec;
            if (!fs::exists(data, ec) || fs::is_empty(data, ec)) {
              title(fmt::format("1. Generating {} markets x {} trades over 3 years into {}", a->symbols,
                                Thousands(a->trades), data));
              importer::GenerateOptions g;
              g.out_dir = data;
              g.symbols = a->symbols;
              g.trades = a->trades;
              g.years = 3;
              g.on_file = [](const std::string& f, std::uint64_t rows, std::uint64_t bytes) {
                fmt::print("  {} ({} trades, {:.1f} MB)\n", f, Thousands(rows), static_cast<double>(bytes) / 1e6);
              };
              auto r = importer::GenerateKrakenCsv(g);
              if (!r.ok()) return Fail(r.error());
            } else {
              title("1. Using the sample data already in " + data);
            }

            title("2. Importing into " + db);
            auto store = store::OpenStore(db, {.create_folder = true});
            if (!store.ok()) return Fail(store.error());
            ImportView view(IsTerminal(2));
            importer::ImportOptions o;
            o.on_progress = [&](const importer::ImportProgress& p) { view.Progress(p); };
            o.on_file = [&](const importer::FileReport& r) { view.File(r); };
            auto summary = importer::Import(**store, data, o);
            if (!summary.ok()) return Fail(summary.error());
            if (const int rc = view.Finish(*summary, db, data); rc != 0) return rc;

            title("3. Symbols in the store");
            auto symbols = (*store)->ListSymbols();
            if (!symbols.ok()) return Fail(symbols.error());
            PrintSymbols(*symbols, Format::kTable);
            if (symbols->empty()) return Fail("the store holds no symbols after the import");

            // Feature XBTUSD when it is there, else the first symbol.
            const auto featured = std::find_if(symbols->begin(), symbols->end(),
                                               [](const store::SymbolInfo& s) { return s.symbol == "XBTUSD"; });
            const store::SymbolInfo& first = featured != symbols->end() ? *featured : symbols->front();
            title("4. " + first.symbol + ": the last 8 weekly bars (aggregated exactly from 1-minute bars)");
            auto weeks = LoadBars(**store, first.id, TimeResolution::kOneWeek, {});
            if (!weeks.ok()) return Fail(weeks.error());
            const BarPrinter printer(Format::kTable);
            printer.Header();
            for (std::size_t i = weeks->size() > 8 ? weeks->size() - 8 : 0; i < weeks->size(); ++i) {
              printer.Row((*weeks)[i]);
            }

            title("5. " + first.symbol + ": daily candles of the last 90 days");
            const store::TimeRange last90{first.last_time - std::chrono::days(90), UnixNanos::Max()};
            auto days = LoadBars(**store, first.id, TimeResolution::kOneDay, last90);
            if (!days.ok()) return Fail(days.error());
            fmt::print("{}", CandleChart(*days, 14, color));

            title("6. Monthly closes of every symbol");
            for (const auto& s : *symbols) {
              auto months = LoadBars(**store, s.id, TimeResolution::kOneMonth, {});
              if (!months.ok()) return Fail(months.error());
              static const char* kLevels[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
              double lo = 1e300, hi = -1e300;
              for (const Bar& b : *months) {
                lo = std::min(lo, b.close.ToDouble());
                hi = std::max(hi, b.close.ToDouble());
              }
              std::string line;
              for (const Bar& b : *months) {
                const double f = hi > lo ? (b.close.ToDouble() - lo) / (hi - lo) : 0.5;
                line += kLevels[static_cast<int>(f * 7 + 0.5)];
              }
              fmt::print("  {:<8} {}  {} .. {} ({} months)\n", s.symbol, line, months->front().close.ToString(),
                         months->back().close.ToString(), months->size());
            }
            title("7. Replaying every trade of all symbols through the gateway to a client (in-process bus)");
            auto session = ReplaySession::Start(db);
            if (!session.ok()) return Fail(session.error());
            client::Request req;
            for (const auto& s : *symbols) req.symbols.push_back(s.id);
            std::uint64_t trades = 0, gaps = 0;
            SymbolTable<std::uint64_t> per_symbol;
            SymbolTable<std::string> names;
            for (const auto& s : *symbols) names[s.id] = s.symbol;
            UnixNanos previous = UnixNanos::Min();
            bool ordered = true;
            client::Callbacks cb;
            cb.on_trade = [&](const client::TradeEvent& e) {
              ++trades;
              ++per_symbol[e.trade.symbol];
              ordered = ordered && previous <= e.trade.time;
              previous = e.trade.time;
              if (trades <= 3) {
                fmt::print("  #{} {} {} price {} volume {}\n", e.sequence, FormatIso8601(e.trade.time),
                           names[e.trade.symbol], e.trade.price.ToString(), e.trade.volume.ToString());
              }
            };
            cb.on_gap = [&](const client::Gap&) { ++gaps; };
            const auto t0 = std::chrono::steady_clock::now();
            auto stream = session->client->RequestTrades(req, cb);
            if (!stream.ok()) return Fail(stream.error());
            auto end = (*stream)->Wait(std::chrono::minutes(10));
            if (!end.ok()) return Fail(end.error());
            const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            fmt::print("  ...\n  {} trades of {} symbols merged in time order ({}), in {:.2f} s: {}msgs/s\n",
                       Thousands(trades), symbols->size(), ordered ? "checked" : "NOT IN ORDER", secs,
                       Rate(static_cast<double>(trades) / secs));
            for (const auto& s : *symbols) {
              fmt::print("  {:<8} {:>10} trades received, {:>10} stored\n", s.symbol, Thousands(per_symbol[s.id]),
                         Thousands(s.trade_count));
            }
            fmt::print("  stream end: {}; the gateway sent {}, the client received {}, missing {}, gaps {}\n",
                       sbe::ToString(end->reason), Thousands(end->sent), Thousands(end->received), end->missing, gaps);
            const auto stats = session->gateway->stats();
            fmt::print("  gateway: {} frames, {:.1f} MB, {:.0f} messages per frame\n", Thousands(stats.frames_sent),
                       static_cast<double>(stats.bytes_sent) / 1e6,
                       static_cast<double>(stats.messages_sent) / std::max<double>(1, static_cast<double>(stats.frames_sent)));
            if (!ordered || end->missing != 0 || end->received != end->sent) return Fail("the replay was not complete");

            title("8. The monthly breakout causal model on " + first.symbol + "'s replayed trades (no look-ahead)");
            models::MonthlyBreakoutModel model;
            struct MonthHits {
              UnixNanos month;
              std::uint64_t count = 0;
              models::Detection first;
            };
            std::vector<MonthHits> hits;
            std::uint64_t model_trades = 0;
            std::string model_error;
            client::Callbacks mcb;
            mcb.on_trade = [&](const client::TradeEvent& e) {
              ++model_trades;
              auto breakout = model.OnTrade(e.trade.time, e.trade.price);
              if (!breakout.ok()) {
                model_error = breakout.error().message;
                return;
              }
              if (!*breakout) return;
              const models::Detection d = model.last();
              if (hits.empty() || hits.back().month != d.current_month) hits.push_back({d.current_month, 0, d});
              ++hits.back().count;
            };
            const auto m0 = std::chrono::steady_clock::now();
            auto mstream = session->client->RequestTrades({.symbols = {first.id}}, mcb);
            if (!mstream.ok()) return Fail(mstream.error());
            if (auto mend = (*mstream)->Wait(std::chrono::minutes(10)); !mend.ok()) return Fail(mend.error());
            if (!model_error.empty()) return Fail("causal model: " + model_error);
            const double msecs = std::chrono::duration<double>(std::chrono::steady_clock::now() - m0).count();
            std::uint64_t total = 0;
            for (const auto& h : hits) total += h.count;
            fmt::print("  {} trades through the model in {:.2f} s; {} breakout detections in {} of {} months\n",
                       Thousands(model_trades), msecs, Thousands(total), hits.size(), model.months_seen());
            fmt::print("  {:<8} {:>7}  {:<26} {:>10}  {}\n", "month", "hits", "first detection", "price",
                       "previous month (open -> close, high)");
            for (std::size_t i = hits.size() > 12 ? hits.size() - 12 : 0; i < hits.size(); ++i) {
              const auto& h = hits[i];
              fmt::print("  {:<8} {:>7}  {:<26} {:>10}  {} -> {}, high {}\n", FormatIso8601(h.month).substr(0, 7),
                         Thousands(h.count), FormatIso8601(h.first.time), h.first.price.ToString(),
                         h.first.previous.open.ToString(), h.first.previous.close.ToString(),
                         h.first.previous.high.ToString());
            }
            if (hits.size() > 12) fmt::print("  (the last 12 of {} months with detections)\n", hits.size());

            title("9. Backtest: the breakout strategy on " + first.symbol +
                  ", every execution model in one pass, against buy and hold");
            BacktestJob job;
            job.db = db;
            job.symbols = {first.symbol};
            job.strategy = backtest::FindStrategy("breakout");
            auto params = backtest::Parameters::Bind("breakout", job.strategy->params, {});
            if (!params.ok()) return Fail(params.error());
            job.params = *params;
            job.options.models = {{"conservative", backtest::FillRule::kConservative, {}},
                                  {"optimistic", backtest::FillRule::kTouch, {}}};
            auto outcome = RunBacktest(std::move(job));
            if (!outcome.ok()) return Fail(outcome.error());
            PrintBacktest(*outcome);
            const std::string report = (fs::path(a->dir) / "backtest.html").string();
            {
              std::ofstream out(report, std::ios::binary);
              out << backtest::HtmlReport(outcome->results, outcome->config, outcome->names);
              if (!out) return Fail("cannot write " + report);
            }
            fmt::print("  tearsheet     {} (open it in a browser)\n", report);

            fmt::print("\nTry: tickflow replay {} --bars 1d --print csv --db {}\n     tickflow bars {} --res 1M --db {}\n"
                       "     tickflow backtest --strategy sma-cross --param fast=5 --symbol {} --res 1h --out report.html --db {}\n",
                       first.symbol, db, first.symbol, db, first.symbol, db);
            return 0;
          }};
}

}  // namespace tickflow::cli
