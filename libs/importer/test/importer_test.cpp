#include "tickflow/importer/importer.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <thread>

#include "tickflow/test/servers.hpp"

namespace tickflow::importer {
namespace {

namespace fs = std::filesystem;

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void WriteText(const fs::path& p, std::string_view text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// Every test runs against a SQLite file and against a ClickHouse database:
// the same validation, messages, ids and per-file atomicity.
class ImporterTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tickflow_import_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
    database_ = GetParam() == "clickhouse" ? test::TestDatabase("import") : "";
    db_ = database_.empty() ? (dir_ / "store.db").string() : test::SharedClickHouse().Url(database_);
    auto opened = store::OpenStore(db_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
  }
  void TearDown() override {
    store_.reset();
    if (!database_.empty()) test::SharedClickHouse().Execute("DROP DATABASE IF EXISTS " + database_);
    fs::remove_all(dir_);
  }

  ImportSummary Run(const fs::path& path, ImportOptions options = {}) {
    auto r = Import(*store_, path.string(), options);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(r).value() : ImportSummary{};
  }

  // The symbol's trades written back as Kraken CSV text.
  std::string Export(const std::string& symbol) {
    const auto info = store_->FindSymbol(symbol).value();
    const SymbolId ids[] = {info.id};
    auto cursor = store_->Trades(ids, {}).value();
    std::vector<Trade> buf(1000);
    std::string out;
    while (const std::size_t n = cursor->Next(buf).value()) {
      for (std::size_t i = 0; i < n; ++i) {
        const auto& t = buf[i];
        const std::int64_t s = t.time.ns / kNanosPerSecond;
        const std::int64_t ms = t.time.ns % kNanosPerSecond / 1000000;
        char frac[8];
        std::snprintf(frac, sizeof frac, ".%03lld", static_cast<long long>(ms));
        out += std::to_string(s) + frac + "," + t.price.ToString() + "," + t.volume.ToString() + "\n";
      }
    }
    return out;
  }

  fs::path dir_;
  std::string database_;  // ClickHouse only
  std::string db_;
  std::unique_ptr<store::Store> store_;
};

const fs::path kSample = fs::path(TICKFLOW_SOURCE_DIR) / "tests/data/kraken/XBTUSD.csv";

TEST_P(ImporterTest, ImportsTheRealKrakenSampleExactly) {
  fs::copy_file(kSample, dir_ / "in/XBTUSD.csv");
  const auto summary = Run(dir_ / "in");
  ASSERT_EQ(summary.files.size(), 1u);
  EXPECT_EQ(summary.files[0].outcome, FileOutcome::kNewSymbol);
  EXPECT_EQ(summary.rows_imported, 2672u);
  const auto info = store_->FindSymbol("XBTUSD").value();
  EXPECT_EQ(info.trade_count, 2672u);
  EXPECT_EQ(FormatIso8601(info.first_time), "2019-07-01T00:00:03.172Z");
  EXPECT_EQ(FormatIso8601(info.last_time), "2019-07-01T00:59:51.213Z");
  EXPECT_EQ(info.volume_scale, 8);
  // Every decimal comes back out identical to its text, row for row.
  EXPECT_EQ(Export("XBTUSD"), ReadText(kSample));
  // 60 one-minute bars, their trades summing to the file's rows.
  auto bars = store::ReadBars(*store_, info.id, TimeResolution::kOneMinute, {}).value();
  std::vector<Bar> buf(100);
  const std::size_t n = bars->Next(buf).value();
  std::uint64_t trades = 0;
  for (std::size_t i = 0; i < n; ++i) trades += buf[i].trades;
  EXPECT_EQ(n, 60u);
  EXPECT_EQ(trades, 2672u);
  EXPECT_EQ(buf[0].open.ToString(), "10749.4");
}

TEST_P(ImporterTest, ReimportingTheSameFileChangesNothing) {
  fs::copy_file(kSample, dir_ / "in/XBTUSD.csv");
  Run(dir_ / "in");
  const auto again = Run(dir_ / "in");
  ASSERT_EQ(again.files.size(), 1u);
  EXPECT_EQ(again.files[0].outcome, FileOutcome::kUnchanged);
  EXPECT_NE(again.files[0].note.find("unchanged"), std::string::npos);
  EXPECT_EQ(store_->FindSymbol("XBTUSD")->trade_count, 2672u);
}

TEST_P(ImporterTest, AGrownFileImportsOnlyItsNewLines) {
  WriteText(dir_ / "in/XBTUSD.csv", "1561939203,1,1\n1561939204,2,1\n");
  Run(dir_ / "in");
  WriteText(dir_ / "in/XBTUSD.csv", "1561939203,1,1\n1561939204,2,1\n1561939204,3,1\n1561939300,4,1\n");
  const auto grown = Run(dir_ / "in");
  EXPECT_EQ(grown.files[0].outcome, FileOutcome::kAppended);
  EXPECT_EQ(grown.files[0].rows_imported, 2u);
  EXPECT_NE(grown.files[0].note.find("file grew by"), std::string::npos) << grown.files[0].note;
  EXPECT_EQ(store_->FindSymbol("XBTUSD")->trade_count, 4u);
  EXPECT_EQ(Export("XBTUSD"), "1561939203.000,1,1\n1561939204.000,2,1\n1561939204.000,3,1\n1561939300.000,4,1\n");
  // A bad row in the grown part is reported with its real line number.
  WriteText(dir_ / "in/XBTUSD.csv",
            "1561939203,1,1\n1561939204,2,1\n1561939204,3,1\n1561939300,4,1\n1561939301,x,1\n");
  const auto bad = Run(dir_ / "in");
  ASSERT_EQ(bad.files[0].outcome, FileOutcome::kFailed);
  EXPECT_NE(bad.files[0].errors[0].find("XBTUSD.csv:5:12: invalid price 'x'"), std::string::npos)
      << bad.files[0].errors[0];
}

// Rows at one-second steps from 2019-07-01, `n` of them: about 30 bytes each.
std::string ManyRows(std::size_t first, std::size_t n) {
  std::string s;
  for (std::size_t i = first; i < first + n; ++i) {
    s += std::to_string(1561939203 + i) + "," + std::to_string(10000 + i % 977) + ".5,0.0" + std::to_string(1 + i % 9) +
         "\n";
  }
  return s;
}

// Files are read through a 1 MiB window: rows cut by the window's edge, and a
// grown file whose old part spans several windows, come out exact.
TEST_P(ImporterTest, FilesLargerThanTheReadWindowImportExactly) {
  const std::string part1 = ManyRows(0, 90000);  // ~2.6 MB
  WriteText(dir_ / "in/XBTUSD.csv", part1);
  const auto first = Run(dir_ / "in");
  ASSERT_EQ(first.files[0].outcome, FileOutcome::kNewSymbol) << first.files[0].note;
  EXPECT_EQ(first.files[0].rows_imported, 90000u);
  const std::string part2 = ManyRows(90000, 50000);
  WriteText(dir_ / "in/XBTUSD.csv", part1 + part2 + "1561939203,x,1\n");
  const auto bad = Run(dir_ / "in");
  ASSERT_EQ(bad.files[0].outcome, FileOutcome::kFailed);
  EXPECT_NE(bad.files[0].errors.at(0).find("XBTUSD.csv:140001:12: invalid price 'x'"), std::string::npos)
      << bad.files[0].errors.at(0);
  WriteText(dir_ / "in/XBTUSD.csv", part1 + part2);
  const auto grown = Run(dir_ / "in");
  EXPECT_EQ(grown.files[0].outcome, FileOutcome::kAppended) << grown.files[0].note;
  EXPECT_EQ(grown.files[0].rows_imported, 50000u);
  EXPECT_EQ(grown.files[0].resumed_at_byte, part1.size());
  const auto again = Run(dir_ / "in");
  EXPECT_EQ(again.files[0].outcome, FileOutcome::kUnchanged) << again.files[0].note;
  std::string expected;
  for (std::size_t i = 0; i < 140000; ++i) {
    expected += std::to_string(1561939203 + i) + ".000," + std::to_string(10000 + i % 977) + ".5,0.0" +
                std::to_string(1 + i % 9) + "\n";
  }
  EXPECT_EQ(Export("XBTUSD"), expected);
}

TEST_P(ImporterTest, ALineLongerThanTheReadWindowIsABadRow) {
  const std::string garbage(3 << 20, 'z');
  WriteText(dir_ / "in/XBTUSD.csv", "1561939203,1,1\n" + garbage + "\n1561939204,2,1\n");
  const auto refused = Run(dir_ / "in");
  ASSERT_EQ(refused.files[0].outcome, FileOutcome::kFailed);
  EXPECT_NE(refused.files[0].errors.at(0).find("XBTUSD.csv:2:1: line is longer than 1,048,576 bytes"),
            std::string::npos)
      << refused.files[0].errors.at(0).substr(0, 300);
  ImportOptions skip;
  skip.skip_bad_rows = true;
  const auto skipped = Run(dir_ / "in", skip);
  EXPECT_EQ(skipped.files[0].rows_imported, 2u) << skipped.files[0].note;
  EXPECT_EQ(skipped.files[0].rows_bad, 1u);
  EXPECT_EQ(Export("XBTUSD"), "1561939203.000,1,1\n1561939204.000,2,1\n");
}

// Issue 13 item 6: valid rows whose sums outgrow a Decimal import, and their
// bars are exact at every resolution (both backends store 128-bit volumes).
TEST_P(ImporterTest, VolumeSumsBeyondADecimalImportAndAggregateExactly) {
  WriteText(dir_ / "in/XBTUSD.csv", "1561939203,1,99999999\n1561939204,1,0.000000000000001\n");
  std::string shib;
  WideDecimal total;
  for (int i = 0; i < 3000; ++i) {  // ~50 M units a trade, 8 decimals, over 3000 minutes
    const std::string v = std::to_string(50000000 + i) + ".12345678";
    shib += std::to_string(1561939203 + i * 60) + ",0.00001,"+ v + "\n";
    Decimal d;
    ASSERT_EQ(Decimal::Parse(v, &d), DecimalParseStatus::kOk);
    ASSERT_TRUE(WideDecimal::Add(total, d, &total));
  }
  WriteText(dir_ / "in/SHIBUSD.csv", shib);
  const auto s = Run(dir_ / "in");
  ASSERT_EQ(s.files_failed, 0u) << s.files[0].note << (s.files[0].errors.empty() ? "" : s.files[0].errors[0]);
  const auto bars_of = [&](const std::string& symbol, TimeResolution res) {
    auto c = store::ReadBars(*store_, store_->FindSymbol(symbol)->id, res, {}).value();
    std::vector<Bar> out(100000);
    const std::size_t n = c->Next(out).value();
    out.resize(n);
    return out;
  };
  for (TimeResolution res : {TimeResolution::kOneMinute, TimeResolution::kOneHour, TimeResolution::kOneDay}) {
    const auto xbt = bars_of("XBTUSD", res);
    ASSERT_EQ(xbt.size(), 1u);
    EXPECT_EQ(xbt[0].volume.ToString(), "99999999.000000000000001");
  }
  const auto year = bars_of("SHIBUSD", TimeResolution::kOneYear);
  ASSERT_EQ(year.size(), 1u);
  EXPECT_EQ(year[0].volume.ToString(), total.ToString());
  EXPECT_EQ(year[0].trades, 3000u);
  Decimal narrow;
  EXPECT_FALSE(year[0].volume.ToDecimal(&narrow)) << "the test should exceed a Decimal: " << total.ToString();
}

TEST_P(ImporterTest, AQuarterlyUpdateAppendsOnlyNewerTrades) {
  WriteText(dir_ / "in/XBTUSD.csv", "1561939203,1,1\n1561939204,2,1\n");
  Run(dir_ / "in");
  fs::create_directories(dir_ / "q2");
  WriteText(dir_ / "q2/XBTUSD.csv", "1561939204,2,1\n1561939205,5,1\n1561939206,6,1\n");
  const auto update = Run(dir_ / "q2");
  EXPECT_EQ(update.files[0].outcome, FileOutcome::kAppended);
  EXPECT_EQ(update.files[0].rows_imported, 2u);
  EXPECT_EQ(update.files[0].rows_already_stored, 1u);
  EXPECT_NE(update.files[0].note.find("already stored"), std::string::npos);
  EXPECT_EQ(store_->FindSymbol("XBTUSD")->trade_count, 4u);
  EXPECT_EQ(store_->FindSymbol("XBTUSD")->id, 1);
}

TEST_P(ImporterTest, StopsAtTheFirstBadRowKeepingEarlierFiles) {
  WriteText(dir_ / "in/AAAUSD.csv", "1561939203,1,1\n");
  WriteText(dir_ / "in/BBBUSD.csv", "1561939203,1,1\n1561939204,2,1\n1561939205,-2,1\n1561939206,2,1\n");
  WriteText(dir_ / "in/CCCUSD.csv", "1561939203,1,1\n");
  const auto s = Run(dir_ / "in");
  ASSERT_EQ(s.files.size(), 3u);
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.files[0].outcome, FileOutcome::kNewSymbol);
  EXPECT_EQ(s.files[1].outcome, FileOutcome::kFailed);
  EXPECT_EQ(s.files[2].outcome, FileOutcome::kNotRun);
  ASSERT_FALSE(s.files[1].errors.empty());
  EXPECT_NE(s.files[1].errors[0].find("BBBUSD.csv:3:12: price must be positive, found '-2'"), std::string::npos);
  EXPECT_NE(s.files[1].errors[0].find("3 | 1561939205,-2,1"), std::string::npos);
  EXPECT_TRUE(store_->FindSymbol("AAAUSD").ok());
  EXPECT_FALSE(store_->FindSymbol("BBBUSD").ok());
  EXPECT_FALSE(store_->FindSymbol("CCCUSD").ok());
}

TEST_P(ImporterTest, SkipsAndCountsBadRowsWhenAsked) {
  WriteText(dir_ / "in/XBTUSD.csv",
            "1561939203,1,1\nbad\n1561939204,2,1,9\n1561939202,3,1\n1561939205,4,1\r\n\n1561939206,5,1");
  ImportOptions o;
  o.skip_bad_rows = true;
  const auto s = Run(dir_ / "in", o);
  ASSERT_EQ(s.files.size(), 1u);
  EXPECT_EQ(s.files[0].outcome, FileOutcome::kNewSymbol);
  EXPECT_EQ(s.files[0].rows_imported, 3u);
  EXPECT_EQ(s.files[0].rows_bad, 3u);
  EXPECT_EQ(s.files[0].blank_lines, 1u);
  ASSERT_EQ(s.files[0].errors.size(), 3u);
  EXPECT_NE(s.files[0].errors[2].find(":4:1: timestamp goes backwards"), std::string::npos) << s.files[0].errors[2];
  EXPECT_NE(s.files[0].note.find("3 bad rows skipped"), std::string::npos);
}

TEST_P(ImporterTest, EmptyFilesCreateNoSymbol) {
  WriteText(dir_ / "in/XBTUSD.csv", "");
  WriteText(dir_ / "in/notes.txt", "ignored");
  const auto s = Run(dir_ / "in");
  EXPECT_EQ(s.files[0].outcome, FileOutcome::kNoNewTrades);
  EXPECT_EQ(s.files_ignored, 1u);
  EXPECT_FALSE(store_->FindSymbol("XBTUSD").ok());
}

TEST_P(ImporterTest, ImportsAZipArchive) {
  const auto zip_path = (dir_ / "Kraken_Trading_History.zip").string();
  int err = 0;
  zip_t* z = zip_open(zip_path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  ASSERT_NE(z, nullptr);
  const std::string sample = ReadText(kSample);
  const std::string eth = "1561939203,290.1,3\n1561939204,290.2,1.5\n";
  zip_source_t* s1 = zip_source_buffer(z, sample.data(), sample.size(), 0);
  zip_source_t* s2 = zip_source_buffer(z, eth.data(), eth.size(), 0);
  ASSERT_GE(zip_file_add(z, "TradingHistory/XBTUSD.csv", s1, 0), 0);
  ASSERT_GE(zip_file_add(z, "TradingHistory/ETHUSD.csv", s2, 0), 0);
  ASSERT_EQ(zip_close(z), 0);
  const auto s = Run(zip_path);
  ASSERT_EQ(s.files.size(), 2u);
  EXPECT_EQ(s.rows_imported, 2674u);
  EXPECT_NE(s.files[0].path.find(".zip:TradingHistory/ETHUSD.csv"), std::string::npos);
  EXPECT_EQ(Export("XBTUSD"), sample);
  // Symbol ids follow file name order: ETHUSD before XBTUSD.
  EXPECT_EQ(store_->FindSymbol("ETHUSD")->id, 1);
  EXPECT_EQ(store_->FindSymbol("XBTUSD")->id, 2);
}

TEST_P(ImporterTest, RejectsWholeImportProblemsClearly) {
  auto missing = Import(*store_, (dir_ / "nope").string(), {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no such file or folder"), std::string::npos);
  WriteText(dir_ / "in/bad name.csv", "1561939203,1,1\n");
  auto bad_name = Import(*store_, (dir_ / "in").string(), {});
  ASSERT_FALSE(bad_name.ok());
  EXPECT_NE(bad_name.error().message.find("does not name a symbol"), std::string::npos);
  WriteText(dir_ / "junk.zip", "not a zip");
  EXPECT_NE(Import(*store_, (dir_ / "junk.zip").string(), {}).error().message.find("not a readable zip"),
            std::string::npos);
}

TEST_P(ImporterTest, ImportsManyFilesOnSeveralThreadsInNameOrder) {
  for (int i = 0; i < 20; ++i) {
    std::string text;
    for (int r = 0; r < 1000 + i; ++r) text += std::to_string(1561939203 + r) + ",1." + std::to_string(i) + ",2\n";
    char name[32];
    std::snprintf(name, sizeof name, "S%02dUSD.csv", i);
    WriteText(dir_ / "in" / name, text);
  }
  ImportOptions o;
  o.threads = 3;
  std::size_t progress_calls = 0;
  o.on_progress = [&](const ImportProgress& p) {
    ++progress_calls;
    EXPECT_LE(p.bytes_done, p.bytes_total);
  };
  const auto s = Run(dir_ / "in", o);
  EXPECT_EQ(s.files.size(), 20u);
  EXPECT_GT(progress_calls, 20u);
  for (int i = 0; i < 20; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "S%02dUSD", i);
    const auto info = store_->FindSymbol(name).value();
    EXPECT_EQ(info.id, i + 1);
    EXPECT_EQ(info.trade_count, static_cast<std::uint64_t>(1000 + i));
  }
}

// Many small files and a slow writer: the parsers do not run ahead of it
// without limit (they did: each small file was parsed whole before its channel
// filled, and the import's memory grew with the number of files).
TEST_P(ImporterTest, ParsersRunAheadOfASlowWriterByABoundedNumberOfFiles) {
  for (int i = 0; i < 120; ++i) {
    std::string text;
    for (int r = 0; r < 50; ++r) text += std::to_string(1561939203 + r) + ",1." + std::to_string(i) + ",2\n";
    char name[32];
    std::snprintf(name, sizeof name, "S%03dUSD.csv", i);
    WriteText(dir_ / "in" / name, text);
  }
  ImportOptions o;
  o.threads = 2;
  o.on_file = [](const FileReport&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  };  // the writer's thread
  const auto s = Run(dir_ / "in", o);
  EXPECT_EQ(s.files.size(), 120u);
  EXPECT_EQ(s.rows_imported, 120u * 50u);
  EXPECT_EQ(s.queue_chunk_limit, 3u * 8u);
  EXPECT_GE(s.peak_queued_chunks, 1u);
  // One chunk per file here: at most the writer's file and one per parser.
  EXPECT_LE(s.peak_queued_chunks, 3u) << "parsed files waiting for the writer";
}

// A symlink loop (or a dangling link) in the folder is an error naming it,
// never an exception out of the importer.
TEST_P(ImporterTest, ASymlinkLoopInTheFolderIsAnErrorNamingIt) {
  fs::copy_file(kSample, dir_ / "in/XBTUSD.csv");
  fs::create_symlink(dir_ / "in/LOOPUSD.csv", dir_ / "in/LOOPUSD.csv");
  auto r = Import(*store_, (dir_ / "in").string(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_NE(r.error().message.find("LOOPUSD.csv"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("symbolic link"), std::string::npos) << r.error().message;
}

// One writer at a time: an import while another holds the store is refused
// with an error naming the holder, and writes nothing.
TEST_P(ImporterTest, AnImportWhileAnotherWriterHoldsTheStoreIsRefusedNamingIt) {
  fs::copy_file(kSample, dir_ / "in/XBTUSD.csv");
  auto other = store::OpenStore(db_).value();
  auto lock = other->LockForWriting("the other importer (pid 1 on elsewhere)");
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  auto refused = Import(*store_, (dir_ / "in").string(), {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kBusy);
  EXPECT_NE(refused.error().message.find("the other importer (pid 1 on elsewhere)"), std::string::npos)
      << refused.error().message;
  EXPECT_FALSE(store_->FindSymbol("XBTUSD").ok());
  lock->reset();
  EXPECT_EQ(Run(dir_ / "in").rows_imported, 2672u);
}

// Two imports started together into one store: one runs, the other is refused
// (or runs after it); ids stay unique and every market reads back exactly.
TEST_P(ImporterTest, ConcurrentImportsNeverCorruptTheStore) {
  std::map<std::string, std::string> texts;
  for (const char* group : {"a", "b"}) {
    fs::create_directories(dir_ / group);
    for (int i = 0; i < 3; ++i) {
      const std::string symbol = std::string(1, static_cast<char>('A' + i)) + (group[0] == 'a' ? "AAUSD" : "BBUSD");
      std::string text, exported;
      for (int r = 0; r < 20000; ++r) {
        const std::string row = "," + std::to_string(i + 1) + ".5,0.1\n";
        text += std::to_string(1561939203 + r) + row;
        exported += std::to_string(1561939203 + r) + ".000" + row;
      }
      WriteText(dir_ / group / (symbol + ".csv"), text);
      texts[symbol] = exported;
    }
  }
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<Result<ImportSummary>> results(2, MakeError(ErrorCode::kInternal, "not run"));
    std::vector<std::thread> threads;
    for (int g = 0; g < 2; ++g) {
      threads.emplace_back([&, g] {
        auto store = store::OpenStore(db_).value();
        results[g] = Import(*store, (dir_ / (g == 0 ? "a" : "b")).string(), {});
      });
    }
    for (auto& t : threads) t.join();
    for (auto& r : results) {
      if (!r.ok()) {
        EXPECT_EQ(r.error().code, ErrorCode::kBusy) << r.error().message;
        EXPECT_NE(r.error().message.find("tickflow import of"), std::string::npos) << r.error().message;
      } else {
        EXPECT_EQ(r->files_failed, 0u);
      }
    }
  }
  // Whatever ran first, a last import of each group completes the store.
  Run(dir_ / "a");
  Run(dir_ / "b");
  const auto symbols = store_->ListSymbols().value();
  ASSERT_EQ(symbols.size(), 6u);
  std::set<SymbolId> ids;
  for (const auto& s : symbols) {
    ids.insert(s.id);
    EXPECT_EQ(s.trade_count, 20000u) << s.symbol;
    EXPECT_EQ(Export(s.symbol), texts.at(s.symbol)) << s.symbol;
  }
  EXPECT_EQ(ids.size(), 6u);
}

// A writer killed while holding the store does not block the next one.
TEST_P(ImporterTest, AKilledWritersLockDoesNotBlockTheNextImport) {
  fs::copy_file(kSample, dir_ / "in/XBTUSD.csv");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto store = store::OpenStore(db_).value();
    auto lock = store->LockForWriting("doomed");
    if (!lock.ok()) _exit(2);
    ::kill(::getpid(), SIGKILL);
    _exit(3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(Run(dir_ / "in").rows_imported, 2672u);
}

// A process killed in the middle of a file leaves the store as it was before.
TEST_P(ImporterTest, CrashInTheMiddleOfAFileLeavesTheStoreAsBefore) {
  WriteText(dir_ / "in/AAAUSD.csv", "1561939203,1,1\n");
  std::string big;
  for (int r = 0; r < 400000; ++r) big += std::to_string(1561939203 + r / 10) + ",10749.4,0.5\n";
  WriteText(dir_ / "in/BIGUSD.csv", big);
  store_.reset();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto store = store::OpenStore(db_).value();
    ImportOptions o;
    o.on_progress = [](const ImportProgress& p) {
      // Die once part of the big file has been written into its transaction
      // (on ClickHouse: after its first INSERT of 262,144 trades was sent).
      if (p.current_file == "BIGUSD.csv" && p.rows_done > 390000) ::kill(::getpid(), SIGKILL);
    };
    (void)Import(*store, (dir_ / "in").string(), o);
    _exit(3);  // not reached if the kill happened
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child was not killed mid-file";
  store_ = store::OpenStore(db_).value();
  EXPECT_EQ(store_->FindSymbol("AAAUSD")->trade_count, 1u);
  EXPECT_FALSE(store_->FindSymbol("BIGUSD").ok());
  // And the next import completes it.
  const auto s = Run(dir_ / "in");
  EXPECT_EQ(s.files[0].outcome, FileOutcome::kUnchanged);
  EXPECT_EQ(s.files[1].outcome, FileOutcome::kNewSymbol);
  EXPECT_EQ(store_->FindSymbol("BIGUSD")->trade_count, 400000u);
}

}  // namespace
}  // namespace tickflow::importer

#include "tickflow/importer/generator.hpp"

namespace tickflow::importer {
namespace {

TEST_P(ImporterTest, GeneratedDataIsDeterministicAndImportsCleanly) {
  GenerateOptions g;
  g.out_dir = (dir_ / "gen1").string();
  g.symbols = 3;
  g.trades = 20000;
  g.years = 3;
  g.seed = 42;
  ASSERT_TRUE(GenerateKrakenCsv(g).ok());
  g.out_dir = (dir_ / "gen2").string();
  ASSERT_TRUE(GenerateKrakenCsv(g).ok());
  EXPECT_EQ(ReadText(dir_ / "gen1/XBTUSD.csv"), ReadText(dir_ / "gen2/XBTUSD.csv"));
  g.seed = 43;
  g.out_dir = (dir_ / "gen3").string();
  ASSERT_TRUE(GenerateKrakenCsv(g).ok());
  EXPECT_NE(ReadText(dir_ / "gen1/XBTUSD.csv"), ReadText(dir_ / "gen3/XBTUSD.csv"));

  const auto s = Run(dir_ / "gen1");
  EXPECT_EQ(s.rows_imported, 60000u);
  EXPECT_EQ(s.files_failed, 0u);
  const auto info = store_->FindSymbol("XBTUSD").value();
  EXPECT_GT(info.last_time.ns - info.first_time.ns, 2 * 365 * kNanosPerDay) << "spans several years";
  // Exported text equals the generated text once times carry their ".000".
  const std::string generated = ReadText(dir_ / "gen1/XBTUSD.csv");
  std::string expected;
  for (std::size_t pos = 0; pos < generated.size();) {
    const std::size_t comma = generated.find(',', pos);
    const std::size_t nl = generated.find('\n', pos);
    expected += generated.substr(pos, comma - pos) + ".000" + generated.substr(comma, nl + 1 - comma);
    pos = nl + 1;
  }
  EXPECT_EQ(Export("XBTUSD"), expected);
  // Bursts: some trades share a second.
  const std::string text = ReadText(dir_ / "gen1/ETHUSD.csv");
  EXPECT_NE(text.find(text.substr(0, 10) + ","), std::string::npos);
  GenerateOptions bad;
  bad.out_dir = (dir_ / "x").string();
  bad.symbols = 0;
  EXPECT_FALSE(GenerateKrakenCsv(bad).ok());
}

TEST(KrakenShapedTest, SizesSumToTheTotalAndFallOffHeavyTailed) {
  const auto sizes = KrakenShapedSizes(708, 1'000'000'000);
  ASSERT_EQ(sizes.size(), 708u);
  EXPECT_EQ(std::accumulate(sizes.begin(), sizes.end(), std::uint64_t{0}), 1'000'000'000u);
  for (std::size_t k = 1; k < sizes.size(); ++k) ASSERT_LE(sizes[k], sizes[k - 1]) << k;
  EXPECT_NEAR(static_cast<double>(sizes[0]) / 1e9, 0.185, 0.005);  // the largest market ~19 %
  EXPECT_LT(sizes[354], sizes[0] / 500) << "the median market is over 500 times smaller (~0.03 %)";
  EXPECT_GT(sizes.back(), 0u);
  // Tiny totals still give every market a trade.
  const auto tiny = KrakenShapedSizes(5, 7);
  EXPECT_EQ(std::accumulate(tiny.begin(), tiny.end(), std::uint64_t{0}), 7u);
  EXPECT_EQ(*std::min_element(tiny.begin(), tiny.end()), 1u);
}

TEST_P(ImporterTest, KrakenShapedDataWithQuarterlyUpdatesImportsToTheTotal) {
  GenerateOptions g;
  g.out_dir = (dir_ / "hist").string();
  g.update_dir = (dir_ / "upd").string();
  g.symbols = 30;
  g.total = 200'000;
  g.years = 10;
  g.quarters = 2;
  g.seed = 7;
  std::uint64_t written = 0;
  g.on_file = [&](const std::string&, std::uint64_t rows, std::uint64_t) { written += rows; };
  const auto r = GenerateKrakenCsv(g);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->rows, 200'000u);
  EXPECT_EQ(written, 200'000u);
  EXPECT_TRUE(fs::exists(dir_ / "upd/2023Q3/XBTUSD.csv"));
  EXPECT_TRUE(fs::exists(dir_ / "upd/2023Q4/XBTUSD.csv"));
  // Each quarter's file holds exactly that quarter: 2023Q4 = [2023-10-01, 2024-01-01).
  const std::string q4 = ReadText(dir_ / "upd/2023Q4/XBTUSD.csv");
  EXPECT_GE(std::stoll(q4.substr(0, q4.find(','))), 1696118400);
  const std::string q3 = ReadText(dir_ / "upd/2023Q3/XBTUSD.csv");
  EXPECT_GE(std::stoll(q3.substr(0, q3.find(','))), 1688169600);
  EXPECT_LT(std::stoll(q3.substr(q3.rfind('\n', q3.size() - 2) + 1)), 1696118400);

  std::uint64_t imported = 0;
  for (const char* d : {"hist", "upd/2023Q3", "upd/2023Q4"}) {
    const auto s = Run(dir_ / d);
    EXPECT_EQ(s.files_failed, 0u) << d;
    imported += s.rows_imported;
  }
  EXPECT_EQ(imported, 200'000u);
  std::uint64_t stored = 0;
  std::int64_t earliest_listing = INT64_MAX, latest_listing = 0;
  const std::vector<store::SymbolInfo> symbols = store_->ListSymbols().value();
  for (const auto& info : symbols) {
    stored += info.trade_count;
    earliest_listing = std::min(earliest_listing, info.first_time.ns);
    latest_listing = std::max(latest_listing, info.first_time.ns);
  }
  EXPECT_EQ(stored, 200'000u);
  EXPECT_GT(latest_listing - earliest_listing, 5 * 365 * kNanosPerDay) << "listings spread over the years";
  const auto xbt = store_->FindSymbol("XBTUSD").value();
  const auto small = store_->FindSymbol("SYN029USD").value();
  EXPECT_GT(xbt.trade_count, 20 * small.trade_count);
  EXPECT_LT(xbt.first_time, small.first_time) << "the majors list first";

  GenerateOptions same = g;
  same.update_dir = g.out_dir;
  EXPECT_FALSE(GenerateKrakenCsv(same).ok()) << "updates into the history folder";
  same = g;
  same.update_dir.clear();
  const auto missing = GenerateKrakenCsv(same);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("--updates"), std::string::npos);
  same = g;
  same.total = 10;  // fewer than the markets
  EXPECT_NE(GenerateKrakenCsv(same).error().message.find("--total"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, ImporterTest, ::testing::Values("sqlite", "clickhouse"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace tickflow::importer
