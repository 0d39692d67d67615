#include "tickflow/importer/importer.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "source.hpp"
#include "tickflow/bars/resampler.hpp"
#include "tickflow/core/text.hpp"
#include "tickflow/importer/csv.hpp"

namespace tickflow::importer {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kChunkRows = 65536;
constexpr std::size_t kQueueChunks = 8;

// Parsed rows of one file on their way from a parser thread to the writer.
struct Chunk {
  store::TradeColumns trades;
  std::vector<Bar> minute_bars;  // bars completed by these trades (the last chunk flushes)
  std::uint64_t bytes = 0;       // input bytes this chunk consumed
};

// Chunks the writer has consumed, handed back to the parsers so their column
// buffers are reused instead of faulting in fresh pages for every chunk.
class ChunkPool {
 public:
  Chunk Take() {
    std::lock_guard lock(mu_);
    if (free_.empty()) return Chunk();
    Chunk c = std::move(free_.back());
    free_.pop_back();
    return c;
  }
  void Give(Chunk c) {
    c.trades.clear();
    c.minute_bars.clear();
    c.bytes = 0;
    std::lock_guard lock(mu_);
    if (free_.size() < 4 * kQueueChunks) free_.push_back(std::move(c));
  }

 private:
  std::mutex mu_;
  std::vector<Chunk> free_;
};

// What a parser thread learns of a file, beside its chunks.
struct ParseResult {
  FileReport report;
  std::optional<Error> error;  // the file must not be committed
  bool unchanged = false;
  std::uint64_t size = 0;
  std::uint64_t hash = 0;
  std::uint64_t previous_rows = 0;
};

// Parsed chunks not yet written, over all files, and the most there were.
struct QueueStats {
  std::atomic<std::size_t> queued{0}, peak{0};
  void Added() {
    const std::size_t q = ++queued;
    std::size_t p = peak.load();
    while (q > p && !peak.compare_exchange_weak(p, q)) {
    }
  }
};

// A bounded single-producer single-consumer queue per file.
class FileChannel {
 public:
  void Count(QueueStats* stats) { stats_ = stats; }
  // False when the import was cancelled while waiting for room.
  bool Push(Chunk chunk, const std::atomic<bool>& cancelled) {
    std::unique_lock lock(mu_);
    room_.wait(lock, [&] { return chunks_.size() < kQueueChunks || cancelled.load(); });
    if (cancelled.load()) return false;
    chunks_.push_back(std::move(chunk));
    if (stats_ != nullptr) stats_->Added();
    ready_.notify_one();
    return true;
  }
  void Finish(ParseResult result) {
    std::lock_guard lock(mu_);
    result_ = std::move(result);
    finished_ = true;
    ready_.notify_one();
  }
  // Next chunk, or nullopt once the file is finished and drained.
  std::optional<Chunk> Pop() {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [&] { return !chunks_.empty() || finished_; });
    if (chunks_.empty()) return std::nullopt;
    Chunk c = std::move(chunks_.front());
    chunks_.pop_front();
    if (stats_ != nullptr) --stats_->queued;
    room_.notify_one();
    return c;
  }
  ParseResult TakeResult() {
    std::lock_guard lock(mu_);
    return std::move(result_);
  }
  void WakeAll() {
    std::lock_guard lock(mu_);
    room_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<Chunk> chunks_;
  QueueStats* stats_ = nullptr;
  ParseResult result_;
  bool finished_ = false;
};

// How far the parsers may run ahead of the writer: a parser starts file j only
// once the writer has reached file j - ahead. Without it a folder of small
// files (each parsed before its channel fills) was parsed ahead without limit
// and held in memory: max RSS grew with the number of files (0.9 GB for 200
// files of 100,000 rows). With it at most `ahead + 1` files are in flight, each
// holding at most kQueueChunks chunks (docs/import.md, "Memory").
class Lookahead {
 public:
  explicit Lookahead(std::size_t ahead) : ahead_(ahead) {}
  // False when cancelled while waiting.
  bool WaitToStart(std::size_t file, const std::atomic<bool>& cancelled) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return file <= writer_at_ + ahead_ || cancelled.load(); });
    return !cancelled.load();
  }
  void WriterAt(std::size_t file) {
    {
      std::lock_guard lock(mu_);
      writer_at_ = file;
    }
    cv_.notify_all();
  }
  void WakeAll() {
    { std::lock_guard lock(mu_); }
    cv_.notify_all();
  }

 private:
  const std::size_t ahead_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t writer_at_ = 0;
};

