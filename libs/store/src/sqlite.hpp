// Thin RAII over the SQLite C API. SQLite error codes become tickflow Errors
// here and go no further.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "tickflow/core/result.hpp"

namespace tickflow::store::detail {

class Db {
 public:
  Db() = default;
  explicit Db(sqlite3* db) : db_(db) {}
  Db(Db&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
  Db& operator=(Db&& o) noexcept {
    std::swap(db_, o.db_);
    return *this;
  }
  ~Db() { sqlite3_close_v2(db_); }
  sqlite3* get() const { return db_; }

  Error Fail(std::string_view what) const {
    return MakeError(ErrorCode::kIo, std::string(what) + ": " + sqlite3_errmsg(db_));
  }
  Status Exec(const char* sql) const {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string text = msg != nullptr ? msg : "unknown error";
      sqlite3_free(msg);
      return MakeError(ErrorCode::kIo, "sqlite: " + text + " (in: " + std::string(sql).substr(0, 60) + ")");
    }
    return {};
  }

 private:
  sqlite3* db_ = nullptr;
};

class Stmt {
 public:
  Stmt() = default;
  Stmt(Stmt&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~Stmt() { sqlite3_finalize(s_); }

  static Result<Stmt> Prepare(const Db& db, const char* sql) {
    Stmt st;
    if (sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &st.s_, nullptr) != SQLITE_OK) {
      return db.Fail(std::string("prepare '") + sql + "'");
    }
    return st;
  }

  sqlite3_stmt* get() const { return s_; }
  Stmt& Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    return *this;
  }
  Stmt& Bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  // SQLITE_ROW -> true, SQLITE_DONE -> false, anything else an error.
  Result<bool> Step(const Db& db) {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return db.Fail("sqlite step");
  }
  Status Run(const Db& db) {
    auto r = Step(db);
    if (!r.ok()) return std::move(r).error();
    return {};
  }
  std::int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string_view Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p == nullptr ? std::string_view() : std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)));
  }
  std::string_view Blob(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, col));
    return p == nullptr ? std::string_view() : std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)));
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

}  // namespace tickflow::store::detail
