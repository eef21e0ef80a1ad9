// Site scans: the only scrape code that sequences fetches. Pure decisions (which links, which
// rules) stay in the extractors.
#include "scrape/site_scan.hpp"

#include "scrape/charset.hpp"
#include "scrape/domain_rules.hpp"
#include "scrape/link_rules.hpp"
#include "scrape/text_rules.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <set>

namespace sky::scrape {
namespace {

// "https://Example.com:8443/x?y" -> "https://example.com:8443"; empty when not a web URL.
std::string origin_of(std::string_view url) {
  auto u = boost::urls::parse_uri(url);
  if (!u || !u->has_authority() || u->encoded_host().empty())
    return {};
  auto scheme = ascii_lower(u->scheme());
  if (scheme != "http" && scheme != "https")
    return {};
  return scheme + "://" + ascii_lower(u->encoded_host_and_port());
}

std::string path_and_query(std::string_view url) {
  auto u = boost::urls::parse_uri(url);
  if (!u)
    return "/";
  std::string out(u->encoded_path());
  if (out.empty())
    out = "/";
  if (u->has_query())
    out += "?" + std::string(u->encoded_query());
  return out;
}

bool is_html(const fetch_result& r) {
  return r.content_type.empty() || r.content_type.find("html") != std::string::npos ||
         r.content_type.find("text/plain") != std::string::npos;
}

// Adds `value` (found on `page`) to `kept` unless it is there already; false when it is new and
// `kept` already holds `max`.
bool keep_first(std::set<std::string, std::less<>>& seen,
                std::vector<std::pair<std::string, std::string>>& kept, std::size_t max,
                const std::string& value, const std::string& page) {
  if (seen.count(value))
    return true;
  if (kept.size() >= max)
    return false;
  seen.insert(value);
  kept.emplace_back(value, page);
  return true;
}

void note_limit(crawl_report& report, std::string_view limit) {
  if (std::find(report.limits_hit.begin(), report.limits_hit.end(), limit) ==
      report.limits_hit.end())
    report.limits_hit.emplace_back(limit);
}

} // namespace

std::string robots_product_token(std::string_view user_agent) {
  auto end = user_agent.find_first_of("/ ");
  return std::string(user_agent.substr(0, end));
}

robots_answer read_robots_response(const fetch_result& r, std::string_view product_token) {
  robots_answer answer;
  if (r.ok() && r.status >= 200 && r.status < 300) {
    answer.rules = parse_robots(r.body, product_token);
  } else if (r.blocked) {
    // The SSRF guard refuses the origin: the page fetch fails with that reason itself.
  } else if (r.too_large) {
    answer.rules.rules.push_back({false, "/"}); // unreadable, and asking again will not help
  } else if (!r.ok() || r.status >= 500 || r.status == 429) {
    answer.rules.rules.push_back({false, "/"}); // unreachable: complete disallow, for now
    answer.transient = true;
  }
  return answer;
}

robots_cache_limits robots_cache_limits::from(const config::fetch_config& c) {
  return {c.robots_max_origins, c.robots_ttl, c.robots_failure_ttl};
}

robots_cache::robots_cache(fetcher& f, std::string product_token, robots_cache_limits limits)
    : fetcher_(f), product_token_(std::move(product_token)), limits_(limits),
      entries_(limits.max_origins) {}

void robots_cache::with_rules(std::string_view url, std::function<void(robots_rules)> then) {
  auto origin = origin_of(url);
  if (origin.empty()) {
    then({});
    return;
  }
  std::shared_ptr<slot> fetching;
  std::optional<robots_rules> cached;
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    auto now = clock::now();
    auto expired = [now](const entry& e) { return e.expires_at <= now; };
    entries_.drop_oldest_while(expired);
    auto* e = entries_.find(origin);
    if (!e || expired(*e)) {
      fetching = std::make_shared<slot>();
      generation = ++next_generation_;
      e = &entries_.put(origin, {fetching, clock::time_point::max(), generation});
    }
    if (e->rules->ready)
      cached = e->rules->rules;
    else // concurrent callers for one origin share the fetch in flight
      e->rules->waiters.push_back(std::move(then));
  }
  if (cached) {
    then(std::move(*cached));
    return;
  }
  if (!fetching)
    return;
  fetcher_.fetch(origin + "/robots.txt", [this, origin, fetching, generation](fetch_result r) {
    auto answer = read_robots_response(r, product_token_);
    std::vector<std::function<void(robots_rules)>> waiters;
    {
      std::lock_guard lock(mutex_);
      auto* e = entries_.find(origin);
      if (e && e->generation == generation)
        e->expires_at = clock::now() + (answer.transient ? limits_.failure_ttl : limits_.ttl);
      fetching->rules = answer.rules;
      fetching->ready = true;
      waiters.swap(fetching->waiters);
    }
    for (auto& w : waiters)
      w(answer.rules);
  });
}

