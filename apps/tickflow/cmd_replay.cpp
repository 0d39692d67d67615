// tickflow replay: stream trades or bars through the gateway to a client over
// the in-process bus, and report what arrived.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "common.hpp"
#include "replay_session.hpp"
#include "tickflow/store/symbol_patterns.hpp"
#include "tickflow/symdb/symdb.hpp"

namespace tickflow::cli {
namespace {

Result<std::uint32_t> ParseSpeed(const std::string& text) {
  if (text == "max") return 0u;
  char* end = nullptr;
  const double x = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !(x > 0) || x > 4e6) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--speed '" + text + "': use max, or a multiple of real time such as 1, 60 or 0.5 "
                     "(from 0.001 to 4000000)");
  }
  if (x < 0.001) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--speed '" + text + "' is slower than the slowest pace, 0.001 (one second of market time "
                     "every 1,000 s); use 0.001 or more");
  }
  return static_cast<std::uint32_t>(std::round(x * 1000));
}

Result<ResolvedSymbols> ResolveInStore(const std::string& db, const std::vector<std::string>& symbols) {
  TICKFLOW_ASSIGN_OR_RETURN(auto store, OpenExistingStore(db));
  return ResolveSymbols(*store, symbols);
}

Result<ResolvedSymbols> ResolveInSymdb(const std::string& address, const std::vector<std::string>& args) {
  TICKFLOW_ASSIGN_OR_RETURN(auto symdb, symdb::Client::Connect(address));
  TICKFLOW_ASSIGN_OR_RETURN(const std::vector<std::string> symbols,
                            store::ExpandSymbolPatternsWith(args, [&symdb] { return symdb->ListSymbols(); }));
  TICKFLOW_RETURN_IF_ERROR(CheckDistinctSymbols(symbols));
  ResolvedSymbols r;
  r.expanded = symbols;
  for (const std::string& s : symbols) {
    TICKFLOW_ASSIGN_OR_RETURN(const SymbolId id, symdb->LookupSymbolId(s));
    r.ids.push_back(id);
    r.names[id] = s;
  }
  return r;
}

}  // namespace

