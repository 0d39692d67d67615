// The `tickflow._tickflow` extension: the C++ store, importer, replay and
// backtester for the `tickflow` Python package (python/tickflow), which turns
// what these functions return into pandas objects.
#include <cmath>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>

#include "bindings.hpp"
#include "tickflow/core/time.hpp"
#include "tickflow/version.hpp"

namespace tickflow::python {
namespace {

py::object* error_type = nullptr;

}  // namespace

void Raise(const Error& error) {
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:
      throw py::value_error(error.message);
    case ErrorCode::kNotFound:
      PyErr_SetString(PyExc_LookupError, error.message.c_str());
      throw py::error_already_set();
    case ErrorCode::kParse:
    case ErrorCode::kIo:
    case ErrorCode::kCorrupt:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kUnavailable:
    case ErrorCode::kCancelled:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kBusy:
    case ErrorCode::kInternal:
      break;
  }
  PyErr_SetString(error_type->ptr(), error.message.c_str());
  throw py::error_already_set();
}

std::optional<UnixNanos> TimeArg(const py::object& value, const char* name) {
  if (value.is_none()) return std::nullopt;
  if (py::isinstance<py::bool_>(value)) throw py::type_error(std::string(name) + ": expected a time, got a bool");
  if (py::isinstance<py::int_>(value)) {
    // Python ints are unbounded: out-of-range values must not wrap.
    int overflow = 0;
    const long long ns = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (overflow != 0) throw py::value_error(std::string(name) + ": " + std::string(py::str(value)) +
                                             " nanoseconds is outside 1677-09-21 .. 2262-04-11");
    return UnixNanos{ns};
  }
  if (py::isinstance<py::str>(value)) {
    const std::string text = value.cast<std::string>();
    auto t = ParseTime(text);
    if (!t.ok()) throw py::value_error(std::string(name) + " '" + text + "': " + t.error().message);
    return *t;
  }
  throw py::type_error(std::string(name) + ": expected None, epoch nanoseconds, ISO-8601 text, a datetime or a pandas "
                                           "Timestamp; got " + std::string(py::str(value.get_type().attr("__name__"))));
}

store::TimeRange RangeArg(const py::object& start, const py::object& end) {
  store::TimeRange r;
  if (auto t = TimeArg(start, "start")) r.from = *t;
  if (auto t = TimeArg(end, "end")) r.to = *t;
  if (r.from >= r.to) {
    throw py::value_error("start " + FormatIso8601(r.from) + " must be before end " + FormatIso8601(r.to) +
                          " (the range is [start, end))");
  }
  return r;
}

py::object PyDecimal(const std::string& text) {
  static py::object* decimal = new py::object(py::module_::import("decimal").attr("Decimal"));
  return (*decimal)(text);
}

namespace {

// The buffer cache of bindings.hpp: buffers by size, oldest first for eviction.
struct BufferCache {
  std::mutex mu;
  std::multimap<std::size_t, void*> by_size;
  std::deque<std::pair<void*, std::size_t>> by_age;
  std::size_t bytes = 0;
  std::size_t limit = [] {
    const char* env = std::getenv("TICKFLOW_BUFFER_CACHE");
    return env != nullptr ? static_cast<std::size_t>(std::strtoull(env, nullptr, 10)) : std::size_t{1} << 30;
  }();

  void Forget(void* p) {
    for (auto it = by_age.begin(); it != by_age.end(); ++it) {
      if (it->first == p) {
        by_age.erase(it);
        return;
      }
    }
  }
  void EvictTo(std::size_t target) {
    while (bytes > target && !by_age.empty()) {
      const auto [p, size] = by_age.front();
      by_age.pop_front();
      for (auto [it, end] = by_size.equal_range(size); it != end; ++it) {
        if (it->second == p) {
          by_size.erase(it);
          break;
        }
      }
      bytes -= size;
      std::free(p);
    }
  }
};
BufferCache& Cache() {
  static BufferCache* cache = new BufferCache;  // never destroyed: numpy may free arrays at exit
  return *cache;
}

}  // namespace

void* TakeCachedBuffer(std::size_t bytes) {
  BufferCache& c = Cache();
  std::lock_guard lock(c.mu);
  auto it = c.by_size.lower_bound(bytes);
  if (it == c.by_size.end() || it->first / 3 * 2 > bytes) return nullptr;  // none, or far too big
  void* p = it->second;
  c.bytes -= it->first;
  c.by_size.erase(it);
  c.Forget(p);
  return p;
}

bool KeepCachedBuffer(void* p, std::size_t bytes) noexcept {
  BufferCache& c = Cache();
  std::lock_guard lock(c.mu);
  if (bytes > c.limit) return false;
  try {
    c.EvictTo(c.limit - bytes);
    c.by_size.emplace(bytes, p);
    c.by_age.emplace_back(p, bytes);
  } catch (...) {
    return false;
  }
  c.bytes += bytes;
  return true;
}

std::size_t BufferCacheLimit() {
  std::lock_guard lock(Cache().mu);
  return Cache().limit;
}
void SetBufferCacheLimit(std::size_t bytes) {
  std::lock_guard lock(Cache().mu);
  Cache().limit = bytes;
  Cache().EvictTo(bytes);
}
std::size_t BufferCacheBytes() {
  std::lock_guard lock(Cache().mu);
  return Cache().bytes;
}

}  // namespace tickflow::python

PYBIND11_MODULE(_tickflow, m) {
  namespace tp = tickflow::python;
  m.doc() = "tickflow's C++ core: the store, the importer, the replay and the backtester";
  tp::error_type = new py::object(py::reinterpret_steal<py::object>(
      PyErr_NewExceptionWithDoc("tickflow.Error", "A tickflow failure: I/O, corrupt data, an unreachable server, a busy store.",
                                PyExc_RuntimeError, nullptr)));
  m.attr("Error") = *tp::error_type;
  m.attr("__version__") = tickflow::kVersion;
  m.def("set_buffer_cache", &tp::SetBufferCacheLimit, py::arg("bytes"),
        "Bytes of released column buffers kept for the next query (default 1 GiB; 0: none, given back at once).");
  m.def(
      "buffer_cache", [] { return py::make_tuple(tp::BufferCacheBytes(), tp::BufferCacheLimit()); },
      "(bytes kept now, limit)");
  tp::RegisterStore(m);
  tp::RegisterReplay(m);
  tp::RegisterBacktest(m);
}
