// The pipeline's routes: submissions (each a row with a Queued status, answered 202), curation
// (the dual-status pattern) and lists. Lists and curation are tables of specs, not handlers.
#include "http/workflow_routes.hpp"
#include "http/json_response.hpp"

#include "config/config.hpp"
#include "config/queue_catalog.hpp"
#include "http/request_body.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/pg_array.hpp"
#include "persistence/queue_sql.hpp"
#include "persistence/sql_catalog.hpp"
#include "scrape/domain_rules.hpp"
#include "scrape/url_rules.hpp"

#include <boost/json.hpp>
#include <map>
#include <pqxx/pqxx>
#include <set>

namespace sky::http {
namespace {

namespace json = boost::json;

// Unwraps a validated value or returns its error response from the enclosing route.
#define SKY_TRY(var, expr)                                                                         \
  auto var##_checked = (expr);                                                                     \
  if (auto* error = std::get_if<api_response>(&var##_checked))                                     \
    return *error;                                                                                 \
  auto& var = std::get<0>(var##_checked)

std::optional<std::string> user_of(const request_context& ctx) {
  // `sub` is the user id; tokens whose subject is not a UUID are accepted but not recorded.
  if (ctx.user_id && is_uuid(*ctx.user_id))
    return ctx.user_id;
  return std::nullopt;
}

const std::vector<std::string_view> k_curation_values{"New", "Selected", "Maybe", "Not a Fit",
                                                      "Archived"};
const std::vector<std::string_view> k_task_values{
    "Queued", "InProgress", "Completed", "Error", "ManualReview", "Cancelled", "Paused"};
const std::vector<std::string_view> k_processing_values{"Queued", "Processing", "Completed",
                                                        "Error"};

// A domain from user input: a bare name ("Example.com") or a URL whose host is used.
std::optional<std::string> domain_from_input(std::string_view text) {
  if (auto d = scrape::normalize_domain(text))
    return d;
  if (auto url = scrape::parse_web_url(text))
    return scrape::normalize_domain(url->host);
  return std::nullopt;
}

// --- submissions -------------------------------------------------------------------------------

api_response insert_job(app_services& s, const request_context& ctx, std::string_view type,
                        const json::object& params, std::optional<std::string> domain_id = {}) {
  auto id = s.db->run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    persistence::limit_statements(tx, *s.db);
    auto id = tx.exec_params1(persistence::query("jobs_insert"), std::string(type), user_of(ctx),
                              domain_id, json::serialize(params))[0]
                  .as<std::string>();
    tx.commit();
    return id;
  });
  return json_ok(202, json::object{{"job_id", id}, {"job_type", type}, {"status", "Queued"}});
}

api_response places_search(app_services& s, request_context& ctx) {
  SKY_TRY(body, json_body(ctx));
  SKY_TRY(business_type, string_field(body, "business_type", 200));
  SKY_TRY(location, string_field(body, "location", 200));
  return insert_job(s, ctx, "places_search",
                    json::object{{"business_type", business_type}, {"location", location}});
}

api_response scrape_single_page(app_services& s, request_context& ctx) {
  SKY_TRY(body, json_body(ctx));
  SKY_TRY(url, string_field(body, "url"));
  auto parsed = scrape::parse_web_url(url);
  if (!parsed)
    return json_error(400, "invalid_url", "url must be an absolute http(s) URL");
  return insert_job(s, ctx, "page_scrape", json::object{{"url", parsed->normalized}});
}

api_response scrape_page_batch(app_services& s, request_context& ctx) {
  SKY_TRY(body, json_body(ctx));
  SKY_TRY(urls, string_list_field(body, "urls",
                                  static_cast<std::size_t>(s.config->workflows.api_max_batch)));
  std::vector<std::string> params, hosts;
  for (std::size_t i = 0; i < urls.size(); ++i) {
    auto parsed = scrape::parse_web_url(urls[i]);
    if (!parsed)
      return json_error(400, "invalid_url",
                        "urls[" + std::to_string(i) + "] is not an absolute http(s) URL");
    params.push_back(json::serialize(json::object{{"url", parsed->normalized}}));
    hosts.push_back(parsed->host);
  }
  // Each host's pages are due one politeness slot apart (FETCH_PER_HOST_DELAY_MS, at least a
  // millisecond), after that host's earlier pages: claims interleave the sites, and a small
  // site is not held behind a large one's backlog.
  const double slot_seconds =
      std::max<double>(1, static_cast<double>(s.config->fetch.per_host_delay.count())) / 1000.0;
  auto [ids, batch] = s.db->run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    persistence::limit_statements(tx, *s.db);
    json::array ids;
    std::string batch;
    for (auto row : tx.exec_params(persistence::query("jobs_insert_page_batch"), user_of(ctx),
                                   persistence::text_array(params), persistence::text_array(hosts),
                                   slot_seconds)) {
      ids.push_back(json::string(row[0].c_str()));
      batch = row[1].c_str();
    }
    tx.commit();
    return std::pair{std::move(ids), std::move(batch)};
  });
  return json_ok(202, json::object{{"batch_id", batch}, {"job_ids", ids}, {"count", ids.size()}});
}

// domain -> (id, created) for every name, inserting the new ones.
std::vector<std::tuple<std::string, std::string, bool>>
upsert_domains(pqxx::work& tx, const std::vector<std::string>& domains,
               const std::optional<std::string>& user) {
  std::vector<std::tuple<std::string, std::string, bool>> out;
  for (auto row :
       tx.exec_params(persistence::query("domains_upsert"), persistence::text_array(domains), user))
    out.emplace_back(row[0].c_str(), row[1].c_str(), row[2].as<bool>());
  return out;
}

validated<std::vector<std::string>> domain_list(app_services& s, const json::object& body) {
  auto names = string_list_field(body, "domains",
                                 static_cast<std::size_t>(s.config->workflows.api_max_batch));
  auto* list = std::get_if<std::vector<std::string>>(&names);
  if (!list)
    return names;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto d = domain_from_input((*list)[i]);
    if (!d)
      return json_error(400, "invalid_domain",
                        "domains[" + std::to_string(i) + "] is not a domain name or web URL");
    out.push_back(*d);
  }
  return out;
}

