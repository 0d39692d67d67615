// Shared pieces of the Python module: errors as Python exceptions, columns
// handed to numpy without a copy, time arguments.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "tickflow/core/decimal.hpp"
#include "tickflow/core/market.hpp"
#include "tickflow/core/result.hpp"
#include "tickflow/store/store.hpp"

namespace py = pybind11;

namespace tickflow::python {

// Raises `error` as a Python exception: ValueError for invalid arguments,
// LookupError for what is not found, tickflow.Error for everything else; the
// message is the library's, unchanged.
[[noreturn]] void Raise(const Error& error);
inline void Check(const Status& s) {
  if (!s.ok()) Raise(s.error());
}
template <class T>
T Unwrap(Result<T> r) {
  if (!r.ok()) Raise(r.error());
  return std::move(*r);
}

// Big column buffers (≥ 4 MiB) that numpy released, kept for the next
// query instead of being given back to the kernel: a fresh buffer costs a
// page fault and a page clear per 4 KiB (or 2 MiB) page — 41 % of the time of
// Store.trades in `perf` — and a kept one is already mapped. At most
// `BufferCacheLimit()` bytes are kept (default 1 GiB, `TICKFLOW_BUFFER_CACHE`
// or tickflow.set_buffer_cache(bytes); 0 turns it off); beyond, the oldest
// go back to the kernel. A buffer is reused for a request of 2/3 of its size
// or more.
void* TakeCachedBuffer(std::size_t bytes);                   // null if none fits
bool KeepCachedBuffer(void* p, std::size_t bytes) noexcept;  // false: the caller frees it
std::size_t BufferCacheLimit();
void SetBufferCacheLimit(std::size_t bytes);
std::size_t BufferCacheBytes();

// An allocator for columns handed to numpy: new elements are left
// uninitialised (columns are resized for a batch and written once, not zeroed
// first), and big columns are asked to live on transparent huge pages and
// come from the buffer cache above when it holds one that fits.
template <class T>
struct UninitializedAllocator : std::allocator<T> {
  static constexpr std::size_t kHuge = std::size_t{2} << 20;
  template <class U>
  struct rebind {
    using other = UninitializedAllocator<U>;
  };
  UninitializedAllocator() = default;
  template <class U>
  UninitializedAllocator(const UninitializedAllocator<U>&) noexcept {}
  static bool Big(std::size_t n) { return n * sizeof(T) >= 2 * kHuge; }
  static std::size_t Rounded(std::size_t n) { return (n * sizeof(T) + kHuge - 1) / kHuge * kHuge; }
  T* allocate(std::size_t n) {
    if (!Big(n)) return std::allocator<T>::allocate(n);
    if (void* kept = TakeCachedBuffer(Rounded(n))) return static_cast<T*>(kept);
    void* p = std::aligned_alloc(kHuge, Rounded(n));
    if (p == nullptr) throw std::bad_alloc();
    ::madvise(p, Rounded(n), MADV_HUGEPAGE);  // advice only: without THP the pages are small
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (!Big(n)) return std::allocator<T>::deallocate(p, n);
    if (!KeepCachedBuffer(p, Rounded(n))) std::free(p);
  }
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
template <class T>
using Column = std::vector<T, UninitializedAllocator<T>>;

// The vector's buffer becomes the array's (no copy): a capsule owns it.
template <class T, class A>
py::array_t<T> ToNumpy(std::vector<T, A>&& v) {
  auto* owned = new std::vector<T, A>(std::move(v));
  py::capsule free(owned, [](void* p) { delete static_cast<std::vector<T, A>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(owned->size())}, {static_cast<py::ssize_t>(sizeof(T))}, owned->data(),
                        free);
}
// Epoch nanoseconds as numpy datetime64[ns] (UTC by convention), without a copy.
template <class A>
py::array ToDatetime(std::vector<std::int64_t, A>&& ns) {
  py::array_t<std::int64_t> raw = ToNumpy(std::move(ns));
  return raw.attr("view")("datetime64[ns]");
}

// A start or end argument: None, epoch nanoseconds (int) or ISO-8601 text;
// errors name the argument.
std::optional<UnixNanos> TimeArg(const py::object& value, const char* name);
// [start, end) from two such arguments; an empty range is an error naming both.
store::TimeRange RangeArg(const py::object& start, const py::object& end);

// The Python decimal.Decimal of a text.
py::object PyDecimal(const std::string& text);

// Trades as columns; `symbol` indexes the requested names (a pandas Categorical's codes).
struct TradeColumnsOut {
  Column<std::int64_t> time, price_mantissa, volume_mantissa;
  Column<double> price, volume;
  Column<std::uint8_t> price_scale, volume_scale;
  Column<std::int16_t> symbol;

