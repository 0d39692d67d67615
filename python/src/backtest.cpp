// tickflow.backtest, sweeps, walk-forward and audit with built-in or Python
// strategies. A Python strategy runs on the calling thread with the GIL held
// (session::RunBacktestOnStore); built-in ones run with the GIL released. An
// exception raised by a strategy stops the run and is re-raised unchanged,
// traceback included.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "bindings.hpp"
#include "tickflow/core/resolution.hpp"
#include "tickflow/core/time.hpp"
#include "tickflow/research/audit.hpp"
#include "tickflow/research/sweep.hpp"
#include "tickflow/research/walkforward.hpp"
#include "tickflow/session/backtest_job.hpp"
#include "tickflow/store/symbol_patterns.hpp"

namespace tickflow::python {
namespace {

using backtest::Amount;

py::object ToPy(const Amount& a) { return PyDecimal(a.ToString()); }
py::object ToPy(Decimal d) { return PyDecimal(d.ToString()); }

// A quantity or price from Python: Decimal, str or int exactly; a float by its
// shortest repr (0.1 -> "0.1"). Errors name the argument and the value.
Decimal DecimalArg(const py::handle& v, const char* name) {
  std::string text;
  if (py::isinstance<py::bool_>(v)) throw py::type_error(std::string(name) + ": expected a number, got a bool");
  if (py::isinstance<py::str>(v)) {
    text = v.cast<std::string>();
  } else if (py::isinstance<py::int_>(v)) {
    text = py::str(v).cast<std::string>();
  } else if (py::isinstance<py::float_>(v)) {
    const double x = v.cast<double>();
    if (!std::isfinite(x)) throw py::value_error(std::string(name) + ": " + py::str(v).cast<std::string>() + " is not a finite number");
    // Its shortest text when a Decimal holds it, else rounded to what one holds (17 digits, at most 15 decimals).
    text = py::repr(v).cast<std::string>();
    const std::size_t dot = text.find('.');
    if (text.find_first_of("eE") != std::string::npos || (dot != std::string::npos && text.size() - dot - 1 > 15) ||
        std::fabs(x) >= 1e17) {
      const int int_digits = std::fabs(x) >= 1 ? static_cast<int>(std::floor(std::log10(std::fabs(x)))) + 1 : 0;
      text = fmt::format("{:.{}f}", x, std::clamp(17 - int_digits, 0, 15));
    }
    if (text.find('.') != std::string::npos) {
      while (text.back() == '0') text.pop_back();
      if (text.back() == '.') text.pop_back();
    }
  } else {
    text = py::str(py::module_::import("builtins").attr("format")(v, "f")).cast<std::string>();  // decimal.Decimal
  }
  if (text == "-0") text = "0";
  Decimal d;
  if (const DecimalParseStatus s = Decimal::Parse(text, &d); s != DecimalParseStatus::kOk) {
    throw py::value_error(std::string(name) + " '" + text + "': " + std::string(Describe(s)));
  }
  return d;
}

struct Names {
  std::map<SymbolId, std::string> by_id;
  std::map<std::string, SymbolId, std::less<>> by_name;
  SymbolId Id(const std::string& name) const {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      std::string known;
      for (const auto& [n, id] : by_name) known += (known.empty() ? "" : ", ") + n;
      throw py::value_error("symbol " + name + " is not traded in this backtest (traded: " + known + ")");
    }
    return it->second;
  }
  const std::string& Name(SymbolId id) const { return by_id.at(id); }
};

// What a Python strategy sees: the account, valid only inside a callback.
class Context {
 public:
  explicit Context(std::shared_ptr<const Names> names) : names_(std::move(names)) {}
  void Bind(backtest::Account* a) { account_ = a; }
  SymbolId Id(const std::string& symbol) const { return names_->Id(symbol); }

