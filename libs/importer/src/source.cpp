#include "source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "tickflow/importer/importer.hpp"

namespace tickflow::importer::detail {
namespace {

namespace fs = std::filesystem;

class FileStream final : public ByteStream {
 public:
  FileStream(int fd, std::uint64_t size, std::string display) : fd_(fd), size_(size), display_(std::move(display)) {}
  ~FileStream() override { ::close(fd_); }
  std::uint64_t size() const override { return size_; }

  Result<std::size_t> Read(std::span<char> out) override {
    const std::uint64_t want = std::min<std::uint64_t>(out.size(), size_ - done_);
    if (want == 0) return std::size_t{0};  // bytes appended since the open belong to the next import
    ssize_t n;
    do {
      n = ::read(fd_, out.data(), want);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return MakeError(ErrorCode::kIo, "cannot read " + display_ + ": " + std::strerror(errno));
    if (n == 0) {
      return MakeError(ErrorCode::kIo, display_ + " was truncated while it was being imported (" +
                                           std::to_string(size_) + " bytes when opened, " + std::to_string(done_) +
                                           " now); nothing of it was stored: import it again once it is complete");
    }
    done_ += static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  }

 private:
  int fd_;
  std::uint64_t size_;
  std::uint64_t done_ = 0;
  std::string display_;
};

class ZipEntryStream final : public ByteStream {
 public:
  ZipEntryStream(zip_t* z, zip_file_t* f, std::uint64_t size, std::string display)
      : z_(z), f_(f), size_(size), display_(std::move(display)) {}
  ~ZipEntryStream() override {
    zip_fclose(f_);
    zip_close(z_);
  }
  std::uint64_t size() const override { return size_; }

  Result<std::size_t> Read(std::span<char> out) override {
    const zip_int64_t n = zip_fread(f_, out.data(), out.size());
    if (n < 0) {
      return MakeError(ErrorCode::kIo, display_ + ": archive entry is damaged after " + std::to_string(done_) +
                                           " bytes: " + zip_file_strerror(f_));
    }
    done_ += static_cast<std::uint64_t>(n);
    if (done_ > size_ || (n == 0 && done_ != size_)) {
      return MakeError(ErrorCode::kIo, display_ + ": archive entry declares " + std::to_string(size_) +
                                           " bytes but inflates to " + (n == 0 ? "" : "more than ") +
                                           std::to_string(done_) + "; the archive is damaged or forged");
    }
    return static_cast<std::size_t>(n);
  }

 private:
  zip_t* z_;
  zip_file_t* f_;
  std::uint64_t size_;
  std::uint64_t done_ = 0;
  std::string display_;
};

constexpr std::size_t kMaxSkippedShown = 20;

void Skip(SourceList& list, std::string what) {
  ++list.ignored;
  if (list.skipped.size() < kMaxSkippedShown) list.skipped.push_back(std::move(what));
}

bool IsCsv(std::string_view name) {
  return name.size() > 4 && (name.substr(name.size() - 4) == ".csv" || name.substr(name.size() - 4) == ".CSV");
}

Status AddSource(SourceList& list, std::string display, std::string file_name, std::uint64_t size,
                 std::string archive, std::string path) {
  if (!IsCsv(file_name)) {
    Skip(list, display + " (not a .csv file)");
    return {};
  }
  auto symbol = SymbolFromFileName(file_name);
  if (!symbol.ok()) return MakeError(ErrorCode::kInvalidArgument, display + ": " + symbol.error().message);
  list.sources.push_back(Source{std::move(display), std::move(file_name), std::move(symbol).value(), size,
                                std::move(archive), std::move(path)});
  return {};
}

Result<SourceList> ListZip(const std::string& path) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY, &err);
  if (z == nullptr) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    std::string msg = path + " is not a readable zip archive: " + zip_error_strerror(&ze);
    zip_error_fini(&ze);
    return MakeError(ErrorCode::kInvalidArgument, msg);
  }
  SourceList list;
  const zip_int64_t n = zip_get_num_entries(z, 0);
  Status status;
  for (zip_int64_t i = 0; i < n && status.ok(); ++i) {
    zip_stat_t st;
    if (zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st) != 0 || st.name == nullptr) continue;
    const std::string entry = st.name;
    if (entry.empty() || entry.back() == '/' || entry.rfind("__MACOSX/", 0) == 0) continue;
    const std::string base = fs::path(entry).filename().string();
    status = AddSource(list, path + ":" + entry, base, st.size, path, entry);
  }
  zip_close(z);
  if (!status.ok()) return std::move(status).error();
  return list;
}

}  // namespace