api_response create_domains(app_services& s, request_context& ctx) {
  SKY_TRY(body, json_body(ctx));
  SKY_TRY(domains, domain_list(s, body));
  auto rows = s.db->run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    persistence::limit_statements(tx, *s.db);
    auto rows = upsert_domains(tx, domains, user_of(ctx));
    tx.commit();
    return rows;
  });
  json::array out;
  for (const auto& [domain, id, created] : rows)
    out.push_back(json::object{{"domain", domain}, {"id", id}, {"created", created}});
  return json_ok(202, json::object{{"domains", out}});
}

api_response sitemap_batch(app_services& s, request_context& ctx) {
  SKY_TRY(body, json_body(ctx));
  SKY_TRY(domains, domain_list(s, body));
  auto [jobs, batch] = s.db->run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    persistence::limit_statements(tx, *s.db);
    auto rows = upsert_domains(tx, domains, user_of(ctx));
    std::vector<std::optional<std::string>> domain_ids;
    std::vector<std::string> params;
    for (const auto& [domain, id, created] : rows) {
      domain_ids.emplace_back(id);
      params.push_back(json::serialize(json::object{{"domain", domain}}));
    }
    auto inserted =
        tx.exec_params(persistence::query("jobs_insert_many"), "sitemap", user_of(ctx),
                       persistence::text_array(domain_ids), persistence::text_array(params));
    json::array jobs;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& [domain, id, created] = rows[i];
      jobs.push_back(json::object{{"domain", domain},
                                  {"domain_id", id},
                                  {"job_id", inserted[static_cast<int>(i)][0].c_str()}});
    }
    std::string batch = inserted.empty() ? std::string() : inserted[0][1].c_str();
    tx.commit();
    return std::pair{std::move(jobs), std::move(batch)};
  });
  return json_ok(202, json::object{{"batch_id", batch}, {"jobs", jobs}});
}

