// Small text rules shared by the parsers and extractors: ASCII case, whitespace, %XX escapes,
// UTF-8 code points.
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

struct code_point {
  char32_t value;
  std::size_t length; // bytes
};
// The code point at text[pos]; a byte that starts no valid sequence reads as U+FFFD, one byte long.
code_point decode_utf8_at(std::string_view text, std::size_t pos);
// `cp` as UTF-8; nothing for NUL, surrogates and values past U+10FFFF.
void append_utf8(std::string& out, char32_t cp);

} // namespace sky::scrape
