// Charset detection and iconv-based conversion.
#include "scrape/charset.hpp"

#include "scrape/text_rules.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
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

// The WHATWG Encoding Standard's encodings (https://encoding.spec.whatwg.org/#names-and-labels)
// with glibc iconv's name for each and every label that names it. The standard's legacy CJK
// encodings are the Windows supersets: Shift_JIS is CP932, EUC-KR is CP949, Big5 has HKSCS.
struct web_encoding {
  std::string_view name;
  const char* iconv_name;  // none for UTF-8, which is validated rather than converted
  std::string_view labels; // space-separated
};
constexpr web_encoding k_web_encodings[] = {
    {"utf-8", nullptr, "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8"},
    {"ibm866", "IBM866", "866 cp866 csibm866 ibm866"},
    {"iso-8859-2", "ISO-8859-2",
     "csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2 iso_8859-2:1987 l2 latin2"},
    {"iso-8859-3", "ISO-8859-3",
     "csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3 iso_8859-3:1988 l3 latin3"},
    {"iso-8859-4", "ISO-8859-4",
     "csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4 iso_8859-4:1988 l4 latin4"},
    {"iso-8859-5", "ISO-8859-5",
     "csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595 iso_8859-5 "
     "iso_8859-5:1988"},
    {"iso-8859-6", "ISO-8859-6",
     "arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114 iso-8859-6 iso-8859-6-e "
     "iso-8859-6-i iso-ir-127 iso8859-6 iso88596 iso_8859-6 iso_8859-6:1987"},
    {"iso-8859-7", "ISO-8859-7",
     "csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126 iso8859-7 iso88597 "
     "iso_8859-7 iso_8859-7:1987 sun_eu_greek"},
    {"iso-8859-8", "ISO-8859-8",
     "csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138 iso8859-8 iso88598 "
     "iso_8859-8 iso_8859-8:1988 visual"},
    {"iso-8859-8-i", "ISO-8859-8", "csiso88598i iso-8859-8-i logical"},
    {"iso-8859-10", "ISO-8859-10",
     "csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6"},
    {"iso-8859-13", "ISO-8859-13", "iso-8859-13 iso8859-13 iso885913"},
    {"iso-8859-14", "ISO-8859-14", "iso-8859-14 iso8859-14 iso885914"},
    {"iso-8859-15", "ISO-8859-15", "csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9"},
    {"iso-8859-16", "ISO-8859-16", "iso-8859-16"},
    {"koi8-r", "KOI8-R", "cskoi8r koi koi8 koi8-r koi8_r"},
    {"koi8-u", "KOI8-U", "koi8-ru koi8-u"},
    {"macintosh", "MACINTOSH", "csmacintosh mac macintosh x-mac-roman"},
    {"windows-874", "WINDOWS-874", "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874"},
    {"windows-1250", "WINDOWS-1250", "cp1250 windows-1250 x-cp1250"},
    {"windows-1251", "WINDOWS-1251", "cp1251 windows-1251 x-cp1251"},
    {"windows-1252", "WINDOWS-1252",
     "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 iso8859-1 "
     "iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252"},
    {"windows-1253", "WINDOWS-1253", "cp1253 windows-1253 x-cp1253"},
    {"windows-1254", "WINDOWS-1254",
     "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 iso_8859-9:1989 l5 "
     "latin5 windows-1254 x-cp1254"},
    {"windows-1255", "WINDOWS-1255", "cp1255 windows-1255 x-cp1255"},
    {"windows-1256", "WINDOWS-1256", "cp1256 windows-1256 x-cp1256"},
    {"windows-1257", "WINDOWS-1257", "cp1257 windows-1257 x-cp1257"},
    {"windows-1258", "WINDOWS-1258", "cp1258 windows-1258 x-cp1258"},
    {"x-mac-cyrillic", "MAC-UK", "x-mac-cyrillic x-mac-ukrainian"},
    {"gbk", "GBK",
     "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk"},
    {"gb18030", "GB18030", "gb18030"},
    {"big5", "BIG5-HKSCS", "big5 big5-hkscs cn-big5 csbig5 x-x-big5"},
    {"euc-jp", "EUC-JP", "cseucpkdfmtjapanese euc-jp x-euc-jp"},
    {"iso-2022-jp", "ISO-2022-JP", "csiso2022jp iso-2022-jp"},
    {"shift_jis", "CP932", "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis"},
    {"euc-kr", "CP949",
     "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 ksc5601 "
     "ksc_5601 windows-949"},
    {"utf-16be", "UTF-16BE", "unicodefffe utf-16be"},
    {"utf-16le", "UTF-16LE", "csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le"},
};

const web_encoding* find_web_encoding(std::string_view name) {
  for (const auto& e : k_web_encodings)
    if (e.name == name)
      return &e;
  return nullptr;
}

void append_replacement(std::string& out) {
  out += "\xEF\xBF\xBD";
}

// The length of the longest prefix of `s` that is ASCII, eight bytes at a time.
std::size_t ascii_prefix(std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t block;
    std::memcpy(&block, s.data() + i, sizeof block);
    if (block & 0x8080808080808080u)
      break;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80)
    ++i;
  return i;
}

// Keeps valid UTF-8 and replaces every invalid byte with U+FFFD.
std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    // ASCII runs (most of any page's markup) are copied whole.
    if (auto ascii = ascii_prefix(s.substr(i)); ascii > 0) {
      out.append(s.data() + i, ascii);
      i += ascii;
      continue;
    }
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

std::string_view web_encoding_of(std::string_view label) {
  // Labels match after trimming ASCII whitespace, case-insensitively.
  constexpr std::string_view k_space = " \t\n\f\r";
  auto first = label.find_first_not_of(k_space);
  if (first == std::string_view::npos)
    return {};
  auto key = ascii_lower(label.substr(first, label.find_last_not_of(k_space) - first + 1));
  for (const auto& e : k_web_encodings)
    for (std::size_t pos = 0; pos < e.labels.size();) {
      auto end = std::min(e.labels.find(' ', pos), e.labels.size());
      if (e.labels.substr(pos, end - pos) == key)
        return e.name;
      pos = end + 1;
    }
  return {};
}

std::string detect_charset(std::string_view body, std::string_view content_type) {
  if (body.substr(0, 3) == "\xEF\xBB\xBF")
    return "utf-8";
  if (body.substr(0, 2) == "\xFF\xFE")
    return "utf-16le";
  if (body.substr(0, 2) == "\xFE\xFF")
    return "utf-16be";
  if (auto e = web_encoding_of(charset_param(content_type)); !e.empty())
    return std::string(e);
  auto head = ascii_lower(body.substr(0, 2048));
  for (auto pos = head.find("<meta"); pos != std::string::npos; pos = head.find("<meta", pos + 5)) {
    auto end = head.find('>', pos);
    auto tag = std::string_view(head).substr(pos, end == std::string::npos ? 2048 : end - pos);
    if (auto e = web_encoding_of(charset_param(tag)); !e.empty())
      // A <meta> that could be read as ASCII cannot be UTF-16 (HTML's prescan rule).
      return e.starts_with("utf-16") ? "utf-8" : std::string(e);
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
  // Only allowlisted encodings reach iconv: detect_charset returns nothing else.
  const auto* encoding = find_web_encoding(charset);
  if (!encoding || !encoding->iconv_name)
    return sanitize_utf8(body);
  iconv_t cd = iconv_open("UTF-8", encoding->iconv_name);
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
