#include "common.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "tickflow/core/text.hpp"
#include "tickflow/store/symbol_patterns.hpp"

namespace tickflow::cli {

std::string DefaultDbPath() {
  if (const char* db = std::getenv("TICKFLOW_DB"); db != nullptr && *db != '\0') return db;
  std::filesystem::path base;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    base = xdg;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    base = std::filesystem::path(home) / ".local/share";
  } else {
    base = ".";
  }
  return (base / "tickflow" / "tickflow.db").string();
}

void AddDbOption(CLI::App* app, std::string* db) {
  *db = DefaultDbPath();
  app->add_option("--db", *db,
                  "Store: a SQLite file, or clickhouse://HOST:PORT/DATABASE (default: $TICKFLOW_DB, else "
                  "$XDG_DATA_HOME/tickflow/tickflow.db)")
      ->capture_default_str();
}

int Fail(const Error& error) { return Fail(error.message); }

int Fail(const std::string& message) {
  fmt::print(stderr, "tickflow: error: {}\n", message);
  return 1;
}

namespace {
// Levenshtein distance, for "did you mean" on a mistyped command.
std::size_t Distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}
}  // namespace

int UsageError(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help, --version
  // The command chain that was parsed ("db", "db init"), and where it ends in argv.
  CLI::App* at = &app;
  std::string command;
  int end = 0;
  for (auto subs = at->get_subcommands(); !subs.empty(); subs = at->get_subcommands()) {
    at = subs.front();
    command += (command.empty() ? "" : " ") + at->get_name();
    for (int k = end + 1; k < argc; ++k) {
      if (at->get_name() == argv[k]) {
        end = k;
        break;
      }
    }
  }
  const std::string help = "tickflow " + (command.empty() ? "" : command + " ") + "--help";
  if (at->get_require_subcommand_min() > 0 && at->get_subcommands().empty() && end + 1 < argc &&
      argv[end + 1][0] != '-') {
    const std::string typed = argv[end + 1];
    std::string nearest, names;
    std::size_t best = ~std::size_t{0};
    for (const CLI::App* sub : at->get_subcommands({})) {
      names += (names.empty() ? "" : ", ") + sub->get_name();
      if (const std::size_t d = Distance(typed, sub->get_name()); d < best) best = d, nearest = sub->get_name();
    }
    std::string message = "unknown command '" + (command.empty() ? "" : command + " ") + EscapeForMessage(typed) + "'";
    if (best <= 2) message += " (did you mean '" + nearest + "'?)";
    fmt::print(stderr, "tickflow: error: {}\n  commands: {}\n  run {} for what each does\n", message, names, help);
    return 2;
  }
  fmt::print(stderr, "tickflow: error: {}{}\n  run {} for usage\n", command.empty() ? "" : command + ": ", e.what(),
             help);
  return 2;
}

Result<std::unique_ptr<store::Store>> OpenExistingStore(const std::string& db) {
  store::OpenOptions o;
  o.create = false;
  o.read_only = true;  // readers never write: a read-only file, a full disk or a busy writer cannot stop them
  return store::OpenStore(db, o);
}

Result<std::unique_ptr<store::Store>> OpenStoreForWriting(const std::string& db) {
  store::OpenOptions o;
  o.create_folder = db == DefaultDbPath();  // the default's folder is ours to make; a typo'd --db folder is not
  return store::OpenStore(db, o);
}

Result<ResolvedSymbols> ResolveSymbols(store::Store& store, const std::vector<std::string>& args) {
  ResolvedSymbols r;
  TICKFLOW_ASSIGN_OR_RETURN(const std::vector<std::string> symbols,
                            store::ExpandSymbolPatternsWith(args, [&store] { return store.ListSymbols(); }));
  TICKFLOW_RETURN_IF_ERROR(CheckDistinctSymbols(symbols));
  r.expanded = symbols;
  for (const std::string& s : symbols) {
    TICKFLOW_ASSIGN_OR_RETURN(const store::SymbolInfo info, store.FindSymbol(s));
    r.ids.push_back(info.id);
    r.names[info.id] = info.symbol;
  }
  return r;
}

Result<store::TimeRange> ParseRange(const std::string& from, const std::string& to) {
  store::TimeRange r;
  if (!from.empty()) {
    auto t = ParseTime(from);
    if (!t.ok()) return MakeError(ErrorCode::kInvalidArgument, "--from: " + t.error().message);
    r.from = *t;
  }
  if (!to.empty()) {
    auto t = ParseTime(to);
    if (!t.ok()) return MakeError(ErrorCode::kInvalidArgument, "--to: " + t.error().message);
    r.to = *t;
  }
  if (r.from >= r.to) {
    return MakeError(ErrorCode::kInvalidArgument, "--from " + FormatIso8601(r.from) + " must be before --to " +
                                                      FormatIso8601(r.to) + " (the range is [from, to))");
  }
  return r;
}

std::string Thousands(std::uint64_t n) { return WithThousands(n); }

std::string Rate(double v) {
  if (v >= 1e9) return fmt::format("{:.2f} G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.1f} M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.0f} k", v / 1e3);
  return fmt::format("{:.0f}", v);
}

bool IsTerminal(int fd) { return ::isatty(fd) != 0; }

}  // namespace tickflow::cli
