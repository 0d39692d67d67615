// Wiring for the services' configuration: --config FILE, --env, --print-config
// and per-key flags, layered by tickflow::config over the process environment.
#pragma once

#include <signal.h>

#include <map>
#include <memory>
#include <string>

#include "common.hpp"
#include "tickflow/config/config.hpp"
#include "tickflow/core/log.hpp"

namespace tickflow::cli {

struct ServiceFlags {
  std::string config_file;
  std::string environment = "local";
  bool print_config = false;
  std::map<std::string, std::string> values;  // key -> value for flags given on the command line
};

// SIGINT, SIGTERM and SIGHUP, blocked for every thread started after this
// object is made, so that Wait() receives them on the calling thread.
class ShutdownSignals {
 public:
  ShutdownSignals();
  int Wait() const;  // the signal received

 private:
  sigset_t set_{};
};

// A service's log, from its log_level and log_format: lines of its own (with
// fields) and the Logger it hands to the libraries, both to stdout.
class ServiceLog {
 public:
  ServiceLog(const config::ServiceConfig& cfg, std::string component);
  void operator()(LogLevel level, std::string_view message, const LogFields& fields = {}) const;
  const Logger& logger() const { return logger_; }

 private:
  LogFormat format_;
  std::string component_;
  Logger logger_;
};

// Adds --config, --env, --print-config, and one flag per key in `keys`.
void AddServiceFlags(CLI::App* cmd, ServiceFlags* flags, const std::vector<std::pair<std::string, std::string>>& keys);
Result<config::ServiceConfig> LoadServiceConfig(config::ServiceId service, const ServiceFlags& flags);

}  // namespace tickflow::cli