// A batch's progress: its jobs counted by status, and whether every one has finished.
api_response get_batch(app_services& s, request_context& ctx) {
  const auto& id = ctx.path_params.at("batch_id");
  if (!is_uuid(id))
    return json_error(400, "invalid_id", "batch id must be a UUID");
  return s.db->run([&](pqxx::connection& c) -> api_response {
    pqxx::read_transaction tx(c);
    persistence::limit_statements(tx, *s.db);
    auto rows = tx.exec_params(persistence::query("jobs_batch_counts"), id);
    if (rows.empty())
      return json_error(404, "not_found", "no batch " + id);
    json::object counts;
    for (auto status : k_task_values)
      counts[status] = 0;
    long long total = 0, finished = 0;
    std::string job_type, created_at;
    for (auto r : rows) {
      const std::string status = r[0].c_str();
      const auto n = r[1].as<long long>();
      counts[status] = n;
      total += n;
      if (status == "Completed" || status == "Error" || status == "Cancelled")
        finished += n;
      job_type = r[2].c_str();
      if (created_at.empty() || created_at > r[3].c_str())
        created_at = r[3].c_str();
    }
    return json_ok(200, json::object{{"batch_id", id},
                                     {"job_type", job_type},
                                     {"created_at", created_at},
                                     {"total", total},
                                     {"finished", finished},
                                     {"done", finished == total},
                                     {"counts", counts}});
  });
}

api_response sitemap_single(app_services& s, request_context& ctx) {
  SKY_TRY(body, json_body(ctx));
  SKY_TRY(url, string_field(body, "url"));
  auto parsed = scrape::parse_web_url(url);
  if (!parsed)
    return json_error(400, "invalid_url", "url must be an absolute http(s) URL");
  auto domain = scrape::normalize_domain(parsed->host);
  if (!domain)
    return json_error(400, "invalid_url", "url must name a host, not an address");
  json::object params{{"url", parsed->normalized}, {"domain", *domain}};
  auto path_end = parsed->normalized.find_first_of("?#");
  std::string_view path(parsed->normalized.data(),
                        path_end == std::string::npos ? parsed->normalized.size() : path_end);
  for (std::string_view ext : {".xml", ".gz", ".txt"})
    if (path.size() > ext.size() && path.substr(path.size() - ext.size()) == ext)
      params["sitemap_url"] = parsed->normalized;
  auto [job_id, domain_id] = s.db->run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    persistence::limit_statements(tx, *s.db);
    auto rows = upsert_domains(tx, {*domain}, user_of(ctx));
    auto domain_id = std::get<1>(rows.at(0));
    auto job = tx.exec_params1(persistence::query("jobs_insert"), "sitemap", user_of(ctx),
                               domain_id, json::serialize(params))[0]
                   .as<std::string>();
    tx.commit();
    return std::pair{job, domain_id};
  });
  return json_ok(202, json::object{{"job_id", job_id},
                                   {"job_type", "sitemap"},
                                   {"domain_id", domain_id},
                                   {"status", "Queued"}});
}

api_response email_scan(app_services& s, request_context& ctx) {
  SKY_TRY(body, json_body(ctx));
  SKY_TRY(domain_id, uuid_field(body, "domain_id"));
  // The rendering tier for this scan: off, auto or always; the queue's setting when absent.
  std::optional<std::string> render;
  if (const auto* v = body.if_contains("render")) {
    if (!v->is_string() ||
        (v->get_string() != "off" && v->get_string() != "auto" && v->get_string() != "always"))
      return json_error(400, "invalid_field", "render must be one of: off, auto, always");
    render = std::string(v->get_string());
  }
  return s.db->run([&](pqxx::connection& c) -> api_response {
    pqxx::work tx(c);
    persistence::limit_statements(tx, *s.db);
    if (tx.exec_params(persistence::query("domains_exists"), domain_id).empty())
      return json_error(404, "not_found", "no domain " + domain_id);
    auto inserted = tx.exec_params(persistence::query("jobs_insert_email_scan"), user_of(ctx),
                                   domain_id, render);
    if (!inserted.empty()) {
      tx.commit();
      return json_ok(202, json::object{{"job_id", inserted[0][0].c_str()},
                                       {"status", "Queued"},
                                       {"existing", false}});
    }
    auto active = tx.exec_params(persistence::query("jobs_active_email_scan"), domain_id);
    if (active.empty()) // finished between the two statements: ask the caller to try again
      return json_error(409, "conflict", "a scan of this domain just finished; retry");
    return json_ok(202, json::object{{"job_id", active[0][0].c_str()},
                                     {"status", active[0][1].c_str()},
                                     {"existing", true}});
  });
}