Result<SourceList> ListSources(const std::string& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return MakeError(ErrorCode::kNotFound, "no such file or folder: " + path);
  SourceList list;
  if (fs::is_directory(status)) {
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      // error_code overloads: a symlink loop or a dangling link is an entry we
      // cannot read, named in the error, never an exception.
      std::error_code entry_ec;
      const bool regular = entry.is_regular_file(entry_ec);
      if (entry_ec && entry.is_symlink()) {
        return MakeError(ErrorCode::kIo, "cannot read " + entry.path().string() + ": " + entry_ec.message() +
                                             " (a broken or looping symbolic link; remove it or point it at a file)");
      }
      if (!regular) {
        const bool folder = entry.is_directory(entry_ec);
        if (folder && IsCsv(entry.path().filename().string())) {
          Skip(list, entry.path().string() + " (a folder named like a CSV file, not a file)");
        } else if (folder) {
          Skip(list, entry.path().string() + "/ (a folder: only the top level is read; import it on its own)");
        } else {
          Skip(list, entry.path().string() + " (not a regular file)");
        }
        continue;
      }
      const std::uintmax_t size = entry.file_size(entry_ec);
      if (entry_ec) return MakeError(ErrorCode::kIo, "cannot read " + entry.path().string() + ": " + entry_ec.message());
      TICKFLOW_RETURN_IF_ERROR(
          AddSource(list, entry.path().string(), entry.path().filename().string(), size, "", entry.path().string()));
    }
    if (ec) return MakeError(ErrorCode::kIo, "cannot list " + path + ": " + ec.message());
  } else if (path.size() > 4 && path.substr(path.size() - 4) == ".zip") {
    TICKFLOW_ASSIGN_OR_RETURN(list, ListZip(path));
  } else if (IsCsv(path)) {
    TICKFLOW_RETURN_IF_ERROR(AddSource(list, path, fs::path(path).filename().string(), fs::file_size(path, ec),
                                       "", path));
  } else {
    return MakeError(ErrorCode::kInvalidArgument,
                     path + " is neither a folder of Kraken CSVs, a .csv file nor a .zip archive");
  }
  std::sort(list.sources.begin(), list.sources.end(),
            [](const Source& a, const Source& b) { return a.file_name < b.file_name; });
  for (std::size_t i = 1; i < list.sources.size(); ++i) {
    if (list.sources[i].symbol == list.sources[i - 1].symbol) {
      return MakeError(ErrorCode::kInvalidArgument, "two files for symbol " + list.sources[i].symbol + ": " +
                                                        list.sources[i - 1].display + " and " +
                                                        list.sources[i].display + "; import them one at a time");
    }
  }
  return list;
}

Result<std::unique_ptr<ByteStream>> Open(const Source& source) {
  if (source.archive.empty()) {
    const int fd = ::open(source.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return MakeError(ErrorCode::kIo, "cannot open " + source.display + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int e = errno;
      ::close(fd);
      return MakeError(ErrorCode::kIo, "cannot stat " + source.display + ": " + std::strerror(e));
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return std::unique_ptr<ByteStream>(
        std::make_unique<FileStream>(fd, static_cast<std::uint64_t>(st.st_size), source.display));
  }
  int err = 0;
  zip_t* z = zip_open(source.archive.c_str(), ZIP_RDONLY, &err);
  if (z == nullptr) return MakeError(ErrorCode::kIo, "cannot open archive " + source.archive);
  zip_file_t* f = zip_fopen(z, source.path.c_str(), 0);
  if (f == nullptr) {
    Error e = MakeError(ErrorCode::kIo, "cannot open " + source.display + ": " + zip_strerror(z));
    zip_close(z);
    return e;
  }
  return std::unique_ptr<ByteStream>(std::make_unique<ZipEntryStream>(z, f, source.size, source.display));
}

}  // namespace tickflow::importer::detail
