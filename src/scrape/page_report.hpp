// One page fetched and read: the JSON report of `scrapersky scrape`.
#pragma once

#include "scrape/fetcher.hpp"

#include <string>

namespace sky::scrape {

struct page_report {
  std::string json; // {url, final_url, status, title, description, language, canonical,
                    //  open_graph, emails, pages_fetched, errors}
  bool fetched = false;
};

page_report report_page(fetcher& f, const std::string& url);

} // namespace sky::scrape