  void Reserve(std::size_t n) {
    time.reserve(n), price_mantissa.reserve(n), volume_mantissa.reserve(n), price.reserve(n), volume.reserve(n);
    price_scale.reserve(n), volume_scale.reserve(n), symbol.reserve(n);
  }
  // Grows every column once per batch (returns where the batch starts); Write then fills it through
  // pointers, with no per-element capacity checks.
  std::size_t Grow(std::size_t n) {
    const std::size_t at = time.size();
    time.resize(at + n), price.resize(at + n), volume.resize(at + n), price_mantissa.resize(at + n);
    volume_mantissa.resize(at + n), price_scale.resize(at + n), volume_scale.resize(at + n), symbol.resize(at + n);
    return at;
  }
  void Write(std::size_t at, std::span<const Trade> trades, const SymbolTable<std::int16_t>& code_of) {
    std::int64_t* t = time.data() + at;
    double* p = price.data() + at;
    double* v = volume.data() + at;
    std::int64_t* pm = price_mantissa.data() + at;
    std::int64_t* vm = volume_mantissa.data() + at;
    std::uint8_t* ps = price_scale.data() + at;
    std::uint8_t* vs = volume_scale.data() + at;
    std::int16_t* s = symbol.data() + at;
    for (std::size_t i = 0; i < trades.size(); ++i) {
      const Trade& x = trades[i];
      t[i] = x.time.ns;
      p[i] = x.price.ToDouble();
      v[i] = x.volume.ToDouble();
      pm[i] = x.price.mantissa();
      vm[i] = x.volume.mantissa();
      ps[i] = static_cast<std::uint8_t>(x.price.scale());
      vs[i] = static_cast<std::uint8_t>(x.volume.scale());
      s[i] = code_of[x.symbol];
    }
  }
  void Append(std::span<const Trade> trades, const SymbolTable<std::int16_t>& code_of) {
    Write(Grow(trades.size()), trades, code_of);
  }
  std::size_t size() const { return time.size(); }
  py::dict ToDict(const std::vector<std::string>& names) && {
    py::dict d;
    d["time"] = ToDatetime(std::move(time));
    d["price"] = ToNumpy(std::move(price));
    d["volume"] = ToNumpy(std::move(volume));
    d["price_mantissa"] = ToNumpy(std::move(price_mantissa));
    d["price_scale"] = ToNumpy(std::move(price_scale));
    d["volume_mantissa"] = ToNumpy(std::move(volume_mantissa));
    d["volume_scale"] = ToNumpy(std::move(volume_scale));
    d["symbol"] = ToNumpy(std::move(symbol));
    d["symbols"] = names;
    return d;
  }
};

// Bars as columns, `symbol` as in TradeColumnsOut (dropped when `names` is empty).
struct BarColumnsOut {
  std::vector<std::int64_t> time;
  std::vector<double> open, high, low, close, volume;
  std::vector<std::uint64_t> trades;
  std::vector<std::int16_t> symbol;
  void Append(const Bar& b, std::int16_t code) {
    time.push_back(b.time.ns);
    open.push_back(b.open.ToDouble());
    high.push_back(b.high.ToDouble());
    low.push_back(b.low.ToDouble());
    close.push_back(b.close.ToDouble());
    volume.push_back(b.volume.ToDouble());
    trades.push_back(b.trades);
    symbol.push_back(code);
  }
  std::size_t size() const { return time.size(); }
  py::dict ToDict(const std::vector<std::string>& names) && {
    py::dict d;
    d["time"] = ToDatetime(std::move(time));
    d["open"] = ToNumpy(std::move(open));
    d["high"] = ToNumpy(std::move(high));
    d["low"] = ToNumpy(std::move(low));
    d["close"] = ToNumpy(std::move(close));
    d["volume"] = ToNumpy(std::move(volume));
    d["trades"] = ToNumpy(std::move(trades));
    if (!names.empty()) {
      d["symbol"] = ToNumpy(std::move(symbol));
      d["symbols"] = names;
    }
    return d;
  }
};

// Symbol names resolved in a store: ids in the order given, names as stored,
// and the code (position in that order) of each id. No Python calls (it runs
// with the GIL released); errors name an unknown symbol or one given twice.
struct Resolved {
  std::vector<SymbolId> ids;
  std::vector<std::string> names;
  SymbolTable<std::int16_t> code_of = SymbolTable<std::int16_t>(-1);
  std::uint64_t trades = 0;  // stored trades of these symbols, over all time
};

Result<Resolved> Resolve(store::Store& store, const std::vector<std::string>& names);

void RegisterStore(py::module_& m);
void RegisterReplay(py::module_& m);
void RegisterBacktest(py::module_& m);

}  // namespace tickflow::python
