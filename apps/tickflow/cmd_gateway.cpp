// tickflow gateway: the QD gateway as a long-running service, with
// configuration, Prometheus metrics, a health check and graceful shutdown.
#include <signal.h>

#include "common.hpp"
#include "service_config.hpp"
#include "tickflow/bus/bus.hpp"
#include "tickflow/gateway/gateway.hpp"
#include "tickflow/observability/observability.hpp"

namespace tickflow::cli {

Command AddGateway(CLI::App& app) {
  auto* cmd = app.add_subcommand("gateway", "Run the QD gateway service (metrics, health check, graceful shutdown)");
  cmd->footer(
      "Serves StartData requests from the control channel as SBE streams (docs/protocol.md). With --bus inproc the\n"
      "bus lives in this process, so only clients in this process can connect; `tickflow replay` and the examples\n"
      "run gateway and client together that way. SIGINT, SIGTERM and SIGHUP end every stream with its Last marker\n"
      "and stop. Prometheus metrics and a health check are served on --metrics (/metrics, /healthz).\n\n"
      "Example: tickflow gateway --print-config --env cluster");
  auto f = std::make_shared<ServiceFlags>();
  AddServiceFlags(cmd, f.get(),
                  {{"bus", "inproc (nats://HOST:PORT is not part of this build)"},
                   {"bus_password", "password for the bus user (redacted when printed)"},
                   {"control_channel", "control channel the gateway listens on"},
                   {"db", "SQLite store file (default: $TICKFLOW_DB or the user data directory)"},
                   {"metrics", "HOST:PORT of /metrics and /healthz (port 0: any free port)"},
                   {"max_streams", "concurrent streams over all clients"},
                   {"messages_per_frame", "SBE messages per bus frame"},
                   {"log_level", "debug, info, warn or error"}});
  return {cmd, [f] {
            auto cfg = LoadServiceConfig(config::ServiceId::kGateway, *f);
            if (!cfg.ok()) return Fail(cfg.error());
            if (f->print_config) {
              fmt::print("{}", cfg->Print());
              return 0;
            }
            if (cfg->Get("bus") != "inproc") {
              return Fail("bus '" + cfg->Get("bus") + "': this build has only the in-process bus (--bus inproc)");
            }
            const std::string db = cfg->Get("db").empty() ? DefaultDbPath() : cfg->Get("db");
            if (auto probe = OpenExistingStore(db); !probe.ok()) return Fail(probe.error());
            const auto log = [](observability::LogLevel level, std::string_view msg, const observability::Labels& fields) {
              fmt::print("{}\n", observability::LogLine(level, "gateway", msg, fields));
              std::fflush(stdout);
            };
            const ShutdownSignals signals;  // before any thread starts

            auto bus = bus::MakeInProcessBus();
            gateway::GatewayOptions o;
            o.control_channel = cfg->Get("control_channel");
            o.max_streams = static_cast<std::size_t>(cfg->GetInt("max_streams"));
            o.messages_per_frame = static_cast<std::size_t>(cfg->GetInt("messages_per_frame"));
            o.open_store = [db] {
              store::OpenOptions so;
              so.create = false;
              return store::OpenStore(db, so);
            };
            const bool debug = cfg->Get("log_level") == "debug";
            o.log = [&log, debug](std::string_view line) {
              if (debug) log(observability::LogLevel::kDebug, line, {});
            };
            auto gw = gateway::Gateway::Start(*bus, o);
            if (!gw.ok()) return Fail(gw.error());
            gateway::Gateway* g = gw->get();
            observability::MetricsRegistry registry;
            registry.AddCollector([g](observability::MetricsWriter& w) { gateway::WriteMetrics(g->stats(), w); });
            const std::string metrics = cfg->Get("metrics");
            const auto colon = metrics.rfind(':');
            auto http = observability::HttpServer::Start(metrics.substr(0, colon), std::stoi(metrics.substr(colon + 1)),
                                                         observability::MetricsHandler(registry));
            if (!http.ok()) return Fail(http.error());
            log(observability::LogLevel::kInfo, "gateway serving",
                {{"control_channel", o.control_channel}, {"bus", "inproc"}, {"db", db},
                 {"metrics", metrics.substr(0, colon) + ":" + std::to_string((*http)->port())}});
            const int sig = signals.Wait();
            const auto stats = g->stats();
            log(observability::LogLevel::kInfo, "shutting down",
                {{"signal", strsignal(sig)}, {"streams_started", std::to_string(stats.streams_started)},
                 {"messages_sent", std::to_string(stats.messages_sent)}});
            (*http)->Stop();
            g->Stop();
            log(observability::LogLevel::kInfo, "stopped", {});
            return 0;
          }};
}

}  // namespace tickflow::cli