struct Known {
  std::optional<store::SymbolInfo> symbol;  // as stored before the import
  std::optional<store::FileRecord> file;
};

// Each parser thread reads through one window of this size, so an import's
// memory does not depend on its files; it is also the longest line accepted.
constexpr std::size_t kWindowBytes = std::size_t{1} << 20;

// Reads the first n bytes of a stream: their ContentHash (seeded with n), their
// newline count and last byte; every byte also goes to *also (if given).
struct Prefix {
  std::uint64_t hash = 0;
  std::uint64_t newlines = 0;
  char last = 0;
};
Result<Prefix> ReadPrefix(detail::ByteStream& in, std::uint64_t n, store::ContentHasher* also) {
  // A plain array: GCC 12 -O3 misreads a resized std::vector<char> here (-Wstringop-overflow).
  const auto storage = std::make_unique_for_overwrite<char[]>(kWindowBytes);
  const std::span<char> buf(storage.get(), kWindowBytes);
  store::ContentHasher hasher(n);
  Prefix p;
  for (std::uint64_t done = 0; done < n;) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), n - done));
    TICKFLOW_ASSIGN_OR_RETURN(const std::size_t got, in.Read(buf.first(want)));
    if (got == 0) return MakeError(ErrorCode::kInternal, "stream ended before its size");
    const std::span<const char> bytes(buf.data(), got);
    hasher.Update(bytes);
    if (also != nullptr) also->Update(bytes);
    p.newlines += static_cast<std::uint64_t>(std::count(bytes.begin(), bytes.end(), '\n'));
    p.last = bytes.back();
    done += got;
  }
  p.hash = hasher.Finish();
  return p;
}

// Hands a stream out as runs of whole lines (the last may lack its newline),
// feeding every byte read to a hasher.
class LineWindow {
 public:
  struct Run {
    std::span<const char> lines;  // empty at the end of the stream
    std::uint64_t offset = 0;     // stream offset of lines[0], counted from where the window started
    bool too_long = false;        // a line longer than the window: `head` holds its start, the rest is skipped
    std::string head;
  };

  LineWindow(detail::ByteStream& in, store::ContentHasher& hasher) : in_(in), hasher_(hasher), buf_(kWindowBytes) {}

  Result<Run> Next() {
    Run run;
    base_ += begin_;
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    run.offset = base_;
    TICKFLOW_RETURN_IF_ERROR(Fill());
    if (eof_) {
      run.lines = std::span<const char>(buf_).first(end_);
      begin_ = end_;
      return run;
    }
    const auto last_newline = std::find(buf_.rbegin(), buf_.rend(), '\n');
    if (last_newline != buf_.rend()) {
      begin_ = static_cast<std::size_t>(buf_.rend() - last_newline);
      run.lines = std::span<const char>(buf_).first(begin_);
      return run;
    }
    // No newline in a full window: keep the line's start for the message, skip to its end.
    run.too_long = true;
    run.head.assign(buf_.data(), 160);
    while (true) {
      base_ += end_;
      begin_ = end_ = 0;
      TICKFLOW_RETURN_IF_ERROR(Fill());
      const auto nl = std::find(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(end_), '\n');
      if (nl != buf_.begin() + static_cast<std::ptrdiff_t>(end_)) {
        begin_ = static_cast<std::size_t>(nl - buf_.begin()) + 1;
        return run;
      }
      if (eof_) {
        begin_ = end_;
        return run;
      }
    }
  }

 private:
  Status Fill() {
    while (end_ < buf_.size() && !eof_) {
      TICKFLOW_ASSIGN_OR_RETURN(const std::size_t n, in_.Read(std::span<char>(buf_).subspan(end_)));
      hasher_.Update(std::span<const char>(buf_).subspan(end_, n));
      end_ += n;
      eof_ = n == 0;
    }
    return {};
  }

