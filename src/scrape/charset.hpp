// Text decoding: find a page's charset (BOM, Content-Type, <meta>) and convert it to UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace sky::scrape {

// The WHATWG Encoding Standard's name (lower case) of a charset label, e.g. "latin1" ->
// "windows-1252", "x-sjis" -> "shift_jis"; empty for labels that are not web encodings (and for
// the "replacement" and "x-user-defined" encodings, which iconv cannot decode). Only these names
// ever reach iconv.
std::string_view web_encoding_of(std::string_view label);

// Encoding name (see web_encoding_of): from a byte order mark, else the Content-Type header's
// charset, else a <meta charset> or http-equiv Content-Type in the first 2 KiB, else "utf-8".
// Unknown labels are skipped, as browsers do, so a bogus header charset falls through to <meta>.
std::string detect_charset(std::string_view body, std::string_view content_type);

// The body as UTF-8; invalid sequences become U+FFFD. Text with no known encoding is read as
// UTF-8, not as the standard's windows-1252 fallback: most of the web is UTF-8, and invalid
// bytes are replaced either way.
std::string decode_to_utf8(std::string_view body, std::string_view content_type);

} // namespace sky::scrape