boost::asio::awaitable<robots_rules> robots_cache::async_rules_for(std::string url) {
  auto start = [this, url](std::function<void(robots_rules)> resume) {
    with_rules(url, std::move(resume));
  };
  co_return co_await await_callback<robots_rules>(start);
}

boost::asio::awaitable<bool> robots_cache::async_allowed(std::string url) {
  auto rules = co_await async_rules_for(url);
  co_return rules.allowed(path_and_query(url));
}

std::size_t robots_cache::cached_origins() {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

boost::asio::awaitable<fetch_result> fetch_site_home(fetch_session& s, std::string domain) {
  const auto secure = "https://" + domain + "/", plain_url = "http://" + domain + "/";
  auto r = co_await s.fetch(secure);
  if (!r.ok() && !r.blocked && r.status == 0 && !s.cancelled()) {
    auto plain = co_await s.fetch(plain_url);
    if (plain.ok())
      co_return plain;
  }
  co_return r;
}

std::optional<std::string> page_text(const fetch_result& r) {
  if (!r.ok() || r.status < 200 || r.status >= 300 || !is_html(r))
    return std::nullopt;
  return decode_to_utf8(r.body, r.content_type);
}

namespace {

// "https://a.de/x/" and "http://A.de/x" name the same page for the purpose of a canonical hop.
std::string page_key(std::string_view url) {
  auto u = boost::urls::parse_uri(url);
  if (!u)
    return std::string(url);
  auto path = std::string(u->encoded_path());
  while (!path.empty() && path.back() == '/')
    path.pop_back();
  return ascii_lower(u->encoded_host()) + path +
         (u->has_query() ? "?" + std::string(u->encoded_query()) : "");
}

// Where the entry page hands over: its meta refresh target, or a canonical URL on the same site
// that names another page.
std::vector<std::string> entry_handovers(const page_metadata& meta, const std::string& page_url) {
  std::vector<std::string> out;
  if (!meta.refresh_url.empty())
    out.push_back(meta.refresh_url);
  if (!meta.canonical.empty() && page_key(meta.canonical) != page_key(page_url)) {
    auto site = registrable_domain(page_url);
    if (site && registrable_domain(meta.canonical) == site)
      out.push_back(meta.canonical);
  }
  return out;
}

// Page URLs listed by the site's sitemaps (robots.txt Sitemap lines, then /sitemap.xml; one level
// of index followed), for a home page whose links lead nowhere useful. Bounded in files and URLs.
boost::asio::awaitable<std::vector<std::string>>
sitemap_page_urls(fetch_session& s, robots_cache& robots, const std::string& site_url) {
  constexpr std::size_t k_max_files = 4, k_max_urls = 5000;
  auto origin = origin_of(site_url);
  if (origin.empty())
    co_return std::vector<std::string>{};
  auto rules = co_await robots.async_rules_for(site_url);
  auto files = std::move(rules.sitemaps);
  files.push_back(origin + "/sitemap.xml");
  sitemap_limits limits;
  limits.max_urls = k_max_urls;
  limits.max_bytes = 10 << 20;
  std::set<std::string, std::less<>> seen;
  std::vector<std::string> urls;
  std::size_t fetched = 0;
  for (std::size_t i = 0; i < files.size() && fetched < k_max_files && urls.size() < k_max_urls;
       ++i) {
    if (!seen.insert(files[i]).second || origin_of(files[i]) != origin)
      continue;
    ++fetched;
    auto doc = co_await fetch_sitemap(s, files[i], limits);
    for (auto& child : doc.sitemaps)
      if (files.size() < 16)
        files.push_back(std::move(child));
    for (auto& u : doc.urls)
      if (urls.size() < k_max_urls)
        urls.push_back(std::move(u.loc));
  }
  co_return urls;
}

} // namespace

boost::asio::awaitable<crawl_report> crawl_for_contacts(fetch_session& s, robots_cache& robots,
                                                        std::string start_url,
                                                        crawl_options options) {
  constexpr int k_max_handovers = 3;
  crawl_report report;
  report.start_url = start_url;
  // No braced lists beside a co_await: GCC 12 cannot keep their arrays in the frame.
  std::set<std::string, std::less<>> seen_emails, seen_phones, visited;
  visited.insert(start_url);
  std::vector<std::string> level(1, start_url);
  // Links are judged against the site the entry page finally is (after redirects and handovers).
  std::string site_url(start_url);
  const int max_pages = std::max(1, options.max_pages);
  std::vector<std::string> links, link_texts;
  int depth = 0, handovers = 0;
  bool sitemap_read = false;
  while (depth <= options.max_depth && !level.empty()) {
    if (s.cancelled()) {
      report.cancelled = true;
      break;
    }
    std::vector<std::string> allowed;
    for (auto& url : level) {
      if (co_await robots.async_allowed(url))
        allowed.push_back(std::move(url));
      else
        report.skipped_by_robots.push_back(std::move(url));
    }
    std::vector<fetch_result> results;
    if (depth == 0 && handovers == 0 && options.first_page && allowed.size() == 1)
      results.push_back(*options.first_page);
    else
      results = co_await s.fetch_all(allowed);
    if (s.cancelled()) {
      report.cancelled = true;
      break;
    }
    std::vector<std::string> next_entry;
    for (std::size_t i = 0; i < allowed.size(); ++i) {
      auto& r = results[i];
      crawled_page page{allowed[i], r.status, depth, 0, r.error, {}};
      if (r.ok() && (r.status < 200 || r.status >= 300))
        page.error = "HTTP status " + std::to_string(r.status);
      const auto final_url = r.final_url.empty() ? allowed[i] : r.final_url;
      auto text = page_text(r);
      std::string().swap(r.body); // decoded into `text`: freed now, not with the whole level
      if (text) {
        auto analysis = analyze_page(*text, final_url, {}, options.phone_region, options.page);
        page.render =
            co_await render_when_needed(s, options.browsers, options.render, *text, final_url,
                                        analysis, options.phone_region, options.page);
        text.reset();
        for (const auto& limit : analysis.limits_hit)
          note_limit(report, limit);
        for (const auto& e : analysis.emails)
          if (!keep_first(seen_emails, report.emails, options.max_emails, e, allowed[i])) {
            note_limit(report, "emails_per_job");
            break;
          }
        for (const auto& p : analysis.phones)
          if (!keep_first(seen_phones, report.phones, options.max_phones, p.e164, allowed[i])) {
            note_limit(report, "phones_per_job");
            break;
          }
        page.emails = analysis.emails.size();
        links.insert(links.end(), analysis.meta.links.begin(), analysis.meta.links.end());
        link_texts.insert(link_texts.end(), analysis.meta.link_texts.begin(),
                          analysis.meta.link_texts.end());
        if (depth == 0) {
          for (auto& target : entry_handovers(analysis.meta, final_url))
            if (!visited.count(target))
              next_entry.push_back(std::move(target));
          // A page that only hands over (no links of its own) is not the home page: its target is.
          if (!report.home || report.home->meta.links.empty()) {
            site_url = final_url;
            report.home = std::move(analysis);
          }
        }
      }
      report.pages.push_back(std::move(page));
      if (options.on_page)
        options.on_page(static_cast<int>(report.pages.size()), max_pages);
    }
    // A crawl that already holds as many addresses as it may keep has nothing left to look for.
    if (seen_emails.size() >= options.max_emails) {
      note_limit(report, "emails_per_job");
      break;
    }
    const long room = max_pages - static_cast<long>(report.pages.size()) -
                      static_cast<long>(report.skipped_by_robots.size());
    level.clear();
    if (room <= 0)
      break;
    // The entry page handed over (meta refresh, canonical): the target is read as the entry page.
    if (depth == 0 && !next_entry.empty() && handovers < k_max_handovers) {
      ++handovers;
      for (auto& url : next_entry)
        if (static_cast<long>(level.size()) < room && visited.insert(url).second)
          level.push_back(std::move(url));
      if (!level.empty())
        continue;
    }
    // Next level: same-site links, contact pages first. Below the first level only pages that
    // look like contact pages are followed, so deep sites and crawler traps end quickly.
    auto ranked = rank_contact_links(links, site_url, links.size(), link_texts);
    bool useful = !ranked.empty() && ranked.front().score > 0;
    if (depth == 0 && !useful && !sitemap_read) {
      // Nothing on the home page leads to contacts (a script menu, a bare landing page): the
      // sitemap lists the pages the links do not show.
      sitemap_read = true;
      auto listed = co_await sitemap_page_urls(s, robots, site_url);
      links.insert(links.end(), listed.begin(), listed.end());
      link_texts.resize(links.size());
      ranked = rank_contact_links(links, site_url, links.size(), link_texts);
    }
    for (auto& link : ranked) {
      if (static_cast<long>(level.size()) >= room)
        break;
      if (depth >= 1 && link.score == 0)
        continue;
      if (visited.insert(link.url).second)
        level.push_back(std::move(link.url));
    }
    links.clear();
    link_texts.clear();
    ++depth;
  }
  co_return report;
}

boost::asio::awaitable<page_render>
render_when_needed(fetch_session& s, browser_pool* browsers, render_mode mode,
                   const std::string& html, const std::string& url, page_analysis& analysis,
                   const std::string& phone_region, const page_limits& limits) {
  page_render out;
  if (!browsers || mode == render_mode::off)
    co_return out;
  out.reason = std::string(render_reason(html, analysis, mode));
  if (out.reason.empty())
    co_return out;
  render_request request;
  request.url = url;
  request.html = html;
  auto rendered = co_await browsers->render(s, std::move(request));
  out.seconds = rendered.seconds;
  out.requests = rendered.requests;
  out.blocked = rendered.blocked;
  out.dialogs = rendered.dialogs;
  out.error = rendered.error;
  if (!rendered.ok())
    co_return out;
  const auto emails = analysis.emails.size(), phones = analysis.phones.size();
  merge_rendered(analysis, analyze_page(rendered.html, url, {}, phone_region, limits));
  // The page's caps hold for both reads together.
  const auto cap = [&](auto& list, std::size_t most, std::string_view limit) {
    if (list.size() <= most)
      return;
    list.resize(most);
    if (std::find(analysis.limits_hit.begin(), analysis.limits_hit.end(), limit) ==
        analysis.limits_hit.end())
      analysis.limits_hit.emplace_back(limit);
  };
  cap(analysis.emails, limits.max_emails, "emails_per_page");
  cap(analysis.phones, limits.max_phones, "phones_per_page");
  if (analysis.meta.links.size() > limits.max_links) {
    analysis.meta.links.resize(limits.max_links);
    analysis.meta.link_texts.resize(limits.max_links);
  }
  out.emails_added = analysis.emails.size() - emails;
  out.phones_added = analysis.phones.size() - phones;
  co_return out;
}

boost::json::object to_json(const page_render& render) {
  boost::json::object out{{"reason", render.reason},
                          {"seconds", render.seconds},
                          {"requests", render.requests},
                          {"blocked", render.blocked},
                          {"dialogs", render.dialogs},
                          {"emails_added", render.emails_added},
                          {"phones_added", render.phones_added}};
  if (!render.error.empty())
    out["error"] = render.error;
  return out;
}

boost::json::object to_json(const crawl_report& report) {
  namespace json = boost::json;
  json::object out = report.home ? to_json(*report.home) : json::object{};
  json::array emails, phones, pages, errors, skipped;
  for (const auto& [email, source] : report.emails)
    emails.push_back(json::string(email));
  for (const auto& [phone, source] : report.phones)
    phones.push_back(json::string(phone));
  std::size_t rendered = 0, render_failures = 0;
  for (const auto& p : report.pages) {
    json::object page{
        {"url", p.url}, {"status", p.status}, {"depth", p.depth}, {"emails", p.emails}};
    if (!p.render.reason.empty()) {
      page["render"] = to_json(p.render);
      ++rendered;
      if (!p.render.error.empty()) {
        ++render_failures;
        errors.push_back(json::string(p.url + ": rendering failed: " + p.render.error));
      }
    }
    pages.push_back(std::move(page));
    if (!p.error.empty())
      errors.push_back(json::string(p.url + ": " + p.error));
  }
  out["pages_rendered"] = rendered;
  out["render_failures"] = render_failures;
  for (const auto& s : report.skipped_by_robots)
    skipped.push_back(json::string(s));
  out["url"] = report.start_url;
  out["emails"] = emails;
  out["phones"] = phones;
  out["pages"] = pages;
  out["pages_fetched"] = report.pages.size();
  out["skipped_by_robots"] = skipped;
  out["errors"] = errors;
  out["limits_hit"] = json::array(report.limits_hit.begin(), report.limits_hit.end());
  if (report.cancelled)
    out["cancelled"] = true;
  return out;
}

boost::asio::awaitable<sitemap_document> fetch_sitemap(fetch_session& s, std::string url,
                                                       sitemap_limits limits) {
  // The download cap is the sitemap cap: a plain-text 50 MB urlset is legal, a bigger one is not.
  co_return read_sitemap_response(co_await s.fetch(std::move(url), limits.max_bytes), limits);
}

sitemap_document read_sitemap_response(const fetch_result& r, const sitemap_limits& limits) {
  sitemap_document doc;
  if (!r.ok()) {
    doc.error = r.error;
    doc.transient = !r.blocked && !r.too_large;
    return doc;
  }
  if (r.status < 200 || r.status >= 300) {
    doc.error = "HTTP status " + std::to_string(r.status);
    doc.transient = r.status >= 500 || r.status == 429;
    return doc;
  }
  return parse_sitemap(r.body, limits);
}

boost::asio::awaitable<sitemap_discovery> discover_sitemaps(fetch_session& s, std::string site_url,
                                                            discovery_options options,
                                                            std::optional<std::string> given) {
  sitemap_discovery out;
  auto origin = origin_of(site_url);
  if (origin.empty()) {
    out.errors.push_back("not a web URL: " + site_url);
    co_return out;
  }
  const auto deadline = std::chrono::steady_clock::now() + options.time_limit;
  // At the time limit the session is cancelled, which aborts the fetch being awaited; the
  // discovery then reports the limit rather than a cancellation.
  boost::asio::steady_timer limit(co_await boost::asio::this_coro::executor, deadline);
  limit.async_wait([session = s.shared_from_this()](boost::system::error_code ec) {
    if (!ec)
      session->cancel();
  });
  struct stop_limit {
    boost::asio::steady_timer& timer;
    ~stop_limit() { timer.cancel(); }
  } stop_limit_on_exit{limit};
  auto interrupted = [&] {
    if (std::chrono::steady_clock::now() >= deadline)
      out.timed_out = true;
    else if (s.cancelled())
      out.cancelled = true;
    return out.cancelled || out.timed_out;
  };
  auto report_interruption = [&] {
    if (out.cancelled)
      out.errors.push_back("cancelled");
    else
      out.errors.push_back(
          "stopped at the time limit of " +
          std::to_string(
              std::chrono::duration_cast<std::chrono::seconds>(options.time_limit).count()) +
          " s after " + std::to_string(out.sitemaps.size()) + " sitemap files");
  };
  struct candidate {
    std::string url;
    std::string method;
    int depth;
    bool must_exist; // well-known guesses may be absent without it being an error
  };
  std::vector<candidate> pending;
  if (given) {
    pending.push_back({*given, "given", 0, true});
  } else {
    const auto robots_url = origin + "/robots.txt";
    std::optional<fetch_result> robots;
    if (!interrupted())
      robots = co_await s.fetch(robots_url);
    if (!robots || interrupted()) {
      report_interruption();
      co_return out;
    }
    if (robots->ok() && robots->status >= 200 && robots->status < 300)
      for (auto& sitemap : parse_robots(robots->body, "*").sitemaps)
        pending.push_back({sitemap, "robots_txt", 0, true});
    for (const char* path : {"/sitemap.xml", "/sitemap_index.xml", "/wp-sitemap.xml"})
      pending.push_back({origin + path, "well_known", 0, false});
  }
  std::set<std::string, std::less<>> seen;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    if (static_cast<int>(out.sitemaps.size()) >= options.max_files) {
      out.errors.push_back("stopped after " + std::to_string(options.max_files) + " sitemap files");
      break;
    }
    auto c = pending[i]; // copy: pending grows below
    if (!seen.insert(c.url).second)
      continue;
    std::optional<fetch_result> fetched;
    if (!interrupted())
      fetched = co_await s.fetch(c.url, options.limits.max_bytes);
    if (!fetched || interrupted()) {
      report_interruption();
      break;
    }
    auto doc = read_sitemap_response(*fetched, options.limits);
    if (doc.type == sitemap_document::kind::invalid) {
      if (c.must_exist)
        out.sitemaps.push_back({c.url, "invalid", c.method, 0, doc.error});
      continue;
    }
    found_sitemap s{c.url, std::string(doc.type_name()), c.method, 0, {}};
    if (doc.type == sitemap_document::kind::index) {
      s.url_count = static_cast<long>(doc.sitemaps.size());
      if (c.depth >= options.max_depth)
        s.error =
            "index nesting deeper than " + std::to_string(options.max_depth) + "; not followed";
      else
        for (auto& child : doc.sitemaps)
          pending.push_back({std::move(child), "sitemap_index", c.depth + 1, true});
    } else {
      s.url_count = static_cast<long>(doc.urls.size());
    }
    if (doc.truncated)
      s.error = "more URLs than the cap; truncated";
    out.sitemaps.push_back(std::move(s));
  }
  co_return out;
}

boost::json::object to_json(const sitemap_discovery& discovery) {
  namespace json = boost::json;
  json::array sitemaps, errors;
  for (const auto& s : discovery.sitemaps) {
    json::object o{{"url", s.url},
                   {"type", s.type},
                   {"discovery_method", s.discovery_method},
                   {"url_count", s.url_count}};
    if (!s.error.empty())
      o["error"] = s.error;
    sitemaps.push_back(o);
  }
  for (const auto& e : discovery.errors)
    errors.push_back(json::string(e));
  return {{"sitemaps", sitemaps}, {"errors", errors}};
}

} // namespace sky::scrape
