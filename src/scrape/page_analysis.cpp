// One pass of each extractor over a decoded page.
#include "scrape/page_analysis.hpp"

#include "scrape/email_extract.hpp"
#include "scrape/link_rules.hpp"
#include "scrape/tech_stack.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

namespace sky::scrape {

page_analysis analyze_page(std::string_view html, std::string_view page_url,
                           std::string_view headers, const std::string& default_region,
                           const page_limits& limits) {
  page_analysis out;
  out.meta = extract_metadata(html, page_url, limits);
  auto emails = extract_emails(out.meta, limits.max_emails, page_url);
  out.emails = std::move(emails.addresses);
  auto url = boost::urls::parse_uri(page_url);
  auto host = url ? std::string(url->encoded_host()) : std::string();
  auto phones = extract_phones(out.meta.tel_links, out.meta.text,
                               page_phone_region(out.meta.language, host, default_region),
                               limits.max_phones, out.meta.structured_phones, out.meta.code_spans);
  out.phones = std::move(phones.numbers);
  if (out.meta.data_links.empty()) {
    out.social = social_profiles(out.meta.links);
  } else {
    auto links = out.meta.links;
    links.insert(links.end(), out.meta.data_links.begin(), out.meta.data_links.end());
    out.social = social_profiles(links);
  }
  out.tech = detect_tech_stack(html, headers);
  for (auto [hit, name] : {std::pair{emails.truncated, "emails_per_page"},
                           {phones.truncated, "phones_per_page"},
                           {out.meta.links_truncated, "links_per_page"},
                           {out.meta.tel_links_truncated, "tel_links_per_page"}})
    if (hit)
      out.limits_hit.emplace_back(name);
  return out;
}

boost::json::object to_json(const page_analysis& page) {
  namespace json = boost::json;
  json::object og, social;
  for (const auto& [k, v] : page.meta.open_graph)
    og[k] = v;
  for (const auto& [k, v] : page.social)
    social[k] = v;
  json::array emails(page.emails.begin(), page.emails.end());
  json::array tech(page.tech.begin(), page.tech.end());
  json::array limits_hit(page.limits_hit.begin(), page.limits_hit.end());
  json::array phones;
  for (const auto& p : page.phones)
    phones.push_back(json::string(p.e164));
  return {{"title", page.meta.title},
          {"description", page.meta.description},
          {"language", page.meta.language},
          {"canonical", page.meta.canonical},
          {"open_graph", og},
          {"emails", emails},
          {"phones", phones},
          {"social", social},
          {"tech", tech},
          {"limits_hit", limits_hit}};
}

} // namespace sky::scrape
