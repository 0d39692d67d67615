#include "tickflow/store/store.hpp"
#include "tickflow/store/symbol_patterns.hpp"

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <filesystem>
#include <random>
#include <thread>

#include "../src/block_codec.hpp"
#include "tickflow/bars/resampler.hpp"
#include "tickflow/test/servers.hpp"
#include "tickflow/test/values.hpp"

namespace tickflow::store {
namespace {

namespace fs = std::filesystem;

using tickflow::test::D;

test::ClickHouseServer& ClickHouse() { return test::SharedClickHouse(); }

// The same behaviour from every backend: each TEST_P runs against a SQLite
// file and against a ClickHouse database.
class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tickflow_store_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = GetParam() == "clickhouse" ? ClickHouse().Url(test::TestDatabase("store")) : (dir_ / "store.db").string();
    auto opened = OpenStore(path_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
  }
  void TearDown() override {
    store_.reset();
    if (GetParam() == "clickhouse") ClickHouse().Execute("DROP DATABASE IF EXISTS " + path_.substr(path_.rfind('/') + 1));
    fs::remove_all(dir_);
  }

  // Imports trades of one symbol in one transaction, with their minute bars.
  SymbolInfo Import(std::string_view symbol, const TradeColumns& cols, std::string_view file = "f.csv") {
    auto txn = store_->BeginImport(symbol).value();
    EXPECT_TRUE(txn->AppendTrades(cols).ok());
    bars::Resampler r(TimeResolution::kOneMinute);
    std::vector<Bar> bars;
    Bar done;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (r.Add(Trade{cols.time[i], cols.price[i], cols.volume[i]}, &done) == bars::AddStatus::kBarDone) {
        bars.push_back(done);
      }
    }
    if (r.Flush(&done)) bars.push_back(done);
    EXPECT_TRUE(txn->PutMinuteBars(bars).ok());
    const SymbolInfo before = txn->symbol();
    EXPECT_TRUE(txn->Commit(FileRecord{std::string(file), 10, 20, cols.size()}).ok());
    return before;
  }

  static TradeColumns Random(std::uint64_t seed, std::size_t n, std::int64_t start_ns) {
    std::mt19937_64 rng(seed);
    TradeColumns c;
    std::int64_t t = start_ns;
    std::int64_t p = 1074940;
    for (std::size_t i = 0; i < n; ++i) {
      t += static_cast<std::int64_t>(rng() % 3) * static_cast<std::int64_t>(rng() % 5000) * 1000000;
      p += static_cast<std::int64_t>(rng() % 201) - 100;
      Decimal price, volume;
      (void)Decimal::FromParts(p, static_cast<int>(rng() % 3), &price);
      (void)Decimal::FromParts(static_cast<std::int64_t>(rng() % 10000000) + 1, 8, &volume);
      c.push_back(UnixNanos{t}, price, volume);
    }
    return c;
  }

  static std::vector<Trade> All(TradeCursor& c) {
    std::vector<Trade> out;
    std::vector<Trade> buf(777);
    while (true) {
      const std::size_t n = c.Next(buf).value();
      if (n == 0) break;
      out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    }
    return out;
  }
  static std::vector<Bar> All(BarCursor& c) {
    std::vector<Bar> out;
    std::vector<Bar> buf(100);
    while (true) {
      const std::size_t n = c.Next(buf).value();
      if (n == 0) break;
      out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    }
    return out;
  }

