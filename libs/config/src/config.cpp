#include "tickflow/config/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <span>
#include <sstream>

#include "tickflow/core/check.hpp"
#include "tickflow/core/log.hpp"
#include "tickflow/core/text.hpp"

namespace tickflow::config {
namespace {

enum class Kind : std::uint8_t { kString, kPositiveInt, kAddress, kLevel, kLogFormat, kBus, kPath };

struct KeySpec {
  const char* key;
  Kind kind;
  const char* local;    // default in the local environment
  const char* cluster;  // default in the cluster environment
  bool secret;
  const char* help;
};

constexpr KeySpec kGatewayKeys[] = {
    {"bus", Kind::kBus, "inproc", "nats://127.0.0.1:4222", false, "message bus: inproc or nats://HOST:PORT"},
    {"bus_user", Kind::kString, "", "", false, "NATS user (or take it from creds)"},
    {"bus_password", Kind::kString, "", "", true, "password for the bus user"},
    {"creds", Kind::kPath, "", "", false, "NATS credentials file written by tickflow nats-config"},
    {"queue_group", Kind::kString, "", "qd.gateways", false, "NATS queue group shared by several gateways"},
    {"replicas", Kind::kPositiveInt, "1", "3", false, "JetStream replicas of each client's data stream (cluster: 3)"},
    {"gateway_id", Kind::kString, "0", "0", false, "1..65535, unique among gateways sharing a queue group; 0 = random"},
    {"session_timeout_ms", Kind::kPositiveInt, "15000", "15000", false, "silence after which a client session expires"},
    {"control_channel", Kind::kString, "qd.control", "qd.control", false, "control channel or subject"},
    {"db", Kind::kPath, "", "", false, "store: SQLite file"},
    {"metrics", Kind::kAddress, "127.0.0.1:9464", "0.0.0.0:9464", false, "HOST:PORT of /metrics and /healthz"},
    {"max_streams", Kind::kPositiveInt, "256", "4096", false, "concurrent streams"},
    {"max_streams_per_client", Kind::kPositiveInt, "16", "16", false, "concurrent streams of one client"},
    {"max_open_symbols", Kind::kPositiveInt, "4096", "4096", false, "symbols streamed at once over all streams"},
    {"messages_per_frame", Kind::kPositiveInt, "256", "256", false, "SBE messages per bus frame"},
    {"log_level", Kind::kLevel, "info", "info", false, "debug, info, warn or error"},
    {"log_format", Kind::kLogFormat, "logfmt", "json", false, "log lines as logfmt or json (JSON Lines)"},
};
constexpr KeySpec kSymdbKeys[] = {
    {"listen", Kind::kAddress, "127.0.0.1:50051", "0.0.0.0:50051", false, "HOST:PORT of the gRPC service"},
    {"db", Kind::kPath, "", "", false, "store: SQLite file"},
    {"metrics", Kind::kAddress, "127.0.0.1:9465", "0.0.0.0:9465", false, "HOST:PORT of /metrics and /healthz"},
    {"log_level", Kind::kLevel, "info", "info", false, "debug, info, warn or error"},
    {"log_format", Kind::kLogFormat, "logfmt", "json", false, "log lines as logfmt or json (JSON Lines)"},
};

std::span<const KeySpec> KeysOf(ServiceId s) {
  return s == ServiceId::kGateway ? std::span<const KeySpec>(kGatewayKeys) : std::span<const KeySpec>(kSymdbKeys);
}

std::string EnvName(ServiceId s, std::string_view key) {
  std::string name = "TICKFLOW_" + std::string(ToString(s)) + "_" + std::string(key);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return name;
}

// Empty when the value is acceptable, else what is wrong with it.
std::string Check(const KeySpec& k, const std::string& v) {
  switch (k.kind) {
    case Kind::kString:
    case Kind::kPath: return "";
    case Kind::kPositiveInt: {
      std::int64_t n = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      return ec == std::errc() && end == v.data() + v.size() && n > 0 ? "" : "is not a positive integer";
    }
    case Kind::kAddress: {
      const auto colon = v.rfind(':');
      int port = -1;
      if (colon != std::string::npos && colon > 0) {
        const auto [end, ec] = std::from_chars(v.data() + colon + 1, v.data() + v.size(), port);
        if (ec != std::errc() || end != v.data() + v.size()) port = -1;
      }
      return port >= 0 && port <= 65535 ? "" : "is not HOST:PORT with a port 0..65535";
    }
    case Kind::kLevel:
      return ParseLogLevel(v) ? "" : "is not one of debug, info, warn, error";
    case Kind::kLogFormat:
      return ParseLogFormat(v) ? "" : "is not logfmt or json";
    case Kind::kBus:
      return v == "inproc" || v.rfind("nats://", 0) == 0 ? "" : "is not inproc or nats://HOST:PORT";
  }
  return "";
}

}  // namespace

std::string_view ToString(ServiceId id) { return id == ServiceId::kGateway ? "gateway" : "symdb"; }

Result<Environment> ParseEnvironment(std::string_view text) {
  if (text == "local") return Environment::kLocal;
  if (text == "cluster") return Environment::kCluster;
  return MakeError(ErrorCode::kInvalidArgument, "environment '" + std::string(text) + "': use local or cluster");
}

Result<ServiceConfig> ServiceConfig::Load(ServiceId service, const LoadInputs& in) {
  ServiceConfig c;
  c.service_ = service;
  const auto keys = KeysOf(service);
  const std::string env_name = in.environment == Environment::kLocal ? "local" : "cluster";
  for (const KeySpec& k : keys) {
    c.settings_.push_back(Setting{k.key, in.environment == Environment::kLocal ? k.local : k.cluster,
                                  "default (" + env_name + ")", k.secret});
  }
  const auto find = [&](std::string_view key) -> Setting* {
    for (Setting& s : c.settings_) {
      if (s.key == key) return &s;
    }
    return nullptr;
  };
  const std::string table(ToString(service));
  if (in.file_text) {
    toml::table doc;
    try {
      doc = toml::parse(*in.file_text, in.file_name);
    } catch (const toml::parse_error& e) {
      std::ostringstream where;
      where << e.source().begin;
      return MakeError(ErrorCode::kParse, in.file_name + ": " + std::string(e.description()) + " at " + where.str());
    }
    if (const toml::table* t = doc[table].as_table()) {
      for (const auto& [key, node] : *t) {
        Setting* s = find(key.str());
        if (s == nullptr) {
          return MakeError(ErrorCode::kInvalidArgument, in.file_name + ": unknown key [" + table + "] " +
                                                            std::string(key.str()));
        }
        if (auto v = node.value<std::string>()) {
          s->value = *v;
        } else if (auto n = node.value<std::int64_t>()) {
          s->value = std::to_string(*n);
        } else {
          return MakeError(ErrorCode::kInvalidArgument, in.file_name + ": [" + table + "] " + std::string(key.str()) +
                                                            " must be a string or an integer");
        }
        s->source = "file " + in.file_name;
      }
    }
  }
  for (const KeySpec& k : keys) {
    const std::string name = EnvName(service, k.key);
    if (auto it = in.env.find(name); it != in.env.end()) {
      Setting* s = find(k.key);
      s->value = it->second;
      s->source = "env " + name;
    }
  }
  for (const auto& [key, value] : in.flags) {
    Setting* s = find(key);
    if (s == nullptr) {
      return MakeError(ErrorCode::kInvalidArgument, "unknown " + table + " setting '" + key + "'");
    }
    s->value = value;
    std::string flag = key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    s->source = "flag --" + flag;
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const Setting& s = c.settings_[i];
    if (const std::string why = Check(keys[i], s.value); !why.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, table + "." + s.key + ": '" + (s.secret ? "<redacted>" : s.value) +
                                                        "' (from " + s.source + ") " + why);
    }
  }
  return c;
}

