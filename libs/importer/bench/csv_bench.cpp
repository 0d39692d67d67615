// CSV row parsing throughput (one core). Run: build/release/libs/importer/importer_bench
#include <benchmark/benchmark.h>

#include <string>

#include "tickflow/importer/csv.hpp"

namespace tickflow::importer {
namespace {

void BM_ParseKrakenRows(benchmark::State& state) {
  std::string text;
  for (int i = 0; i < 100000; ++i) {
    text += std::to_string(1561939203 + i / 3) + "." + std::to_string(100 + i % 900) + "," +
            std::to_string(10000 + i % 997) + "." + std::to_string(i % 10) + ",0.0" + std::to_string(3869709 + i) + "\n";
  }
  for (auto _ : state) {
    CsvReader r(std::span<const char>(text.data(), text.size()));
    CsvRow row;
    std::int64_t sum = 0;
    while (r.Next(&row) == CsvReader::Status::kRow) sum += row.price.raw();
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * 100000);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_ParseKrakenRows);

}  // namespace
}  // namespace tickflow::importer
