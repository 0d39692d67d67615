// Fuzz target: any byte string read as a Kraken CSV file.
#include <cstddef>
#include <cstdint>

#include "tickflow/importer/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tickflow::importer::CsvReader reader(std::span<const char>(reinterpret_cast<const char*>(data), size));
  tickflow::importer::CsvRow row;
  std::size_t n = 0;
  while (reader.Next(&row) != tickflow::importer::CsvReader::Status::kEnd && ++n < 1000000) {
    if (reader.error().line > 0) (void)reader.error().Format("fuzz.csv");
  }
  return 0;
}
