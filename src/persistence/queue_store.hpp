// The generic queue operations on one queue's table: claim, renew, rescue, finish, release.
#pragma once

#include "config/config.hpp"
#include "config/queue_catalog.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/connection>
#include <pqxx/transaction_base>

namespace sky::persistence {

struct claimed_row {
  std::string id;
  int attempt = 0;
  std::int64_t claim = 0;      // the row's claim count with this claim: the fencing token
  std::string payload_json;    // the whole row as JSON, so workers need no second read
  double pickup_latency_s = 0; // from becoming due to being claimed
  std::string row_address;     // where the claimed version lies (ctid), for a direct finish
};

struct rescued_row {
  std::string id;
  std::string new_status;
};

enum class finish_kind { completed, retry, failed, cancelled };

struct finish_request {
  std::string id;
  std::int64_t claim = 0; // from the claim: the row is changed only while it is still that claim's
  finish_kind kind = finish_kind::completed;
  std::string error;
  double retry_delay_s = 0;
  std::string result_json; // completed items: stored by job queues as result_data
  std::string row_address; // from the claim; empty: found by id
};

struct finish_applied {
  std::string id;
  std::string new_status;
};

// Session settings of a connection that runs engine statements (poller, writer, maintenance), on a
// direct connection (a transaction pooler allows no session SET; there statements are planned on
// every call anyway). Each statement reaches its rows through an index or their address by
// design; a generic plan made while the table was still nearly empty would keep a sequential
// scan after it has grown, until the next ANALYZE invalidates it, so sequential scans are ruled
// out wherever another path exists. JIT is off: it never pays for statements this short.
void configure_engine_session(pqxx::connection& conn);

// Opens a connection for engine statements with `statement_timeout`. With `session_settings` (a
// direct connection) it also gets configure_engine_session and, when `durable` is false,
// synchronous_commit off: for statements whose loss in a server crash costs nothing but a redo.
std::unique_ptr<pqxx::connection>
open_engine_connection(const std::string& url, std::chrono::milliseconds statement_timeout,
                       bool session_settings, bool durable);

class queue_store {
public:
  // `prepared`: on connections with the engine's session settings (configure_engine_session),
  // not through a transaction pooler: the hot statements run as named prepared statements, and
  // a batch's completions read all their addresses in one pass.
  queue_store(const config::queue_definition& definition, const config::queue_config& config,
              bool prepared = true);

  const config::queue_definition& definition() const { return definition_; }

  // Claims up to `limit` due rows in one statement (its own short transaction).
  std::vector<claimed_row> claim(pqxx::connection& conn, const std::string& node, int limit) const;
  // Seconds until the earliest queued row is due (<= 0: due now); nullopt when none is queued.
  std::optional<double> next_due_in(pqxx::connection& conn) const;
  // Extends the leases of `ids`; returns those whose cancellation was requested.
  std::vector<std::string> renew(pqxx::connection& conn, const std::string& node,
                                 const std::vector<std::string>& ids) const;
  std::vector<rescued_row> rescue(pqxx::connection& conn, int limit) const;
  // Seconds until the earliest lease of a row in progress ends; nullopt when none is in progress.
  std::optional<double> next_lease_end_in(pqxx::connection& conn) const;
  // Job queues: deletes at most `limit` of this type's jobs finished more than `days` ago (none
  // when `days` <= 0); returns how many went. Entity tables keep their rows (they are the
  // product).
  std::size_t delete_finished(pqxx::connection& conn, int days, int limit) const;
  // page_scrape: forgets at most `limit` hosts whose booked politeness slots ended over an hour
  // ago (host_schedule); returns how many. Other queues book no slots.
  std::size_t forget_past_hosts(pqxx::connection& conn, int limit) const;
  // Job queues: folds the appended status deltas into the finished counts (all job types at
  // once; a no-op while another node folds).
  void fold_status_counts(pqxx::connection& conn) const;
  // Final or retry state of one item inside the caller's transaction; false when the row is no
  // longer ours (lease lost): nothing was changed. `new_status` receives the resulting status.
  bool finish(pqxx::transaction_base& tx, const std::string& node, const finish_request& item,
              std::string* new_status = nullptr) const;
  // The same for many items, one statement per kind present. Returns the rows that were still
  // ours, with their new status; the others were fenced out and are untouched.
  std::vector<finish_applied> finish_many(pqxx::transaction_base& tx, const std::string& node,
                                          const std::vector<finish_request>& items) const;
  // Returns rows `node` holds but that are not in `known` (claims whose answer was lost).
  std::vector<std::string> release_orphans(pqxx::connection& conn, const std::string& node,
                                           const std::vector<std::string>& known) const;
  // Returns every row `node` still holds to the queue without counting the attempt.
  std::vector<std::string> release(pqxx::connection& conn, const std::string& node) const;

private:
  const config::queue_definition& definition_;
  config::queue_config config_;
  std::string claim_sql_, next_due_sql_, renew_sql_, rescue_sql_, release_sql_, orphans_sql_,
      complete_at_sql_, complete_many_sql_, retry_many_sql_, fail_many_sql_, next_lease_end_sql_;
  std::string statement_prefix_; // names of this queue's prepared statements
  bool prepared_;                // false through a transaction pooler (statements are per session)

  template <class... Args>
  pqxx::result execute(pqxx::transaction_base& tx, const std::string& name, const std::string& sql,
                       Args&&... args) const;
};

} // namespace sky::persistence