  backtest::Account& A() const {
    if (account_ == nullptr) throw py::value_error("the context is only valid inside a strategy callback");
    return *account_;
  }
  backtest::OrderId Submit(const std::string& symbol, const std::string& side, const py::object& quantity,
                           const std::string& type, const py::object& limit, const py::object& stop, const std::string& tif,
                           bool post_only) {
    backtest::OrderRequest r;
    r.symbol = names_->Id(symbol);
    if (side == "buy") r.side = backtest::Side::kBuy;
    else if (side == "sell") r.side = backtest::Side::kSell;
    else throw py::value_error("side '" + side + "': use buy or sell");
    if (type == "market") r.type = backtest::OrderType::kMarket;
    else if (type == "limit") r.type = backtest::OrderType::kLimit;
    else if (type == "stop") r.type = backtest::OrderType::kStopMarket;
    else if (type == "stop-limit") r.type = backtest::OrderType::kStopLimit;
    else throw py::value_error("type '" + type + "': use market, limit, stop or stop-limit");
    if (tif == "gtc") r.tif = backtest::TimeInForce::kGoodTillCancel;
    else if (tif == "ioc") r.tif = backtest::TimeInForce::kImmediateOrCancel;
    else if (tif == "fok") r.tif = backtest::TimeInForce::kFillOrKill;
    else throw py::value_error("tif '" + tif + "': use gtc, ioc or fok");
    r.quantity = DecimalArg(quantity, "quantity");
    if (!limit.is_none()) r.limit = DecimalArg(limit, "limit");
    if (!stop.is_none()) r.stop = DecimalArg(stop, "stop");
    r.post_only = post_only;
    return A().Submit(r);
  }
  py::object Position(const std::string& symbol) const {
    const backtest::Position& p = A().position(names_->Id(symbol));
    py::dict d;
    d["quantity"] = ToPy(p.quantity), d["cost"] = ToPy(p.cost), d["realized_pnl"] = ToPy(p.realized_pnl);
    d["last_price"] = ToPy(p.last_price), d["average_price"] = p.AveragePrice();
    return d;
  }
  py::dict Positions() const {
    py::dict d;
    for (const auto& [id, name] : names_->by_id) {
      if (!traded_.count(id)) continue;
      d[py::str(name)] = ToPy(A().position(id).quantity);
    }
    return d;
  }
  py::object Order(backtest::OrderId id) const {
    const backtest::Order* o = A().order(id);
    if (o == nullptr) return py::none();
    py::dict d;
    d["id"] = o->id, d["symbol"] = names_->Name(o->request.symbol), d["side"] = std::string(ToString(o->request.side));
    d["type"] = std::string(ToString(o->request.type)), d["quantity"] = ToPy(o->request.quantity);
    d["status"] = std::string(ToString(o->status)), d["reason"] = std::string(ToString(o->reason));
    d["filled"] = ToPy(o->filled), d["detail"] = o->detail;
    return d;
  }
  py::dict Instrument(const std::string& symbol) const {
    const backtest::Instrument& i = A().instrument(names_->Id(symbol));
    py::dict d;
    d["symbol"] = i.symbol, d["base"] = i.base, d["quote"] = i.quote, d["tick_size"] = ToPy(i.tick_size);
    d["lot_size"] = ToPy(i.lot_size), d["min_order"] = ToPy(i.min_order), d["from_table"] = i.from_table;
    return d;
  }
  std::set<SymbolId> traded_;

