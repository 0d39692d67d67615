#include "clickhouse_lease.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "clickhouse_rowbinary.hpp"
#include "clickhouse_schema.hpp"

namespace tickflow::store::detail {
namespace {

// A lease in `writer_leases`: ClickHouse has no locks or compare-and-set, so
// a writer inserts its claim and then reads every live claim. Inserts are
// visible once acknowledged, so of two writers that overlap, the later reader
// always sees the other's claim: a writer that sees only its own claim holds
// the store; one that sees another withdraws (and, when both withdrew, tries
// again after a random pause). A claim expires kLeaseSeconds after its last
// renewal; a claim of a process on this host that no longer exists (killed)
// is ignored at once.
class ClickHouseLease final : public WriterLock {
 public:
  static Result<std::unique_ptr<WriterLock>> Acquire(const ClickHouseUrl& url, std::string_view holder) {
    TICKFLOW_ASSIGN_OR_RETURN(auto http, ClickHouseHttp::Connect(url));
    const std::string db = url.database;
    TICKFLOW_RETURN_IF_ERROR(http->Execute(LeaseTable(db)));
    std::random_device rd;
    std::mt19937_64 rng((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
    std::string other;
    for (int attempt = 0; attempt < 5; ++attempt) {
      char token[33];
      std::snprintf(token, sizeof token, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                    static_cast<unsigned long long>(rng()));
      auto lease = std::unique_ptr<ClickHouseLease>(new ClickHouseLease(std::move(http), db, token, holder));
      TICKFLOW_RETURN_IF_ERROR(lease->Claim(*lease->http_, /*released=*/false));
      TICKFLOW_ASSIGN_OR_RETURN(other, LiveHolder(*lease->http_, db, token));
      if (other.empty()) {
        lease->StartRenewing(url);
        return std::unique_ptr<WriterLock>(std::move(lease));
      }
      TICKFLOW_RETURN_IF_ERROR(lease->Claim(*lease->http_, /*released=*/true));
      http = std::move(lease->http_);
      // Another writer: if it got the store, it is still there after a pause.
      std::this_thread::sleep_for(std::chrono::milliseconds(50 + static_cast<int>(rng() % 400)));
      TICKFLOW_ASSIGN_OR_RETURN(const std::string still, LiveHolder(*http, db, ""));
      if (!still.empty()) {
        other = still;
        break;
      }
    }
    return MakeError(ErrorCode::kBusy, "another writer is importing into " + url.ToString() + ": " + other +
                                           " (its lease lasts " + std::to_string(kLeaseSeconds) +
                                           " s past its last renewal); wait for it to finish, then run this again");
  }

  ~ClickHouseLease() override {
    StopRenewing();
    if (http_ != nullptr) (void)Claim(*http_, /*released=*/true);
  }

 private:
  ClickHouseLease(std::unique_ptr<ClickHouseHttp> http, std::string db, std::string token, std::string_view holder)
      : http_(std::move(http)), db_(std::move(db)), token_(std::move(token)), holder_(holder) {}

  static std::string Host() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) return "?";
    return host;
  }

  Status Claim(ClickHouseHttp& http, bool released) {
    return http.Execute("INSERT INTO " + db_ + ".writer_leases SELECT " + SqlQuote(token_) + ", " + SqlQuote(holder_) +
                        ", now() + " + std::to_string(kLeaseSeconds) + ", " + (released ? "1" : "0") + ", " +
                        SqlQuote(Host()) + ", " + std::to_string(::getpid()));
  }

  // The holder of the first live claim other than `token` ("" when none).
  static Result<std::string> LiveHolder(ClickHouseHttp& http, const std::string& db, const std::string& token) {
    std::string out;
    TICKFLOW_RETURN_IF_ERROR(http.Query("SELECT any(host), any(pid), any(holder) FROM " + db +
                                            ".writer_leases WHERE token != " + SqlQuote(token) +
                                            " GROUP BY token HAVING max(expires) > now() AND max(released) = 0 "
                                            "ORDER BY min(expires) FORMAT RowBinary",
                                        &out));
    const std::string here = Host();
    RowReader r(out);
    while (!r.done()) {
      std::string host, holder;
      std::uint32_t pid = 0;
      if (!r.Str(&host) || !r.Get(&pid) || !r.Str(&holder)) {
        return MakeError(ErrorCode::kCorrupt, "ClickHouse returned a truncated writer lease");
      }
      const bool dead = host == here && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
      if (!dead) return holder;
    }
    return std::string();
  }

  void StartRenewing(const ClickHouseUrl& url) {
    renewer_ = std::thread([this, url] {
      auto conn = ClickHouseHttp::Connect(url);
      std::unique_lock lock(mu_);
      while (!cv_.wait_for(lock, std::chrono::seconds(kLeaseSeconds / 6), [this] { return stop_; })) {
        if (conn.ok()) (void)Claim(**conn, /*released=*/false);
      }
    });
  }
  void StopRenewing() {
    if (!renewer_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    renewer_.join();
  }

  std::unique_ptr<ClickHouseHttp> http_;
  std::string db_, token_, holder_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread renewer_;
};

}  // namespace

Result<std::unique_ptr<WriterLock>> AcquireClickHouseLease(const ClickHouseUrl& url, std::string_view holder) {
  return ClickHouseLease::Acquire(url, holder);
}

}  // namespace tickflow::store::detail
