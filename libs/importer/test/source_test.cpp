// Reading sources as streams: what a file or an archive entry claims is never
// trusted, and a file changing under the import is an error, not a signal.
#include "../src/source.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zip.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tickflow::importer::detail {
namespace {

namespace fs = std::filesystem;

class SourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tickflow_source_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Reads a stream to its end: the bytes, or the first error.
  static Result<std::string> ReadAll(ByteStream& in) {
    std::string out;
    std::vector<char> buf(64 * 1024);
    while (true) {
      TICKFLOW_ASSIGN_OR_RETURN(const std::size_t n, in.Read(buf));
      if (n == 0) return out;
      out.append(buf.data(), n);
    }
  }

  fs::path dir_;
};

std::string Rows(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += std::to_string(1561939203 + i) + ",10749.4,0.5\n";
  return s;
}

long MaxRssKb() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

TEST_F(SourceTest, AFileIsReadWholeInPieces) {
  const std::string text = Rows(20000);
  std::ofstream(dir_ / "XBTUSD.csv", std::ios::binary) << text;
  auto list = ListSources((dir_ / "XBTUSD.csv").string()).value();
  auto in = Open(list.sources.at(0)).value();
  EXPECT_EQ(in->size(), text.size());
  EXPECT_EQ(ReadAll(*in).value(), text);
}

// With the file memory-mapped, touching the pages past the new end raised SIGBUS.
TEST_F(SourceTest, AFileTruncatedWhileReadIsAnErrorNamingIt) {
  const std::string text = Rows(100000);
  const auto path = dir_ / "XBTUSD.csv";
  std::ofstream(path, std::ios::binary) << text;
  auto list = ListSources(path.string()).value();
  auto in = Open(list.sources.at(0)).value();
  ASSERT_EQ(::truncate(path.c_str(), 1000), 0);
  auto all = ReadAll(*in);
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.error().code, ErrorCode::kIo);
  EXPECT_NE(all.error().message.find(path.string() + " was truncated while it was being imported"), std::string::npos)
      << all.error().message;
}

TEST_F(SourceTest, BytesAppendedAfterTheOpenAreLeftForTheNextImport) {
  const auto path = dir_ / "XBTUSD.csv";
  std::ofstream(path, std::ios::binary) << Rows(10);
  auto in = Open(ListSources(path.string()).value().sources.at(0)).value();
  std::ofstream(path, std::ios::binary | std::ios::app) << Rows(5);
  EXPECT_EQ(ReadAll(*in).value(), Rows(10));
}

// Rewrites the 32-bit uncompressed size of every entry, in the local headers
// and in the central directory, as a forged archive would.
void ForgeUncompressedSizes(const fs::path& zip, std::uint32_t claimed) {
  std::string bytes;
  {
    std::ifstream in(zip, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    bytes = ss.str();
  }
  const auto patch = [&](std::string_view signature, std::size_t field) {
    for (std::size_t at = bytes.find(signature); at != std::string::npos; at = bytes.find(signature, at + 4)) {
      std::memcpy(bytes.data() + at + field, &claimed, 4);
    }
  };
  patch(std::string_view("PK\x03\x04", 4), 22);
  patch(std::string_view("PK\x01\x02", 4), 24);
  std::ofstream(zip, std::ios::binary | std::ios::trunc) << bytes;
}

void WriteZip(const fs::path& zip, const std::string& entry, const std::string& text) {
  int err = 0;
  zip_t* z = zip_open(zip.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  ASSERT_NE(z, nullptr);
  zip_source_t* s = zip_source_buffer(z, text.data(), text.size(), 0);
  ASSERT_GE(zip_file_add(z, entry.c_str(), s, 0), 0);
  ASSERT_EQ(zip_close(z), 0);
}

// The old reader allocated (and zeroed) the claimed size up front: 4 GiB here,
// an uncaught bad_alloc for a claim of a terabyte.
TEST_F(SourceTest, AZipEntryClaimingGigabytesIsRefusedWithoutAllocatingThem) {
  const auto zip = dir_ / "forged.zip";
  const std::string text = Rows(1000);
  WriteZip(zip, "XBTUSD.csv", text);
  ForgeUncompressedSizes(zip, 0xFFFFFFF0u);
  const long rss_before = MaxRssKb();
  auto list = ListSources(zip.string());
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list.value().sources.at(0).size, 0xFFFFFFF0u);
  auto in = Open(list.value().sources.at(0));
  std::string message;
  if (in.ok()) {
    auto all = ReadAll(*in.value());
    ASSERT_FALSE(all.ok()) << "a forged entry was read as " << all.value().size() << " bytes";
    message = all.error().message;
  } else {
    message = in.error().message;
  }
  EXPECT_NE(message.find("XBTUSD.csv"), std::string::npos) << message;
  EXPECT_LT(MaxRssKb() - rss_before, 256 * 1024) << "memory grew with the claimed size";
}

TEST_F(SourceTest, AZipEntryClaimingLessThanItHoldsIsRefused) {
  const auto zip = dir_ / "forged.zip";
  WriteZip(zip, "XBTUSD.csv", Rows(1000));
  ForgeUncompressedSizes(zip, 100);
  auto list = ListSources(zip.string()).value();
  auto in = Open(list.sources.at(0));
  if (in.ok()) {
    auto all = ReadAll(*in.value());
    ASSERT_FALSE(all.ok()) << "read " << all.value().size() << " bytes of an entry declaring 100";
    EXPECT_NE(all.error().message.find("XBTUSD.csv"), std::string::npos) << all.error().message;
  }
}

}  // namespace
}  // namespace tickflow::importer::detail
