// tickflow symdb: the symbol master gRPC service.
#include <signal.h>

#include <memory>

#include "common.hpp"
#include "service_config.hpp"
#include "tickflow/observability/observability.hpp"
#include "tickflow/symdb/symdb.hpp"

namespace tickflow::cli {

Command AddSymdb(CLI::App& app) {
  auto* cmd = app.add_subcommand("symdb", "Run the symbol master gRPC service (proto/symdb.proto) over the store's symbols");
  cmd->footer(
      "Serves LookupExchangeName, LookupSymbol (id -> symbol), LookupSymbolId (symbol -> id) and ListSymbols\n"
      "(with trades, first/last time and precision). Unknown ids or names answer NOT_FOUND, out-of-range ids\n"
      "and empty names INVALID_ARGUMENT. Port 0 picks a free port; the bound address is printed. SIGINT,\n"
      "SIGTERM and SIGHUP shut it down gracefully (calls in flight finish). Prometheus metrics and a health\n"
      "check are served on --metrics (/metrics, /healthz).\n\n"
      "Example: tickflow symdb --listen 127.0.0.1:50051");
  auto f = std::make_shared<ServiceFlags>();
  AddServiceFlags(
      cmd, f.get(),
      {{"listen", "HOST:PORT of the gRPC service (port 0: any free port)"},
       {"db",
        "store: SQLite file or clickhouse://HOST:PORT/DATABASE (default: $TICKFLOW_DB or the user data directory)"},
       {"metrics", "HOST:PORT of /metrics and /healthz (port 0: any free port)"},
       {"log_level", "debug, info, warn or error"},
       {"log_format", "logfmt or json (JSON Lines)"}});
  return {cmd, [f] {
            auto cfg = LoadServiceConfig(config::ServiceId::kSymdb, *f);
            if (!cfg.ok()) return Fail(cfg.error());
            if (f->print_config) {
              fmt::print("{}", cfg->Print());
              return 0;
            }
            const auto split = [](const std::string& address) {
              const auto colon = address.rfind(':');
              return std::pair(address.substr(0, colon), std::stoi(address.substr(colon + 1)));
            };
            const std::string db = cfg->Get("db").empty() ? DefaultDbPath() : cfg->Get("db");
            const ServiceLog log(*cfg, "symdb");
            symdb::RouteProtobufLogs([log](const std::string& line) {
              log(observability::LogLevel::kWarn, "request refused", {{"detail", line}});
            });
            auto store = OpenExistingStore(db);
            if (!store.ok()) return Fail(store.error());
            auto manager = symdb::SymbolManager::FromStore(**store);
            if (!manager.ok()) return Fail(manager.error());
            const std::size_t n = manager->symbols().size();
            const ShutdownSignals signals;  // before any thread starts
            const auto [host, port] = split(cfg->Get("listen"));
            auto server = symdb::Server::Start(std::make_shared<const symdb::SymbolManager>(std::move(*manager)), host, port);
            if (!server.ok()) return Fail(server.error());
            symdb::Server* srv = server->get();
            observability::MetricsRegistry registry;
            registry.AddCollector(
                [](observability::MetricsWriter& w) { observability::WriteProcessMetrics(w, "symdb"); });
            registry.AddCollector([srv, n](observability::MetricsWriter& w) {
              w.Gauge("tickflow_symdb_symbols", "Symbols served", static_cast<double>(n));
              w.Counter("tickflow_symdb_requests_total", "Calls answered", static_cast<double>(srv->requests()));
              w.Counter("tickflow_symdb_errors_total", "Calls answered with an error status",
                        static_cast<double>(srv->errors()));
            });
            const auto [mhost, mport] = split(cfg->Get("metrics"));
            auto http = observability::HttpServer::Start(mhost, mport, observability::MetricsHandler(registry));
            if (!http.ok()) return Fail(http.error());
            fmt::print("symdb listening on {}:{} ({} symbols from {})\n", host, srv->port(), n, (*store)->location());
            log(observability::LogLevel::kInfo, "metrics listening",
                {{"address", mhost + ":" + std::to_string((*http)->port())}, {"path", "/metrics"}});
            const int sig = signals.Wait();
            fmt::print("symdb: {} received, shutting down after {} requests ({} errors)\n", strsignal(sig),
                       srv->requests(), srv->errors());
            std::fflush(stdout);
            (*http)->Stop();
            srv->Shutdown();
            log(observability::LogLevel::kInfo, "stopped", {});
            return 0;
          }};
}

}  // namespace tickflow::cli