  detail::ByteStream& in_;
  store::ContentHasher& hasher_;
  std::vector<char> buf_;
  std::size_t begin_ = 0, end_ = 0;  // unread bytes
  std::uint64_t base_ = 0;           // stream offset of buf_[0]
  bool eof_ = false;
};

// Parses one file into its channel. Runs on a parser thread.
void ParseFile(const detail::Source& source, const Known& known, const ImportOptions& options, FileChannel& channel,
               ChunkPool& pool, const std::atomic<bool>& cancelled) {
  ParseResult result;
  FileReport& report = result.report;
  report.path = source.display;
  report.symbol = source.symbol;
  const auto fail = [&](Error e) {
    result.error = std::move(e);
    channel.Finish(std::move(result));
  };

  auto opened = detail::Open(source);
  if (!opened.ok()) return fail(std::move(opened).error());
  std::unique_ptr<detail::ByteStream> stream = std::move(opened).value();
  const std::uint64_t size = stream->size();
  result.size = size;
  report.bytes = size;
  const auto reopen = [&]() -> Status {
    TICKFLOW_ASSIGN_OR_RETURN(stream, detail::Open(source));
    if (stream->size() != size) {
      return MakeError(ErrorCode::kIo, source.display + " changed size while it was being imported; import it again");
    }
    return {};
  };

  std::uint64_t start = 0;
  std::uint64_t first_line = 1;
  UnixNanos previous = UnixNanos::Min();
  UnixNanos already_stored_until = UnixNanos::Min();  // rows at or before it are skipped
  const bool has_trades = known.symbol && known.symbol->trade_count > 0;
  store::ContentHasher hasher(size);
  if (known.file && known.file->size == size && size > 0) {
    // Same size: read it once to hash it; unchanged files are never parsed.
    auto whole = ReadPrefix(*stream, size, nullptr);
    if (!whole.ok()) return fail(std::move(whole).error());
    if (whole.value().hash == known.file->hash) {
      result.hash = known.file->hash;
      result.unchanged = true;
      channel.Finish(std::move(result));
      return;
    }
    if (Status s = reopen(); !s.ok()) return fail(std::move(s).error());
  } else if (known.file && known.file->size == size) {
    result.unchanged = true;  // empty then, empty now
    channel.Finish(std::move(result));
    return;
  }
  if (has_trades && known.file && known.file->size < size && known.file->size > 0) {
    // Perhaps the same file, grown: then read only the new lines, which must not go back in time.
    auto prefix = ReadPrefix(*stream, known.file->size, &hasher);
    if (!prefix.ok()) return fail(std::move(prefix).error());
    if (prefix.value().hash == known.file->hash && prefix.value().last == '\n') {
      start = known.file->size;
      first_line = prefix.value().newlines + 1;
      previous = known.symbol->last_time;
      result.previous_rows = known.file->rows;
      report.resumed_at_byte = start;
    } else {
      if (Status s = reopen(); !s.ok()) return fail(std::move(s).error());
      hasher = store::ContentHasher(size);
    }
  }
  if (start == 0 && has_trades) already_stored_until = known.symbol->last_time;

  LineWindow window(*stream, hasher);
  bars::Resampler minutes(TimeResolution::kOneMinute);
  Chunk chunk = pool.Take();
  std::uint64_t consumed = start;  // stream bytes accounted for in chunks
  std::uint64_t lines = first_line - 1;
  CsvRow row;
  const auto bad_row = [&](const RowError& e) -> bool {  // true: go on
    ++report.rows_bad;
    if (report.errors.size() < options.errors_per_file) report.errors.push_back(e.Format(source.display));
    if (options.skip_bad_rows) return true;
    result.error = MakeError(ErrorCode::kParse, e.Format(source.display));
    return false;
  };
  bool stop = false;
  while (!stop) {
    auto next = window.Next();
    if (!next.ok()) return fail(std::move(next).error());
    const LineWindow::Run& run = next.value();
    if (run.too_long) {
      RowError e;
      e.line = ++lines;
      e.column = 1;
      e.message = "line is longer than " + WithThousands(kWindowBytes) + " bytes: not a timestamp,price,volume row";
      e.text = EscapeForMessage(run.head.substr(0, 120)) + "...";
      stop = !bad_row(e);
      continue;
    }
    if (run.lines.empty()) break;
    const std::uint64_t run_start = start + run.offset;
    CsvReader reader(run.lines, lines + 1);
    while (true) {
      if (cancelled.load(std::memory_order_relaxed)) {
        return fail(MakeError(ErrorCode::kCancelled, "import stopped before " + source.display + " was finished"));
      }
      const CsvReader::Status s = reader.Next(&row);
      if (s == CsvReader::Status::kEnd) break;
      if (s == CsvReader::Status::kError) {
        if (!bad_row(reader.error())) {
          stop = true;
          break;
        }
        continue;
      }
      if (row.time < previous) {
        RowError e;
        e.line = reader.line();
        e.column = 1;
        e.message = "timestamp goes backwards: " + FormatIso8601(row.time) + " is before the previous row's " +
                    FormatIso8601(previous) + " (rows must be in time order)";
        const auto line_start = run.lines.first(reader.offset());
        const auto text_end = line_start.size();
        std::size_t b = text_end == 0 ? 0 : text_end - 1;
        while (b > 0 && line_start[b - 1] != '\n') --b;
        e.text = std::string(line_start.data() + b, text_end - b);
        while (!e.text.empty() && (e.text.back() == '\n' || e.text.back() == '\r')) e.text.pop_back();
        if (!bad_row(e)) {
          stop = true;
          break;
        }
        continue;
      }
      previous = row.time;
      if (row.time <= already_stored_until) {
        ++report.rows_already_stored;
        continue;
      }
      chunk.trades.push_back(row.time, row.price, row.volume);
      Bar done;
      switch (minutes.Add(Trade{row.time, row.price, row.volume}, &done)) {
        case bars::AddStatus::kBarDone: chunk.minute_bars.push_back(done); break;
        case bars::AddStatus::kPending: break;
        case bars::AddStatus::kOutOfOrder:
          return fail(MakeError(ErrorCode::kInternal, "rows out of order after the time-order check"));
        case bars::AddStatus::kVolumeOverflow:
          return fail(MakeError(ErrorCode::kOutOfRange, source.display + ":" + std::to_string(reader.line()) +
                                                            ": 1-minute volume sum exceeds the exact range (37 significant digits)"));
      }
      if (chunk.trades.size() == kChunkRows) {
        const std::uint64_t at = run_start + reader.offset();
        chunk.bytes = at - consumed;
        consumed = at;
        report.rows_imported += chunk.trades.size();
        if (!channel.Push(std::move(chunk), cancelled)) {
          return fail(MakeError(ErrorCode::kCancelled, "import stopped"));
        }
        chunk = pool.Take();
      }
    }
    lines = reader.line();
    report.blank_lines += reader.blank_lines();
  }
  if (!result.error) {
    result.hash = hasher.Finish();
    Bar last;
    if (minutes.Flush(&last)) chunk.minute_bars.push_back(last);
    chunk.bytes = size - consumed;
    report.rows_imported += chunk.trades.size();
    if (!channel.Push(std::move(chunk), cancelled)) return fail(MakeError(ErrorCode::kCancelled, "import stopped"));
  }
  channel.Finish(std::move(result));
}

