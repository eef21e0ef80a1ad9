// Workflows over websites: domain metadata, sitemap submission, discovery and import, the email
// scan and single-page scrapes.
#include "persistence/pg_array.hpp"
#include "persistence/sql_catalog.hpp"
#include "scrape/domain_rules.hpp"
#include "workflows/workflow_services.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

namespace sky::workflows {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;
using messages::outcome;

std::optional<std::string> optional_text(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

std::string json_array_text(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v ? json::serialize(*v) : "[]";
}

// The site URL a domain's work starts from: its homepage after redirects.
struct site_home {
  scrape::fetch_result page;
  std::string url;
};

asio::awaitable<std::variant<site_home, handler_result>> load_home(scrape::fetch_session& web,
                                                                   std::string domain) {
  auto r = co_await scrape::fetch_site_home(web, domain);
  if (!r.ok() || r.status < 200 || r.status >= 300)
    co_return fetch_failure(r, "homepage of " + domain);
  auto url = r.final_url.empty() ? "https://" + domain + "/" : r.final_url;
  co_return site_home{std::move(r), std::move(url)};
}

// One page as its queue reads it: the extractors over its HTML, and over what the browser shows
// when the queue's render mode asks for it ("render" then says how that went).
asio::awaitable<json::object> read_page(workflow_services& s, scrape::fetch_session& web,
                                        std::string_view queue, const std::string& html,
                                        const std::string& url) {
  const auto& region = s.config.workflows.phone_default_region;
  const auto limits = page_limits_of(s.config.workflows);
  auto analysis = scrape::analyze_page(html, url, {}, region, limits);
  auto render = co_await scrape::render_when_needed(web, &s.browsers, render_mode_of(s, queue),
                                                    html, url, analysis, region, limits);
  auto out = scrape::to_json(analysis);
  if (!render.reason.empty())
    out["render"] = scrape::to_json(render);
  co_return out;
}

asio::awaitable<handler_result> domain_metadata_work(workflow_services& s, job_session& job,
                                                     scrape::fetch_session& web) {
  auto row = payload_of(job.item());
  auto domain = string_field(row, "domain");
  auto home = co_await load_home(web, domain);
  if (auto* failure = std::get_if<handler_result>(&home))
    co_return *failure;
  auto& site = std::get<site_home>(home);
  auto text = scrape::page_text(site.page);
  if (!text)
    co_return handler_result::failed("homepage of " + domain + " is not HTML (" +
                                     site.page.content_type + ")");
  auto out = co_await read_page(s, web, "domain_metadata", *text, site.url);
  out["final_url"] = site.url;
  out["status"] = site.page.status;
  co_return handler_result::completed(json::serialize(out));
}

asio::awaitable<handler_result> sitemap_discovery_work(workflow_services& s, job_session& job,
                                                       scrape::fetch_session& web) {
  auto row = payload_of(job.item());
  auto params = params_of(row);
  if (string_field(row, "domain_id").empty())
    co_return handler_result::failed("sitemap job has no domain_id");
  scrape::discovery_options options;
  options.max_files = s.config.workflows.sitemap_max_files;
  options.max_depth = s.config.workflows.sitemap_max_depth;
  options.limits.max_urls = static_cast<std::size_t>(s.config.workflows.sitemap_max_urls);
  options.limits.max_bytes = s.config.workflows.sitemap_max_bytes;
  options.time_limit = s.config.workflows.sitemap_discovery_timeout;
  std::optional<std::string> given;
  std::string site_url = string_field(params, "url");
  if (!site_url.empty()) {
    given = string_field(params, "sitemap_url");
    if (given->empty())
      given.reset();
  } else {
    auto home = co_await load_home(web, string_field(params, "domain"));
    if (auto* failure = std::get_if<handler_result>(&home))
      co_return *failure;
    site_url = std::get<site_home>(home).url;
  }
  auto discovery = co_await scrape::discover_sitemaps(web, site_url, options, given);
  if (discovery.cancelled || job.cancelled())
    co_return handler_result::cancelled();
  auto out = scrape::to_json(discovery);
  out["site_url"] = site_url;
  out["domain_id"] = string_field(row, "domain_id");
  out["sitemaps_found"] = discovery.sitemaps.size();
  co_return handler_result::completed(json::serialize(out));
}

asio::awaitable<handler_result> sitemap_import_work(workflow_services& s, job_session& job,
                                                    scrape::fetch_session& web) {
  auto row = payload_of(job.item());
  auto url = string_field(row, "url");
  scrape::sitemap_limits limits;
  limits.max_urls = static_cast<std::size_t>(s.config.workflows.sitemap_max_urls);
  limits.max_bytes = s.config.workflows.sitemap_max_bytes;
  auto doc = co_await scrape::fetch_sitemap(web, url, limits);
  if (job.cancelled())
    co_return handler_result::cancelled();
  if (doc.type == scrape::sitemap_document::kind::invalid)
    co_return doc.transient ? handler_result::retry(doc.error) : handler_result::failed(doc.error);
  if (doc.type == scrape::sitemap_document::kind::index)
    co_return handler_result::failed("a sitemap index lists sitemaps, not pages; import its "
                                     "child sitemaps instead");
  json::array urls;
  for (auto& u : doc.urls) {
    json::object o;
    o["loc"] = u.loc;
    o["lastmod"] = u.lastmod;
    o["changefreq"] = u.changefreq;
    o["priority"] = u.priority ? json::value(*u.priority) : json::value(nullptr);
    urls.push_back(std::move(o));
  }
  json::object out;
  out["domain_id"] = string_field(row, "domain_id");
  out["truncated"] = doc.truncated;
  out["urls"] = std::move(urls);
  co_return handler_result::completed(json::serialize(out));
}

asio::awaitable<handler_result> email_scan_work(workflow_services& s, job_session& job,
                                                scrape::fetch_session& web) {
  auto row = payload_of(job.item());
  auto params = params_of(row);
  auto domain = string_field(params, "domain");
  auto domain_id = string_field(row, "domain_id");
  if (domain.empty() || domain_id.empty())
    co_return handler_result::failed("email scan job has no domain");
  auto home = co_await load_home(web, domain);
  if (auto* failure = std::get_if<handler_result>(&home))
    co_return *failure;
  auto& site = std::get<site_home>(home);
  scrape::crawl_options options;
  options.max_pages = s.config.workflows.crawl_max_pages;
  options.max_depth = s.config.workflows.crawl_max_depth;
  options.first_page = std::move(site.page);
  options.phone_region = s.config.workflows.phone_default_region;
  options.page = page_limits_of(s.config.workflows);
  options.max_emails = static_cast<std::size_t>(s.config.workflows.crawl_max_emails);
  options.max_phones = static_cast<std::size_t>(s.config.workflows.crawl_max_phones);
  options.browsers = &s.browsers;
  options.render = render_mode_of(s, "email_scan", params);
  const auto& item = job.item();
  options.on_page = [&s, id = item.id, claim = item.claim](int done, int planned) {
    // Best effort: a lost progress update is harmless, the final status sets progress to 1.
    try {
      s.progress_db.run([&](pqxx::connection& c) {
        pqxx::nontransaction tx(c);
        tx.exec_params(persistence::query("jobs_report_progress"), id,
                       std::min(0.99, static_cast<double>(done) / std::max(1, planned)),
                       s.config.node_id, claim);
      });
    } catch (const std::exception&) {
    }
  };
  auto report = co_await scrape::crawl_for_contacts(web, s.robots, site.url, std::move(options));
  if (report.cancelled || job.cancelled())
    co_return handler_result::cancelled();
  auto out = scrape::to_json(report);
  json::array contacts;
  for (const auto& [email, source] : report.emails) {
    json::object contact;
    contact["email"] = email;
    contact["source_url"] = source;
    contacts.push_back(std::move(contact));
  }
  out["contacts"] = std::move(contacts);
  out["domain"] = domain;
  out["domain_id"] = domain_id;
  co_return handler_result::completed(json::serialize(out));
}

asio::awaitable<handler_result> page_scrape_work(workflow_services& s, job_session& job,
                                                 scrape::fetch_session& web) {
  auto params = params_of(payload_of(job.item()));
  auto url = string_field(params, "url");
  if (url.empty())
    co_return handler_result::failed("params need url");
  auto r = co_await web.fetch(url);
  if (job.cancelled())
    co_return handler_result::cancelled();
  if (!r.ok() || r.status < 200 || r.status >= 300)
    co_return fetch_failure(r, url);
  auto text = scrape::page_text(r);
  if (!text)
    co_return handler_result::failed(url + " is not HTML (" + r.content_type + ")");
  auto final_url = r.final_url.empty() ? url : r.final_url;
  auto out = co_await read_page(s, web, "page_scrape", *text, final_url);
  out["url"] = url;
  out["final_url"] = final_url;
  out["status"] = r.status;
  co_return handler_result::completed(json::serialize(out));
}

} // namespace

queue_handler domain_metadata_handler(services_ptr s) {
  queue_handler h;
  h.start = network_step(s, domain_metadata_work);
  h.write = [](pqxx::transaction_base& tx, const std::vector<written_item>& items) {
    for (const auto& [done, status] : items) {
      if (done->result != outcome::completed)
        continue;
      auto r = json::parse(done->result_json).as_object();
      json::object social = r.contains("social") ? r.at("social").as_object() : json::object{};
      tx.exec_params(persistence::query("domains_store_metadata"), done->id,
                     optional_text(string_field(r, "title")),
                     optional_text(string_field(r, "description")),
                     optional_text(string_field(r, "language")), json_array_text(r, "emails"),
                     json::serialize(social), json_array_text(r, "tech"), done->result_json,
                     json_array_text(r, "phones"));
    }
  };
  return h;
}

queue_handler sitemap_submission_handler() {
  queue_handler h;
  // No I/O: the write step creates the discovery job.
  h.start = immediate_step([](job_session&) { return handler_result::completed(); });
  h.write = [](pqxx::transaction_base& tx, const std::vector<written_item>& items) {
    for (const auto& [done, status] : items)
      if (done->result == outcome::completed)
        tx.exec_params(persistence::query("domains_create_sitemap_job"), done->id);
      else if (status == "Error")
        tx.exec_params(persistence::query("domains_record_sitemap_error"), done->id, done->error);
  };
  return h;
}

queue_handler sitemap_discovery_handler(services_ptr s) {
  queue_handler h;
  h.start = network_step(s, sitemap_discovery_work);
  h.write = [](pqxx::transaction_base& tx, const std::vector<written_item>& items) {
    for (const auto& [done, status] : items) {
      if (done->result != outcome::completed)
        continue;
      auto r = json::parse(done->result_json).as_object();
      std::vector<std::string> urls, types, methods;
      std::vector<int> counts;
      for (const auto& v : r.at("sitemaps").as_array()) {
        const auto& m = v.as_object();
        if (string_field(m, "type") == "invalid")
          continue;
        urls.push_back(string_field(m, "url"));
        types.push_back(string_field(m, "type"));
        methods.push_back(string_field(m, "discovery_method"));
        counts.push_back(static_cast<int>(m.at("url_count").to_number<long>()));
      }
      if (!urls.empty())
        tx.exec_params(persistence::query("sitemap_files_upsert"), string_field(r, "domain_id"),
                       done->id, persistence::text_array(urls), persistence::text_array(types),
                       persistence::text_array(methods), persistence::int_array(counts));
    }
  };
  return h;
}

queue_handler sitemap_import_handler(services_ptr s) {
  queue_handler h;
  h.start = network_step(s, sitemap_import_work);
  h.write = [](pqxx::transaction_base& tx, const std::vector<written_item>& items) {
    for (const auto& [done, status] : items) {
      if (done->result != outcome::completed) {
        if (status == "Error")
          tx.exec_params(persistence::query("sitemap_files_record_import_error"), done->id,
                         done->error);
        continue;
      }
      auto r = json::parse(done->result_json).as_object();
      std::vector<std::string> locs;
      std::vector<std::optional<std::string>> lastmods, freqs;
      std::vector<std::optional<double>> priorities;
      for (const auto& v : r.at("urls").as_array()) {
        const auto& u = v.as_object();
        locs.push_back(string_field(u, "loc"));
        lastmods.push_back(optional_text(string_field(u, "lastmod")));
        freqs.push_back(optional_text(string_field(u, "changefreq")));
        const auto& p = u.at("priority");
        priorities.push_back(p.is_double() ? std::optional<double>(p.as_double()) : std::nullopt);
      }
      // Pages already imported by another sitemap keep their first source.
      tx.exec_params(persistence::query("pages_insert_from_sitemap"), string_field(r, "domain_id"),
                     done->id, persistence::text_array(locs), persistence::text_array(lastmods),
                     persistence::text_array(freqs), persistence::double_array(priorities));
      tx.exec_params(persistence::query("sitemap_files_record_import"), done->id,
                     static_cast<int>(locs.size()));
    }
  };
  return h;
}

queue_handler email_scan_handler(services_ptr s) {
  queue_handler h;
  h.start = network_step(s, email_scan_work);
  h.write = [](pqxx::transaction_base& tx, const std::vector<written_item>& items) {
    for (const auto& [done, status] : items) {
      if (done->result != outcome::completed)
        continue;
      auto r = json::parse(done->result_json).as_object();
      std::vector<std::string> emails, sources;
      for (const auto& v : r.at("contacts").as_array()) {
        emails.push_back(string_field(v.as_object(), "email"));
        sources.push_back(string_field(v.as_object(), "source_url"));
      }
      if (!emails.empty())
        tx.exec_params(persistence::query("contacts_insert"), string_field(r, "domain_id"),
                       done->id, persistence::text_array(emails), persistence::text_array(sources));
    }
  };
  return h;
}

queue_handler page_scrape_handler(services_ptr s) {
  queue_handler h;
  h.start = network_step(s, page_scrape_work);
  // The engine stores the result in the job's result_data.
  return h;
}

queue_handler domain_extraction_handler() {
  queue_handler h;
  h.start = immediate_step([](job_session& job) {
    auto row = payload_of(job.item());
    auto website = string_field(row, "website_url");
    if (website.empty())
      return handler_result::failed("business has no website URL");
    auto domain = scrape::registrable_domain(website);
    if (!domain)
      return handler_result::failed("no registrable domain in website URL: " + website);
    return handler_result::completed(json::serialize(json::object{{"domain", *domain}}));
  });
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

} // namespace sky::workflows
