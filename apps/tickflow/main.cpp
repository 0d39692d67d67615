// tickflow: the command line. Wiring only: each subcommand parses its flags
// and calls the libraries.
#include <vector>

#include "common.hpp"
#include "tickflow/version.hpp"

int main(int argc, char** argv) {
  using namespace tickflow::cli;  // NOLINT: main's own namespace
  CLI::App app{
      "tickflow: import Kraken trade history, query it, and replay it as SBE market data.\n\n"
      "Start with `tickflow demo`, or:\n"
      "  tickflow generate --out data          # synthetic Kraken-format CSVs\n"
      "  tickflow import data                  # or a Kraken zip archive\n"
      "  tickflow symbols\n"
      "  tickflow bars XBTUSD --res 1d --from 2023-01-01\n"
      "  tickflow trades XBTUSD --limit 10 --format csv\n"
      "  tickflow replay XBTUSD ETHUSD --from 2023-06-01 --print csv   # through the gateway\n"
      "  tickflow backtest --strategy breakout --symbol XBTUSD --out report.html\n"
      "  tickflow symdb --listen 127.0.0.1:50051          # services: symdb, gateway (--print-config)\n"
      "  tickflow import data --db clickhouse://127.0.0.1:8123/tickflow   # any command, on ClickHouse\n",
      "tickflow"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("tickflow ") + tickflow::kVersion);
  const std::vector<Command> commands = {
      AddGenerate(app),   AddImport(app),   AddDb(app),    AddSymbols(app),     AddBars(app),      AddTrades(app),
      AddReplay(app),     AddBacktest(app), AddSweep(app), AddWalkForward(app), AddAudit(app),     AddGateway(app),
      AddNatsConfig(app), AddSymdb(app),    AddDemo(app),  AddBench(app),       AddCompletion(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return UsageError(app, e, argc, argv);
  }
  // No exception escapes main: one that a command did not turn into an error
  // becomes one clear line and exit code 1, never an abort.
  try {
    for (const Command& c : commands) {
      if (c.app->parsed()) return c.run();
    }
  } catch (const std::exception& e) {
    return Fail(std::string("unexpected failure: ") + e.what());
  }
  return 2;
}
