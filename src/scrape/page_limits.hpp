// How much of one page the extractors take. A hostile page holds hundreds of thousands of
// addresses and links; past these caps the extractors stop reading instead of paying for each.
#pragma once

#include <cstddef>

namespace sky::scrape {

struct page_limits {
  std::size_t max_emails = 200;            // distinct addresses
  std::size_t max_phones = 200;            // distinct numbers
  std::size_t max_links = 2000;            // distinct http(s) link targets
  std::size_t max_tel_links = 500;         // tel: links read
  std::size_t max_mailto_links = 500;      // mailto: links read, and Cloudflare-protected addresses
  std::size_t max_structured_values = 200; // emails and phones read from structured data
  std::size_t max_json_ld_bytes = 1 << 20; // JSON-LD read per page
  // Page data read per page: JSON scripts in all, and inline scripts' bodies (for objects they
  // assign to window) in all, each up to this.
  std::size_t max_page_data_bytes = 1 << 20;
};

} // namespace sky::scrape