std::string DefaultWriter(const std::string& path) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "?");
  return "tickflow import of " + path + ", pid " + std::to_string(::getpid()) + " on " + host + " since " +
         FormatIso8601(UnixNanos{std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count()});
}

std::string Describe(const FileReport& r, const Known& known) {
  std::string note;
  switch (r.outcome) {
    case FileOutcome::kUnchanged:
      return "unchanged since its last import (" + WithThousands(r.bytes) + " bytes), skipped";
    case FileOutcome::kNewSymbol:
      note = "new symbol " + r.symbol + " (id " + std::to_string(r.symbol_id) + "): " + WithThousands(r.rows_imported) +
             " trades";
      break;
    case FileOutcome::kAppended:
      note = r.resumed_at_byte > 0
                 ? "file grew by " + WithThousands(r.bytes - r.resumed_at_byte) + " bytes: appended " +
                       WithThousands(r.rows_imported) + " trades"
                 : "appended " + WithThousands(r.rows_imported) + " newer trades to " + r.symbol;
      break;
    case FileOutcome::kNoNewTrades:
      note = r.bytes == 0 ? "empty file, nothing to import" : "no new trades";
      break;
    case FileOutcome::kFailed: note = "failed, nothing stored from this file"; break;
    case FileOutcome::kNotRun: note = "not imported: the import stopped earlier"; break;
  }
  if (r.rows_already_stored > 0 && known.symbol) {
    note += "; " + WithThousands(r.rows_already_stored) + " rows at or before the last stored trade (" +
            FormatIso8601(known.symbol->last_time) + ") were already stored, skipped";
  }
  if (r.rows_bad > 0 && r.outcome != FileOutcome::kFailed) note += "; " + WithThousands(r.rows_bad) + " bad rows skipped";
  if (r.blank_lines > 0) note += "; " + WithThousands(r.blank_lines) + " blank lines";
  return note;
}

}  // namespace

