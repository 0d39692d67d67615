// Shared wiring of the CLI: where the store lives, how errors are shown, and
// how numbers and times are printed. No domain logic here.
#pragma once

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tickflow/core/result.hpp"
#include "tickflow/core/time.hpp"
#include "tickflow/session/backtest_job.hpp"
#include "tickflow/store/store.hpp"

namespace tickflow::cli {

// A registered subcommand: its parser and what to run when it was chosen.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// $TICKFLOW_DB, else $XDG_DATA_HOME/tickflow/tickflow.db, else ~/.local/share/tickflow/tickflow.db.
std::string DefaultDbPath();
// Adds --db with the default above.
void AddDbOption(CLI::App* app, std::string* db);

// Prints "tickflow: error: MESSAGE" to stderr and returns the exit code (1).
int Fail(const Error& error);
int Fail(const std::string& message);
// A command line CLI11 refused: help and --version print and exit 0; anything
// else is one "tickflow: error:" line naming the command and the problem (an
// unknown command with the nearest known one), a pointer to --help, exit 2.
int UsageError(CLI::App& app, const CLI::ParseError& e, int argc, char** argv);

// Opens an existing store, or explains how to create one.
// Opens a store to read only: it must exist, and nothing is written to it.
Result<std::unique_ptr<store::Store>> OpenExistingStore(const std::string& db);
// Opens (creating when missing) a store to import into; only the default
// store's folder is created, any other --db folder must exist.
Result<std::unique_ptr<store::Store>> OpenStoreForWriting(const std::string& db);

// Symbol names to ids (in the order given) and an id-indexed table of names.
struct ResolvedSymbols {
  std::vector<SymbolId> ids;
  SymbolTable<std::string> names;     // by symbol id
  std::vector<std::string> expanded;  // the symbols named, globs expanded, in request order
};
using session::CheckDistinctSymbols;
// Names and globs ('*USD', 'XBT*', '*'): store::ExpandSymbolPatterns, then each looked up.
Result<ResolvedSymbols> ResolveSymbols(store::Store& store, const std::vector<std::string>& symbols);

// "--from/--to" text into a TimeRange; empty text means unbounded.
Result<store::TimeRange> ParseRange(const std::string& from, const std::string& to);

std::string Thousands(std::uint64_t n);
std::string Rate(double per_second);  // "12.3 M", "850 k"
bool IsTerminal(int fd);

// Lists the registered subcommand factories.
Command AddGenerate(CLI::App& app);
Command AddImport(CLI::App& app);
Command AddDb(CLI::App& app);
Command AddSymbols(CLI::App& app);
Command AddBars(CLI::App& app);
Command AddTrades(CLI::App& app);
Command AddReplay(CLI::App& app);
Command AddBacktest(CLI::App& app);
Command AddSweep(CLI::App& app);
Command AddWalkForward(CLI::App& app);
Command AddAudit(CLI::App& app);
Command AddSymdb(CLI::App& app);
Command AddGateway(CLI::App& app);
Command AddNatsConfig(CLI::App& app);
Command AddDemo(CLI::App& app);
Command AddBench(CLI::App& app);
Command AddCompletion(CLI::App& app);

}  // namespace tickflow::cli
