// How an import looks on the console: a progress bar on a terminal (rows/s,
// MB/s, ETA, current file), plain lines otherwise; one line per file.
#pragma once

#include <chrono>
#include <string>

#include "tickflow/importer/importer.hpp"

namespace tickflow::cli {

class ImportView {
 public:
  explicit ImportView(bool terminal)
      : terminal_(terminal), last_(terminal ? std::chrono::steady_clock::time_point{} : std::chrono::steady_clock::now()) {}
  void Progress(const importer::ImportProgress& p);
  void File(const importer::FileReport& r);
  // Prints the summary; returns the exit code (non-zero when a file failed or nothing was imported).
  int Finish(const importer::ImportSummary& s, const std::string& db, const std::string& path);

 private:
  void ClearBar();
  bool terminal_;
  bool bar_shown_ = false;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace tickflow::cli
