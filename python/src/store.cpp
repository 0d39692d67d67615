// tickflow.Store and tickflow.import_data: columns of trades and bars decoded
// with the GIL released and handed to numpy without a copy.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <mutex>

#include "bindings.hpp"
#include "tickflow/core/resolution.hpp"
#include "tickflow/core/time.hpp"
#include "tickflow/importer/importer.hpp"
#include "tickflow/store/symbol_patterns.hpp"

namespace tickflow::python {
namespace {

// A store shared by its iterators; one thread at a time uses it (store::Store is not thread-safe).
struct PyStore {
  std::string location;
  std::unique_ptr<store::Store> store;
  std::mutex mu;
};

// Runs `work` on the store with the GIL released and the store's mutex held,
// taken in that order (a thread waiting for the mutex while holding the GIL
// would deadlock with a decoding thread reacquiring the GIL), then raises its error.
template <class F>
void OnStore(PyStore& s, F&& work) {
  Status status;
  {
    py::gil_scoped_release release;
    std::lock_guard lock(s.mu);
    status = work(*s.store);
  }
  Check(status);
}

std::vector<std::string> SymbolList(const py::object& symbols) {
  if (py::isinstance<py::str>(symbols)) return {symbols.cast<std::string>()};
  std::vector<std::string> out;
  for (const py::handle h : symbols) {
    if (!py::isinstance<py::str>(h)) {
      throw py::type_error("symbols: expected a symbol name (str) or a list of names, got an item of type " +
                           std::string(py::str(h.get_type().attr("__name__"))));
    }
    out.push_back(h.cast<std::string>());
  }
  return out;
}

// One trade of a numpy structured array (`as_numpy=True`), aligned fields, 48 bytes.
struct TradeRecord {
  std::int64_t time;
  double price, volume;
  std::int64_t price_mantissa, volume_mantissa;
  std::int16_t symbol;
  std::uint8_t price_scale, volume_scale;
  std::uint8_t padding[4];
};
static_assert(sizeof(TradeRecord) == 48);

struct TradeRecordsOut {
  Column<TradeRecord> rows;
  void Reserve(std::size_t n) { rows.reserve(n); }
  std::size_t Grow(std::size_t n) {
    const std::size_t at = rows.size();
    rows.resize(at + n);
    return at;
  }
  void Write(std::size_t at, std::span<const Trade> trades, const SymbolTable<std::int16_t>& code_of) {
    TradeRecord* out = rows.data() + at;
    for (std::size_t i = 0; i < trades.size(); ++i) {
      const Trade& x = trades[i];
      out[i] = {x.time.ns, x.price.ToDouble(), x.volume.ToDouble(), x.price.mantissa(), x.volume.mantissa(),
                code_of[x.symbol], static_cast<std::uint8_t>(x.price.scale()), static_cast<std::uint8_t>(x.volume.scale()),
                {}};
    }
  }
  py::dict ToDict(const std::vector<std::string>& names) && {
    static py::object* dtype = [] {
      py::dict spec;
      spec["names"] = py::make_tuple("time", "symbol", "price", "volume", "price_mantissa", "price_scale",
                                     "volume_mantissa", "volume_scale");
      spec["formats"] = py::make_tuple("M8[ns]", "i2", "f8", "f8", "i8", "u1", "i8", "u1");
      spec["offsets"] = py::make_tuple(offsetof(TradeRecord, time), offsetof(TradeRecord, symbol),
                                       offsetof(TradeRecord, price), offsetof(TradeRecord, volume),
                                       offsetof(TradeRecord, price_mantissa), offsetof(TradeRecord, price_scale),
                                       offsetof(TradeRecord, volume_mantissa), offsetof(TradeRecord, volume_scale));
      spec["itemsize"] = sizeof(TradeRecord);
      return new py::object(py::module_::import("numpy").attr("dtype")(spec));
    }();
    auto* owned = new Column<TradeRecord>(std::move(rows));
    py::capsule free(owned, [](void* p) { delete static_cast<Column<TradeRecord>*>(p); });
    py::dict d;
    d["records"] = py::array(py::dtype::from_args(*dtype), {static_cast<py::ssize_t>(owned->size())},
                             {static_cast<py::ssize_t>(sizeof(TradeRecord))}, owned->data(), free);
    d["symbols"] = names;
    return d;
  }
};

// Batches of at most `rows` trades; memory is one batch plus the cursor's blocks.
class TradeBatches {
 public:
  TradeBatches(std::shared_ptr<PyStore> store, Resolved symbols, std::unique_ptr<store::TradeCursor> cursor,
               std::size_t rows, bool records)
      : store_(std::move(store)), symbols_(std::move(symbols)), cursor_(std::move(cursor)), rows_(rows), records_(records) {}

