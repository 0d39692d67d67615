#include "import_view.hpp"

#include "common.hpp"

namespace tickflow::cli {
namespace {

std::string Duration(double secs) {
  const auto s = static_cast<long long>(secs + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

void ImportView::ClearBar() {
  if (bar_shown_) {
    fmt::print(stderr, "\r\033[K");
    bar_shown_ = false;
  }
}

void ImportView::Progress(const importer::ImportProgress& p) {
  const auto now = std::chrono::steady_clock::now();
  const auto interval = terminal_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
  if (now - last_ < interval || p.seconds <= 0 || p.files_done == p.files_total) return;
  last_ = now;
  const double frac = p.bytes_total > 0 ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total) : 1;
  const double rows_s = static_cast<double>(p.rows_done) / p.seconds;
  const double mb_s = static_cast<double>(p.bytes_done) / 1e6 / p.seconds;
  const double eta = p.bytes_done > 0 ? p.seconds * (1 - frac) / frac : 0;
  if (terminal_) {
    constexpr int kWidth = 28;
    const int filled = static_cast<int>(frac * kWidth);
    fmt::print(stderr, "\r\033[K[{}{}] {:3.0f}%  {}rows/s  {:.0f} MB/s  ETA {}  {} ({}/{})",
               std::string(static_cast<std::size_t>(filled), '#'), std::string(static_cast<std::size_t>(kWidth - filled), '.'),
               frac * 100, Rate(rows_s), mb_s, Duration(eta), p.current_file, p.files_done + 1, p.files_total);
    bar_shown_ = true;
  } else {
    fmt::print(stderr, "progress: {:.0f}% of {:.1f} MB, {} rows, {}rows/s, ETA {}, file {}/{} {}\n", frac * 100,
               static_cast<double>(p.bytes_total) / 1e6, Thousands(p.rows_done), Rate(rows_s), Duration(eta),
               p.files_done + 1, p.files_total, p.current_file);
  }
}

void ImportView::File(const importer::FileReport& r) {
  ClearBar();
  fmt::print("{:>10}  {}: {}\n", importer::ToString(r.outcome), r.path, r.note);
  for (std::string e : r.errors) {
    for (std::size_t pos = 0; (pos = e.find('\n', pos)) != std::string::npos; pos += 13) e.replace(pos, 1, "\n            ");
    fmt::print("            {}\n", e);
  }
  if (r.rows_bad > r.errors.size()) {
    fmt::print("            ... and {} more bad rows\n", Thousands(r.rows_bad - r.errors.size()));
  }
  std::fflush(stdout);
}

int ImportView::Finish(const importer::ImportSummary& s, const std::string& db, const std::string& path) {
  ClearBar();
  const double secs = s.seconds > 0 ? s.seconds : 1e-9;
  std::size_t done = 0, not_run = 0;
  const importer::FileReport* failed = nullptr;
  bool bad_rows = false;
  for (const auto& f : s.files) {
    if (f.outcome == importer::FileOutcome::kNotRun) {
      ++not_run;
    } else if (f.outcome == importer::FileOutcome::kFailed) {
      if (failed == nullptr) failed = &f;
      bad_rows |= f.failed_at_bad_row;
    } else {
      ++done;
    }
  }
  for (const auto& what : s.skipped) fmt::print("   skipped  {}\n", what);
  if (s.files_ignored > s.skipped.size()) {
    fmt::print("   skipped  ... and {} more entries\n", Thousands(s.files_ignored - s.skipped.size()));
  }
  fmt::print("imported {} trades from {} of {} files ({:.1f} MB) in {:.2f} s: {}rows/s, {:.0f} MB/s; store {}\n",
             Thousands(s.rows_imported), done, s.files.size(), static_cast<double>(s.bytes) / 1e6, s.seconds,
             Rate(static_cast<double>(s.rows_imported) / secs), static_cast<double>(s.bytes) / 1e6 / secs, db);
  if (s.files.empty()) {
    return Fail(s.files_ignored > 0
                    ? fmt::format("nothing imported: {} holds no SYMBOL.csv file at its top level (skipped {} "
                                  "entries, listed above)",
                                  path, s.files_ignored)
                    : fmt::format("nothing imported: {} holds no files (expected SYMBOL.csv files of "
                                  "timestamp,price,volume rows)",
                                  path));
  }
  if (failed != nullptr) {
    std::string message = fmt::format("the import stopped at {}: {} file(s) imported before it are kept", failed->path, done);
    if (not_run > 0) message += fmt::format(", {} after it were not run", not_run);
    message += bad_rows ? "; fix the rows shown above, or rerun with --skip-bad-rows to skip bad rows"
                        : "; fix the problem shown above and run the import again (imported files are skipped)";
    return Fail(message);
  }
  return 0;
}

}  // namespace tickflow::cli
