#include "clickhouse_http.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <mutex>

namespace tickflow::store::detail {
namespace {

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 200 || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

std::size_t Append(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct Body {
  std::string_view rest;
};
std::size_t Read(char* dst, std::size_t size, std::size_t n, void* body) {
  auto* b = static_cast<Body*>(body);
  const std::size_t k = std::min(size * n, b->rest.size());
  std::copy_n(b->rest.data(), k, dst);
  b->rest.remove_prefix(k);
  return k;
}

// The first line of a ClickHouse exception ("Code: 60, e.displayText() = DB::Exception: ...").
std::string ServerMessage(const std::string& body) {
  std::string m = body.substr(0, body.find('\n'));
  if (const auto p = m.find("e.displayText() = "); p != std::string::npos) m = m.substr(p + 18);
  if (const auto p = m.find(", e.what()"); p != std::string::npos) m.resize(p);
  if (const auto p = m.find(" (version "); p != std::string::npos) m.resize(p);  // current versions
  return m.size() > 400 ? m.substr(0, 400) + "..." : m;
}

// HOST[:PORT] into *host and *port (left as it is without one); "" when good, else why not.
std::string ParseHostPort(std::string_view authority, std::string* host, int* port) {
  if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    const std::string_view digits = authority.substr(colon + 1);
    const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), *port);
    if (r.ec != std::errc() || r.ptr != digits.data() + digits.size() || *port <= 0 || *port > 65535) {
      return "port '" + std::string(digits) + "' is not a number in 1..65535";
    }
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return "no host";
  *host = std::string(authority);
  return {};
}

}  // namespace

std::string ClickHouseUrl::ToString() const {
  std::string s =
      "clickhouse://" + (user.empty() ? "" : user + "@") + host + ":" + std::to_string(port) + "/" + database;
  if (cluster.empty()) return s;
  s += "?cluster=" + cluster + "&shards=";
  for (std::size_t i = 0; i < shards.size(); ++i) {
    s += (i == 0 ? "" : ",") + shards[i].host + ":" + std::to_string(shards[i].port);
  }
  return s;
}

ClickHouseUrl ClickHouseUrl::Shard(std::size_t i) const {
  ClickHouseUrl u = *this;
  u.host = shards.at(i).host;
  u.port = shards.at(i).port;
  u.cluster.clear();
  u.shards.clear();
  return u;
}

Result<ClickHouseUrl> ParseClickHouseUrl(std::string_view url) {
  const auto bad = [&](const std::string& why) {
    return MakeError(ErrorCode::kInvalidArgument, "store URL '" + std::string(url) + "': " + why +
                                                      " (expected clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE"
                                                      "[?cluster=NAME&shards=HOST:PORT,...])");
  };
  constexpr std::string_view kScheme = "clickhouse://";
  if (url.substr(0, kScheme.size()) != kScheme) return bad("not a clickhouse:// URL");
  std::string_view rest = url.substr(kScheme.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return bad("no database name");
  ClickHouseUrl u;
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = rest.substr(slash + 1);
  std::string_view params;
  if (const auto q = path.find('?'); q != std::string_view::npos) {
    params = path.substr(q + 1);
    path = path.substr(0, q);
  }
  u.database = std::string(path);
  if (!IsIdentifier(u.database)) return bad("database name '" + u.database + "' is not letters, digits and _");
  std::string lower = u.database;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "system" || lower == "information_schema") {
    return bad("'" + u.database + "' is ClickHouse's own database; name a database of your own, e.g. /tickflow");
  }
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view info = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    const auto colon = info.find(':');
    u.user = std::string(info.substr(0, colon));
    if (colon != std::string_view::npos) u.password = std::string(info.substr(colon + 1));
  }
  if (std::string why = ParseHostPort(authority, &u.host, &u.port); !why.empty()) return bad(why);
  while (!params.empty()) {
    const std::string_view param = params.substr(0, params.find('&'));
    params.remove_prefix(std::min(params.size(), param.size() + 1));
    const auto eq = param.find('=');
    const std::string_view key = param.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
    if (key == "cluster") {
      u.cluster = std::string(value);
      if (!IsIdentifier(u.cluster)) return bad("cluster name '" + u.cluster + "' is not letters, digits and _");
    } else if (key == "shards") {
      for (std::string_view list = value; !list.empty();) {
        const std::string_view one = list.substr(0, list.find(','));
        list.remove_prefix(std::min(list.size(), one.size() + 1));
        ClickHouseUrl::Endpoint e;
        if (std::string why = ParseHostPort(one, &e.host, &e.port); !why.empty()) {
          return bad("shard '" + std::string(one) + "': " + why);
        }
        u.shards.push_back(std::move(e));
      }
    } else {
      return bad("unknown parameter '" + std::string(key) + "' (known: cluster, shards)");
    }
  }
  if (u.cluster.empty() != u.shards.empty()) {
    return bad(
        "cluster= and shards= go together: the cluster's name in the server's remote_servers and the HTTP "
        "address of each of its shards");
  }
  return u;
}

