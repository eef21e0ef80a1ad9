// Handler tables. Each workflow is a work step (pure or network) plus a write step (SQL).
#include "workflows/handlers.hpp"

#include "config/config.hpp"
#include "persistence/sql_catalog.hpp"
#include "scrape/domain_rules.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <fcntl.h>
#include <pqxx/pqxx>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace sky::workflows {
namespace {

namespace json = boost::json;
using messages::outcome;

json::object payload_of(const messages::work_item& item) {
  boost::system::error_code ec;
  auto v = json::parse(item.payload_json, ec);
  if (ec || !v.is_object())
    throw std::runtime_error("claimed row is not a JSON object");
  return v.as_object();
}

std::string string_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// domain_extraction: local business website URL -> registrable domain -> domains row, linked.
queue_handler domain_extraction() {
  queue_handler h;
  h.work = [](handler_context& ctx) {
    auto row = payload_of(ctx.item);
    auto website = string_field(row, "website_url");
    if (website.empty())
      return handler_result::failed("business has no website URL");
    auto domain = scrape::registrable_domain(website);
    if (!domain)
      return handler_result::failed("no registrable domain in website URL: " + website);
    return handler_result::completed(json::serialize(json::object{{"domain", *domain}}));
  };
  h.blocking = false; // pure computation
  h.write = [](pqxx::transaction_base& tx, const std::vector<written_item>& items) {
    for (const auto& [done, status] : items) {
      if (done->result == outcome::completed) {
        auto domain = json::parse(done->result_json).as_object().at("domain").as_string();
        auto domain_id = tx.exec_params(persistence::query("domains_upsert_for_business"),
                                        std::string(domain), done->id)[0][0]
                             .as<std::string>();
        tx.exec_params(persistence::query("local_businesses_link_domain"), done->id, domain_id);
      } else if (status == "Error") {
        tx.exec_params(persistence::query("local_businesses_record_extraction_error"), done->id,
                       done->error);
      }
    }
  };
  return h;
}

void append_execution(const std::string& path, const std::string& line) {
  if (path.empty())
    return;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  // One write() of a short line with O_APPEND is atomic across processes.
  auto n = ::write(fd, line.data(), line.size());
  (void)n;
  ::close(fd);
}

long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

queue_handler synthetic_job(std::string execution_log, std::string node, bool cooperative) {
  queue_handler h;
  h.blocking = !cooperative;
  h.work = [execution_log, node](handler_context& ctx) {
    auto start = now_ns();
    auto row = payload_of(ctx.item);
    json::object params;
    if (const auto* p = row.if_contains("params"); p && p->is_object())
      params = p->as_object();
    auto fault = string_field(params, "fault");
    long long sleep_ms = 0;
    if (const auto* s = params.if_contains("sleep_ms"); s && s->is_int64())
      sleep_ms = s->as_int64();
    auto finish = [&](handler_result r) {
      append_execution(execution_log, ctx.item.id + " " + std::to_string(start) + " " +
                                          std::to_string(now_ns()) + " " + node + "\n");
      return r;
    };
    if (fault == "throw")
      throw std::runtime_error("injected handler exception");
    if (fault == "hang" && ctx.item.attempt == 1)
      std::this_thread::sleep_for(std::chrono::hours(1));
    if (fault == "wait_cancel") {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (!ctx.cancelled() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (ctx.cancelled())
        return finish({outcome::cancelled, "cancelled by request", {}});
    }
    if (sleep_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    if (fault == "fail")
      return finish(handler_result::failed("injected permanent failure"));
    if (fault == "bad_result") // the database will refuse this result: exercises isolation
      return finish(handler_result::completed("{not json"));
    if (fault == "retry_once" && ctx.item.attempt == 1)
      return finish(handler_result::retry("injected transient failure"));
    return finish(handler_result::completed(
        json::serialize(json::object{{"node", node}, {"attempt", ctx.item.attempt}})));
  };
  // Job queues need no write step: the engine stores result_data, progress and error itself.
  return h;
}

} // namespace

handler_table production_handlers(const config::app_config&) {
  handler_table t;
  t.emplace("domain_extraction", domain_extraction());
  return t;
}

handler_table test_handlers(const config::app_config& config, std::string execution_log) {
  auto t = production_handlers(config);
  t.emplace("page_scrape", synthetic_job(std::move(execution_log), config.node_id,
                                         config.test.synthetic_cooperative));
  return t;
}

} // namespace sky::workflows