  fs::path dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

constexpr std::int64_t kJuly2019 = 1561939200LL * kNanosPerSecond;
constexpr std::size_t kBlockBarsForTest = 32768;  // the SQLite backend's bars per block

TEST_P(StoreTest, StoresTradesExactlyAcrossManyBlocks) {
  const TradeColumns cols = Random(1, 100000, kJuly2019);
  Import("XBTUSD", cols);
  const SymbolInfo s = store_->FindSymbol("XBTUSD").value();
  EXPECT_EQ(s.id, 1);
  EXPECT_EQ(s.trade_count, 100000u);
  EXPECT_EQ(s.first_time, cols.time.front());
  EXPECT_EQ(s.last_time, cols.time.back());
  EXPECT_EQ(s.base, "XBT");
  EXPECT_EQ(s.quote, "USD");
  EXPECT_EQ(s.volume_scale, 8);
  const SymbolId ids[] = {s.id};
  auto cursor = store_->Trades(ids, {}).value();
  const auto trades = All(*cursor);
  ASSERT_EQ(trades.size(), cols.size());
  for (std::size_t i = 0; i < trades.size(); ++i) {
    ASSERT_EQ(trades[i].time, cols.time[i]);
    ASSERT_TRUE(trades[i].price.SameRepresentation(cols.price[i]));
    ASSERT_TRUE(trades[i].volume.SameRepresentation(cols.volume[i]));
  }
}

TEST_P(StoreTest, ZeroCopyViewsYieldTheSameTrades) {
  const TradeColumns cols = Random(13, 70000, kJuly2019);
  Import("XBTUSD", cols);
  Import("ETHUSD", Random(14, 5000, kJuly2019));
  for (const std::vector<SymbolId>& ids : {std::vector<SymbolId>{1}, std::vector<SymbolId>{1, 2}}) {
    const TimeRange range{cols.time[1000], cols.time[60000]};
    const auto copied = All(*store_->Trades(ids, range).value());
    auto cursor = store_->Trades(ids, range).value();
    std::vector<Trade> viewed;
    while (true) {
      const auto view = cursor->NextView().value();
      if (view.empty()) break;
      viewed.insert(viewed.end(), view.begin(), view.end());
    }
    ASSERT_EQ(viewed.size(), copied.size());
    for (std::size_t i = 0; i < viewed.size(); ++i) {
      ASSERT_EQ(viewed[i].time, copied[i].time);
      ASSERT_EQ(viewed[i].symbol, copied[i].symbol);
      ASSERT_TRUE(viewed[i].price.SameRepresentation(copied[i].price));
    }
  }
}

TEST_P(StoreTest, ABurstOfOneTimestampLargerThanAnyPageComesBackWhole) {
  // 1.2 M trades in one nanosecond between two quiet stretches: more than a
  // ClickHouse page may hold (1 Mi trades), so the page stops inside the burst
  // and the next one resumes there.
  TradeColumns cols;
  for (int i = 0; i < 1000; ++i) cols.push_back(UnixNanos{kJuly2019 + i * kNanosPerSecond}, D("1"), D("1"));
  const UnixNanos burst{kJuly2019 + 5000 * kNanosPerSecond};
  Decimal v;
  for (int i = 0; i < 1200000; ++i) {
    ASSERT_TRUE(Decimal::FromParts(i + 1, 8, &v));
    cols.push_back(burst, D("2"), v);
  }
  for (int i = 0; i < 1000; ++i) cols.push_back(burst + std::chrono::seconds(i + 1), D("3"), D("1"));
  Import("XBTUSD", cols);
  const SymbolId ids[] = {1};
  for (const TimeRange range : {TimeRange{}, TimeRange{cols.time[500], UnixNanos::Max()}}) {
    auto cursor = store_->Trades(ids, range).value();
    std::size_t at = range.from == cols.time[500] ? 500 : 0;
    while (true) {
      const auto view = cursor->NextView().value();
      if (view.empty()) break;
      for (const Trade& t : view) {
        ASSERT_EQ(t.time, cols.time[at]) << at;
        ASSERT_TRUE(t.volume.SameRepresentation(cols.volume[at])) << at;
        ++at;
      }
    }
    EXPECT_EQ(at, cols.size());
  }
}

TEST_P(StoreTest, FiltersByHalfOpenTimeRange) {
  const TradeColumns cols = Random(2, 50000, kJuly2019);
  Import("XBTUSD", cols);
  const TimeRange range{cols.time[10000], cols.time[40000]};
  const SymbolId ids[] = {1};
  const auto trades = All(*store_->Trades(ids, range).value());
  std::size_t expected = 0;
  for (UnixNanos t : cols.time) expected += range.Contains(t);
  EXPECT_EQ(trades.size(), expected);
  for (const Trade& t : trades) EXPECT_TRUE(range.Contains(t.time));
}

// A merge reads from every input before its first row (one store block or, on
// ClickHouse, one query each): a stop must be honoured between them, not after
// the last one.
TEST_P(StoreTest, AMergeStoppedWhileOpeningItsInputsReadsNoFurther) {
  TradeColumns a;
  for (int i = 0; i < 100; ++i) a.push_back(UnixNanos{kJuly2019 + i * kNanosPerSecond}, D("1"), D("1"));
  Import("AAAUSD", a);
  std::vector<std::unique_ptr<TradeCursor>> cursors;
  for (int i = 0; i < 8; ++i) {
    const SymbolId id = 1;
    cursors.push_back(store_->Trades(std::span(&id, 1), {}).value());
  }
  int asked = 0;
  auto merged = MergeTrades(std::move(cursors), [&asked] { return ++asked > 3; });  // stop after 3 inputs
  std::vector<Trade> out(10);
  const auto r = merged->Next(out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCancelled);
  EXPECT_NE(r.error().message.find("stopped while opening 8 cursors (3 open)"), std::string::npos) << r.error().message;
  EXPECT_EQ(asked, 4);
  // Without a stop the same merge gives every row of every input.
  std::vector<std::unique_ptr<TradeCursor>> again;
  for (int i = 0; i < 8; ++i) {
    const SymbolId id = 1;
    again.push_back(store_->Trades(std::span(&id, 1), {}).value());
  }
  EXPECT_EQ(All(*MergeTrades(std::move(again), [] { return false; })).size(), 800u);
}

TEST_P(StoreTest, BarsOfManySymbolsStoppedWhileOpeningEndAtOnce) {
  TradeColumns a;
  for (int i = 0; i < 100; ++i) a.push_back(UnixNanos{kJuly2019 + i * kNanosPerMinute}, D("1"), D("1"));
  Import("AAAUSD", a);
  const std::vector<SymbolId> ids(8, 1);
  int asked = 0;
  auto r = ReadBars(*store_, ids, TimeResolution::kOneHour, {}, [&asked] { return ++asked > 3; });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCancelled) << r.error().message;
  EXPECT_EQ(asked, 4);
  std::vector<SymbolBar> out(100);
  EXPECT_EQ(ReadBars(*store_, ids, TimeResolution::kOneHour, {}, [] { return false; }).value()->Next(out).value(), 16u)
      << "8 inputs of 2 hourly bars each";
}

TEST_P(StoreTest, MergesSymbolsInTimeOrderStably) {
  TradeColumns a, b;
  for (int i = 0; i < 5000; ++i) {
    a.push_back(UnixNanos{kJuly2019 + i * 2 * kNanosPerSecond}, D("1"), D("1"));
    b.push_back(UnixNanos{kJuly2019 + i * 3 * kNanosPerSecond}, D("2"), D("2"));
  }
  Import("AAAUSD", a);
  Import("BBBUSD", b);
  const SymbolId ids[] = {2, 1};  // ties go to symbol 2 first: the request's order
  const auto trades = All(*store_->Trades(ids, {}).value());
  ASSERT_EQ(trades.size(), 10000u);
  for (std::size_t i = 1; i < trades.size(); ++i) {
    ASSERT_LE(trades[i - 1].time, trades[i].time);
    if (trades[i - 1].time == trades[i].time) {
      EXPECT_EQ(trades[i - 1].symbol, 2);
      EXPECT_EQ(trades[i].symbol, 1);
    }
  }
}