api_response email_scan_status(app_services& s, request_context& ctx) {
  const auto& id = ctx.path_params.at("job_id");
  if (!is_uuid(id))
    return json_error(400, "invalid_id", "job id must be a UUID");
  return s.db->run([&](pqxx::connection& c) -> api_response {
    pqxx::read_transaction tx(c);
    persistence::limit_statements(tx, *s.db);
    auto rows = tx.exec_params(persistence::query("jobs_get"), id,
                               static_cast<long long>(s.config->workflows.result_max_bytes));
    if (rows.empty() || std::string_view(rows[0][1].c_str()) != "email_scan")
      return json_error(404, "not_found", "no email scan " + id);
    auto r = rows[0];
    json::object out{
        {"job_id", id},
        {"status", r[2].c_str()},
        {"domain_id", r[4].is_null() ? json::value(nullptr) : json::value(r[4].c_str())},
        {"progress", r[6].as<double>()},
        {"error", r[8].is_null() ? json::value(nullptr) : json::value(r[8].c_str())}};
    json::array emails;
    if (!r[7].is_null()) {
      auto result = json::parse(r[7].c_str());
      if (const auto* e = result.as_object().if_contains("emails"))
        out["emails"] = *e;
      out["result_data"] = result;
    }
    if (!out.contains("emails"))
      out["emails"] = emails;
    return json_ok(200, out);
  });
}

// --- curation ------------------------------------------------------------------------------------

struct curation_spec {
  std::string_view path;
  std::string_view queue;           // the processing queue 'Selected' feeds
  std::string_view curation_column; // the column the user sets
};

constexpr curation_spec k_curations[] = {
    {"/api/v3/places/staging/status", "deep_scan", "status"},
    {"/api/v3/local-businesses/status", "domain_extraction", "status"},
    {"/api/v3/domains/sitemap-curation/status", "sitemap_submission", "sitemap_curation_status"},
    {"/api/v3/sitemap-files/status", "sitemap_import", "deep_scrape_curation_status"},
};

api_response set_curation(app_services& s, const curation_spec& spec, const std::string& sql,
                          request_context& ctx) {
  SKY_TRY(body, json_body(ctx));
  SKY_TRY(ids, string_list_field(body, "ids",
                                 static_cast<std::size_t>(s.config->workflows.api_max_batch)));
  SKY_TRY(status, string_field(body, "status", 32));
  if (std::find(k_curation_values.begin(), k_curation_values.end(), status) ==
      k_curation_values.end())
    return json_error(400, "invalid_field",
                      "status must be one of: New, Selected, Maybe, Not a Fit, Archived");
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (!is_uuid(ids[i]))
      return json_error(400, "invalid_field", "ids[" + std::to_string(i) + "] must be a UUID");
  std::set<std::string> wanted(ids.begin(), ids.end());
  const auto* queue = config::find_queue_definition(spec.queue);
  return s.db->run([&](pqxx::connection& c) -> api_response {
    pqxx::work tx(c);
    persistence::limit_statements(tx, *s.db);
    auto rows = tx.exec_params(sql, persistence::text_array(ids), status);
    std::size_t queued = 0;
    for (auto row : rows) {
      wanted.erase(row[0].c_str());
      queued += !row[1].is_null() && std::string_view(row[1].c_str()) == queue->queued;
    }
    if (!wanted.empty()) { // all or nothing: the transaction is not committed
      json::array missing;
      for (const auto& id : wanted)
        missing.push_back(json::string(id));
      auto r = json_error(404, "not_found",
                          std::to_string(wanted.size()) + " of the ids do not exist; nothing "
                                                          "was changed");
      auto body = json::parse(r.body).as_object();
      body["missing_ids"] = missing;
      r.body = json::serialize(body);
      return r;
    }
    tx.commit();
    return json_ok(200, json::object{{"updated", rows.size()},
                                     {"status", status},
                                     {"queued", status == "Selected" ? queued : 0},
                                     {"queue", spec.queue}});
  });
}

// --- lists
// -----------------------------------------------------------------------------------------

struct list_filter {
  std::string_view name;                       // query parameter
  std::string_view column;                     // compared as its own type
  const std::vector<std::string_view>* values; // allowed values; null means a UUID
};

struct list_spec {
  std::string_view path;
  std::string_view table;
  std::string_view columns;
  std::vector<list_filter> filters; // at most 3
  // Columns the `sort` parameter may name; "created_at" sorts by the (time-ordered) id.
  std::vector<std::string_view> sortable;
};

const std::vector<std::string_view> k_job_types{"places_search", "sitemap", "email_scan",
                                                "page_scrape"};
const std::vector<std::string_view> k_domain_values{"Queued", "Processing", "Completed", "Error"};