std::string_view ToString(FileOutcome outcome) {
  switch (outcome) {
    case FileOutcome::kNewSymbol: return "new";
    case FileOutcome::kAppended: return "appended";
    case FileOutcome::kUnchanged: return "unchanged";
    case FileOutcome::kNoNewTrades: return "no new trades";
    case FileOutcome::kFailed: return "FAILED";
    case FileOutcome::kNotRun: return "not run";
  }
  return "?";
}

Result<std::string> SymbolFromFileName(std::string_view file_name) {
  std::string_view stem = file_name;
  if (stem.size() > 4 && (stem.substr(stem.size() - 4) == ".csv" || stem.substr(stem.size() - 4) == ".CSV")) {
    stem.remove_suffix(4);
  }
  if (stem.empty() || stem.size() > 32) {
    return MakeError(ErrorCode::kInvalidArgument, "file name '" + std::string(file_name) +
                                                      "' must be SYMBOL.csv with a symbol of 1 to 32 characters");
  }
  const auto alnum = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(stem.front())) {
    return MakeError(ErrorCode::kInvalidArgument, "file name '" + EscapeForMessage(file_name) +
                                                      "' does not name a symbol: a symbol starts with a letter or digit");
  }
  for (char c : stem) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) {
      return MakeError(ErrorCode::kInvalidArgument, "file name '" + EscapeForMessage(file_name) +
                                                        "' does not name a symbol: use letters, digits, '.', '_', '-'");
    }
  }
  return std::string(stem);
}