TEST_P(StoreTest, KeepsSymbolIdsStableAcrossReopenAndAppends) {
  Import("XBTUSD", Random(3, 10, kJuly2019));
  Import("ETHUSD", Random(4, 10, kJuly2019));
  store_ = OpenStore(path_).value();
  Import("ADAUSD", Random(5, 10, kJuly2019));
  const auto before = Import("XBTUSD", Random(6, 10, kJuly2019 + 365 * kNanosPerDay));
  EXPECT_EQ(before.id, 1);
  EXPECT_EQ(store_->FindSymbol("ETHUSD")->id, 2);
  EXPECT_EQ(store_->FindSymbol("ADAUSD")->id, 3);
  EXPECT_EQ(store_->FindSymbol("XBTUSD")->trade_count, 20u);
}

TEST_P(StoreTest, UncommittedImportLeavesNoTrace) {
  Import("XBTUSD", Random(7, 100, kJuly2019));
  {
    auto txn = store_->BeginImport("NEWUSD").value();
    ASSERT_TRUE(txn->AppendTrades(Random(8, 1000, kJuly2019)).ok());
  }  // destroyed without Commit
  {
    auto txn = store_->BeginImport("XBTUSD").value();
    ASSERT_TRUE(txn->AppendTrades(Random(9, 1000, kJuly2019 + kNanosPerDay)).ok());
  }
  EXPECT_EQ(store_->FindSymbol("NEWUSD").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->FindSymbol("XBTUSD")->trade_count, 100u);
  const SymbolId ids[] = {1};
  EXPECT_EQ(All(*store_->Trades(ids, {}).value()).size(), 100u);
}

TEST_P(StoreTest, MergesMinuteBarOfAnAppendIntoTheStoredOne) {
  TradeColumns first, second;
  first.push_back(UnixNanos{kJuly2019 + 10 * kNanosPerSecond}, D("10"), D("1"));
  first.push_back(UnixNanos{kJuly2019 + 20 * kNanosPerSecond}, D("12"), D("1"));
  second.push_back(UnixNanos{kJuly2019 + 30 * kNanosPerSecond}, D("9"), D("0.5"));
  second.push_back(UnixNanos{kJuly2019 + 90 * kNanosPerSecond}, D("11"), D("2"));
  Import("XBTUSD", first);
  Import("XBTUSD", second, "g.csv");
  const auto bars = All(*ReadBars(*store_, 1, TimeResolution::kOneMinute, {}).value());
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_EQ(bars[0].open.ToString(), "10");
  EXPECT_EQ(bars[0].high.ToString(), "12");
  EXPECT_EQ(bars[0].low.ToString(), "9");
  EXPECT_EQ(bars[0].close.ToString(), "9");
  EXPECT_EQ(bars[0].volume.ToString(), "2.5");
  EXPECT_EQ(bars[0].trades, 3u);
  EXPECT_EQ(bars[1].trades, 1u);
}

TEST_P(StoreTest, CoarseBarsEqualBarsResampledFromTrades) {
  const TradeColumns cols = Random(10, 200000, kJuly2019);
  Import("XBTUSD", cols);
  for (TimeResolution res : AllResolutions()) {
    bars::Resampler r(res);
    std::vector<Bar> expected;
    Bar done;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (r.Add(Trade{cols.time[i], cols.price[i], cols.volume[i]}, &done) == bars::AddStatus::kBarDone) {
        expected.push_back(done);
      }
    }
    if (r.Flush(&done)) expected.push_back(done);
    const auto got = All(*ReadBars(*store_, 1, res, {}).value());
    ASSERT_EQ(got.size(), expected.size()) << ToString(res);
    for (std::size_t i = 0; i < got.size(); ++i) ASSERT_TRUE(got[i] == expected[i]) << ToString(res) << " " << i;
  }
}

TEST_P(StoreTest, MinuteBarsStayExactAcrossManyAppendsAndBlocks) {
  // Dense enough that minutes span several 32 Ki-bar blocks; split points fall
  // inside minutes, so every seam must merge.
  TradeColumns all;
  for (int i = 0; i < 300000; ++i) {
    Decimal p, v;
    (void)Decimal::FromParts(1000 + (static_cast<std::int64_t>(i) * 7919) % 1000, i % 3, &p);
    (void)Decimal::FromParts(1 + i % 97, 4, &v);
    all.push_back(UnixNanos{kJuly2019 + i * 20 * kNanosPerSecond}, p, v);
  }
  const std::size_t cuts[] = {0, 1, 50001, 50002, 98305 * 3 / 2, 200000, 300000};
  for (std::size_t k = 0; k + 1 < std::size(cuts); ++k) {
    TradeColumns part;
    for (std::size_t i = cuts[k]; i < cuts[k + 1]; ++i) part.push_back(all.time[i], all.price[i], all.volume[i]);
    Import("XBTUSD", part, "part" + std::to_string(k) + ".csv");
  }
  bars::Resampler r(TimeResolution::kOneMinute);
  std::vector<Bar> expected;
  Bar done;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (r.Add(Trade{all.time[i], all.price[i], all.volume[i]}, &done) == bars::AddStatus::kBarDone) {
      expected.push_back(done);
    }
  }
  ASSERT_TRUE(r.Flush(&done));
  expected.push_back(done);
  const auto got = All(*ReadBars(*store_, 1, TimeResolution::kOneMinute, {}).value());
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_TRUE(got[i] == expected[i]) << i;
  // Ranges trim inside blocks.
  ASSERT_GT(expected.size(), 3 * kBlockBarsForTest);
  const TimeRange mid{expected[40000].time, expected[60000].time};
  EXPECT_EQ(All(*ReadBars(*store_, 1, TimeResolution::kOneMinute, mid).value()).size(), 20000u);
}

