// tickflow symdb: the symbol master gRPC service.
#include <signal.h>

#include <memory>

#include "common.hpp"
#include "tickflow/symdb/symdb.hpp"

namespace tickflow::cli {

Command AddSymdb(CLI::App& app) {
  auto* cmd = app.add_subcommand("symdb", "Run the symbol master gRPC service (proto/symdb.proto) over the store's symbols");
  cmd->footer(
      "Serves LookupExchangeName, LookupSymbol (id -> symbol), LookupSymbolId (symbol -> id) and ListSymbols\n"
      "(with trades, first/last time and precision). Unknown ids or names answer NOT_FOUND, out-of-range ids\n"
      "and empty names INVALID_ARGUMENT. Port 0 picks a free port; the bound address is printed. SIGINT,\n"
      "SIGTERM and SIGHUP shut it down gracefully (calls in flight finish).\n\n"
      "Example: tickflow symdb --listen 127.0.0.1:50051");
  struct Args {
    std::string listen = "127.0.0.1:50051", db;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--listen", a->listen, "HOST:PORT to listen on")->capture_default_str();
  AddDbOption(cmd, &a->db);
  return {cmd, [a] {
            const auto colon = a->listen.rfind(':');
            int port = -1;
            if (colon != std::string::npos) {
              try {
                port = std::stoi(a->listen.substr(colon + 1));
              } catch (...) {
                port = -1;
              }
            }
            if (colon == std::string::npos || port < 0 || port > 65535) {
              return Fail("--listen '" + a->listen + "': expected HOST:PORT with a port 0..65535");
            }
            auto store = OpenExistingStore(a->db);
            if (!store.ok()) return Fail(store.error());
            auto manager = symdb::SymbolManager::FromStore(**store);
            if (!manager.ok()) return Fail(manager.error());
            const std::size_t n = manager->symbols().size();
            // Block the shutdown signals before any thread starts, then wait for one.
            sigset_t signals;
            sigemptyset(&signals);
            sigaddset(&signals, SIGINT);
            sigaddset(&signals, SIGTERM);
            sigaddset(&signals, SIGHUP);
            pthread_sigmask(SIG_BLOCK, &signals, nullptr);
            auto server = symdb::Server::Start(std::make_shared<const symdb::SymbolManager>(std::move(*manager)),
                                               a->listen.substr(0, colon), port);
            if (!server.ok()) return Fail(server.error());
            fmt::print("symdb listening on {}:{} ({} symbols from {})\n", a->listen.substr(0, colon), (*server)->port(), n,
                       a->db);
            std::fflush(stdout);
            int sig = 0;
            sigwait(&signals, &sig);
            fmt::print("symdb: {} received, shutting down after {} requests ({} errors)\n", strsignal(sig),
                       (*server)->requests(), (*server)->errors());
            (*server)->Shutdown();
            return 0;
          }};
}

}  // namespace tickflow::cli
