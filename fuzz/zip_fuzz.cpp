// Fuzz target: any byte string read as a zip archive handed to `tickflow
// import`: its entries are listed, opened and read to the end through the
// importer's bounded streams (as the importer does), and their first bytes
// parsed as CSV. Declared sizes are never trusted, so a forged header must end
// in an error, never in a large allocation, a crash or a hang.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "../libs/importer/src/source.hpp"
#include "tickflow/importer/csv.hpp"

namespace {

// Reads at most this much of all entries of one input (a zip bomb costs time,
// not memory; the fuzzer must not spend minutes on one).
constexpr std::size_t kMaxBytesPerInput = 16 << 20;

std::string TempPath() { return "/tmp/tickflow_zip_fuzz_" + std::to_string(::getpid()) + ".zip"; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace detail = tickflow::importer::detail;
  static const std::string path = TempPath();
  if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
    if (size > 0) (void)std::fwrite(data, 1, size, f);
    std::fclose(f);
  } else {
    return 0;
  }
  auto list = detail::ListSources(path);
  if (!list.ok()) return 0;
  std::vector<char> window(1 << 20), head;
  std::size_t total = 0;
  for (const detail::Source& source : list->sources) {
    auto stream = detail::Open(source);
    if (!stream.ok()) continue;
    head.clear();
    while (total < kMaxBytesPerInput) {
      auto n = (*stream)->Read(window);
      if (!n.ok() || *n == 0) break;
      total += *n;
      if (head.size() < 4096)
        head.insert(head.end(), window.begin(),
                    window.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(*n, 4096)));
    }
    tickflow::importer::CsvReader reader(std::span<const char>(head.data(), head.size()));
    tickflow::importer::CsvRow row;
    while (reader.Next(&row) != tickflow::importer::CsvReader::Status::kEnd) {
    }
  }
  return 0;
}