 private:
  std::shared_ptr<const Names> names_;  // shared: a context kept past its run still names symbols safely
  backtest::Account* account_ = nullptr;
};

// Copies (the symbol too): a strategy may keep them.
struct TradeView {
  std::string symbol;
  Trade t;
};
struct BarView {
  std::string symbol;
  Bar b;
};

// The first exception a Python strategy raised in a run (the run stops there).
struct PyFailure {
  std::optional<py::error_already_set> error;
};

class PyStrategy final : public backtest::Strategy {
 public:
  PyStrategy(py::object obj, std::string name, std::shared_ptr<const Names> names, const std::set<SymbolId>& traded,
             std::shared_ptr<PyFailure> failure)
      : obj_(std::move(obj)), name_(std::move(name)), names_(names), failure_(std::move(failure)),
        ctx_(std::make_shared<Context>(std::move(names))) {
    ctx_->traded_ = traded;
    ctx_obj_ = py::cast(ctx_);
    for (const char* m : {"on_start", "on_trade", "on_bar", "on_order", "on_fill", "on_timer", "on_end"}) {
      py::object f = py::getattr(obj_, m, py::none());
      methods_.push_back(f.is_none() ? py::none() : f);
    }
  }
  std::string name() const override { return name_; }
  void OnStart(backtest::Account& a) override { Call(a, 0, [&](const py::object& f) { f(ctx_obj_); }); }
  void OnTrade(backtest::Account& a, const Trade& t) override {
    if (methods_[1].is_none() || !ctx_->traded_.count(t.symbol)) return;
    Call(a, 1, [&](const py::object& f) { f(ctx_obj_, TradeView{names_->Name(t.symbol), t}); });
  }
  void OnBar(backtest::Account& a, SymbolId s, const Bar& b) override {
    Call(a, 2, [&](const py::object& f) { f(ctx_obj_, BarView{names_->Name(s), b}); });
  }
  void OnOrder(backtest::Account& a, const backtest::OrderEvent& e) override {
    if (methods_[3].is_none() && methods_[4].is_none()) return;
    py::dict d;
    d["kind"] = std::string(ToString(e.kind)), d["id"] = e.id, d["symbol"] = names_->Name(e.symbol);
    d["time"] = e.time.ns, d["reason"] = std::string(ToString(e.reason)), d["detail"] = e.detail;
    py::object fill = py::none();
    if (e.fill) {
      py::dict f;
      f["order"] = e.fill->order, f["symbol"] = names_->Name(e.fill->symbol), f["side"] = std::string(ToString(e.fill->side));
      f["time"] = e.fill->time.ns, f["price"] = ToPy(e.fill->price), f["quantity"] = ToPy(e.fill->quantity);
      f["fee"] = ToPy(e.fill->fee), f["maker"] = e.fill->maker, f["realized_pnl"] = ToPy(e.fill->realized_pnl);
      fill = std::move(f);
    }
    d["fill"] = fill;
    Call(a, 3, [&](const py::object& f) { f(ctx_obj_, d); });
    if (!fill.is_none()) Call(a, 4, [&](const py::object& f) { f(ctx_obj_, fill); });
  }
  void OnTimer(backtest::Account& a, std::uint64_t tag) override { Call(a, 5, [&](const py::object& f) { f(ctx_obj_, tag); }); }
  void OnEnd(backtest::Account& a) override { Call(a, 6, [&](const py::object& f) { f(ctx_obj_); }); }

 private:
  template <class F>
  void Call(backtest::Account& a, std::size_t method, F&& call) {
    if (failure_->error || methods_[method].is_none()) return;
    ctx_->Bind(&a);
    try {
      call(methods_[method]);
    } catch (py::error_already_set& e) {
      failure_->error = std::move(e);
    } catch (const std::exception& e) {  // pybind11's own (type or value errors of arguments) become Python errors
      PyErr_SetString(PyExc_RuntimeError, e.what());
      failure_->error = py::error_already_set();
    }
    ctx_->Bind(nullptr);
  }

