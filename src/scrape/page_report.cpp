// Fetch one page and run the extractors over it.
#include "scrape/page_report.hpp"

#include "scrape/charset.hpp"
#include "scrape/email_extract.hpp"
#include "scrape/page_metadata.hpp"

#include <boost/json.hpp>

namespace sky::scrape {

page_report report_page(fetcher& f, const std::string& url) {
  namespace json = boost::json;
  auto r = f.fetch_blocking(url);
  json::object out{{"url", url}, {"final_url", r.final_url}, {"status", r.status}};
  json::array errors, emails;
  const bool fetched = r.ok() && r.status >= 200 && r.status < 300;
  if (!r.ok())
    errors.push_back(json::string(r.error));
  else if (!fetched)
    errors.push_back(json::string("HTTP status " + std::to_string(r.status)));
  if (fetched) {
    auto text = decode_to_utf8(r.body, r.content_type);
    auto meta = extract_metadata(text, r.final_url.empty() ? url : r.final_url);
    out["title"] = meta.title;
    out["description"] = meta.description;
    out["language"] = meta.language;
    out["canonical"] = meta.canonical;
    json::object og;
    for (const auto& [k, v] : meta.open_graph)
      og[k] = v;
    out["open_graph"] = og;
    for (auto& e : extract_emails(text))
      emails.push_back(json::string(e));
  }
  out["emails"] = emails;
  out["pages_fetched"] = fetched ? 1 : 0;
  out["errors"] = errors;
  return {json::serialize(out), fetched};
}

} // namespace sky::scrape