TEST_P(StoreTest, BarRangeSelectsWholeBucketsStartingInside) {
  TradeColumns cols;
  for (int m = 0; m < 180; ++m) cols.push_back(UnixNanos{kJuly2019 + m * kNanosPerMinute}, D("1"), D("1"));
  Import("XBTUSD", cols);
  const TimeRange range{UnixNanos{kJuly2019 + 30 * kNanosPerMinute}, UnixNanos{kJuly2019 + 150 * kNanosPerMinute}};
  const auto hours = All(*ReadBars(*store_, 1, TimeResolution::kOneHour, range).value());
  ASSERT_EQ(hours.size(), 2u);  // 01:00 and 02:00 start inside; 00:00 does not
  EXPECT_EQ(hours[0].time.ns, kJuly2019 + 60 * kNanosPerMinute);
  EXPECT_EQ(hours[0].trades, 60u);
  EXPECT_EQ(hours[1].trades, 60u);  // complete, although `to` cuts it
  EXPECT_FALSE(ReadBars(*store_, 1, TimeResolution::kOneHour, {range.to, range.from}).ok());
}

TEST_P(StoreTest, UnknownSymbolErrorNamesIt) {
  auto r = store_->FindSymbol("NOPE");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("NOPE"), std::string::npos);
}

TEST_P(StoreTest, RemembersImportedFiles) {
  Import("XBTUSD", Random(11, 10, kJuly2019), "XBTUSD.csv");
  const auto rec = store_->FindFile("XBTUSD", "XBTUSD.csv").value();
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->size, 10u);
  EXPECT_EQ(rec->hash, 20u);
  EXPECT_FALSE(store_->FindFile("XBTUSD", "other.csv").value().has_value());
}

class SqliteStoreTest : public StoreTest {};
class ClickHouseStoreTest : public StoreTest {};

TEST_P(SqliteStoreTest, DetectsCorruptBlocks) {
  Import("XBTUSD", Random(12, 1000, kJuly2019));
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE trade_blocks SET price = substr(price, 1, 10)", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE bar_blocks SET bars = substr(bars, 1, 10)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  store_ = OpenStore(path_).value();
  const SymbolId ids[] = {1};
  auto cursor = store_->Trades(ids, {}).value();
  std::vector<Trade> buf(2000);
  auto r = cursor->Next(buf);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCorrupt);
  std::vector<Bar> bars(10);
  auto b = ReadBars(*store_, 1, TimeResolution::kOneDay, {}).value()->Next(bars);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, ErrorCode::kCorrupt);
}

