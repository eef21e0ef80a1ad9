// Email addresses in a page: text, attributes, mailto links, HTML entities, "[at]"/"(dot)"
// obfuscations and Cloudflare's data-cfemail. A linear scanner anchored on '@', not a regex.
#pragma once

#include "scrape/page_limits.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

struct email_list {
  std::vector<std::string> addresses;
  bool truncated = false; // reading stopped at the cap
};

// Lower-cased, deduplicated, in order of first appearance. Addresses whose domain does not end in
// a listed public suffix are dropped (so "logo@2x.png" is not an email). Reading stops at the
// first new address past `max_addresses`, or after 100 candidates ('@') per address allowed.
email_list extract_emails(std::string_view html,
                          std::size_t max_addresses = page_limits{}.max_emails);

// Pieces, exposed for tests and fuzzing.
std::string decode_html_entities(std::string_view text);
std::string decode_cfemail(std::string_view hex); // "" when malformed
std::string deobfuscate_at_dot(std::string_view text);

} // namespace sky::scrape
