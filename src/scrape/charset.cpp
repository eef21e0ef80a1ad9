// Charset detection and iconv-based conversion.
#include "scrape/charset.hpp"

#include "scrape/text_rules.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <iconv.h>

namespace sky::scrape {
namespace {

// The value after "charset=" in `text`, unquoted; empty when absent.
std::string charset_param(std::string_view text) {
  auto l = ascii_lower(text);
  auto pos = l.find("charset=");
  if (pos == std::string::npos)
    return {};
  pos += 8;
  while (pos < l.size() && (l[pos] == '"' || l[pos] == '\'' || l[pos] == ' '))
    ++pos;
  auto end = pos;
  while (end < l.size() && (std::isalnum(static_cast<unsigned char>(l[end])) || l[end] == '-' ||
                            l[end] == '_' || l[end] == ':' || l[end] == '.'))
    ++end;
  return l.substr(pos, end - pos);
}

void append_replacement(std::string& out) {
  out += "\xEF\xBF\xBD";
}

// Keeps valid UTF-8 and replaces every invalid byte with U+FFFD.
std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && len > 1) {
      // Reject overlong forms and surrogates.
      unsigned cp = c & (0x7F >> len);
      for (std::size_t k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      static const unsigned k_min[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= k_min[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      append_replacement(out);
      ++i;
    }
  }
  return out;
}

} // namespace

std::string detect_charset(std::string_view body, std::string_view content_type) {
  if (body.substr(0, 3) == "\xEF\xBB\xBF")
    return "utf-8";
  if (body.substr(0, 2) == "\xFF\xFE")
    return "utf-16le";
  if (body.substr(0, 2) == "\xFE\xFF")
    return "utf-16be";
  if (auto c = charset_param(content_type); !c.empty())
    return c;
  auto head = ascii_lower(body.substr(0, 2048));
  for (auto pos = head.find("<meta"); pos != std::string::npos; pos = head.find("<meta", pos + 5)) {
    auto end = head.find('>', pos);
    auto tag = std::string_view(head).substr(pos, end == std::string::npos ? 2048 : end - pos);
    if (auto c = charset_param(tag); !c.empty())
      return c;
  }
  return "utf-8";
}

std::string decode_to_utf8(std::string_view body, std::string_view content_type) {
  auto charset = detect_charset(body, content_type);
  // The byte order mark says how to read the text; it is not part of it.
  if (body.substr(0, 3) == "\xEF\xBB\xBF")
    body.remove_prefix(3);
  else if (body.substr(0, 2) == "\xFF\xFE" || body.substr(0, 2) == "\xFE\xFF")
    body.remove_prefix(2);
  if (charset == "utf-8" || charset == "utf8" || charset == "us-ascii" || charset == "ascii")
    return sanitize_utf8(body);
  // Browsers read ISO-8859-1 as windows-1252; so do we.
  if (charset == "iso-8859-1" || charset == "latin1" || charset == "latin-1")
    charset = "windows-1252";
  iconv_t cd = iconv_open("UTF-8", charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1))
    return sanitize_utf8(body);
  std::string out;
  out.reserve(body.size() * 2);
  char* in = const_cast<char*>(body.data());
  std::size_t in_left = body.size();
  char buffer[4096];
  while (in_left > 0) {
    char* dst = buffer;
    std::size_t dst_left = sizeof buffer;
    auto rc = iconv(cd, &in, &in_left, &dst, &dst_left);
    out.append(buffer, sizeof buffer - dst_left);
    if (rc == static_cast<std::size_t>(-1)) {
      if (errno == E2BIG)
        continue;
      // EILSEQ or EINVAL: skip one byte, mark it, carry on.
      append_replacement(out);
      ++in;
      --in_left;
    }
  }
  iconv_close(cd);
  return sanitize_utf8(out);
}

} // namespace sky::scrape
