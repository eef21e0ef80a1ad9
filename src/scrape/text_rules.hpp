// Small text rules shared by the parsers and extractors: ASCII case, whitespace, %XX escapes.
#pragma once

#include <string>
#include <string_view>

namespace sky::scrape {

// ASCII letters lower-cased; other bytes (UTF-8 included) unchanged.
std::string ascii_lower(std::string_view s);

// Without leading and trailing ASCII whitespace.
std::string_view trim_space(std::string_view s);

// %XX escapes decoded; malformed escapes are kept as written.
std::string percent_decode(std::string_view s);

} // namespace sky::scrape
