// Kraken CSV import: a folder of SYMBOL.csv files or a Kraken zip archive
// into a Store. Files are parsed on several threads and committed in name
// order, one transaction per file, so an error or a crash in the middle of a
// file leaves the store as it was before that file. Re-import rules
// (docs/import.md):
//  - same name, same bytes as last time: unchanged, skipped;
//  - same name, last time's bytes plus more lines: only the new lines are read
//    (Kraken history files that grew);
//  - otherwise, for a symbol that already has trades: rows at or before its
//    last stored trade are counted as already stored and skipped, the rest
//    appended (Kraken's quarterly update files).
// By default the import stops at the first bad row (the file's transaction is
// rolled back; files before it stay imported); with skip_bad_rows bad rows are
// skipped and counted per file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tickflow/core/result.hpp"
#include "tickflow/store/store.hpp"

namespace tickflow::importer {

enum class FileOutcome : std::uint8_t {
  kNewSymbol,   // first trades of a symbol
  kAppended,    // newer trades added to a symbol
  kUnchanged,   // imported before, nothing new
  kNoNewTrades, // every row was already stored, bad, or the file is empty
  kFailed,      // nothing from this file was stored
  kNotRun,      // the import stopped before this file
};
std::string_view ToString(FileOutcome outcome);

struct FileReport {
  std::string path;    // as shown to the user: "dir/XBTUSD.csv" or "history.zip:XBTUSD.csv"
  std::string symbol;
  SymbolId symbol_id = 0;
  FileOutcome outcome = FileOutcome::kNotRun;
  std::uint64_t bytes = 0;
  std::uint64_t rows_imported = 0;
  std::uint64_t rows_already_stored = 0;  // skipped: at or before the last stored trade
  std::uint64_t rows_bad = 0;             // skipped (skip_bad_rows) or the one that stopped the file
  std::uint64_t blank_lines = 0;
  std::uint64_t resumed_at_byte = 0;      // > 0 when only the grown tail was read
  std::vector<std::string> errors;        // the first bad rows, formatted with file:line:column
  bool failed_at_bad_row = false;         // kFailed because of a bad row (--skip-bad-rows would skip it)
  std::string note;                       // one line saying what happened
};

struct ImportProgress {
  std::size_t files_done = 0;
  std::size_t files_total = 0;
  std::uint64_t bytes_done = 0;
  std::uint64_t bytes_total = 0;
  std::uint64_t rows_done = 0;
  double seconds = 0;
  std::string_view current_file;
};

struct ImportOptions {
  bool skip_bad_rows = false;
  unsigned threads = 0;                    // parser threads; 0 = one per core
  std::size_t errors_per_file = 5;         // bad rows quoted per file
  // Who is writing, shown to another import refused while this one holds the
  // store's writer lock; empty: "tickflow import of PATH, pid N on HOST since TIME".
  std::string writer;
  // Called on the calling thread: after each chunk, and once per finished file.
  std::function<void(const ImportProgress&)> on_progress;
  std::function<void(const FileReport&)> on_file;
};

struct ImportSummary {
  std::vector<FileReport> files;
  std::uint64_t rows_imported = 0;
  std::uint64_t bytes = 0;
  std::size_t files_failed = 0;
  std::size_t files_ignored = 0;  // entries that are not *.csv
  std::vector<std::string> skipped;  // what was not read and why: "DIR/sub (a folder: ...)"; at most 20
  bool stopped = false;           // stopped early at a bad row or failure
  double seconds = 0;
  // Chunks of up to 65,536 parsed rows waiting for the writer: the most there were at
  // once, and the bound (8 per file in flight, one file per parser thread beside the
  // writer's): what bounds the import's memory whatever the number of files.
  std::size_t peak_queued_chunks = 0;
  std::size_t queue_chunk_limit = 0;
};

// Errors returned here concern the whole import (path missing, not a folder
// or zip, two files for one symbol, kBusy when another import holds the
// store's writer lock); per-file failures are in the summary.
Result<ImportSummary> Import(store::Store& store, const std::string& path, const ImportOptions& options);

// Symbol named by a CSV file name ("XBTUSD.csv" -> "XBTUSD"), or an error
// that says why the name does not qualify.
Result<std::string> SymbolFromFileName(std::string_view file_name);

}  // namespace tickflow::importer
