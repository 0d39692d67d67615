// Where CSV bytes come from: files in a folder (memory-mapped) or entries of a
// zip archive (inflated into memory). Each Load is independent, so workers
// can load different sources at the same time.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tickflow/core/result.hpp"

namespace tickflow::importer::detail {

class Bytes {
 public:
  virtual ~Bytes() = default;
  virtual std::span<const char> data() const = 0;
};

struct Source {
  std::string display;    // what the user sees in messages
  std::string file_name;  // base name, remembered by the store
  std::string symbol;
  std::uint64_t size = 0;
  std::string archive;    // zip path, or empty for a plain file
  std::string path;       // file path, or the entry name inside the archive
};

struct SourceList {
  std::vector<Source> sources;  // sorted by file name
  std::size_t ignored = 0;      // not *.csv
};

Result<SourceList> ListSources(const std::string& path);
Result<std::unique_ptr<Bytes>> Load(const Source& source);

}  // namespace tickflow::importer::detail