  py::object obj_;
  std::string name_;
  std::shared_ptr<const Names> names_;
  std::shared_ptr<PyFailure> failure_;
  std::shared_ptr<Context> ctx_;
  py::object ctx_obj_;
  std::vector<py::object> methods_;
};

// One backtest's outcome, kept whole for the outputs and the research functions.
struct PyResult {
  session::BacktestOutcome outcome;
};

std::string Label(const backtest::ModelRun& r) { return r.label.empty() ? r.model.name : r.label + " / " + r.model.name; }

py::dict Equity(const PyResult& r) {
  const backtest::Results& res = r.outcome.results;
  py::dict d;
  const auto times = [](const std::vector<backtest::EquityPoint>& pts) {
    std::vector<std::int64_t> t;
    for (const auto& p : pts) t.push_back(p.time.ns);
    return ToDatetime(std::move(t));
  };
  const auto values = [](const std::vector<backtest::EquityPoint>& pts, bool exposure) {
    std::vector<double> v;
    for (const auto& p : pts) v.push_back((exposure ? p.exposure : p.equity).ToDouble());
    return ToNumpy(std::move(v));
  };
  py::list runs;
  for (const auto& run : res.runs) {
    py::dict one;
    one["label"] = Label(run), one["model"] = run.model.name, one["configuration"] = run.label;
    one["time"] = times(run.equity), one["equity"] = values(run.equity, false), one["exposure"] = values(run.equity, true);
    runs.append(one);
  }
  d["runs"] = runs;
  py::dict bench;
  bench["time"] = times(res.benchmark), bench["equity"] = values(res.benchmark, false);
  d["benchmark"] = bench;
  return d;
}

py::list Metrics(const PyResult& r) {
  py::object loads = py::module_::import("json").attr("loads");
  py::list out;
  for (const auto& run : r.outcome.results.runs) {
    py::dict d = loads(run.metrics.ToJson(0));
    d["label"] = Label(run), d["model"] = run.model.name, d["configuration"] = run.label;
    out.append(d);
  }
  py::dict b = loads(r.outcome.results.benchmark_metrics.ToJson(0));
  b["label"] = "buy and hold", b["model"] = "benchmark", b["configuration"] = "";
  out.append(b);
  return out;
}

backtest::ExecutionModel ModelNamed(const std::string& name, double latency_ms, double md_latency_ms) {
  if (name == "optimistic") return {"optimistic", backtest::FillRule::kTouch, {}};
  if (name == "conservative") return {"conservative", backtest::FillRule::kConservative, {}};
  if (name == "latency") {
    backtest::ExecutionModel m{"latency", backtest::FillRule::kConservative, {}};
    m.latency.order_entry = std::chrono::nanoseconds(static_cast<std::int64_t>(latency_ms * 1e6));
    m.latency.market_data = std::chrono::nanoseconds(static_cast<std::int64_t>(md_latency_ms * 1e6));
    return m;
  }
  throw py::value_error("model '" + name + "': use conservative, optimistic or latency");
}

std::vector<std::string> Assignments(const py::dict& params) {
  std::vector<std::string> out;
  for (const auto& [k, v] : params) out.push_back(py::str(k).cast<std::string>() + "=" + py::str(v).cast<std::string>());
  return out;
}

std::string StrategyName(const py::object& s) {
  if (py::hasattr(s, "name") && py::isinstance<py::str>(s.attr("name"))) return s.attr("name").cast<std::string>();
  if (py::hasattr(s, "__name__")) return s.attr("__name__").cast<std::string>();
  return py::str(s.get_type().attr("__name__")).cast<std::string>();
}

struct Run {
  std::string label;
  py::object strategy;  // str: a built-in's name; else a class or factory called with **params
  py::dict params;
};

std::unique_ptr<PyResult> RunBacktest(const std::string& store, const std::vector<std::string>& symbols,
                                      const py::object& start, const py::object& end, const std::string& resolution,
                                      const py::dict& cash, const std::string& base, const std::vector<std::string>& models,
                                      double latency_ms, double md_latency_ms, bool fee_in_base, const std::string& fees_csv,
                                      const std::string& instruments_csv, const std::vector<Run>& runs) {
  if (runs.empty()) throw py::value_error("no strategy to run");
  session::BacktestJob job;
  job.db = store;
  job.symbols = symbols;
  job.range = RangeArg(start, end);
  auto res = ParseResolution(resolution);
  if (!res.ok()) throw py::value_error("resolution '" + resolution + "': " + res.error().message);
  if (*res == TimeResolution::kNone) throw py::value_error("resolution: a backtest needs a bar resolution such as 1m or 1d");
  job.options.bar_resolution = *res;
  job.config.resolution = resolution;
  job.options.base_currency = base;
  std::vector<std::string> cash_items;
  for (const auto& [k, v] : cash) cash_items.push_back(py::str(k).cast<std::string>() + ":" + py::str(v).cast<std::string>());
  job.options.initial_cash = Unwrap(session::ParseCash(cash_items, base, "cash"));
  job.options.fee_in_base = fee_in_base;
  if (!(latency_ms >= 0 && latency_ms <= 3.6e6)) throw py::value_error("latency_ms: must be 0 .. 3600000");
  if (!(md_latency_ms >= 0 && md_latency_ms <= 3.6e6)) throw py::value_error("md_latency_ms: must be 0 .. 3600000");
  for (const std::string& m : models) job.options.models.push_back(ModelNamed(m, latency_ms, md_latency_ms));
  if (job.options.models.empty()) throw py::value_error("models: name at least one execution model");
  std::optional<backtest::FeeSchedule> fees;
  if (!fees_csv.empty()) {
    fees = Unwrap(backtest::FeeSchedule::Parse(fees_csv, "fees"));
    job.options.fees = &*fees;
    job.config.fee_schedule = "given to tickflow.backtest";
  }
  std::optional<backtest::InstrumentTable> table;
  if (!instruments_csv.empty()) {
    table = Unwrap(backtest::InstrumentTable::Parse(instruments_csv, "instruments"));
    job.rules = &*table;
  }

  // Names of the traded symbols (resolved again, and checked, by the job).
  auto names = std::make_shared<Names>();
  std::set<SymbolId> traded;
  {
    store::OpenOptions o;
    o.create = false;
    o.read_only = true;
    auto s = Unwrap(store::OpenStore(store, o));
    const auto all = Unwrap(s->ListSymbols());
    const auto wanted = Unwrap(store::ExpandSymbolPatterns(symbols, all));  // globs: '*USD', '*'
    for (const auto& info : all) {
      names->by_id[info.id] = info.symbol;
      if (std::find(wanted.begin(), wanted.end(), info.symbol) != wanted.end()) {
        names->by_name[info.symbol] = info.id;
        traded.insert(info.id);
      }
    }
  }
  auto failure = std::make_shared<PyFailure>();
  bool python = false;
  std::vector<std::pair<std::string, std::string>> python_params;
  const auto factory = [&](const Run& r) -> backtest::StrategyFactory {
    if (py::isinstance<py::str>(r.strategy)) {
      const std::string name = r.strategy.cast<std::string>();
      const backtest::StrategyInfo* info = backtest::FindStrategy(name);
      if (info == nullptr) {
        std::string known;
        for (const auto& s : backtest::BuiltinStrategies()) known += (known.empty() ? "" : ", ") + s.name;
        throw py::value_error("strategy '" + name + "': not a built-in strategy (" + known + "), nor a Python class");
      }
      const backtest::Parameters p = Unwrap(session::BindParameters(*info, Assignments(r.params)));
      if (runs.size() == 1) {
        job.strategy = info;
        job.params = p;
      }
      return [info, p] { return info->make(p); };
    }
    if (!PyCallable_Check(r.strategy.ptr())) throw py::type_error("strategy: expected a built-in's name, a class or a factory");
    python = true;
    const std::string name = StrategyName(r.strategy);
    if (runs.size() == 1) {
      job.strategy_name = name;
      for (const auto& [k, v] : r.params) python_params.emplace_back(py::str(k).cast<std::string>(), py::str(v).cast<std::string>());
    }
    // Called on this thread with the GIL held (RunBacktestOnStore); an exception is kept like a callback's.
    return [obj = r.strategy, params = r.params, name, names, traded, failure]() -> std::unique_ptr<backtest::Strategy> {
      py::object instance = py::none();
      if (!failure->error) {
        try {
          instance = obj(**params);
        } catch (py::error_already_set& e) {
          failure->error = std::move(e);
        }
      }
      return std::make_unique<PyStrategy>(instance, name, names, traded, failure);
    };
  };
  if (runs.size() == 1) {
    job.make = factory(runs.front());  // a built-in's is replaced by the job's own (job.strategy)
  } else {
    if (job.options.models.size() != 1) throw py::value_error("a sweep runs under one execution model: pass one model");
    for (const Run& r : runs) job.runs.push_back({r.label, factory(r), job.options.models.front()});
    job.strategy_name = StrategyName(runs.front().strategy);
  }
  Result<session::BacktestOutcome> outcome = MakeError(ErrorCode::kInternal, "not run");
  if (python) {
    outcome = session::RunBacktestOnStore(std::move(job), [&failure]() -> Status {
      if (!failure->error && PyErr_CheckSignals() != 0) failure->error = py::error_already_set();
      if (failure->error) return MakeError(ErrorCode::kCancelled, "the strategy raised an exception");
      return {};
    });
  } else {
    py::gil_scoped_release release;
    outcome = session::RunBacktestOnStore(std::move(job));
  }
  if (failure->error) throw std::move(*failure->error);
  auto out = std::make_unique<PyResult>();
  out->outcome = Unwrap(std::move(outcome));
  if (!python_params.empty()) out->outcome.config.parameters = python_params;
  return out;
}

research::Metric MetricArg(const std::string& m) {
  auto r = research::ParseMetric(m);
  if (!r.ok()) throw py::value_error("metric '" + m + "': " + r.error().message);
  return *r;
}

py::dict Summarize(const PyResult& r, const std::string& metric, std::size_t partitions) {
  const research::SweepSummary s = Unwrap(research::Summarize(r.outcome.results.runs, MetricArg(metric), partitions));
  py::object loads = py::module_::import("json").attr("loads");
  py::dict d;
  d["metric"] = std::string(research::ToString(s.metric));
  d["best"] = s.best;
  d["scores"] = s.scores;
  py::list moments;
  for (const auto& m : s.moments) {
    py::dict x;
    x["observations"] = m.observations, x["mean"] = m.mean, x["stdev"] = m.stdev, x["skewness"] = m.skewness;
    x["kurtosis"] = m.kurtosis, x["sharpe"] = m.sharpe;
    moments.append(x);
  }
  d["moments"] = moments;
  d["deflated_sharpe"] = loads(s.deflated.ToJson());
  d["pbo"] = loads(s.pbo.ToJson());
  py::list labels;
  for (const auto& run : r.outcome.results.runs) labels.append(run.label);
  d["labels"] = labels;
  return d;
}

py::dict WalkForward(const PyResult& r, std::int64_t in_sample, std::int64_t out_of_sample, std::int64_t purge,
                     std::int64_t embargo, bool anchored, const std::string& metric) {
  research::WalkForwardOptions o;
  o.in_sample_ns = in_sample, o.out_of_sample_ns = out_of_sample, o.purge_ns = purge, o.embargo_ns = embargo;
  o.anchored = anchored;
  o.metric = MetricArg(metric);
  const auto& runs = r.outcome.results.runs;
  const research::WalkForward w = Unwrap(research::RunWalkForward(runs, r.outcome.results.main().metrics.first,
                                                                  r.outcome.results.main().metrics.last, o));
  py::list folds;
  for (const auto& f : w.folds) {
    py::dict x;
    x["is_from"] = f.is_from.ns, x["is_to"] = f.is_to.ns, x["oos_from"] = f.oos_from.ns, x["oos_to"] = f.oos_to.ns;
    x["chosen"] = runs[f.chosen].label, x["in_sample_score"] = f.in_sample_score;
    x["out_of_sample_return"] = f.out_of_sample_return;
    x["in_sample_points"] = f.in_sample_points, x["out_of_sample_points"] = f.out_of_sample_points;
    folds.append(x);
  }
  std::vector<std::int64_t> t;
  std::vector<double> e;
  for (const auto& p : w.stitched) t.push_back(p.time.ns), e.push_back(p.equity.ToDouble());
  py::dict d;
  d["folds"] = folds;
  d["time"] = ToDatetime(std::move(t));
  d["equity"] = ToNumpy(std::move(e));
  d["out_of_sample_return"] = w.out_of_sample_return;
  d["out_of_sample_sharpe"] = w.out_of_sample.sharpe;
  return d;
}

py::dict AuditRuns(const PyResult& full, const PyResult& rerun, const std::vector<const PyResult*>& prefixes,
                   const std::vector<std::int64_t>& ends) {
  if (prefixes.size() != ends.size()) throw py::value_error("audit: one end time per prefix run");
  std::vector<backtest::ModelRun> runs;
  std::vector<UnixNanos> at;
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    runs.push_back(prefixes[i]->outcome.results.main());
    at.push_back(UnixNanos{ends[i]});
  }
  const research::AuditReport a = research::Audit(full.outcome.results.main(), rerun.outcome.results.main(), runs, at);
  py::dict d;
  d["ok"] = a.ok();
  d["prefixes"] = a.prefixes;
  d["decisions_checked"] = a.decisions_checked;
  d["look_ahead"] = a.look_ahead ? py::object(py::str(a.look_ahead->Describe())) : py::none();
  d["nondeterminism"] = a.nondeterminism ? py::object(py::str(a.nondeterminism->Describe())) : py::none();
  d["deterministic_outputs"] = a.deterministic_outputs;
  return d;
}

}  // namespace

