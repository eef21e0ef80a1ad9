// Email addresses in a page: text, attributes, mailto links, HTML entities, "[at]"/"(dot)"
// obfuscations and Cloudflare's data-cfemail. A linear scanner anchored on '@', not a regex.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

// Lower-cased, deduplicated, in order of first appearance. Addresses whose domain does not end in
// a listed public suffix are dropped (so "logo@2x.png" is not an email).
std::vector<std::string> extract_emails(std::string_view html);

// Pieces, exposed for tests and fuzzing.
std::string decode_html_entities(std::string_view text);
std::string decode_cfemail(std::string_view hex); // "" when malformed
std::string deobfuscate_at_dot(std::string_view text);

} // namespace sky::scrape
