// Where CSV bytes come from: files in a folder or entries of a zip archive,
// read as a stream into the caller's buffer, so memory stays bounded whatever
// a file holds or an archive entry claims. Files are read, not memory-mapped:
// a file truncated while it is imported is then an error naming it, not a
// SIGBUS. Each Open is independent, so workers can read different sources at
// the same time.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tickflow/core/result.hpp"

namespace tickflow::importer::detail {

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Reads up to out.size() bytes; 0 only at the end. The stream ends exactly
  // at size(): a source that turns out shorter or longer is an error.
  virtual Result<std::size_t> Read(std::span<char> out) = 0;
  // Bytes the stream holds: a file's size when it was opened, or the size an
  // archive entry declares (checked, never used to allocate).
  virtual std::uint64_t size() const = 0;
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
  std::vector<std::string> skipped;  // entries not read, each with why (the first 20)
};

Result<SourceList> ListSources(const std::string& path);
Result<std::unique_ptr<ByteStream>> Open(const Source& source);

}  // namespace tickflow::importer::detail
