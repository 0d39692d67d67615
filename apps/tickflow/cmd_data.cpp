// tickflow generate | import | db init
#include <chrono>
#include <filesystem>

#include "common.hpp"
#include "import_view.hpp"
#include "tickflow/importer/generator.hpp"
#include "tickflow/importer/importer.hpp"

namespace tickflow::cli {

Command AddGenerate(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Write synthetic Kraken-format trade CSVs (one SYMBOL.csv per market)");
  cmd->footer(
      "Prices follow a random walk with volatility clusters; trades arrive in bursts within the same second,\n"
      "span several years ending 2024-01-01, and use Kraken's real pair names (XBTUSD, ETHUSD, ...).\n"
      "Two shapes: --trades N gives every market N trades over the whole span; --total N is Kraken-shaped:\n"
      "N trades in all, market sizes heavy-tailed (the k-th market ~ 1/k^1.1: with 708 markets the first\n"
      "holds ~19 %), each market listed at its own date (majors first, most markets in the last years).\n"
      "--quarters Q --updates DIR writes the last Q calendar quarters as Kraken's quarterly update folders\n"
      "DIR/YYYYQn/SYMBOL.csv; import the history, then each quarter in order.\n"
      "The same options and --seed always give the same bytes.\n\n"
      "Examples:\n"
      "  tickflow generate --out data --symbols 20 --trades 1000000              # 20 M trades\n"
      "  tickflow generate --out kraken --symbols 708 --total 1000000000 --years 10 --quarters 2 --updates q\n");
  auto opts = std::make_shared<importer::GenerateOptions>();
  cmd->add_option("--out", opts->out_dir, "Folder to write into (created if missing)")->required();
  cmd->add_option("--symbols", opts->symbols, "Number of markets (1..20000)")->capture_default_str();
  cmd->add_option("--trades", opts->trades, "Trades per market (without --total)")->capture_default_str();
  cmd->add_option("--total", opts->total, "Kraken-shaped: trades in all, spread heavy-tailed over the markets");
  cmd->add_option("--years", opts->years, "Years of history (1..20), ending 2024-01-01")->capture_default_str();
  cmd->add_option("--quarters", opts->quarters,
                  "Write the last Q quarters as quarterly update files (needs --updates)");
  cmd->add_option("--updates", opts->update_dir, "Folder for the quarterly update folders (YYYYQn/SYMBOL.csv)");
  cmd->add_option("--seed", opts->seed, "Random seed")->capture_default_str();
  return {cmd, [opts] {
            // A line per file for a few files; beyond that a progress line every 5 s (stderr).
            const bool per_file = (opts->quarters + 1) * opts->symbols <= 50;
            auto last = std::chrono::steady_clock::now();
            std::uint64_t files = 0, rows = 0;
            opts->on_file = [&, per_file](const std::string& file, std::uint64_t n, std::uint64_t bytes) {
              ++files;
              rows += n;
              if (per_file) {
                fmt::print("  wrote {} ({} trades, {:.1f} MB)\n", file, Thousands(n), static_cast<double>(bytes) / 1e6);
              } else if (std::chrono::steady_clock::now() - last > std::chrono::seconds(5)) {
                last = std::chrono::steady_clock::now();
                fmt::print(stderr, "progress: {} files, {} trades, last {}\n", files, Thousands(rows), file);
              }
            };
            const auto t0 = std::chrono::steady_clock::now();
            auto r = importer::GenerateKrakenCsv(*opts);
            if (!r.ok()) return Fail(r.error());
            const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            fmt::print("generated {} files, {} trades, {:.1f} MB in {:.1f} s into {}", r->files, Thousands(r->rows),
                       static_cast<double>(r->bytes) / 1e6, secs, opts->out_dir);
            if (opts->quarters > 0) fmt::print(" and {} (quarterly updates)", opts->update_dir);
            fmt::print("\n");
            if (opts->total != 0) {
              fmt::print("market sizes: largest {} trades, smallest {}\n", Thousands(r->largest),
                         Thousands(r->smallest));
            }
            return 0;
          }};
}

Command AddImport(CLI::App& app) {
  auto* cmd = app.add_subcommand("import", "Import Kraken trade CSVs (a folder, one .csv, or a Kraken .zip) into the store");
  cmd->footer(
      "Each file is one transaction: an error or a crash inside a file leaves the store as it was before it.\n"
      "Importing again is safe: unchanged files are skipped, grown files contribute only their new lines,\n"
      "and files with newer trades for a known symbol (Kraken's quarterly updates) are appended.\n"
      "Rows: timestamp,price,volume (unix seconds, fractions allowed; exact decimals > 0; in time order).\n"
      "By default the import stops at the first bad row and names file:line:column; --skip-bad-rows\n"
      "skips them and reports a count per file.\n\n"
      "Example: tickflow import ~/Kraken_Trading_History.zip");
  struct Args {
    std::string path, db;
    bool skip_bad_rows = false;
    unsigned threads = 0;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("PATH", a->path, "Folder of SYMBOL.csv files, a single .csv, or a .zip archive")->required();
  AddDbOption(cmd, &a->db);
  cmd->add_flag("--skip-bad-rows", a->skip_bad_rows, "Skip malformed rows (counted per file) instead of stopping");
  cmd->add_option("--threads", a->threads, "Parser threads (default: one per core)");
  return {cmd, [a] {
            // Before the store is opened: a mistyped PATH must not leave a new empty store behind.
            std::error_code ec;
            if (!std::filesystem::exists(a->path, ec)) return Fail("no such file or folder: " + a->path);
            auto store = OpenStoreForWriting(a->db);
            if (!store.ok()) return Fail(store.error());
            ImportView view(IsTerminal(2));
            importer::ImportOptions o;
            o.skip_bad_rows = a->skip_bad_rows;
            o.threads = a->threads;
            o.on_progress = [&](const importer::ImportProgress& p) { view.Progress(p); };
            o.on_file = [&](const importer::FileReport& r) { view.File(r); };
            auto summary = importer::Import(**store, a->path, o);
            if (!summary.ok()) return Fail(summary.error());
            return view.Finish(*summary, a->db, a->path);
          }};
}

Command AddDb(CLI::App& app) {
  auto* cmd = app.add_subcommand("db", "Create a store: a SQLite file or a ClickHouse database");
  cmd->require_subcommand(1);
  auto* init = cmd->add_subcommand("init", "Create the store's tables (idempotent: an existing store is left as it is)");
  init->footer(
      "SQLite: the file and its tables. ClickHouse: the database, trades (MergeTree ordered by symbol_id, ts,\n"
      "seq), bars_1m, imports, and a `symbols` view; `tickflow import` creates them too when missing.\n\n"
      "Examples:\n"
      "  tickflow db init --db clickhouse://127.0.0.1:8123/tickflow   # scripts/clickhouse.sh start DIR first\n"
      "  tickflow db init --db /data/tickflow.db");
  auto db = std::make_shared<std::string>();
  AddDbOption(init, db.get());
  return {cmd, [db] {
            auto store = OpenStoreForWriting(*db);
            if (!store.ok()) return Fail(store.error());
            auto symbols = (*store)->ListSymbols();
            if (!symbols.ok()) return Fail(symbols.error());
            fmt::print("store ready: {} ({} symbols)\n", (*store)->location(), symbols->size());
            return 0;
          }};
}

}  // namespace tickflow::cli
