// queue_store: renders the queue templates once and runs them with bound parameters.
#include "persistence/queue_store.hpp"

#include "persistence/connection_pool.hpp"
#include "persistence/pg_array.hpp"
#include "persistence/queue_sql.hpp"
#include "persistence/sql_catalog.hpp"

#include <algorithm>
#include <charconv>
#include <pqxx/pqxx>
#include <unordered_set>

namespace sky::persistence {
namespace {

// NULL keeps a row's earlier result (result_data = coalesce(new, old)).
std::optional<std::string> result_of(const finish_request& item) {
  if (item.result_json.empty())
    return std::nullopt;
  return item.result_json;
}

// A float8 as PostgreSQL prints it. std::from_chars, because pqxx's conversion goes through a
// stream, which cost a claimed row more than all its other columns together.
double float8_of(const pqxx::field& f) {
  if (f.is_null())
    return 0.0;
  const char* begin = f.c_str();
  const char* end = begin + f.size();
  double value = 0.0;
  auto [stop, error] = std::from_chars(begin, end, value);
  return error == std::errc{} && stop == end ? value : f.as<double>(); // Infinity, NaN
}

// Both claims return (id, attempt, claim, payload, seconds since due, address).
std::vector<claimed_row> claimed_rows(const pqxx::result& rows) {
  std::vector<claimed_row> out;
  out.reserve(rows.size());
  for (auto r : rows)
    out.push_back({r[0].as<std::string>(), r[1].as<int>(), r[2].as<std::int64_t>(),
                   r[3].as<std::string>(), float8_of(r[4]), r[5].as<std::string>()});
  return out;
}

// A batch's ids, addresses or claims as a parameter in binary format (see binary_array_builder).
pqxx::binarystring binary(binary_array_builder& array) {
  return pqxx::binarystring(array.finish());
}

} // namespace

// The hot statements run as prepared statements: parsed and planned once per connection instead
// of on every claim and commit. pqxx declares them lazily, and declaring an existing name with the
// same text again is a no-op, so a new connection (after a reconnect) prepares them on first use.
// Through a transaction pooler a prepared statement may live on another server connection than
// the next transaction's, so there they run unnamed.
template <class... Args>
pqxx::result queue_store::execute(pqxx::transaction_base& tx, const std::string& name,
                                  const std::string& sql, Args&&... args) const {
  if (!prepared_)
    return tx.exec_params(sql, std::forward<Args>(args)...);
  tx.conn().prepare(name, sql);
  return tx.exec_prepared(name, std::forward<Args>(args)...);
}

void configure_engine_session(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  tx.exec("SET enable_seqscan = off");
  // The engine's statements are short; a cost raised by the line above (a statement that has
  // no other path than a sequential scan still takes it) must not buy a JIT compilation, which
  // costs hundreds of milliseconds.
  tx.exec("SET jit = off");
  // A batch's size is known only at execution, so the planner prices a generic plan of a finish
  // at unnest's default hundred rows against a custom plan of the few rows at hand, and then
  // plans every small batch anew (a third of a millisecond each, more than its execution). The
  // statements are index and address lookups whatever the batch (the line above and the plan
  // tests see to it), so one generic plan serves them all.
  tx.exec("SET plan_cache_mode = force_generic_plan");
}

std::unique_ptr<pqxx::connection>
open_engine_connection(const std::string& url, std::chrono::milliseconds statement_timeout,
                       bool session_settings, bool durable) {
  auto conn = open_connection(url, statement_timeout);
  if (session_settings) {
    if (!durable)
      pqxx::nontransaction(*conn).exec("SET synchronous_commit = off");
    configure_engine_session(*conn);
  }
  return conn;
}

queue_store::queue_store(const config::queue_definition& definition,
                         const config::queue_config& config, bool prepared)
    : definition_(definition), config_(config),
      claim_sql_(render_queue_query("queue_claim", definition)),
      next_due_sql_(render_queue_query("queue_next_due", definition)),
      renew_sql_(render_queue_query("queue_renew", definition)),
      rescue_sql_(render_queue_query("queue_rescue", definition)),
      release_sql_(render_queue_query("queue_release", definition)),
      orphans_sql_(render_queue_query("queue_release_orphans", definition)),
      complete_at_sql_(render_queue_query(prepared ? "queue_complete_at" : "queue_complete_at_each",
                                          definition)),
      complete_many_sql_(render_queue_query("queue_complete_many", definition)),
      retry_many_sql_(render_queue_query("queue_retry_many", definition)),
      fail_many_sql_(render_queue_query("queue_fail_many", definition)),
      next_lease_end_sql_(render_queue_query("queue_next_lease_end", definition)),
      statement_prefix_("sky_" + std::string(definition.name) + "_"), prepared_(prepared) {}

std::vector<claimed_row> queue_store::claim(pqxx::connection& conn, const std::string& node,
                                            int limit) const {
  // One statement is its own transaction: one round trip instead of three.
  pqxx::nontransaction tx(conn);
  auto rows = execute(tx, statement_prefix_ + "claim", claim_sql_, node,
                      static_cast<double>(config_.lease.count()), limit);
  return claimed_rows(rows);
}

std::optional<double> queue_store::next_due_in(pqxx::connection& conn) const {
  // Asked after every claim that emptied the queue, so at low load as often as claims are made:
  // planned once, not on every call.
  pqxx::nontransaction tx(conn);
  auto rows = execute(tx, statement_prefix_ + "next_due", next_due_sql_);
  if (rows.empty() || rows[0][0].is_null())
    return std::nullopt;
  return rows[0][0].as<double>();
}

std::vector<std::string> queue_store::renew(pqxx::connection& conn, const std::string& node,
                                            const std::vector<std::string>& ids) const {
  std::vector<std::string> cancelled;
  if (ids.empty())
    return cancelled;
  pqxx::nontransaction tx(conn);
  auto rows = execute(tx, statement_prefix_ + "renew", renew_sql_, node,
                      static_cast<double>(config_.lease.count()), text_array(ids));
  for (auto r : rows)
    if (r[1].as<bool>())
      cancelled.push_back(r[0].as<std::string>());
  return cancelled;
}

std::size_t queue_store::delete_finished(pqxx::connection& conn, int days, int limit) const {
  if (definition_.job_type.empty() || days <= 0)
    return 0;
  pqxx::nontransaction tx(conn);
  return tx
      .exec_params(query("jobs_delete_finished"), std::string(definition_.job_type), days, limit)
      .affected_rows();
}

std::size_t queue_store::forget_past_hosts(pqxx::connection& conn, int limit) const {
  if (definition_.job_type != "page_scrape")
    return 0;
  pqxx::nontransaction tx(conn);
  return tx.exec_params(query("host_schedule_forget"), limit).affected_rows();
}

void queue_store::fold_status_counts(pqxx::connection& conn) const {
  if (definition_.job_type.empty())
    return;
  pqxx::nontransaction tx(conn);
  tx.exec(query("jobs_fold_status_deltas"));
}

std::optional<double> queue_store::next_lease_end_in(pqxx::connection& conn) const {
  pqxx::nontransaction tx(conn);
  auto rows = tx.exec(next_lease_end_sql_);
  if (rows.empty() || rows[0][0].is_null())
    return std::nullopt;
  return rows[0][0].as<double>();
}

std::vector<rescued_row> queue_store::rescue(pqxx::connection& conn, int limit) const {
  pqxx::nontransaction tx(conn);
  auto rows = tx.exec_params(rescue_sql_, limit, config_.max_attempts);
  std::vector<rescued_row> out;
  for (auto r : rows)
    out.push_back({r[0].as<std::string>(), r[1].as<std::string>()});
  return out;
}

bool queue_store::finish(pqxx::transaction_base& tx, const std::string& node,
                         const finish_request& item, std::string* new_status) const {
  auto applied = finish_many(tx, node, {item});
  if (applied.empty())
    return false;
  if (new_status)
    *new_status = applied[0].new_status;
  return true;
}

std::vector<finish_applied>
queue_store::finish_many(pqxx::transaction_base& tx, const std::string& node,
                         const std::vector<finish_request>& items) const {
  std::vector<finish_applied> applied;
  // Only job queues have a Cancelled status; elsewhere a cancelled item ends in Error.
  const bool can_cancel = !definition_.job_type.empty();
  // In id order within each statement; the lease renewal skips rows locked here, so the two
  // never wait on each other in a cycle.
  std::vector<const finish_request*> by_id;
  by_id.reserve(items.size());
  for (const auto& it : items)
    by_id.push_back(&it);
  std::sort(by_id.begin(), by_id.end(), [](auto* a, auto* b) { return a->id < b->id; });
  // Completions go first to the addresses their claims returned; what was not found there
  // (moved, or no longer ours) is looked up by id with the other kinds.
  std::unordered_set<std::string> found_at_address;
  {
    binary_array_builder addresses(binary_array_builder::element::tid),
        ids(binary_array_builder::element::uuid), claims(binary_array_builder::element::int8);
    text_array_builder results;
    for (const auto* item : by_id)
      if (item->kind == finish_kind::completed && !item->row_address.empty()) {
        addresses.add_tid(item->row_address);
        ids.add_uuid(item->id);
        claims.add_int8(item->claim);
        if (item->result_json.empty())
          results.add_null(); // keeps the row's earlier result, as result_of() says
        else
          results.add(item->result_json);
      }
    if (!ids.empty())
      for (auto r : execute(tx, statement_prefix_ + "complete_at", complete_at_sql_,
                            binary(addresses), binary(ids), binary(claims), node, results.finish()))
        applied.push_back({r[0].as<std::string>(), r[1].as<std::string>()});
    // The common case: every item was a completion, found at its address.
    if (applied.size() == by_id.size())
      return applied;
    for (const auto& a : applied)
      found_at_address.insert(a.id);
  }
  auto run = [&](finish_kind kind, const std::string& name, const std::string& sql) {
    binary_array_builder ids(binary_array_builder::element::uuid),
        claims(binary_array_builder::element::int8);
    std::vector<std::string> errors;
    std::vector<std::optional<std::string>> results;
    std::vector<double> delays;
    for (const auto* item : by_id) {
      const auto& it = *item;
      auto k = it.kind == finish_kind::cancelled && !can_cancel ? finish_kind::failed : it.kind;
      if (k != kind || found_at_address.contains(it.id))
        continue;
      ids.add_uuid(it.id);
      claims.add_int8(it.claim);
      errors.push_back(it.error);
      delays.push_back(it.retry_delay_s);
      results.push_back(result_of(it));
    }
    if (ids.empty())
      return;
    pqxx::result rows;
    if (kind == finish_kind::completed)
      rows = execute(tx, name, sql, binary(ids), binary(claims), node, text_array(results));
    else if (kind == finish_kind::retry)
      rows = execute(tx, name, sql, binary(ids), binary(claims), node, text_array(errors),
                     double_array(delays), config_.max_attempts);
    else
      rows = execute(tx, name, sql, binary(ids), binary(claims), node, text_array(errors),
                     std::string(kind == finish_kind::cancelled ? "Cancelled" : definition_.error));
    for (auto r : rows)
      applied.push_back({r[0].as<std::string>(), r[1].as<std::string>()});
  };
  run(finish_kind::completed, statement_prefix_ + "complete", complete_many_sql_);
  run(finish_kind::retry, statement_prefix_ + "retry", retry_many_sql_);
  run(finish_kind::failed, statement_prefix_ + "fail", fail_many_sql_);
  if (can_cancel)
    run(finish_kind::cancelled, statement_prefix_ + "fail", fail_many_sql_);
  return applied;
}

std::vector<std::string> queue_store::release_orphans(pqxx::connection& conn,
                                                      const std::string& node,
                                                      const std::vector<std::string>& known) const {
  pqxx::nontransaction tx(conn);
  std::vector<std::string> out;
  for (auto r : tx.exec_params(orphans_sql_, node, text_array(known)))
    out.push_back(r[0].as<std::string>());
  return out;
}

std::vector<std::string> queue_store::release(pqxx::connection& conn,
                                              const std::string& node) const {
  pqxx::work tx(conn);
  auto rows = tx.exec_params(release_sql_, node);
  tx.commit();
  std::vector<std::string> out;
  for (auto r : rows)
    out.push_back(r[0].as<std::string>());
  return out;
}

} // namespace sky::persistence