void RegisterBacktest(py::module_& m) {
  py::class_<TradeView>(m, "Trade", "A trade as a strategy sees it; *_exact are decimal.Decimal")
      .def_property_readonly("symbol", [](const TradeView& v) { return v.symbol; })
      .def_property_readonly("time", [](const TradeView& v) { return v.t.time.ns; })
      .def_property_readonly("price", [](const TradeView& v) { return v.t.price.ToDouble(); })
      .def_property_readonly("volume", [](const TradeView& v) { return v.t.volume.ToDouble(); })
      .def_property_readonly("price_exact", [](const TradeView& v) { return ToPy(v.t.price); })
      .def_property_readonly("volume_exact", [](const TradeView& v) { return ToPy(v.t.volume); })
      .def("__repr__", [](const TradeView& v) {
        return fmt::format("Trade({} {} price={} volume={})", v.symbol, FormatIso8601(v.t.time), v.t.price.ToString(),
                           v.t.volume.ToString());
      });
  py::class_<BarView>(m, "Bar", "A complete bar at the backtest's resolution; *_exact are decimal.Decimal")
      .def_property_readonly("symbol", [](const BarView& v) { return v.symbol; })
      .def_property_readonly("time", [](const BarView& v) { return v.b.time.ns; })
      .def_property_readonly("open", [](const BarView& v) { return v.b.open.ToDouble(); })
      .def_property_readonly("high", [](const BarView& v) { return v.b.high.ToDouble(); })
      .def_property_readonly("low", [](const BarView& v) { return v.b.low.ToDouble(); })
      .def_property_readonly("close", [](const BarView& v) { return v.b.close.ToDouble(); })
      .def_property_readonly("volume", [](const BarView& v) { return v.b.volume.ToDouble(); })
      .def_property_readonly("trades", [](const BarView& v) { return v.b.trades; })
      .def_property_readonly("open_exact", [](const BarView& v) { return ToPy(v.b.open); })
      .def_property_readonly("high_exact", [](const BarView& v) { return ToPy(v.b.high); })
      .def_property_readonly("low_exact", [](const BarView& v) { return ToPy(v.b.low); })
      .def_property_readonly("close_exact", [](const BarView& v) { return ToPy(v.b.close); })
      .def("__repr__", [](const BarView& v) {
        return fmt::format("Bar({} {} o={} h={} l={} c={} v={} n={})", v.symbol, FormatIso8601(v.b.time),
                           v.b.open.ToString(), v.b.high.ToString(), v.b.low.ToString(), v.b.close.ToString(),
                           v.b.volume.ToString(), v.b.trades);
      });
  py::class_<Context, std::shared_ptr<Context>>(m, "Context", "The account and the virtual exchange, inside a strategy callback")
      .def("submit", &Context::Submit, py::arg("symbol"), py::arg("side"), py::arg("quantity"), py::arg("type") = "market",
           py::arg("limit") = py::none(), py::arg("stop") = py::none(), py::arg("tif") = "gtc", py::arg("post_only") = false)
      .def("buy", [](Context& c, const std::string& s, const py::object& q, const py::object& limit) {
             return c.Submit(s, "buy", q, limit.is_none() ? "market" : "limit", limit, py::none(), "gtc", false);
           }, py::arg("symbol"), py::arg("quantity"), py::arg("limit") = py::none())
      .def("sell", [](Context& c, const std::string& s, const py::object& q, const py::object& limit) {
             return c.Submit(s, "sell", q, limit.is_none() ? "market" : "limit", limit, py::none(), "gtc", false);
           }, py::arg("symbol"), py::arg("quantity"), py::arg("limit") = py::none())
      .def("cancel", [](Context& c, backtest::OrderId id) { return c.A().Cancel(id); }, py::arg("order_id"))
      .def("amend", [](Context& c, backtest::OrderId id, const py::object& q, const py::object& limit) {
             std::optional<Decimal> nq, nl;
             if (!q.is_none()) nq = DecimalArg(q, "quantity");
             if (!limit.is_none()) nl = DecimalArg(limit, "limit");
             return c.A().Amend(id, nq, nl);
           }, py::arg("order_id"), py::arg("quantity") = py::none(), py::arg("limit") = py::none())
      .def("order", &Context::Order, py::arg("order_id"))
      .def("position", &Context::Position, py::arg("symbol"))
      .def_property_readonly("positions", &Context::Positions)
      .def("balance", [](const Context& c, const py::object& cur) {
             return ToPy(c.A().balance(cur.is_none() ? c.A().base_currency() : cur.cast<std::string>()));
           }, py::arg("currency") = py::none())
      .def("available", [](const Context& c, const py::object& cur) {
             return ToPy(c.A().available(cur.is_none() ? c.A().base_currency() : cur.cast<std::string>()));
           }, py::arg("currency") = py::none())
      .def_property_readonly("cash", [](const Context& c) { return ToPy(c.A().balance(c.A().base_currency())); })
      .def_property_readonly("equity", [](const Context& c) { return ToPy(c.A().equity()); })
      .def_property_readonly("base_currency", [](const Context& c) { return c.A().base_currency(); })
      .def_property_readonly("now", [](const Context& c) { return c.A().now().ns; })
      .def("instrument", &Context::Instrument, py::arg("symbol"))
      .def("holding", [](const Context& c, const std::string& s) { return ToPy(backtest::Holding(c.A(), c.Id(s))); },
           py::arg("symbol"))
      .def("quantity_for_fraction", [](const Context& c, const std::string& s, const py::object& fraction, const py::object& price) {
             return ToPy(backtest::QuantityForFraction(c.A(), c.Id(s), DecimalArg(fraction, "fraction"), DecimalArg(price, "price")));
           }, py::arg("symbol"), py::arg("fraction"), py::arg("price"))
      .def("sellable", [](const Context& c, const std::string& s) { return ToPy(c.A().SellableQuantity(c.Id(s))); },
           py::arg("symbol"))
      .def("quantity_for", [](const Context& c, const std::string& s, const py::object& amount, const py::object& price) {
             return ToPy(c.A().QuantityFor(c.Id(s), Amount::FromDecimal(DecimalArg(amount, "amount")), DecimalArg(price, "price")));
           }, py::arg("symbol"), py::arg("amount"), py::arg("price"))
      .def("to_tick", [](const Context& c, const std::string& s, const py::object& price, bool up) {
             return ToPy(c.A().ToTick(c.Id(s), DecimalArg(price, "price"), up));
           }, py::arg("symbol"), py::arg("price"), py::arg("up") = false)
      .def("open_orders", [](const Context& c, const std::string& s) { return c.A().open_orders(c.Id(s)); }, py::arg("symbol"))
      .def("cancel_all", [](Context& c, const std::string& s) { c.A().CancelAll(c.Id(s)); }, py::arg("symbol"))
      .def("set_timer", [](Context& c, std::int64_t at, std::uint64_t tag) { c.A().SetTimer(UnixNanos{at}, tag); },
           py::arg("at"), py::arg("tag") = 0)
      .def("signal", [](Context& c, const std::string& s, const py::object& price, const std::string& text) {
             c.A().Signal(c.Id(s), DecimalArg(price, "price"), text);
           }, py::arg("symbol"), py::arg("price"), py::arg("text"));

  py::class_<Run>(m, "_Run")
      .def(py::init([](std::string label, py::object strategy, py::dict params) {
             return Run{std::move(label), std::move(strategy), std::move(params)};
           }), py::arg("label"), py::arg("strategy"), py::arg("params"));
  py::class_<PyResult>(m, "_Result")
      .def("fills_csv", [](const PyResult& r) { return backtest::FillsCsv(r.outcome.results, r.outcome.names); })
      .def("orders_csv", [](const PyResult& r) { return backtest::OrdersCsv(r.outcome.results, r.outcome.names); })
      .def("trips_csv", [](const PyResult& r) { return backtest::TripsCsv(r.outcome.results, r.outcome.names); })
      .def("json", [](const PyResult& r) { return backtest::ResultsJson(r.outcome.results, r.outcome.config, r.outcome.names); })
      .def("html", [](const PyResult& r) { return backtest::HtmlReport(r.outcome.results, r.outcome.config, r.outcome.names); })
      .def("equity", &Equity)
      .def("metrics", &Metrics)
      .def_property_readonly("seconds", [](const PyResult& r) { return r.outcome.seconds; })
      .def_property_readonly("fingerprint", [](const PyResult& r) { return r.outcome.config.data_fingerprint; })
      .def("summarize", &Summarize, py::arg("metric"), py::arg("partitions"))
      .def("walk_forward", &WalkForward, py::arg("in_sample"), py::arg("out_of_sample"), py::arg("purge"),
           py::arg("embargo"), py::arg("anchored"), py::arg("metric"));
  m.def("_backtest", &RunBacktest, py::arg("store"), py::arg("symbols"), py::arg("start"), py::arg("end"),
        py::arg("resolution"), py::arg("cash"), py::arg("base"), py::arg("models"), py::arg("latency_ms"),
        py::arg("md_latency_ms"), py::arg("fee_in_base"), py::arg("fees_csv"), py::arg("instruments_csv"), py::arg("runs"));
  m.def("_audit", &AuditRuns, py::arg("full"), py::arg("rerun"), py::arg("prefixes"), py::arg("ends"));
  py::list names;
  for (const auto& s : backtest::BuiltinStrategies()) {
    py::dict d;
    d["name"] = s.name, d["summary"] = s.summary;
    py::list params;
    for (const auto& p : s.params) {
      py::dict x;
      x["name"] = p.name, x["type"] = p.type == backtest::ParamType::kInteger ? "integer" : "decimal";
      x["default"] = p.default_value, x["help"] = p.help;
      params.append(x);
    }
    d["params"] = params;
    names.append(d);
  }
  m.attr("BUILTIN_STRATEGIES") = names;
}

}  // namespace tickflow::python
