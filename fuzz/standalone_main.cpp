// Driver for fuzz targets when libFuzzer is not available (GCC builds): runs
// every file given on the command line, then mutations of them, through
// LLVMFuzzerTestOneInput. Under ASan/UBSan any out-of-bounds read or UB fails
// the run. With clang, scripts/fuzz.sh builds the real libFuzzer binaries.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  std::vector<std::vector<std::uint8_t>> corpus;
  long iterations = 200000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--iterations=", 0) == 0) {
      iterations = std::strtol(arg.c_str() + 13, nullptr, 10);
      continue;
    }
    std::ifstream in(arg, std::ios::binary);
    corpus.emplace_back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  if (corpus.empty()) corpus.emplace_back();
  for (const auto& input : corpus) LLVMFuzzerTestOneInput(input.data(), input.size());
  std::mt19937_64 rng(12345);
  std::vector<std::uint8_t> buf;
  for (long i = 0; i < iterations; ++i) {
    buf = corpus[rng() % corpus.size()];
    // Concatenate two inputs sometimes, so frames hold several messages.
    if (rng() % 4 == 0) {
      const auto& other = corpus[rng() % corpus.size()];
      buf.insert(buf.end(), other.begin(), other.end());
    }
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !buf.empty(); ++e) {
      switch (rng() % 4) {
        case 0: buf[rng() % buf.size()] = static_cast<std::uint8_t>(rng()); break;
        case 1: buf.resize(rng() % (buf.size() + 1)); break;
        case 2: buf.insert(buf.begin() + static_cast<std::ptrdiff_t>(rng() % buf.size()),
                           static_cast<std::uint8_t>(rng())); break;
        default: buf[rng() % buf.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;
      }
    }
    LLVMFuzzerTestOneInput(buf.data(), buf.size());
  }
  std::cout << "fuzz smoke: " << corpus.size() << " corpus inputs, " << iterations
            << " mutations, no crash\n";
  return 0;
}