std::string SqlQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

ClickHouseHttp::ClickHouseHttp(ClickHouseUrl url) : url_(std::move(url)) {
  base_ = "http://" + url_.host + ":" + std::to_string(url_.port) + "/";
  // On a cluster, an INSERT into a Distributed table returns once every shard has its rows
  // (not when they are queued for sending), so a commit never points at rows still on the way.
  if (!url_.cluster.empty()) base_ += "?insert_distributed_sync=1";
}

ClickHouseHttp::~ClickHouseHttp() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Result<std::unique_ptr<ClickHouseHttp>> ClickHouseHttp::Connect(const ClickHouseUrl& url) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<ClickHouseHttp> c(new ClickHouseHttp(url));
  c->curl_ = curl_easy_init();
  if (c->curl_ == nullptr) return MakeError(ErrorCode::kInternal, "curl_easy_init failed");
  return c;
}

Status ClickHouseHttp::Query(std::string_view sql, std::string* out) { return Post(sql, {}, out); }

Status ClickHouseHttp::Insert(std::string_view sql, std::string_view body) {
  std::string ignored;
  return Post(sql, body, &ignored);
}

Status ClickHouseHttp::Post(std::string_view sql, std::string_view body, std::string* out) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);
  out->clear();
  // The query goes in the URL when there is a body (an INSERT's rows), else in the body.
  std::string target = base_;
  std::string query_body;
  Body reader{};
  if (!body.empty()) {
    char* q = curl_easy_escape(curl, sql.data(), static_cast<int>(sql.size()));
    target += target.find('?') == std::string::npos ? "?query=" : "&query=";
    target += q;
    curl_free(q);
    reader.rest = body;
  } else {
    query_body = std::string(sql);
    reader.rest = query_body;
  }
  curl_easy_setopt(curl, CURLOPT_URL, target.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, &Read);
  curl_easy_setopt(curl, CURLOPT_READDATA, &reader);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(reader.rest.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  // A server that stops answering mid-query is an error after two minutes, not a hang.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 120L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  if (!url_.user.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, url_.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, url_.password.c_str());
  }
  struct curl_slist* headers = curl_slist_append(nullptr, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    return MakeError(ErrorCode::kUnavailable, "cannot reach ClickHouse at " + url_.host + ":" + std::to_string(url_.port) +
                                                  ": " + curl_easy_strerror(rc) +
                                                  " (is clickhouse-server running? scripts/clickhouse.sh start DIR)");
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    const std::string what = ServerMessage(*out);
    out->clear();
    const ErrorCode code = status == 401 || status == 403 || what.find("Authentication failed") != std::string::npos
                               ? ErrorCode::kPermissionDenied
                               : ErrorCode::kIo;
    return MakeError(code, "ClickHouse " + url_.ToString() + ": " + what + " (in: " +
                               std::string(sql.substr(0, 80)) + (sql.size() > 80 ? "...)" : ")"));
  }
  return {};
}

}  // namespace tickflow::store::detail