const std::vector<list_spec>& list_specs() {
  static const std::vector<list_spec> specs{
      {"/api/v3/jobs",
       "jobs",
       "id, job_type, status, user_id, domain_id, params, progress, error, attempts, created_at, "
       "updated_at, finished_at, batch_id",
       {{"type", "job_type", &k_job_types},
        {"status", "status", &k_task_values},
        {"domain_id", "domain_id", nullptr}},
       {"created_at", "updated_at", "finished_at", "job_type", "status", "attempts"}},
      {"/api/v3/domains",
       "domains",
       "id, domain, status, title, description, language, emails, phones, social_links, "
       "tech_stack, metadata_fetched_at, metadata_last_error, sitemap_curation_status, "
       "sitemap_analysis_status, sitemap_analysis_error, local_business_id, created_at",
       {{"status", "status", &k_domain_values},
        {"sitemap_curation_status", "sitemap_curation_status", &k_curation_values},
        {"sitemap_analysis_status", "sitemap_analysis_status", &k_processing_values}},
       {"created_at", "domain", "status", "title", "sitemap_curation_status",
        "sitemap_analysis_status"}},
      {"/api/v3/places/staging",
       "places_staging",
       "id, place_id, search_job_id, name, address, business_type, location, latitude, longitude, "
       "rating, user_ratings_total, status, deep_scan_status, deep_scan_error, created_at",
       {{"status", "status", &k_curation_values},
        {"deep_scan_status", "deep_scan_status", &k_processing_values},
        {"search_job_id", "search_job_id", nullptr}},
       {"created_at", "name", "rating", "user_ratings_total", "status", "deep_scan_status"}},
      {"/api/v3/local-businesses",
       "local_businesses",
       "id, place_id, business_name, full_address, phone, website_url, rating, "
       "user_ratings_total, domain_id, status, domain_extraction_status, domain_extraction_error, "
       "created_at",
       {{"status", "status", &k_curation_values},
        {"domain_extraction_status", "domain_extraction_status", &k_processing_values},
        {"domain_id", "domain_id", nullptr}},
       {"created_at", "business_name", "rating", "user_ratings_total", "status",
        "domain_extraction_status"}},
      {"/api/v3/sitemap-files",
       "sitemap_files",
       "id, domain_id, job_id, url, sitemap_type, discovery_method, url_count, status, "
       "deep_scrape_curation_status, sitemap_import_status, sitemap_import_error, created_at",
       {{"domain_id", "domain_id", nullptr},
        {"deep_scrape_curation_status", "deep_scrape_curation_status", &k_curation_values},
        {"sitemap_import_status", "sitemap_import_status", &k_processing_values}},
       {"created_at", "url", "sitemap_type", "discovery_method", "url_count",
        "deep_scrape_curation_status", "sitemap_import_status"}},
      {"/api/v3/pages",
       "pages",
       "id, domain_id, sitemap_file_id, url, lastmod, changefreq, priority, created_at",
       {{"domain_id", "domain_id", nullptr}, {"sitemap_file_id", "sitemap_file_id", nullptr}},
       {"created_at", "url", "lastmod", "priority"}},
      {"/api/v3/contacts",
       "contacts",
       "id, domain_id, job_id, email, source_url, created_at",
       {{"domain_id", "domain_id", nullptr}, {"job_id", "job_id", nullptr}},
       {"created_at", "email", "source_url"}},
  };
  return specs;
}

