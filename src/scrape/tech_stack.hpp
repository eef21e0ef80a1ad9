// Technologies a page reveals in its markup and response headers, from a signature table.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

// Names from the signature table, in table order, each at most once. `headers` is the raw
// response header block (may be empty).
std::vector<std::string> detect_tech_stack(std::string_view html, std::string_view headers = {});

// Number of technologies the table knows (for documentation and tests).
std::size_t tech_signature_count();

} // namespace sky::scrape
