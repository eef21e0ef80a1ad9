// Text decoding: find a page's charset (BOM, Content-Type, <meta>) and convert it to UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace sky::scrape {

// Lower-case charset name: from a byte order mark, else the Content-Type header's charset, else
// a <meta charset> or http-equiv Content-Type in the first 2 KiB, else "utf-8".
std::string detect_charset(std::string_view body, std::string_view content_type);

// The body as UTF-8. Unknown charsets are treated as UTF-8; invalid sequences become U+FFFD.
std::string decode_to_utf8(std::string_view body, std::string_view content_type);

} // namespace sky::scrape
