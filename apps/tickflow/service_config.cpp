#include "service_config.hpp"

#include <fstream>
#include <sstream>

extern char** environ;

namespace tickflow::cli {

ShutdownSignals::ShutdownSignals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

int ShutdownSignals::Wait() const {
  int sig = 0;
  sigwait(&set_, &sig);
  return sig;
}

void AddServiceFlags(CLI::App* cmd, ServiceFlags* f, const std::vector<std::pair<std::string, std::string>>& keys) {
  cmd->add_option("--config", f->config_file, "TOML file; its [gateway] / [symdb] table applies");
  cmd->add_option("--env", f->environment, "Environment whose defaults apply: local or cluster")
      ->check(CLI::IsMember({"local", "cluster"}))
      ->capture_default_str();
  cmd->add_flag("--print-config", f->print_config, "Print the effective configuration (secrets redacted) and exit");
  for (const auto& [key, help] : keys) {
    std::string flag = key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    cmd->add_option_function<std::string>("--" + flag, [f, key](const std::string& v) { f->values[key] = v; }, help);
  }
  cmd->footer(cmd->get_footer() +
              "\n\nConfiguration layers: defaults (per --env) < --config file < TICKFLOW_<SERVICE>_<KEY> environment "
              "variables < flags.");
}

Result<config::ServiceConfig> LoadServiceConfig(config::ServiceId service, const ServiceFlags& f) {
  config::LoadInputs in;
  TICKFLOW_ASSIGN_OR_RETURN(in.environment, config::ParseEnvironment(f.environment));
  if (!f.config_file.empty()) {
    std::ifstream file(f.config_file);
    if (!file) return MakeError(ErrorCode::kNotFound, "cannot read config file " + f.config_file);
    std::stringstream text;
    text << file.rdbuf();
    in.file_text = text.str();
    in.file_name = f.config_file;
  }
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    if (kv.rfind("TICKFLOW_", 0) != 0) continue;
    const auto eq = kv.find('=');
    if (eq != std::string::npos) in.env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : f.values) in.flags.emplace_back(k, v);
  return config::ServiceConfig::Load(service, in);
}

ServiceLog::ServiceLog(const config::ServiceConfig& cfg, std::string component)
    : format_(ParseLogFormat(cfg.Get("log_format")).value_or(LogFormat::kLogfmt)),  // validated by the config
      component_(std::move(component)),
      logger_(
          PrintingLogger(stdout, format_, ParseLogLevel(cfg.Get("log_level")).value_or(LogLevel::kInfo), component_)) {}

void ServiceLog::operator()(LogLevel level, std::string_view message, const LogFields& fields) const {
  if (!logger_.Enabled(level)) return;
  const std::string line = FormatLogLine(format_, level, component_, message, fields) + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

}  // namespace tickflow::cli