// Flips bytes inside block blobs that still decode (same sizes): before the
// checksums this gave wrong numbers with no error.
TEST_P(SqliteStoreTest, ABlockChangedInPlaceIsRefused) {
  Import("XBTUSD", Random(12, 100000, kJuly2019));
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  // Same length, one byte changed in the middle of block 1's volume column.
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE trade_blocks SET volume = substr(volume, 1, 5000) || "
                         "char((unicode(substr(volume, 5001, 1)) + 1) % 128) || substr(volume, 5002) "
                         "WHERE block_no = 1",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  store_ = OpenStore(path_).value();
  const SymbolId ids[] = {1};
  auto cursor = store_->Trades(ids, {}).value();
  std::vector<Trade> buf(100000);
  auto r = cursor->Next(buf);
  ASSERT_FALSE(r.ok()) << "read " << r.value() << " trades from a damaged block";
  EXPECT_EQ(r.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(r.error().message.find("trade block 1 of symbol id 1 (2019-07-01T22:36:32.067Z .. "), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("is damaged: "), std::string::npos) << r.error().message;
}

TEST_P(SqliteStoreTest, ABlockWhoseChecksumDisagreesIsRefused) {
  Import("XBTUSD", Random(12, 1000, kJuly2019));
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE bar_blocks SET checksum = checksum + 1", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  store_ = OpenStore(path_).value();
  std::vector<Bar> buf(10);
  auto r = store_->MinuteBars(1, {}).value()->Next(buf);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("bar block 0 of symbol id 1"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("its checksum does not match"), std::string::npos) << r.error().message;
}

// A block from before checksums (NULL) is still checked value by value.
TEST_P(SqliteStoreTest, ABlockWithoutChecksumIsValidatedValueByValue) {
  Import("XBTUSD", Random(12, 1000, kJuly2019));
  store_.reset();
  TradeColumns bad = Random(12, 1000, kJuly2019);
  ASSERT_TRUE(Decimal::FromParts(-882833214, 13, &bad.volume[500]));  // -0.0000882833214
  detail::EncodedBlock block;
  detail::EncodeBlock(bad.time, bad.price, bad.volume, &block);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE trade_blocks SET volume = ?, checksum = NULL", -1, &st, nullptr), SQLITE_OK);
  sqlite3_bind_blob(st, 1, block.volume.data(), static_cast<int>(block.volume.size()), SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(db);
  store_ = OpenStore(path_).value();
  const SymbolId ids[] = {1};
  std::vector<Trade> buf(2000);
  auto r = store_->Trades(ids, {}).value()->Next(buf);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(r.error().message.find("volume -0.0000882833214 is not positive"), std::string::npos) << r.error().message;
}

// The issue's experiment: random single-page damage to the file. Every read
// either fails or returns exactly what was stored, never something else.
TEST_P(SqliteStoreTest, RandomPageDamageNeverGivesWrongNumbers) {
  const TradeColumns cols = Random(7, 300000, kJuly2019);
  Import("XBTUSD", cols);
  const SymbolId ids[] = {1};
  const auto trades = All(*store_->Trades(ids, {}).value());
  const auto hours = [&](Store& s) -> Result<std::vector<Bar>> {
    TICKFLOW_ASSIGN_OR_RETURN(auto c, ReadBars(s, 1, TimeResolution::kOneHour, {}));
    std::vector<Bar> out, buf(100);
    while (true) {
      TICKFLOW_ASSIGN_OR_RETURN(const std::size_t n, c->Next(buf));
      if (n == 0) return out;
      out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    }
  };
  const auto bars = hours(*store_).value();
  store_.reset();
  const auto size = fs::file_size(path_);
  constexpr std::size_t kPage = 65536;
  std::mt19937_64 rng(2026);
  int failed = 0, intact = 0;
  for (int trial = 0; trial < 25; ++trial) {
    const auto copy = (dir_ / ("damaged" + std::to_string(trial) + ".db")).string();
    fs::copy_file(path_, copy);
    const std::size_t page = 1 + rng() % (size / kPage - 1);  // page 0 holds the header
    {
      FILE* f = std::fopen(copy.c_str(), "r+b");
      ASSERT_NE(f, nullptr);
      std::string junk(64, '\0');
      for (char& c : junk) c = static_cast<char>(rng());
      const std::size_t at = page * kPage + rng() % (kPage - junk.size());
      std::fseek(f, static_cast<long>(at), SEEK_SET);
      std::fwrite(junk.data(), 1, junk.size(), f);
      std::fclose(f);
    }
    auto opened = OpenStore(copy, {.create = false});
    if (!opened.ok()) {
      ++failed;
      continue;
    }
    auto cursor = opened.value()->Trades(ids, {});
    std::vector<Trade> got;
    Status status;
    if (cursor.ok()) {
      std::vector<Trade> buf(4096);
      while (true) {
        auto n = cursor.value()->Next(buf);
        if (!n.ok()) {
          status = std::move(n).error();
          break;
        }
        if (n.value() == 0) break;
        got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n.value()));
      }
    } else {
      status = std::move(cursor).error();
    }
    auto hb = hours(*opened.value());
    if (status.ok() && hb.ok()) {
      ASSERT_EQ(got.size(), trades.size()) << "trial " << trial << ": page " << page;
      for (std::size_t i = 0; i < got.size(); ++i) {
        ASSERT_TRUE(got[i].time == trades[i].time && got[i].price.SameRepresentation(trades[i].price) &&
                    got[i].volume.SameRepresentation(trades[i].volume))
            << "trial " << trial << ": page " << page << ", trade " << i << ": volume " << got[i].volume.ToString()
            << " for " << trades[i].volume.ToString();
      }
      ASSERT_EQ(hb.value(), bars) << "trial " << trial;
      ++intact;
    } else {
      ++failed;
    }
  }
  RecordProperty("failed", failed);
  RecordProperty("intact", intact);
  EXPECT_GT(failed, 0) << "no damage was detected at all: the experiment did not damage anything";
}

// A store written before checksums (schema 1) is upgraded in place when opened
// for writing; its blocks read as before.
TEST_P(SqliteStoreTest, AStoreOfSchema1IsUpgradedInPlace) {
  const TradeColumns cols = Random(3, 50000, kJuly2019);
  Import("XBTUSD", cols);
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "ALTER TABLE trade_blocks DROP COLUMN checksum; ALTER TABLE bar_blocks DROP COLUMN checksum; "
                         "UPDATE tickflow_meta SET value='1' WHERE key='schema_version'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto read_only = OpenStore(path_, {.create = false, .read_only = true});
  ASSERT_FALSE(read_only.ok());
  EXPECT_NE(read_only.error().message.find("store schema 1"), std::string::npos) << read_only.error().message;
  EXPECT_NE(read_only.error().message.find("tickflow db init --db " + path_), std::string::npos);
  store_ = OpenStore(path_).value();
  const SymbolId ids[] = {1};
  const auto trades = All(*store_->Trades(ids, {}).value());
  ASSERT_EQ(trades.size(), cols.size());
  for (std::size_t i = 0; i < trades.size(); ++i) ASSERT_TRUE(trades[i].volume.SameRepresentation(cols.volume[i]));
  // New blocks carry checksums beside the old ones.
  Import("XBTUSD", Random(4, 1000, kJuly2019 + 400LL * 86400 * kNanosPerSecond));
  EXPECT_EQ(All(*store_->Trades(ids, {}).value()).size(), cols.size() + 1000);
  EXPECT_TRUE(OpenStore(path_, {.create = false, .read_only = true}).ok());
}

