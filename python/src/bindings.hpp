// Shared pieces of the Python module: errors as Python exceptions, columns
// handed to numpy without a copy, time arguments.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
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

// The vector's buffer becomes the array's (no copy): a capsule owns it.
template <class T>
py::array_t<T> ToNumpy(std::vector<T>&& v) {
  auto* owned = new std::vector<T>(std::move(v));
  py::capsule free(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(owned->size())}, {static_cast<py::ssize_t>(sizeof(T))}, owned->data(),
                        free);
}
// Epoch nanoseconds as numpy datetime64[ns] (UTC by convention), without a copy.
py::array ToDatetime(std::vector<std::int64_t>&& ns);

// A start or end argument: None, epoch nanoseconds (int) or ISO-8601 text;
// errors name the argument.
std::optional<UnixNanos> TimeArg(const py::object& value, const char* name);
// [start, end) from two such arguments; an empty range is an error naming both.
store::TimeRange RangeArg(const py::object& start, const py::object& end);

// The Python decimal.Decimal of a text.
py::object PyDecimal(const std::string& text);

// Trades as columns; `symbol` indexes the requested names (a pandas Categorical's codes).
struct TradeColumnsOut {
  std::vector<std::int64_t> time, price_mantissa, volume_mantissa;
  std::vector<double> price, volume;
  std::vector<std::uint8_t> price_scale, volume_scale;
  std::vector<std::int16_t> symbol;

  void Reserve(std::size_t n) {
    time.reserve(n), price_mantissa.reserve(n), volume_mantissa.reserve(n), price.reserve(n), volume.reserve(n);
    price_scale.reserve(n), volume_scale.reserve(n), symbol.reserve(n);
  }
  void Append(std::span<const Trade> trades, const std::vector<std::int16_t>& code_of) {
    for (const Trade& t : trades) {
      time.push_back(t.time.ns);
      price.push_back(t.price.ToDouble());
      volume.push_back(t.volume.ToDouble());
      price_mantissa.push_back(t.price.mantissa());
      volume_mantissa.push_back(t.volume.mantissa());
      price_scale.push_back(static_cast<std::uint8_t>(t.price.scale()));
      volume_scale.push_back(static_cast<std::uint8_t>(t.volume.scale()));
      symbol.push_back(code_of[t.symbol]);
    }
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

void RegisterStore(py::module_& m);
void RegisterReplay(py::module_& m);
void RegisterBacktest(py::module_& m);

}  // namespace tickflow::python
