// ClickHouse over its HTTP interface (libcurl). One connection per object,
// kept alive between queries; not thread-safe. curl and HTTP errors become
// tickflow Errors here and go no further: an unreachable server is
// kUnavailable, a query the server rejects is kIo with the server's message.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tickflow/core/result.hpp"

namespace tickflow::store::detail {

// clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE (port 8123 by default),
// optionally ?cluster=NAME&shards=HOST:PORT,HOST:PORT,... for a database
// sharded over a cluster of the server's remote_servers: the tables at
// HOST:PORT/DATABASE are then Distributed tables over `*_local` tables on each
// shard, whose HTTP addresses `shards` lists (docs/deployment.md).
struct ClickHouseUrl {
  struct Endpoint {
    std::string host;
    int port = 8123;
  };
  std::string host;
  int port = 8123;
  std::string database;
  std::string user;
  std::string password;
  std::string cluster;           // empty: one server
  std::vector<Endpoint> shards;  // HTTP addresses of the shards, when `cluster` is set
  std::string ToString() const;  // without the password
  // The URL of shard i's node (same database and user, not a cluster URL).
  ClickHouseUrl Shard(std::size_t i) const;
};
Result<ClickHouseUrl> ParseClickHouseUrl(std::string_view url);

class ClickHouseHttp {
 public:
  static Result<std::unique_ptr<ClickHouseHttp>> Connect(const ClickHouseUrl& url);
  ~ClickHouseHttp();
  ClickHouseHttp(const ClickHouseHttp&) = delete;
  ClickHouseHttp& operator=(const ClickHouseHttp&) = delete;

  // Runs `sql`; the response body (e.g. RowBinary) is written to *out.
  Status Query(std::string_view sql, std::string* out);
  Status Execute(std::string_view sql) {
    std::string ignored;
    return Query(sql, &ignored);
  }
  // INSERT with a body: `sql` is "INSERT INTO t FORMAT RowBinary".
  Status Insert(std::string_view sql, std::string_view body);

  const ClickHouseUrl& url() const { return url_; }

 private:
  explicit ClickHouseHttp(ClickHouseUrl url);
  Status Post(std::string_view sql, std::string_view body, std::string* out);

  ClickHouseUrl url_;
  void* curl_ = nullptr;  // CURL*, kept out of this header
  std::string base_;      // http://host:port/
};

// A SQL string literal: 'text' with quotes and backslashes escaped.
std::string SqlQuote(std::string_view text);

}  // namespace tickflow::store::detail
