// Service configuration: one spec per service (ServiceId), defaults per
// environment, layered as defaults < TOML file < TICKFLOW_* environment
// variables < command-line flags. Every value remembers where it came from;
// validation names the key, the bad value and its source; printing redacts
// secrets. The library reads no files and no environment: the caller passes
// the file's text and the variables (apps/tickflow does).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tickflow/core/ids.hpp"
#include "tickflow/core/result.hpp"

namespace tickflow::config {

enum class ServiceId : std::uint8_t { kGateway, kSymdb };
enum class Environment : std::uint8_t { kLocal, kCluster };

std::string_view ToString(ServiceId id);    // "gateway", "symdb"
Result<Environment> ParseEnvironment(std::string_view text);  // "local", "cluster"

struct LoadInputs {
  Environment environment = Environment::kLocal;
  std::optional<std::string> file_text{};  // TOML; its [gateway] / [symdb] table applies
  std::string file_name{};               // for messages
  std::map<std::string, std::string> env{};  // e.g. the process environment
  std::vector<std::pair<std::string, std::string>> flags{};  // key -> value, from the command line
};

struct Setting {
  std::string key;     // "max_streams"
  std::string value;
  std::string source;  // "default (local)", "file tickflow.toml", "env TICKFLOW_GATEWAY_MAX_STREAMS", "flag --max-streams"
  bool secret = false;
};

// The effective, validated configuration of one service.
class ServiceConfig {
 public:
  static Result<ServiceConfig> Load(ServiceId service, const LoadInputs& inputs);

  ServiceId service() const { return service_; }
  const std::string& Get(std::string_view key) const;  // keys are fixed per service; an unknown key aborts
  std::int64_t GetInt(std::string_view key) const;
  const std::vector<Setting>& settings() const { return settings_; }
  // "key = value    # source", secrets as "<redacted>".
  std::string Print() const;

 private:
  ServiceId service_ = ServiceId::kGateway;
  std::vector<Setting> settings_;
};

// A bus credentials file (TOML): user, password and, for a client, the
// client id the user may speak for.
struct Credentials {
  std::string user;
  std::string password;
  std::optional<ClientId> client_id;
  std::optional<std::string> jetstream_api;  // where the client reaches JetStream (nats-config writes it)
};
Result<Credentials> ParseCredentials(std::string_view text, const std::string& file_name);
// Reads and parses a credentials file; errors name the file and say how to write one.
Result<Credentials> ReadCredentialsFile(const std::string& path);

}  // namespace tickflow::config