// Identifiers come from the spec table above; values are bound parameters. The order is
// rendered from the spec's sortable columns only. Rows are kept while the bytes before them stay
// under $6, so one answer never grows much past that size; the second column counts the rows the
// page had.
//
// A cursor ($7 the last row's sort value, $8 its id, $9 'none', 'value' or 'null') starts the
// page after that row in the same order: sorted by id, the ids past it; sorted by a column
// (NULLs last, ties newest id first), the rows whose value comes after it, those with the same
// value and an older id, and the NULLs, or after a NULL only the older NULLs.
std::string list_sql(const list_spec& spec, std::string_view column, bool ascending) {
  const std::string dir = ascending ? "ASC" : "DESC";
  // ids are time-ordered (UUIDv7): creation order is primary-key order.
  const bool by_id = column == "created_at";
  const std::string order_by =
      by_id ? "id " + dir : std::string(column) + " " + dir + " NULLS LAST, id DESC";
  const std::string col(column);
  const std::string after = ascending ? " > " : " < ";
  const std::string keyset =
      by_id ? "($9::text = 'none' OR ($7::text IS NULL AND id" + after + "$8::uuid))"
            : "($9::text = 'none' OR ($9::text = 'value' AND (" + col + after + "$7 OR (" + col +
                  " = $7 AND id < $8::uuid) OR " + col + " IS NULL)) OR ($9::text = 'null' AND " +
                  col + " IS NULL AND id < $8::uuid))";
  std::string where;
  for (std::size_t i = 0; i < 3; ++i) {
    auto n = std::to_string(i + 1);
    where += i ? " AND " : " WHERE ";
    // Compared as the column's own type (PostgreSQL infers the parameter's from the column), so
    // that its index serves the filter; the values were checked against the spec first.
    if (i < spec.filters.size())
      where += "(" + std::string(spec.filters[i].column) + " = $" + n + " OR $" + n + " IS NULL)";
    else
      where += "$" + n + "::text IS NULL";
  }
  where += " AND " + keyset;
  // $4 is one row more than the page: whether it exists tells whether another page does. The
  // last row kept gives the cursor its position, as PostgreSQL prints the value, which it
  // reads back exactly.
  const std::string sort_value = by_id ? "NULL::text" : "x." + col + "::text";
  return "WITH page AS (SELECT row_to_json(x) AS item, x.id::text AS id, " + sort_value +
         " AS sort_value, row_number() OVER () AS n FROM (SELECT " + std::string(spec.columns) +
         " FROM " + std::string(spec.table) + where + " ORDER BY " + order_by +
         " LIMIT $4::int OFFSET $5::bigint) x), "
         "sized AS (SELECT item, id, sort_value, n, sum(octet_length(item::text)) OVER (ORDER BY "
         "n) - octet_length(item::text) AS before FROM page), "
         "kept AS (SELECT * FROM sized WHERE before < $6::bigint AND n < $4::int) "
         "SELECT coalesce((SELECT json_agg(item ORDER BY n) FROM kept), '[]')::text, "
         "(SELECT count(*) FROM page), (SELECT id FROM kept ORDER BY n DESC LIMIT 1), "
         "(SELECT sort_value FROM kept ORDER BY n DESC LIMIT 1)";
}

// "column:asc" / "column:desc" -> the list's SQL ordered so, for each sortable column. Ties are
// broken by id, newest first, so that pages do not overlap; NULLs come last either way.
std::map<std::string, std::string, std::less<>> list_sql_by_order(const list_spec& spec) {
  std::map<std::string, std::string, std::less<>> out;
  for (auto column : spec.sortable)
    for (std::string_view direction : {"asc", "desc"})
      out[std::string(column) + ":" + std::string(direction)] =
          list_sql(spec, column, direction == "asc");
  return out;
}

// The SQL for the request's `sort` and `order` (checked against the spec), newest first by
// default.
using ordered_list_sql = std::pair<const std::string, std::string>; // ("column:dir", SQL)

validated<const ordered_list_sql*>
ordered_sql(const list_spec& spec, const std::map<std::string, std::string, std::less<>>& sqls,
            const request_context& ctx) {
  auto sort = ctx.query.find("sort");
  auto order = ctx.query.find("order");
  std::string column = sort == ctx.query.end() ? "created_at" : sort->second;
  std::string direction = order != ctx.query.end()  ? order->second
                          : sort == ctx.query.end() ? "desc"
                                                    : "asc";
  if (direction != "asc" && direction != "desc")
    return json_error(400, "invalid_query", "order must be asc or desc");
  auto it = sqls.find(column + ":" + direction);
  if (it == sqls.end()) {
    std::string allowed;
    for (auto c : spec.sortable)
      allowed += (allowed.empty() ? "" : ", ") + std::string(c);
    return json_error(400, "invalid_query", "sort must be one of: " + allowed);
  }
  return &*it;
}