const std::string& ServiceConfig::Get(std::string_view key) const {
  for (const Setting& s : settings_) {
    if (s.key == key) return s.value;
  }
  TICKFLOW_CHECK(false, "unknown configuration key");
  return settings_.front().value;
}

std::int64_t ServiceConfig::GetInt(std::string_view key) const {
  const std::string& v = Get(key);
  std::int64_t n = 0;
  std::from_chars(v.data(), v.data() + v.size(), n);
  return n;
}

std::string ServiceConfig::Print() const {
  std::string out = "[" + std::string(ToString(service_)) + "]\n";
  for (const Setting& s : settings_) {
    std::string line =
        s.key + " = \"" + (s.secret && !s.value.empty() ? "<redacted>" : RedactUrlPassword(s.value)) + "\"";
    line.resize(std::max<std::size_t>(line.size(), 44), ' ');
    out += line + "  # " + s.source + "\n";
  }
  return out;
}

Result<Credentials> ParseCredentials(std::string_view text, const std::string& file_name) {
  toml::table doc;
  try {
    doc = toml::parse(text, file_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << e.source().begin;
    return MakeError(ErrorCode::kParse, file_name + ": " + std::string(e.description()) + " at " + where.str());
  }
  Credentials c;
  const auto user = doc["user"].value<std::string>();
  const auto password = doc["password"].value<std::string>();
  if (!user || user->empty() || !password) {
    return MakeError(ErrorCode::kInvalidArgument,
                     file_name + ": needs user = \"...\" and password = \"...\" (tickflow nats-config writes such files)");
  }
  c.user = *user;
  c.password = *password;
  if (const auto id = doc["client_id"].value<std::int64_t>()) {
    if (*id < 0 || *id > 65535) {
      return MakeError(ErrorCode::kInvalidArgument, file_name + ": client_id " + std::to_string(*id) + " is not 0..65535");
    }
    c.client_id = static_cast<ClientId>(*id);
  }
  if (const auto api = doc["jetstream_api"].value<std::string>()) {
    if (api->empty() || api->find_first_of(" \t*>") != std::string::npos || api->front() == '.' || api->back() == '.') {
      return MakeError(ErrorCode::kInvalidArgument,
                       file_name + ": jetstream_api '" + *api + "' is not a subject prefix such as qd.js");
    }
    c.jetstream_api = *api;
  }
  return c;
}

Result<Credentials> ReadCredentialsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return MakeError(ErrorCode::kNotFound, "credentials file " + path +
                                               " cannot be read: create one with "
                                               "`tickflow nats-config --dir DIR`");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseCredentials(text.str(), path);
}

}  // namespace tickflow::config
