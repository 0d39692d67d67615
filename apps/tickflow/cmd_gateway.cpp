// tickflow gateway: the QD gateway as a long-running service, with
// configuration, Prometheus metrics, a health check and graceful shutdown.
#include <signal.h>

#include <charconv>

#include "common.hpp"
#include "bus_flags.hpp"
#include "service_config.hpp"
#include "tickflow/bus/bus.hpp"
#include "tickflow/core/text.hpp"
#include "tickflow/gateway/gateway.hpp"
#include "tickflow/observability/observability.hpp"

namespace tickflow::cli {

Command AddGateway(CLI::App& app) {
  auto* cmd = app.add_subcommand("gateway", "Run the QD gateway service (metrics, health check, graceful shutdown)");
  cmd->footer(
      "Serves StartData requests from the control channels as SBE streams (docs/protocol.md). With\n"
      "--bus nats://HOST:PORT clients in other processes and machines connect through nats-server, which enforces\n"
      "that each client reads only its own channels (docs/services.md#nats); the gateway creates and deletes each\n"
      "client's JetStream data stream. With --bus inproc only clients in this process can connect.\n"
      "SIGINT, SIGTERM and SIGHUP end every stream with its Last marker and stop. Prometheus metrics and a health\n"
      "check are served on --metrics (/metrics, /healthz). /healthz answers 503 with the reason while the bus is\n"
      "down (e.g. JetStream's store full); logins are then refused at once with BusUnavailable, and served again\n"
      "when it recovers (docs/services.md). --log-level warn|error keeps only those lines; --log-format json\n"
      "writes JSON Lines instead of logfmt.\n\n"
      "Examples:\n"
      "  tickflow nats-config --dir /tmp/nats --clients 1-8 && scripts/nats.sh start /tmp/nats\n"
      "  tickflow gateway --bus nats://127.0.0.1:4222 --creds /tmp/nats/creds/gateway.creds --db trades.db\n"
      "  tickflow gateway --print-config --env cluster");
  auto f = std::make_shared<ServiceFlags>();
  AddServiceFlags(
      cmd, f.get(),
      {{"bus", "inproc, or nats://HOST:PORT"},
       {"creds", "NATS credentials file (user and password) from tickflow nats-config"},
       {"bus_user", "NATS user, when not given by --creds"},
       {"bus_password", "password for the bus user (redacted when printed)"},
       {"queue_group", "NATS queue group, so several gateways share the control subjects"},
       {"session_timeout_ms", "a client silent this long (no heartbeat) loses its session"},
       {"gateway_id", "1..65535, unique among gateways sharing a queue group (0: random)"},
       {"replicas", "JetStream replicas of each client's data stream (3 in a 3-node cluster)"},
       {"control_channel", "control channel the gateway listens on"},
       {"db",
        "store: SQLite file or clickhouse://HOST:PORT/DATABASE (default: $TICKFLOW_DB or the user data directory)"},
       {"metrics", "HOST:PORT of /metrics and /healthz (port 0: any free port)"},
       {"max_streams", "concurrent streams over all clients"},
       {"max_streams_per_client", "concurrent streams of one client (beyond: TooManyStreams)"},
       {"max_open_symbols", "symbols streamed at once over all streams; each holds one decoded store block"},
       {"messages_per_frame", "SBE messages per bus frame"},
       {"log_level", "debug, info, warn or error"},
       {"log_format", "logfmt or json (JSON Lines)"}});
  return {cmd, [f] {
            auto cfg = LoadServiceConfig(config::ServiceId::kGateway, *f);
            if (!cfg.ok()) return Fail(cfg.error());
            if (f->print_config) {
              fmt::print("{}", cfg->Print());
              return 0;
            }
            const std::string db = cfg->Get("db").empty() ? DefaultDbPath() : cfg->Get("db");
            auto probe = OpenExistingStore(db);
            if (!probe.ok()) return Fail(probe.error());
            const std::string location = (*probe)->location();  // without a password
            probe->reset();
            const ServiceLog log(*cfg, "gateway");
            const ShutdownSignals signals;  // before any thread starts

            BusFlags bf{cfg->Get("bus"), cfg->Get("creds"), cfg->Get("bus_user"), cfg->Get("bus_password"),
                        cfg->Get("queue_group"), static_cast<int>(cfg->GetInt("replicas"))};
            Result<std::unique_ptr<bus::Bus>> bus = bf.nats()
                                                        ? ConnectNats(bf, log.logger().For("bus"))
                                                        : Result<std::unique_ptr<bus::Bus>>(bus::MakeInProcessBus());
            if (!bus.ok()) return Fail(bus.error());
            gateway::GatewayOptions o;
            o.session_timeout = std::chrono::milliseconds(cfg->GetInt("session_timeout_ms"));
            {
              const std::string& id = cfg->Get("gateway_id");
              unsigned value = 0;
              const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
              if (ec != std::errc() || end != id.data() + id.size() || value > 65535) {
                return Fail("gateway.gateway_id: '" + id + "' is not a number from 0 to 65535");
              }
              o.gateway_id = static_cast<std::uint16_t>(value);
            }
            o.control_channel = cfg->Get("control_channel");
            o.max_streams = static_cast<std::size_t>(cfg->GetInt("max_streams"));
            o.max_streams_per_client = static_cast<std::size_t>(cfg->GetInt("max_streams_per_client"));
            o.max_open_symbols = static_cast<std::size_t>(cfg->GetInt("max_open_symbols"));
            o.messages_per_frame = static_cast<std::size_t>(cfg->GetInt("messages_per_frame"));
            for (const auto& setting : cfg->settings()) {
              // JetStream costs per frame: bigger frames by default (5.4 vs 3 M msgs/s, docs/benchmarks.md).
              if (setting.key == "messages_per_frame" && setting.source.starts_with("default") && bf.nats()) {
                o.messages_per_frame = 4096;
              }
            }
            o.open_store = [db] {
              store::OpenOptions so;
              so.create = false;
              return store::OpenStore(db, so);
            };
            o.log = log.logger();
            auto gw = gateway::Gateway::Start(**bus, o);
            if (!gw.ok()) return Fail(gw.error());
            gateway::Gateway* g = gw->get();
            observability::MetricsRegistry registry;
            registry.AddCollector([g](observability::MetricsWriter& w) { gateway::WriteMetrics(g->stats(), w); });
            registry.AddCollector(
                [](observability::MetricsWriter& w) { observability::WriteProcessMetrics(w, "gateway"); });
            const std::string metrics = cfg->Get("metrics");
            const auto colon = metrics.rfind(':');
            auto http =
                observability::HttpServer::Start(metrics.substr(0, colon), std::stoi(metrics.substr(colon + 1)),
                                                 observability::MetricsHandler(registry, [g] { return g->health(); }));
            if (!http.ok()) return Fail(http.error());
            log(observability::LogLevel::kInfo, "gateway serving",
                {{"control_channel", o.control_channel}, {"bus", RedactUrlPassword(bf.url)}, {"db", location},
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
