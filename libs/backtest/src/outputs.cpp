#include "tickflow/backtest/outputs.hpp"
#include "tickflow/core/text.hpp"

#include <cstdio>

namespace tickflow::backtest {
namespace {


std::string Csv(std::string_view s) {
  if (s.find_first_of(",\"\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}


std::string Price(const Order& o) {
  if (o.filled.IsZero()) return "";
  Amount avg;
  if (!Amount::Div(o.filled_notional, o.filled, 12, Rounding::kHalfEven, &avg)) return "";
  return avg.ToString();
}

std::string Indent(const std::string& json, int spaces) {
  std::string out;
  const std::string pad(static_cast<std::size_t>(spaces), ' ');
  for (char c : json) {
    out += c;
    if (c == '\n') out += pad;
  }
  return out;
}

}  // namespace

std::string NameOf(const SymbolNames& names, SymbolId id) {
  auto it = names.find(id);
  return it == names.end() ? "symbol " + std::to_string(id) : it->second;
}

std::string FillsCsv(const Results& r, const SymbolNames& names) {
  std::string out = "time,model,symbol,order_id,side,price,quantity,fee,fee_currency,liquidity,realized_pnl\n";
  for (const ModelRun& run : r.runs) {
    for (const Fill& f : run.fills) {
      out += FormatIso8601(f.time) + "," + Csv(run.model.name) + "," + Csv(NameOf(names, f.symbol)) + "," +
             std::to_string(f.order) + "," + std::string(ToString(f.side)) + "," + f.price.ToString() + "," +
             f.quantity.ToString() + "," + f.fee.ToString() + "," + Csv(r.currencies[f.fee_currency]) + "," +
             (f.maker ? "maker" : "taker") + "," + f.realized_pnl.ToString() + "\n";
    }
  }
  return out;
}

std::string OrdersCsv(const Results& r, const SymbolNames& names) {
  std::string out =
      "model,order_id,symbol,side,type,tif,post_only,quantity,limit,stop,placed,arrives,status,reason,filled,"
      "average_price\n";
  for (const ModelRun& run : r.runs) {
    for (const Order& o : run.orders) {
      const OrderRequest& q = o.request;
      const bool limit = q.type == OrderType::kLimit || q.type == OrderType::kStopLimit;
      const bool stop = q.type == OrderType::kStopMarket || q.type == OrderType::kStopLimit;
      out += Csv(run.model.name) + "," + std::to_string(o.id) + "," + Csv(NameOf(names, q.symbol)) + "," +
             std::string(ToString(q.side)) + "," + std::string(ToString(q.type)) + "," + std::string(ToString(q.tif)) +
             "," + (q.post_only ? "1" : "0") + "," + q.quantity.ToString() + "," + (limit ? q.limit.ToString() : "") +
             "," + (stop ? q.stop.ToString() : "") + "," + FormatIso8601(o.placed) + "," + FormatIso8601(o.arrives) +
             "," + std::string(ToString(o.status)) + "," + Csv(o.detail.empty() ? std::string(ToString(o.reason)) : std::string(ToString(o.reason)) + ": " + o.detail) + "," + o.filled.ToString() + "," +
             Price(o) + "\n";
    }
  }
  return out;
}

std::string TripsCsv(const Results& r, const SymbolNames& names) {
  std::string out = "model,symbol,opened,closed,quantity,entry_price,exit_price,fills,fees,pnl,pnl_base\n";
  for (const ModelRun& run : r.runs) {
    for (const RoundTrip& t : run.round_trips) {
      out += Csv(run.model.name) + "," + Csv(NameOf(names, t.symbol)) + "," + FormatIso8601(t.opened) + "," +
             FormatIso8601(t.closed) + "," + t.quantity.ToString() + "," + t.EntryPrice().ToString() + "," +
             t.ExitPrice().ToString() + "," + std::to_string(t.fills) + "," + t.fees_quote.ToString() + "," +
             t.pnl.ToString() + "," + t.pnl_base.ToString() + "\n";
    }
  }
  return out;
}

std::string ResultsJson(const Results& r, const RunConfig& c, const SymbolNames& names) {
  std::string params = "{";
  for (const auto& [k, v] : c.parameters) params += (params.size() > 1 ? ", " : "") + JsonString(k) + ": " + JsonString(v);
  params += "}";
  std::string symbols = "[";
  for (const std::string& s : c.symbols) symbols += (symbols.size() > 1 ? ", " : "") + JsonString(s);
  symbols += "]";
  std::string cash = "{";
  for (const auto& [k, v] : c.initial_cash) cash += (cash.size() > 1 ? ", " : "") + JsonString(k) + ": " + JsonString(v.ToString());
  cash += "}";
  std::string models = "[";
  for (const ModelRun& run : r.runs) {
    models += std::string(models.size() > 1 ? ", " : "") + "{\"name\": " + JsonString(run.model.name) +
              ", \"fill_rule\": " + JsonString(ToString(run.model.rule)) +
              ", \"latency\": " + JsonString(run.model.latency.Describe()) + "}";
  }
  models += "]";
  const auto time_or_null = [](UnixNanos t) {
    return t == UnixNanos::Min() || t == UnixNanos::Max() ? std::string("null") : "\"" + FormatIso8601(t) + "\"";
  };
  std::string out = "{\n  \"config\": {\n";
  out += "    \"strategy\": " + JsonString(c.strategy) + ",\n";
  out += "    \"parameters\": " + params + ",\n";
  out += "    \"symbols\": " + symbols + ",\n";
  out += "    \"from\": " + time_or_null(c.from) + ",\n    \"to\": " + time_or_null(c.to) + ",\n";
  out += "    \"initial_cash\": " + cash + ",\n";
  out += "    \"base_currency\": " + JsonString(c.base_currency) + ",\n";
  out += "    \"resolution\": " + JsonString(c.resolution) + ",\n";
  out += "    \"fee_schedule\": " + JsonString(c.fee_schedule) + ",\n";
  out += std::string("    \"fee_in_base\": ") + (c.fee_in_base ? "true" : "false") + ",\n";
  out += "    \"execution_models\": " + models + ",\n";
  out += "    \"tickflow_version\": " + JsonString(c.version) + ",\n";
  out += "    \"data_fingerprint\": " + JsonString(c.data_fingerprint) + "\n  },\n";
  out += "  \"models\": {\n";
  for (std::size_t i = 0; i < r.runs.size(); ++i) {
    const ModelRun& run = r.runs[i];
    std::string balances = "{";
    for (const auto& [k, v] : run.balances) balances += (balances.size() > 1 ? ", " : "") + JsonString(k) + ": " + JsonString(v.ToString());
    balances += "}";
    std::string metrics = run.metrics.ToJson(4);
    metrics.insert(metrics.size() - 6, ",\n      \"final_balances\": " + balances + ",\n      \"rounded_notionals\": " +
                                           std::to_string(run.rounded_notionals));
    out += "    " + JsonString(run.model.name) + ": " + metrics + (i + 1 < r.runs.size() ? ",\n" : "\n");
  }
  out += "  },\n  \"benchmark\": {\"name\": \"buy and hold\", \"metrics\": " + Indent(r.benchmark_metrics.ToJson(2), 2) + "},\n";
  std::string ages = "{";
  for (const auto& [k, v] : r.max_rate_age_seconds) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    ages += (ages.size() > 1 ? ", " : "") + JsonString(k) + ": " + buf;
  }
  ages += "}";
  std::string paths = "{";
  for (const auto& [k, v] : r.conversion_paths) {
    std::string p = "[";
    for (SymbolId id : v) p += (p.size() > 1 ? ", " : "") + JsonString(NameOf(names, id));
    paths += (paths.size() > 1 ? ", " : "") + JsonString(k) + ": " + p + "]";
  }
  paths += "}";
  out += "  \"conversion\": {\"paths\": " + paths + ", \"max_rate_age_seconds\": " + ages + "}\n}\n";
  return out;
}

}  // namespace tickflow::backtest