  py::dict Next() { return records_ ? Fill<TradeRecordsOut>() : Fill<TradeColumnsOut>(); }

 private:
  template <class Out>
  py::dict Fill() {
    Out out;
    Status failure;
    std::size_t rows = 0;
    {
      py::gil_scoped_release release;
      std::lock_guard lock(store_->mu);
      out.Reserve(rows_);
      while (rows < rows_ && !done_) {
        if (pending_.empty()) {
          auto view = cursor_->NextView();
          if (!view.ok()) {
            failure = view.error();
            break;
          }
          pending_ = *view;
          if (pending_.empty()) {
            done_ = true;
            break;
          }
        }
        const std::size_t take = std::min(pending_.size(), rows_ - rows);
        out.Write(out.Grow(take), pending_.first(take), symbols_.code_of);
        pending_ = pending_.subspan(take);
        rows += take;
      }
    }
    Check(failure);
    if (rows == 0) throw py::stop_iteration();
    return std::move(out).ToDict(symbols_.names);
  }

  std::shared_ptr<PyStore> store_;
  Resolved symbols_;
  std::unique_ptr<store::TradeCursor> cursor_;
  std::size_t rows_;
  bool records_;  // numpy records (as_numpy) instead of columns
  std::span<const Trade> pending_;  // the rest of the cursor's current block
  bool done_ = false;
};

std::shared_ptr<PyStore> OpenPyStore(const std::string& location) {
  auto s = std::make_shared<PyStore>();
  s->location = location;
  store::OpenOptions o;
  o.create = false;
  o.read_only = true;  // a reader never writes: a busy writer or a read-only file cannot stop it
  Result<std::unique_ptr<store::Store>> opened = MakeError(ErrorCode::kInternal, "not opened");
  {
    py::gil_scoped_release release;
    opened = store::OpenStore(location, o);
  }
  s->store = Unwrap(std::move(opened));
  return s;
}

py::dict Symbols(PyStore& s) {
  std::vector<store::SymbolInfo> all;
  OnStore(s, [&](store::Store& st) -> Status {
    TICKFLOW_ASSIGN_OR_RETURN(all, st.ListSymbols());
    return {};
  });
  std::vector<std::int64_t> first, last;
  std::vector<std::uint64_t> trades;
  std::vector<std::int64_t> id, price_scale, volume_scale;
  py::list symbol, base, quote;
  for (const auto& x : all) {
    id.push_back(x.id);
    symbol.append(x.symbol), base.append(x.base), quote.append(x.quote);
    // NaT (numpy's int64 minimum) for a symbol without trades.
    first.push_back(x.trade_count > 0 ? x.first_time.ns : std::numeric_limits<std::int64_t>::min());
    last.push_back(x.trade_count > 0 ? x.last_time.ns : std::numeric_limits<std::int64_t>::min());
    trades.push_back(x.trade_count);
    price_scale.push_back(x.price_scale), volume_scale.push_back(x.volume_scale);
  }
  py::dict d;
  d["id"] = ToNumpy(std::move(id));
  d["symbol"] = symbol, d["base"] = base, d["quote"] = quote;
  d["first"] = ToDatetime(std::move(first));
  d["last"] = ToDatetime(std::move(last));
  d["trades"] = ToNumpy(std::move(trades));
  d["price_scale"] = ToNumpy(std::move(price_scale));
  d["volume_scale"] = ToNumpy(std::move(volume_scale));
  return d;
}

template <class Out>
py::dict Trades(PyStore& s, const py::object& symbols, const py::object& start, const py::object& end) {
  const store::TimeRange range = RangeArg(start, end);
  const std::vector<std::string> names = SymbolList(symbols);
  Out out;
  Resolved r;
  OnStore(s, [&](store::Store& st) -> Status {
    TICKFLOW_ASSIGN_OR_RETURN(r, Resolve(st, names));
    // Every stored trade when the range is unbounded; otherwise grown as read.
    if (range.from == UnixNanos::Min() && range.to == UnixNanos::Max()) out.Reserve(r.trades);
    TICKFLOW_ASSIGN_OR_RETURN(auto cursor, st.Trades(r.ids, range));
    for (;;) {
      TICKFLOW_ASSIGN_OR_RETURN(const std::span<const Trade> view, cursor->NextView());
      if (view.empty()) return {};
      out.Write(out.Grow(view.size()), view, r.code_of);
    }
  });
  return std::move(out).ToDict(r.names);
}

std::unique_ptr<TradeBatches> IterTrades(std::shared_ptr<PyStore> s, const py::object& symbols, const py::object& start,
                                         const py::object& end, std::size_t batch_rows, bool records) {
  if (batch_rows == 0 || batch_rows > 100'000'000) throw py::value_error("batch_rows: must be 1 .. 100,000,000");
  const store::TimeRange range = RangeArg(start, end);
  const std::vector<std::string> names = SymbolList(symbols);
  Resolved r;
  std::unique_ptr<store::TradeCursor> cursor;
  OnStore(*s, [&](store::Store& st) -> Status {
    TICKFLOW_ASSIGN_OR_RETURN(r, Resolve(st, names));
    TICKFLOW_ASSIGN_OR_RETURN(cursor, st.Trades(r.ids, range));
    return {};
  });
  return std::make_unique<TradeBatches>(std::move(s), std::move(r), std::move(cursor), batch_rows, records);
}

// One symbol (a str: no symbol column) or several merged in time order (a list: a symbol column).
py::dict Bars(PyStore& s, const py::object& symbols, const std::string& resolution, const py::object& start,
              const py::object& end, bool decimal) {
  const store::TimeRange range = RangeArg(start, end);
  auto res = ParseResolution(resolution);
  if (!res.ok()) throw py::value_error("resolution '" + resolution + "': " + res.error().message);
  if (*res == TimeResolution::kNone) throw py::value_error("resolution: bars need one, such as 1m, 1h or 1d");
  const bool several = !py::isinstance<py::str>(symbols);
  const std::vector<std::string> names = SymbolList(symbols);
  std::vector<store::SymbolBar> bars;
  Resolved r;
  OnStore(s, [&](store::Store& st) -> Status {
    TICKFLOW_ASSIGN_OR_RETURN(r, Resolve(st, names));
    TICKFLOW_ASSIGN_OR_RETURN(auto cursor, store::ReadBars(st, r.ids, *res, range));
    std::vector<store::SymbolBar> chunk(4096);
    for (;;) {
      TICKFLOW_ASSIGN_OR_RETURN(const std::size_t n, cursor->Next(chunk));
      if (n == 0) return {};
      bars.insert(bars.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    }
  });
  BarColumnsOut columns;
  for (const store::SymbolBar& b : bars) columns.Append(b.bar, r.code_of[b.symbol]);
  py::dict d = std::move(columns).ToDict(several ? r.names : std::vector<std::string>{});
  if (decimal) {
    py::list o, h, l, c, v;
    for (const store::SymbolBar& sb : bars) {
      const Bar& b = sb.bar;
      o.append(PyDecimal(b.open.ToString())), h.append(PyDecimal(b.high.ToString()));
      l.append(PyDecimal(b.low.ToString())), c.append(PyDecimal(b.close.ToString()));
      v.append(PyDecimal(b.volume.ToString()));
    }
    d["open_exact"] = o, d["high_exact"] = h, d["low_exact"] = l, d["close_exact"] = c, d["volume_exact"] = v;
  }
  return d;
}

// The baseline of the module's benchmark: the C++ store scan alone (no columns), rows and a checksum.
py::tuple Scan(PyStore& s, const py::object& symbols) {
  const std::vector<std::string> names = SymbolList(symbols);
  std::uint64_t rows = 0, sum = 0;
  double seconds = 0;
  OnStore(s, [&](store::Store& st) -> Status {
    const auto t0 = std::chrono::steady_clock::now();
    TICKFLOW_ASSIGN_OR_RETURN(const Resolved r, Resolve(st, names));
    TICKFLOW_ASSIGN_OR_RETURN(auto cursor, st.Trades(r.ids, {}));
    for (;;) {
      TICKFLOW_ASSIGN_OR_RETURN(const std::span<const Trade> view, cursor->NextView());
      if (view.empty()) break;
      rows += view.size();
      for (const Trade& t : view) sum += static_cast<std::uint64_t>(t.price.raw() ^ t.volume.raw() ^ t.time.ns);
    }
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return {};
  });
  return py::make_tuple(rows, seconds, sum);
}

py::dict ImportData(const std::string& path, const std::string& location, bool skip_bad_rows, const py::object& progress) {
  importer::ImportOptions o;
  o.skip_bad_rows = skip_bad_rows;
  o.writer = "tickflow.import_data of " + path;
  std::optional<py::error_already_set> callback_error;
  if (!progress.is_none()) {
    o.on_progress = [&](const importer::ImportProgress& p) {
      py::gil_scoped_acquire acquire;
      if (callback_error) return;
      try {
        progress(p.files_done, p.files_total, p.bytes_done, p.bytes_total, p.rows_done, p.seconds,
                 std::string(p.current_file));
      } catch (py::error_already_set& e) {
        callback_error = std::move(e);
      }
    };
  }
  Result<importer::ImportSummary> summary = MakeError(ErrorCode::kInternal, "not run");
  {
    py::gil_scoped_release release;
    store::OpenOptions so;
    auto s = store::OpenStore(location, so);
    summary = s.ok() ? importer::Import(**s, path, o) : Result<importer::ImportSummary>(s.error());
  }
  if (callback_error) throw std::move(*callback_error);
  const importer::ImportSummary sum = Unwrap(std::move(summary));
  py::list files;
  for (const importer::FileReport& f : sum.files) {
    py::dict r;
    r["path"] = f.path, r["symbol"] = f.symbol, r["outcome"] = std::string(importer::ToString(f.outcome));
    r["bytes"] = f.bytes, r["rows_imported"] = f.rows_imported, r["rows_already_stored"] = f.rows_already_stored;
    r["rows_bad"] = f.rows_bad, r["blank_lines"] = f.blank_lines, r["resumed_at_byte"] = f.resumed_at_byte;
    r["errors"] = f.errors, r["failed_at_bad_row"] = f.failed_at_bad_row, r["note"] = f.note;
    files.append(r);
  }
  py::dict d;
  d["files"] = files;
  d["rows_imported"] = sum.rows_imported, d["bytes"] = sum.bytes, d["files_failed"] = sum.files_failed;
  d["files_ignored"] = sum.files_ignored, d["skipped"] = sum.skipped, d["stopped"] = sum.stopped;
  d["seconds"] = sum.seconds;
  return d;
}

}  // namespace

Result<Resolved> Resolve(store::Store& s, const std::vector<std::string>& names) {
  if (names.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "symbols: the list is empty; name at least one symbol (Store.symbols() lists them)");
  }
  // Globs ('*USD', 'XBT*', '*'): expanded over the store's symbols, each symbol once.
  auto expanded = store::ExpandSymbolPatternsWith(names, [&s] { return s.ListSymbols(); });
  if (!expanded.ok()) return MakeError(expanded.error().code, "symbols: " + expanded.error().message);
  const std::vector<std::string>& list = *expanded;
  if (list.size() > 32767)
    return MakeError(ErrorCode::kInvalidArgument, "symbols: at most 32,767 symbols in one request");
  Resolved r;
  for (const std::string& n : list) {
    TICKFLOW_ASSIGN_OR_RETURN(const store::SymbolInfo info, s.FindSymbol(n));
    if (r.code_of[info.id] >= 0) {
      return MakeError(ErrorCode::kInvalidArgument, "symbols: " + n + " is given twice; name each symbol once");
    }
    r.code_of[info.id] = static_cast<std::int16_t>(r.ids.size());
    r.ids.push_back(info.id);
    r.names.push_back(info.symbol);
    r.trades += info.trade_count;
  }
  return r;
}

void RegisterStore(py::module_& m) {
  py::class_<TradeBatches>(m, "_TradeBatches")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &TradeBatches::Next);
  py::class_<PyStore, std::shared_ptr<PyStore>>(m, "_Store")
      .def(py::init(&OpenPyStore), py::arg("location"))
      .def_property_readonly("location", [](const PyStore& s) { return s.location; })
      .def("symbols", &Symbols)
      .def("trades", &Trades<TradeColumnsOut>, py::arg("symbols"), py::arg("start") = py::none(), py::arg("end") = py::none())
      .def("trade_records", &Trades<TradeRecordsOut>, py::arg("symbols"), py::arg("start") = py::none(),
           py::arg("end") = py::none())
      .def("iter_trades", &IterTrades, py::arg("symbols"), py::arg("start") = py::none(), py::arg("end") = py::none(),
           py::arg("batch_rows") = 1'000'000, py::arg("records") = false)
      .def("bars", &Bars, py::arg("symbols"), py::arg("resolution"), py::arg("start") = py::none(),
           py::arg("end") = py::none(), py::arg("decimal") = false)
      .def("_scan", &Scan, py::arg("symbols"));
  m.def("_import_data", &ImportData, py::arg("path"), py::arg("store"), py::arg("skip_bad_rows") = false,
        py::arg("progress") = py::none());
}

}  // namespace tickflow::python