Command AddReplay(CLI::App& app) {
  auto* cmd = app.add_subcommand("replay", "Replay trades or bars through the gateway to a client, as a live feed would");
  cmd->footer(
      "By default runs the QD gateway and a client in this process over the in-process bus. With\n"
      "--bus nats://HOST:PORT the client connects to a gateway in another process (`tickflow gateway --bus ...`);\n"
      "--creds names the client's credentials (and its client id). The client logs in, requests the stream and\n"
      "receives SBE messages (several symbols are merged in time order). Prints a summary; --print csv prints\n"
      "every message (times ISO 8601 UTC, numbers exact). Symbol names are resolved by --symdb HOST:PORT if\n"
      "given, else in the --db store. If the stream is cut short (gateway restart), the replay resumes after the\n"
      "last sequence received, up to --retries times, so nothing is missing or doubled.\n\n"
      "Examples:\n"
      "  tickflow replay XBTUSD ETHUSD --from 2023-06-01 --to 2023-06-02 --print csv\n"
      "  tickflow replay XBTUSD --bars 1h --speed 3600      # one hour of bars per second\n"
      "  tickflow replay '*EUR' --from 2023-01-01          # every euro market, merged\n"
      "  tickflow replay --all                              # every market in the store\n"
      "  tickflow replay XBTUSD --bus nats://127.0.0.1:4222 --creds /tmp/nats/creds/client-1.creds");
  struct Args {
    std::vector<std::string> symbols;
    std::string bars, from, to, speed = "max", print, db, symdb;
    BusFlags bus;
    int client_id = -1;
    int retries = 3;
    bool all = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("SYMBOL", a->symbols, "Symbols or globs ('*USD', 'XBT*'; quote them), merged in time order");
  cmd->add_flag("--all", a->all, "Every symbol in the store (the same as '*')");
  cmd->parse_complete_callback([a] {  // during parsing: a usage error (exit 2)
    if (a->symbols.empty() && !a->all) throw CLI::RequiredError("SYMBOL... (names or globs such as '*USD') or --all");
  });
  cmd->add_option("--bars", a->bars, "Replay bars at this resolution (1m 5m 15m 30m 1h 1d 1w 1M 1y) instead of trades");
  cmd->add_option("--from", a->from, "Start time, inclusive");
  cmd->add_option("--to", a->to, "End time, exclusive");
  cmd->add_option("--speed", a->speed, "max (as fast as possible) or N times real time, paced by event times")
      ->capture_default_str();
  cmd->add_option("--print", a->print, "Print every message received")->check(CLI::IsMember({"csv"}));
  AddDbOption(cmd, &a->db);
  AddBusOptions(cmd, &a->bus);
  cmd->add_option("--client-id", a->client_id, "Client id on a NATS bus (default: from --creds, else 1)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--symdb", a->symdb, "HOST:PORT of `tickflow symdb`, to resolve symbol names without the store");
  cmd->add_option("--retries", a->retries, "Resumes after a stream was cut short (NATS bus)")->capture_default_str();
  return {cmd, [a] {
            auto range = ParseRange(a->from, a->to);
            if (!range.ok()) return Fail(range.error());
            auto speed = ParseSpeed(a->speed);
            if (!speed.ok()) return Fail(speed.error());
            TimeResolution res = TimeResolution::kNone;
            if (!a->bars.empty()) {
              auto r = ParseResolution(a->bars);
              if (!r.ok()) return Fail("--bars: " + r.error().message);
              res = *r;
            }
            if (a->all) a->symbols.push_back("*");
            auto resolved = a->symdb.empty() ? ResolveInStore(a->db, a->symbols) : ResolveInSymdb(a->symdb, a->symbols);
            if (!resolved.ok()) return Fail(resolved.error());
            const std::vector<SymbolId>& ids = resolved->ids;
            const SymbolTable<std::string>& names = resolved->names;
            auto session = a->bus.nats()
                               ? ReplaySession::Connect(
                                     a->bus, a->client_id < 0 ? std::nullopt : std::optional<ClientId>(a->client_id),
                                     Logger([](LogLevel, std::string_view, std::string_view line) {
                                       fmt::print(stderr, "tickflow: {}\n", line);
                                     }))
                               : ReplaySession::Start(a->db);
            if (!session.ok()) return Fail(session.error());

            const bool csv = a->print == "csv";
            std::uint64_t messages = 0;
            UnixNanos first = UnixNanos::Max(), last = UnixNanos::Min();
            const auto seen = [&](UnixNanos t) {
              ++messages;
              first = std::min(first, t);
              last = std::max(last, t);
            };
            client::Callbacks cb;
            std::uint64_t gaps = 0;
            std::uint64_t last_seq = 0;
            cb.on_gap = [&](const client::Gap&) { ++gaps; };
            const ReplaySession* current = &*session;
            cb.on_error = [current](const client::StreamError& e) {
              const std::string symbol = e.symbol == sbe::kNoSymbol ? "" : " for symbol id " + std::to_string(e.symbol);
              fmt::print(stderr, "tickflow: gateway reported {} on stream {}{}{}\n", sbe::ToString(e.code), e.request,
                         symbol, current->Cause());
            };
            // Only events in sequence order are used: after a gap (frames lost by the bus) the stream is
            // resumed after the last one in order, so the output has nothing missing and nothing doubled.
            cb.on_trade = [&](const client::TradeEvent& e) {
              if (e.sequence != last_seq + 1) return;
              last_seq = e.sequence;
              seen(e.trade.time);
              if (csv) {
                fmt::print("{},{},{},{}\n", names[e.trade.symbol], FormatIso8601(e.trade.time), e.trade.price.ToString(),
                           e.trade.volume.ToString());
              }
            };
            cb.on_bar = [&](const client::BarEvent& e) {
              if (e.sequence != last_seq + 1) return;
              last_seq = e.sequence;
              seen(e.bar.time);
              if (csv) {
                fmt::print("{},{},{},{},{},{},{},{}\n", names[e.symbol], FormatIso8601(e.bar.time), e.bar.open.ToString(),
                           e.bar.high.ToString(), e.bar.low.ToString(), e.bar.close.ToString(), e.bar.volume.ToString(),
                           e.bar.trades);
              }
            };
            if (csv) {
              fmt::print("{}\n", res == TimeResolution::kNone ? "symbol,time,price,volume"
                                                              : "symbol,time,open,high,low,close,volume,trades");
            }
            client::Request req;
            req.symbols = ids;
            req.from = range->from;
            req.to = range->to;
            req.speed_permille = *speed;
            const auto t0 = std::chrono::steady_clock::now();
            Result<client::StreamEnd> end = MakeError(ErrorCode::kInternal, "no stream");
            for (int attempt = 0;; ++attempt) {
              req.resume_after = last_seq;
              auto stream = res == TimeResolution::kNone ? session->client->RequestTrades(req, cb)
                                                         : session->client->RequestBars(req, res, cb);
              end = stream.ok() ? (*stream)->Wait(std::chrono::hours(24 * 365)) : Result<client::StreamEnd>(stream.error());
              const bool cut = !end.ok() || end->reason == sbe::StreamEndReason::kFailed || last_seq != end->sent;
              if (!cut || !a->bus.nats() || attempt >= a->retries) break;
              fmt::print(stderr, "tickflow: stream cut short after sequence {} ({}); resuming in 1 s\n", last_seq,
                         end.ok() ? "gateway ended it with Failed" : end.error().message);
              std::this_thread::sleep_for(std::chrono::seconds(1));
            }
            if (!end.ok()) return Fail(end.error());
            const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::FILE* out = csv ? stderr : stdout;
            std::string what = res == TimeResolution::kNone ? "trades" : std::string(ToString(res)) + " bars";
            fmt::print(out, "replayed {} of {}: {} messages in {:.3f} s ({}msgs/s), speed {}\n", what,
                       store::DescribeSymbols(resolved->expanded), Thousands(messages), secs,
                       Rate(static_cast<double>(messages) / secs), a->speed);
            if (messages > 0) fmt::print(out, "first {}  last {}\n", FormatIso8601(first), FormatIso8601(last));
            fmt::print(out, "stream end: {}, gateway sent {}, client received {}, missing {}, gaps {}\n",
                       sbe::ToString(end->reason), Thousands(end->sent), Thousands(end->received), end->missing, gaps);
            return end->missing == 0 && end->reason == sbe::StreamEndReason::kCompleted ? 0 : 1;
          }};
}

}  // namespace tickflow::cli