TEST_P(SqliteStoreTest, RefusesForeignFilesAndMissingStores) {
  const auto other = (dir_ / "other.db").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE x(y)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_FALSE(OpenStore(other, {.create = false, .read_only = true}).ok());
  EXPECT_EQ(OpenStore((dir_ / "missing.db").string(), {.create = false}).error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(OpenStore("postgres://127.0.0.1:5432/x").ok());
}

TEST_P(ClickHouseStoreTest, ReadsOnlyCommittedRowsAndRemovesWhatACrashLeft) {
  const TradeColumns cols = Random(21, 5000, kJuly2019);
  Import("XBTUSD", cols);
  const std::string db = path_.substr(path_.rfind('/') + 1);
  // What an import that died before its commit leaves: trades past the
  // watermark (seq >= trade_count) and bars of the next version.
  ASSERT_TRUE(ClickHouse().Execute("INSERT INTO " + db + ".trades VALUES (1, " + std::to_string(kJuly2019 + kNanosPerDay) +
                                   ", 5000, 160, 16), (1, " + std::to_string(kJuly2019 + kNanosPerDay) + ", 5001, 160, 16)"));
  ASSERT_TRUE(ClickHouse().Execute("INSERT INTO " + db + ".bars_1m VALUES (1, " + std::to_string(kJuly2019) +
                                   ", 2, 16, 16, 16, 16, 16, 99, 0)"));
  const SymbolId ids[] = {1};
  EXPECT_EQ(All(*store_->Trades(ids, {}).value()).size(), 5000u);
  EXPECT_EQ(All(*ReadBars(*store_, 1, TimeResolution::kOneMinute, {}).value()).front().time.ns, BucketStart(cols.time.front(), TimeResolution::kOneMinute).ns);
  EXPECT_NE(All(*ReadBars(*store_, 1, TimeResolution::kOneMinute, {}).value()).front().trades, 99u);
  // The next import removes them first and its own rows follow on.
  const TradeColumns more = Random(22, 3000, cols.time.back().ns);
  Import("XBTUSD", more, "g.csv");
  const auto trades = All(*store_->Trades(ids, {}).value());
  ASSERT_EQ(trades.size(), 8000u);
  for (std::size_t i = 0; i < 3000; ++i) ASSERT_TRUE(trades[5000 + i].price.SameRepresentation(more.price[i])) << i;
}

// A database of schema 1 (64-bit bar volumes) is upgraded in place when opened for writing.
TEST_P(ClickHouseStoreTest, ADatabaseOfSchema1IsUpgradedInPlace) {
  const TradeColumns cols = Random(31, 3000, kJuly2019);
  Import("XBTUSD", cols);
  const SymbolId ids[] = {1};
  const auto bars = All(*store_->MinuteBars(1, {}).value());
  store_.reset();
  const std::string db = path_.substr(path_.rfind('/') + 1);
  ASSERT_TRUE(ClickHouse().Execute("ALTER TABLE " + db + ".bars_1m DROP COLUMN volume_high"));
  ASSERT_TRUE(ClickHouse().Execute("DROP TABLE " + db + ".tickflow_meta"));
  ASSERT_TRUE(ClickHouse().Execute("CREATE TABLE " + db + ".tickflow_meta (key String, value String) ENGINE = TinyLog"));
  ASSERT_TRUE(ClickHouse().Execute("INSERT INTO " + db + ".tickflow_meta VALUES ('schema_version', '1')"));
  auto read_only = OpenStore(path_, {.create = false, .read_only = true});
  ASSERT_FALSE(read_only.ok());
  EXPECT_NE(read_only.error().message.find("tickflow db init --db"), std::string::npos) << read_only.error().message;
  store_ = OpenStore(path_).value();
  EXPECT_EQ(All(*store_->MinuteBars(1, {}).value()), bars);
  EXPECT_EQ(All(*store_->Trades(ids, {}).value()).size(), cols.size());
  EXPECT_TRUE(OpenStore(path_, {.create = false, .read_only = true}).ok());
}

TEST_P(ClickHouseStoreTest, DetectsDoubledAndMissingTrades) {
  Import("XBTUSD", Random(23, 2000, kJuly2019));
  const std::string db = path_.substr(path_.rfind('/') + 1);
  ASSERT_TRUE(ClickHouse().Execute("INSERT INTO " + db + ".trades SELECT * FROM " + db + ".trades WHERE seq = 700"));
  const SymbolId ids[] = {1};
  std::vector<Trade> buf(5000);
  auto r = store_->Trades(ids, {}).value()->Next(buf);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(r.error().message.find("contiguous"), std::string::npos) << r.error().message;
}

// Rows ClickHouse hands out are checked like decoded SQLite blocks.
TEST_P(ClickHouseStoreTest, RowsTheImporterWouldRefuseAreReportedAsDamage) {
  Import("XBTUSD", Random(23, 2000, kJuly2019));
  const std::string db = path_.substr(path_.rfind('/') + 1);
  // A negative volume (mantissa -5, scale 8) in trade 700, and a bar whose high is below its low.
  // Mutations run in the background (this ClickHouse has no mutations_sync): wait, bounded, until applied.
  const auto mutate = [&](const std::string& alter, const std::string& applied) {
    ASSERT_TRUE(ClickHouse().Execute("ALTER TABLE " + db + alter));
    for (int i = 0; i < 600; ++i) {
      if (ClickHouse().Execute("SELECT throwIf((" + applied + ") = 0)")) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "ClickHouse did not apply '" << alter << "' within 30 s";
  };
  mutate(".trades UPDATE volume = -72 WHERE seq = 700", "SELECT count() FROM " + db + ".trades WHERE volume = -72");
  mutate(".bars_1m UPDATE high = low - 16 WHERE trades > 1",
         "SELECT count() FROM " + db + ".bars_1m WHERE high < low");
  const SymbolId ids[] = {1};
  std::vector<Trade> buf(5000);
  auto r = store_->Trades(ids, {}).value()->Next(buf);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(r.error().message.find("volume -0.00000005 is not positive"), std::string::npos) << r.error().message;
  std::vector<Bar> bars(10);
  auto b = store_->MinuteBars(1, {}).value()->Next(bars);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("are not within low"), std::string::npos) << b.error().message;
}

TEST_P(ClickHouseStoreTest, ErrorsSayWhatIsWrongAndWhatToDo) {
  const std::string missing = ClickHouse().Url("no_such_database");
  auto r = OpenStore(missing, {.create = false});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("tickflow db init --db " + missing), std::string::npos) << r.error().message;
  r = OpenStore("clickhouse://127.0.0.1:" + std::to_string(test::FreePort()) + "/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("clickhouse-server running"), std::string::npos) << r.error().message;
  for (const char* bad : {"clickhouse://127.0.0.1:8123", "clickhouse://127.0.0.1:99999/x", "clickhouse://h/bad-name",
                          "clickhouse:///x"}) {
    r = OpenStore(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(r.error().message.find(bad), std::string::npos) << r.error().message;
  }
}

TEST_P(ClickHouseStoreTest, QuotesInNamesAreDataNotSql) {
  Import("XBTUSD", Random(24, 10, kJuly2019));
  for (const char* name : {"X' OR 1=1 --", "X\\'", "'; DROP TABLE trades; --"}) {
    auto r = store_->FindSymbol(name);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound) << r.error().message;
    EXPECT_FALSE(store_->FindFile(name, name).value().has_value());
  }
  EXPECT_EQ(store_->FindSymbol("XBTUSD")->trade_count, 10u);
}

// Its own server, killed and started again under a reader.
TEST(ClickHouseRestartTest, AServerCrashFailsTheReadWithAClearErrorAndARestartServesAgain) {
  const fs::path dir = fs::temp_directory_path() / ("tickflow_store_test_restart_" + std::to_string(::getpid()));
  test::ClickHouseServer server;
  ASSERT_EQ(server.Start(dir), "");
  const std::string url = server.Url("restart");
  TradeColumns cols;
  for (int i = 0; i < 300000; ++i) cols.push_back(UnixNanos{kJuly2019 + i * kNanosPerSecond}, D("1.5"), D("2"));
  {
    auto store = OpenStore(url).value();
    auto txn = store->BeginImport("XBTUSD").value();
    ASSERT_TRUE(txn->AppendTrades(cols).ok());
    ASSERT_TRUE(txn->Commit(FileRecord{"f.csv", 1, 2, cols.size()}).ok());
    const SymbolId ids[] = {1};
    auto cursor = store->Trades(ids, {}).value();
    std::vector<Trade> buf(1000);
    ASSERT_EQ(cursor->Next(buf).value(), 1000u);
    server.Kill();
    Result<std::size_t> r = std::size_t{1};
    while (r.ok() && *r > 0) r = cursor->Next(buf);  // the pages already fetched, then the error
    ASSERT_FALSE(r.ok()) << "the stream ended early without an error";
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(r.error().message.find("cannot reach ClickHouse"), std::string::npos) << r.error().message;
  }
  ASSERT_EQ(server.Restart(), "");
  auto store = OpenStore(url, {.create = false}).value();
  const SymbolId ids[] = {1};
  std::vector<Trade> buf(4096);
  std::size_t n = 0;
  auto cursor = store->Trades(ids, {}).value();
  while (const std::size_t k = cursor->Next(buf).value()) n += k;
  EXPECT_EQ(n, cols.size());
  cursor.reset();
  store.reset();
  server.Stop();
  fs::remove_all(dir);
}

const auto kBackendName = [](const ::testing::TestParamInfo<std::string>& p) { return p.param; };
INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "clickhouse"), kBackendName);
INSTANTIATE_TEST_SUITE_P(Sqlite, SqliteStoreTest, ::testing::Values("sqlite"), kBackendName);
INSTANTIATE_TEST_SUITE_P(ClickHouse, ClickHouseStoreTest, ::testing::Values("clickhouse"), kBackendName);