api_response list_rows(app_services& s, const list_spec& spec,
                       const std::map<std::string, std::string, std::less<>>& sqls,
                       request_context& ctx) {
  SKY_TRY(page, page_of(ctx));
  SKY_TRY(sql_of_order, ordered_sql(spec, sqls, ctx));
  const auto& [order, sql] = *sql_of_order;
  if (page.cursor && page.cursor->order != order)
    return json_error(400, "invalid_query",
                      "cursor was issued for sort " + page.cursor->order + ", not " + order);
  std::optional<std::string> after_value, after_id;
  std::string after = "none";
  if (page.cursor) {
    after_value = page.cursor->value;
    after_id = page.cursor->id;
    after = page.cursor->value ? "value" : "null";
  }
  std::array<std::optional<std::string>, 3> values;
  for (std::size_t i = 0; i < spec.filters.size(); ++i) {
    const auto& f = spec.filters[i];
    auto v = f.values ? enum_filter(ctx, f.name, *f.values) : uuid_filter(ctx, f.name);
    if (auto* error = std::get_if<api_response>(&v))
      return *error;
    values[i] = std::get<0>(v);
  }
  struct page_rows {
    std::string items;
    std::size_t rows = 0; // the page had, one more than asked at most
    list_cursor last;
  };
  auto got = s.db->run([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    persistence::limit_statements(tx, *s.db);
    auto r = tx.exec_params1(sql, values[0], values[1], values[2], page.limit + 1, page.offset,
                             static_cast<long long>(s.config->workflows.api_list_max_bytes),
                             after_value, after_id, after);
    page_rows out{r[0].c_str(), r[1].as<std::size_t>(), {order, std::nullopt, {}}};
    if (!r[2].is_null())
      out.last.id = r[2].c_str();
    if (!r[3].is_null())
      out.last.value = r[3].c_str();
    return out;
  });
  auto items = json::parse(got.items).as_array();
  // Fewer items than the page had: the rest is on the next page, whatever cut it.
  bool more = got.rows > items.size();
  json::object out{
      {"items", items}, {"limit", page.limit}, {"offset", page.offset}, {"has_more", more}};
  if (more && !got.last.id.empty()) {
    out["next_cursor"] = encode_list_cursor(got.last);
    // Offsets stop at their cap; a client paging by offset past it goes on by cursor.
    if (auto next = next_offset_within(page.offset, items.size(), k_max_list_offset);
        next && !page.cursor)
      out["next_offset"] = *next;
  }
  return json_ok(200, out);
}

} // namespace

std::vector<route> workflow_routes(app_services& s) {
  std::vector<route> routes{
      {"POST", "/api/v3/places/search", [&s](request_context& c) { return places_search(s, c); }},
      {"POST", "/api/v3/email-scan/scan/website",
       [&s](request_context& c) { return email_scan(s, c); }},
      {"GET", "/api/v3/email-scan/scan/status/{job_id}",
       [&s](request_context& c) { return email_scan_status(s, c); }},
      // The paths of the original service's website scan: the same handlers.
      {"POST", "/api/v3/scan/website", [&s](request_context& c) { return email_scan(s, c); }},
      {"GET", "/api/v3/scan/status/{job_id}",
       [&s](request_context& c) { return email_scan_status(s, c); }},
      {"POST", "/api/v3/domains", [&s](request_context& c) { return create_domains(s, c); }},
      {"POST", "/api/v3/sitemap/batch/create",
       [&s](request_context& c) { return sitemap_batch(s, c); }},
      {"POST", "/api/v3/modernized/sitemap/scan/single",
       [&s](request_context& c) { return sitemap_single(s, c); }},
      {"POST", "/api/v3/batch/page-scraper",
       [&s](request_context& c) { return scrape_page_batch(s, c); }},
      {"GET", "/api/v3/batches/{batch_id}", [&s](request_context& c) { return get_batch(s, c); }},
      {"POST", "/api/v3/modernized/page/scrape/single",
       [&s](request_context& c) { return scrape_single_page(s, c); }},
  };
  for (const auto& spec : k_curations) {
    auto sql = persistence::render_queue_query("curation_set_status",
                                               *config::find_queue_definition(spec.queue));
    for (auto pos = sql.find("{curation}"); pos != std::string::npos; pos = sql.find("{curation}"))
      sql.replace(pos, 10, spec.curation_column);
    routes.push_back({"PUT", std::string(spec.path), [&s, &spec, sql](request_context& c) {
                        return set_curation(s, spec, sql, c);
                      }});
  }
  for (const auto& spec : list_specs())
    routes.push_back({"GET", std::string(spec.path),
                      [&s, &spec, sqls = list_sql_by_order(spec)](request_context& c) {
                        return list_rows(s, spec, sqls, c);
                      }});
  return routes;
}

std::string list_query(std::string_view path, std::string_view sort) {
  for (const auto& spec : list_specs())
    if (spec.path == path)
      return list_sql_by_order(spec).at(std::string(sort));
  return {};
}

} // namespace sky::http
