// Everything the workflows read from one page, computed by the pure extractors in one place.
#pragma once

#include "scrape/page_metadata.hpp"
#include "scrape/phone_extract.hpp"

#include <boost/json/object.hpp>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

struct page_analysis {
  page_metadata meta;
  std::vector<std::string> emails;
  std::vector<found_phone> phones;
  std::map<std::string, std::string> social; // network -> profile URL
  std::vector<std::string> tech;
  // The page_limits this page reached, e.g. "emails_per_page": the lists above are cut there.
  std::vector<std::string> limits_hit;
};

// `html` must already be UTF-8 (see decode_to_utf8). Phone numbers without a country code are
// read as numbers of the page's region (page_phone_region: language, ccTLD of the page's host),
// else of `default_region`.
page_analysis analyze_page(std::string_view html, std::string_view page_url,
                           std::string_view headers = {}, const std::string& default_region = "US",
                           const page_limits& limits = {});

// {title, description, language, canonical, open_graph, emails, phones, social, tech, limits_hit}
boost::json::object to_json(const page_analysis& page);

} // namespace sky::scrape