Result<ImportSummary> Import(store::Store& store, const std::string& path, const ImportOptions& options) {
  const auto t0 = Clock::now();
  TICKFLOW_ASSIGN_OR_RETURN(const detail::SourceList list, detail::ListSources(path));
  // One writer at a time, held from before the store is read until the last commit.
  TICKFLOW_ASSIGN_OR_RETURN(const auto writer_lock,
                            store.LockForWriting(options.writer.empty() ? DefaultWriter(path) : options.writer));
  const auto& sources = list.sources;

  // What the store knows of each file's symbol, read before parsing starts.
  std::vector<Known> known(sources.size());
  ImportProgress progress;
  progress.files_total = sources.size();
  for (std::size_t i = 0; i < sources.size(); ++i) {
    auto s = store.FindSymbol(sources[i].symbol);
    if (s.ok()) {
      known[i].symbol = std::move(s).value();
    } else if (s.error().code != ErrorCode::kNotFound) {
      return std::move(s).error();
    }
    TICKFLOW_ASSIGN_OR_RETURN(known[i].file, store.FindFile(sources[i].symbol, sources[i].file_name));
    progress.bytes_total += sources[i].size;
  }

  std::vector<FileChannel> channels(sources.size());
  QueueStats queue_stats;
  for (auto& c : channels) c.Count(&queue_stats);
  std::atomic<std::size_t> next_file{0};
  std::atomic<bool> cancelled{false};
  ChunkPool pool;
  unsigned threads = options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, std::max<std::size_t>(1, sources.size())));
  // One file per parser in flight beside the writer's: enough to keep every
  // parser busy while the writer is on a file, with the memory bounded.
  Lookahead lookahead(threads);
  std::vector<std::thread> workers;
  for (unsigned w = 0; w < threads && !sources.empty(); ++w) {
    workers.emplace_back([&] {
      // Files are taken in order, so the file the writer waits for is always being parsed
      // (it is never held back: the writer is at or before it).
      for (std::size_t i = next_file++; i < sources.size() && !cancelled.load(); i = next_file++) {
        if (!lookahead.WaitToStart(i, cancelled)) break;
        ParseFile(sources[i], known[i], options, channels[i], pool, cancelled);
      }
    });
  }

  ImportSummary summary;
  summary.files_ignored = list.ignored;
  summary.skipped = list.skipped;
  const auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  const auto report_progress = [&] {
    progress.seconds = elapsed();
    if (options.on_progress) options.on_progress(progress);
  };

  std::size_t i = 0;
  for (; i < sources.size(); ++i) {
    lookahead.WriterAt(i);
    progress.current_file = sources[i].file_name;
    std::unique_ptr<store::ImportTransaction> txn;
    Status status;
    while (auto chunk = channels[i].Pop()) {
      if (!status.ok()) continue;  // drain after a store error
      if (chunk->trades.size() > 0 && !txn) {
        auto begun = store.BeginImport(sources[i].symbol);
        if (!begun.ok()) {
          status = std::move(begun).error();
          continue;
        }
        txn = std::move(begun).value();
      }
      if (txn) {
        status = txn->AppendTrades(chunk->trades);
        if (status.ok()) status = txn->PutMinuteBars(chunk->minute_bars);
      }
      progress.bytes_done += chunk->bytes;
      progress.rows_done += chunk->trades.size();
      pool.Give(std::move(*chunk));
      report_progress();
    }
    ParseResult result = channels[i].TakeResult();
    FileReport& report = result.report;
    if (!status.ok() && !result.error) result.error = std::move(status).error();
    if (!result.error && txn) {
      const store::FileRecord record{sources[i].file_name, result.size, result.hash,
                                     result.previous_rows + report.rows_imported};
      report.symbol_id = txn->symbol().id;
      const bool was_new = txn->symbol().trade_count == 0;
      if (Status c = txn->Commit(record); !c.ok()) {
        result.error = std::move(c).error();
      } else {
        report.outcome = was_new ? FileOutcome::kNewSymbol : FileOutcome::kAppended;
      }
    } else if (!result.error) {
      report.outcome = result.unchanged ? FileOutcome::kUnchanged : FileOutcome::kNoNewTrades;
      if (known[i].symbol) report.symbol_id = known[i].symbol->id;
    }
    txn.reset();  // rolls back unless committed
    if (result.error) {
      report.outcome = FileOutcome::kFailed;
      report.rows_imported = 0;
      report.failed_at_bad_row = result.error->code == ErrorCode::kParse;
      if (!report.failed_at_bad_row) report.errors.push_back(result.error->message);
      ++summary.files_failed;
    }
    report.note = Describe(report, known[i]);
    summary.rows_imported += report.rows_imported;
    summary.bytes += report.bytes;
    ++progress.files_done;
    report_progress();
    if (options.on_file) options.on_file(report);
    summary.files.push_back(std::move(report));
    if (result.error) {
      // Bad rows stop the import unless skipped; I/O failures stop it too.
      summary.stopped = true;
      ++i;
      break;
    }
  }
  cancelled = true;
  for (auto& c : channels) c.WakeAll();
  lookahead.WakeAll();
  for (auto& w : workers) w.join();
  for (; i < sources.size(); ++i) {
    FileReport r;
    r.path = sources[i].display;
    r.symbol = sources[i].symbol;
    r.outcome = FileOutcome::kNotRun;
    r.note = Describe(r, known[i]);
    if (options.on_file) options.on_file(r);
    summary.files.push_back(std::move(r));
  }
  summary.seconds = elapsed();
  summary.peak_queued_chunks = queue_stats.peak.load();
  summary.queue_chunk_limit = static_cast<std::size_t>(threads + 1) * kQueueChunks;
  return summary;
}

}  // namespace tickflow::importer