// Trades in memory, handed out as views of random sizes (like blocks of any length).
class ViewCursor final : public TradeCursor {
 public:
  ViewCursor(std::vector<Trade> trades, std::uint32_t seed) : trades_(std::move(trades)), rng_(seed) {}
  Result<std::size_t> Next(std::span<Trade> out) override {
    const auto view = NextView().value();
    EXPECT_LE(view.size(), out.size()) << "this test cursor hands out views only";
    std::copy(view.begin(), view.end(), out.begin());
    return view.size();
  }
  Result<std::span<const Trade>> NextView() override {
    std::fill(last_.begin(), last_.end(), Trade{});  // a stale view must show, not pass
    const std::size_t n = std::min<std::size_t>(trades_.size() - pos_, 1 + rng_() % 300);
    last_.assign(trades_.begin() + static_cast<std::ptrdiff_t>(pos_),
                 trades_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return std::span<const Trade>(last_);
  }

 private:
  std::vector<Trade> trades_, last_;
  std::size_t pos_ = 0;
  std::mt19937 rng_;
};

// The merge hands out runs of one input: every run must stop before another
// input's next row, ties in input order, through Next and NextView alike, with
// bursts of any length and inputs that end at different times.
TEST(MergeTest, RunsOfManyInputsGiveTheStableTimeOrder) {
  for (const bool views : {false, true}) {
    std::mt19937 rng(7);
    constexpr int kInputs = 50;
    std::vector<std::vector<Trade>> per(kInputs);
    std::vector<Trade> expected;
    std::int64_t t = kJuly2019;
    for (int i = 0; i < 60000; ++i) {
      const auto input = static_cast<SymbolId>(rng() % (rng() % 4 == 0 ? kInputs : 5));  // a few busy inputs
      const int burst = 1 + static_cast<int>(rng() % 20);
      for (int k = 0; k < burst; ++k) {
        t += static_cast<std::int64_t>(rng() % 3);  // many ties
        per[input].push_back(
            Trade{UnixNanos{t}, Decimal::FromRaw(16 * (i + 1)), Decimal::FromRaw(16 * (k + 1)), input});
      }
    }
    for (const auto& p : per) expected.insert(expected.end(), p.begin(), p.end());
    std::stable_sort(expected.begin(), expected.end(), [](const Trade& a, const Trade& b) {
      return a.time != b.time ? a.time < b.time : a.symbol < b.symbol;
    });
    std::vector<std::unique_ptr<TradeCursor>> cursors;
    for (int i = 0; i < kInputs; ++i) cursors.push_back(std::make_unique<ViewCursor>(per[i], 100 + i));
    auto merged = MergeTrades(std::move(cursors));
    std::vector<Trade> got, out(777);
    while (true) {
      if (views) {
        const auto v = merged->NextView().value();
        if (v.empty()) break;
        got.insert(got.end(), v.begin(), v.end());
      } else {
        const std::size_t n = merged->Next(out).value();
        if (n == 0) break;
        got.insert(got.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
      }
    }
    ASSERT_EQ(got.size(), expected.size()) << (views ? "NextView" : "Next");
    for (std::size_t i = 0; i < got.size(); ++i) {
      ASSERT_TRUE(got[i].time == expected[i].time && got[i].symbol == expected[i].symbol &&
                  got[i].price == expected[i].price && got[i].volume == expected[i].volume)
          << (views ? "NextView" : "Next") << ": row " << i << " differs";
    }
  }
}

std::vector<SymbolInfo> Known(std::initializer_list<const char*> names) {
  std::vector<SymbolInfo> out;
  SymbolId id = 1;
  for (const char* n : names) {
    SymbolInfo s;
    s.id = id++;
    s.symbol = n;
    out.push_back(s);
  }
  return out;
}

TEST(SymbolPatternTest, GlobsExpandInStoreOrderAndEachSymbolComesOnce) {
  const auto known = Known({"XBTUSD", "ETHUSD", "XBTEUR", "ETHEUR", "ADAUSD"});
  using V = std::vector<std::string>;
  EXPECT_EQ(ExpandSymbolPatterns(V{"*USD"}, known).value(), (V{"XBTUSD", "ETHUSD", "ADAUSD"}));
  EXPECT_EQ(ExpandSymbolPatterns(V{"XBT*"}, known).value(), (V{"XBTUSD", "XBTEUR"}));
  EXPECT_EQ(ExpandSymbolPatterns(V{"*"}, known).value().size(), 5u);
  EXPECT_EQ(ExpandSymbolPatterns(V{"ETH?UR", "[XA]*USD"}, known).value(), (V{"ETHEUR", "XBTUSD", "ADAUSD"}));
  // Overlaps come once, in the order first named.
  EXPECT_EQ(ExpandSymbolPatterns(V{"ETHUSD", "*USD", "XBT*", "XBTUSD"}, known).value(),
            (V{"ETHUSD", "XBTUSD", "ADAUSD", "XBTEUR"}));
  // Plain names pass through (their lookup reports the unknown ones); a name twice stays twice.
  EXPECT_EQ(ExpandSymbolPatterns(V{"NOPE", "XBTUSD", "XBTUSD"}, known).value(), (V{"NOPE", "XBTUSD", "XBTUSD"}));
  // Case-sensitive, like the names.
  const auto none = ExpandSymbolPatterns(V{"XBTUSD", "*usd"}, known);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  EXPECT_NE(none.error().message.find("'*usd' matches none of the 5 symbols"), std::string::npos)
      << none.error().message;
  EXPECT_FALSE(ExpandSymbolPatterns(V{"*"}, {}).ok()) << "an empty store matches nothing";
  EXPECT_TRUE(IsSymbolPattern("*USD"));
  EXPECT_FALSE(IsSymbolPattern("XBTUSD"));
}

TEST(SymbolPatternTest, ManySymbolsAreCountedNotListed) {
  using V = std::vector<std::string>;
  EXPECT_EQ(DescribeSymbols(V{"XBTUSD", "ETHUSD"}), "XBTUSD, ETHUSD");
  V many;
  for (int i = 0; i < 708; ++i) many.push_back("S" + std::to_string(i));
  EXPECT_EQ(DescribeSymbols(many), "708 markets (S0, S1, S2, ...)");
}

TEST(ContentHashTest, DependsOnEveryByteAndLength) {
  std::string a(1000, 'x');
  const auto h = ContentHash(a);
  for (std::size_t i : {0u, 7u, 8u, 500u, 999u}) {
    std::string b = a;
    b[i] = 'y';
    EXPECT_NE(ContentHash(b), h) << i;
  }
  EXPECT_NE(ContentHash(std::string_view(a).substr(0, 999)), h);
}

// Stores remember this hash: it must not change between versions.
TEST(ContentHashTest, IsStable) {
  EXPECT_EQ(ContentHash(std::string_view("1381095255,122.00000,0.10000000\n1381179030,123.61000,0.10000000\n")),
            0x4c09476f46bb63a4ULL);
}

TEST(ContentHashTest, FedInPiecesEqualsFedWhole) {
  std::string a;
  for (int i = 0; i < 97; ++i) a += static_cast<char>('a' + i % 26);
  const auto whole = ContentHash(a);
  for (std::size_t cut1 = 0; cut1 <= a.size(); ++cut1) {
    for (std::size_t cut2 = cut1; cut2 <= a.size(); cut2 += 5) {
      ContentHasher hasher(a.size());
      hasher.Update(std::span<const char>(a).first(cut1));
      hasher.Update(std::span<const char>(a).subspan(cut1, cut2 - cut1));
      hasher.Update(std::span<const char>(a).subspan(cut2));
      ASSERT_EQ(hasher.Finish(), whole) << cut1 << " " << cut2;
    }
  }
}

}  // namespace
}  // namespace tickflow::store
