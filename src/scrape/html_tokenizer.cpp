#include "scrape/html_tokenizer.hpp"

#include "scrape/text_rules.hpp"
#include "scrape/url_rules.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sky::scrape {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

bool is_ascii_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_ascii_alnum(char c) {
  return is_ascii_letter(c) || (c >= '0' && c <= '9');
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals_lower(std::string_view s, std::string_view lower_case) {
  if (s.size() != lower_case.size())
    return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (lower(s[i]) != lower_case[i])
      return false;
  return true;
}

// The first '<', '&' or NUL at or after `from`: where plain text stops.
std::size_t text_end(std::string_view s, std::size_t from) {
  const auto n = s.size();
#if defined(__SSE2__)
  const auto lt = _mm_set1_epi8('<'), amp = _mm_set1_epi8('&'), nul = _mm_setzero_si128();
  while (from + 16 <= n) {
    auto v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + from));
    auto hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, lt), _mm_cmpeq_epi8(v, amp)),
                             _mm_cmpeq_epi8(v, nul));
    if (auto mask = _mm_movemask_epi8(hits); mask != 0)
      return from + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    from += 16;
  }
#endif
  while (from < n && s[from] != '<' && s[from] != '&' && s[from] != '\0')
    ++from;
  return from;
}

// HTML 4's names, and the ASCII punctuation HTML5 named (addresses are written with &commat;).
struct named_reference {
  std::string_view name;
  char32_t code_point;
};

constexpr std::string_view k_latin1_names[] = {
    "nbsp",   "iexcl",  "cent",   "pound",  "curren", "yen",    "brvbar", "sect",   "uml",
    "copy",   "ordf",   "laquo",  "not",    "shy",    "reg",    "macr",   "deg",    "plusmn",
    "sup2",   "sup3",   "acute",  "micro",  "para",   "middot", "cedil",  "sup1",   "ordm",
    "raquo",  "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc",  "Atilde",
    "Auml",   "Aring",  "AElig",  "Ccedil", "Egrave", "Eacute", "Ecirc",  "Euml",   "Igrave",
    "Iacute", "Icirc",  "Iuml",   "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde",
    "Ouml",   "times",  "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN",
    "szlig",  "agrave", "aacute", "acirc",  "atilde", "auml",   "aring",  "aelig",  "ccedil",
    "egrave", "eacute", "ecirc",  "euml",   "igrave", "iacute", "icirc",  "iuml",   "eth",
    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",   "divide", "oslash", "ugrave",
    "uacute", "ucirc",  "uuml",   "yacute", "thorn",  "yuml"}; // U+00A0 to U+00FF in order

constexpr std::string_view k_greek_capitals[] = {
    "Alpha", "Beta",   "Gamma",   "Delta", "Epsilon", "Zeta",    "Eta",  "Theta", "Iota",
    "Kappa", "Lambda", "Mu",      "Nu",    "Xi",      "Omicron", "Pi",   "Rho",   "",
    "Sigma", "Tau",    "Upsilon", "Phi",   "Chi",     "Psi",     "Omega"}; // U+0391 to U+03A9

constexpr std::string_view k_greek_small[] = {
    "alpha", "beta",   "gamma",   "delta", "epsilon", "zeta",    "eta",  "theta", "iota",
    "kappa", "lambda", "mu",      "nu",    "xi",      "omicron", "pi",   "rho",   "sigmaf",
    "sigma", "tau",    "upsilon", "phi",   "chi",     "psi",     "omega"}; // U+03B1 to U+03C9

constexpr named_reference k_other_names[] = {{"quot", 34},
                                             {"amp", 38},
                                             {"apos", 39},
                                             {"lt", 60},
                                             {"gt", 62},
                                             {"OElig", 338},
                                             {"oelig", 339},
                                             {"Scaron", 352},
                                             {"scaron", 353},
                                             {"Yuml", 376},
                                             {"fnof", 402},
                                             {"circ", 710},
                                             {"tilde", 732},
                                             {"thetasym", 977},
                                             {"upsih", 978},
                                             {"piv", 982},
                                             {"ensp", 8194},
                                             {"emsp", 8195},
                                             {"thinsp", 8201},
                                             {"zwnj", 8204},
                                             {"zwj", 8205},
                                             {"lrm", 8206},
                                             {"rlm", 8207},
                                             {"ndash", 8211},
                                             {"mdash", 8212},
                                             {"lsquo", 8216},
                                             {"rsquo", 8217},
                                             {"sbquo", 8218},
                                             {"ldquo", 8220},
                                             {"rdquo", 8221},
                                             {"bdquo", 8222},
                                             {"dagger", 8224},
                                             {"Dagger", 8225},
                                             {"bull", 8226},
                                             {"hellip", 8230},
                                             {"permil", 8240},
                                             {"prime", 8242},
                                             {"Prime", 8243},
                                             {"lsaquo", 8249},
                                             {"rsaquo", 8250},
                                             {"oline", 8254},
                                             {"frasl", 8260},
                                             {"euro", 8364},
                                             {"image", 8465},
                                             {"weierp", 8472},
                                             {"real", 8476},
                                             {"trade", 8482},
                                             {"alefsym", 8501},
                                             {"larr", 8592},
                                             {"uarr", 8593},
                                             {"rarr", 8594},
                                             {"darr", 8595},
                                             {"harr", 8596},
                                             {"crarr", 8629},
                                             {"lArr", 8656},
                                             {"uArr", 8657},
                                             {"rArr", 8658},
                                             {"dArr", 8659},
                                             {"hArr", 8660},
                                             {"forall", 8704},
                                             {"part", 8706},
                                             {"exist", 8707},
                                             {"empty", 8709},
                                             {"nabla", 8711},
                                             {"isin", 8712},
                                             {"notin", 8713},
                                             {"ni", 8715},
                                             {"prod", 8719},
                                             {"sum", 8721},
                                             {"minus", 8722},
                                             {"lowast", 8727},
                                             {"radic", 8730},
                                             {"prop", 8733},
                                             {"infin", 8734},
                                             {"ang", 8736},
                                             {"and", 8743},
                                             {"or", 8744},
                                             {"cap", 8745},
                                             {"cup", 8746},
                                             {"int", 8747},
                                             {"there4", 8756},
                                             {"sim", 8764},
                                             {"cong", 8773},
                                             {"asymp", 8776},
                                             {"ne", 8800},
                                             {"equiv", 8801},
                                             {"le", 8804},
                                             {"ge", 8805},
                                             {"sub", 8834},
                                             {"sup", 8835},
                                             {"nsub", 8836},
                                             {"sube", 8838},
                                             {"supe", 8839},
                                             {"oplus", 8853},
                                             {"otimes", 8855},
                                             {"perp", 8869},
                                             {"sdot", 8901},
                                             {"lceil", 8968},
                                             {"rceil", 8969},
                                             {"lfloor", 8970},
                                             {"rfloor", 8971},
                                             {"lang", 9001},
                                             {"rang", 9002},
                                             {"loz", 9674},
                                             {"spades", 9824},
                                             {"clubs", 9827},
                                             {"hearts", 9829},
                                             {"diams", 9830},
                                             // HTML5's names of ASCII punctuation
                                             {"Tab", 9},
                                             {"NewLine", 10},
                                             {"excl", 33},
                                             {"num", 35},
                                             {"dollar", 36},
                                             {"percnt", 37},
                                             {"lpar", 40},
                                             {"rpar", 41},
                                             {"ast", 42},
                                             {"midast", 42},
                                             {"plus", 43},
                                             {"comma", 44},
                                             {"period", 46},
                                             {"sol", 47},
                                             {"colon", 58},
                                             {"semi", 59},
                                             {"equals", 61},
                                             {"quest", 63},
                                             {"commat", 64},
                                             {"lsqb", 91},
                                             {"lbrack", 91},
                                             {"bsol", 92},
                                             {"rsqb", 93},
                                             {"rbrack", 93},
                                             {"Hat", 94},
                                             {"lowbar", 95},
                                             {"grave", 96},
                                             {"lcub", 123},
                                             {"lbrace", 123},
                                             {"verbar", 124},
                                             {"vert", 124},
                                             {"rcub", 125},
                                             {"rbrace", 125},
                                             {"hyphen", 8208},
                                             {"dash", 8208}};

const std::vector<named_reference>& named_references() {
  static const auto table = [] {
    std::vector<named_reference> all(std::begin(k_other_names), std::end(k_other_names));
    for (std::size_t i = 0; i < std::size(k_latin1_names); ++i)
      all.push_back({k_latin1_names[i], static_cast<char32_t>(0xA0 + i)});
    for (std::size_t i = 0; i < std::size(k_greek_capitals); ++i)
      if (!k_greek_capitals[i].empty())
        all.push_back({k_greek_capitals[i], static_cast<char32_t>(0x391 + i)});
    for (std::size_t i = 0; i < std::size(k_greek_small); ++i)
      all.push_back({k_greek_small[i], static_cast<char32_t>(0x3B1 + i)});
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return all;
  }();
  return table;
}

// What browsers show for numeric references to the C1 controls: Windows-1252's characters.
char32_t windows_1252(char32_t cp) {
  static constexpr char32_t k_c1[32] = {
      0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0x8D,   0x017D, 0x8F,   0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};
  return cp >= 0x80 && cp <= 0x9F ? k_c1[cp - 0x80] : cp;
}

// Named references a browser reads without their semicolon in text (the common ones of the
// legacy set; "&copy 2024" shows ©).
bool legacy_without_semicolon(std::string_view name) {
  return name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "nbsp" ||
         name == "copy" || name == "reg";
}

// Decodes the reference at s[amp] ('&') into `out`; returns the position after it. What is not
// a reference is one '&'.
std::size_t decode_reference(std::string_view s, std::size_t amp, std::string& out,
                             bool in_attribute) {
  const auto n = s.size();
  auto p = amp + 1;
  if (p < n && s[p] == '#') {
    ++p;
    const bool hex = p < n && (s[p] == 'x' || s[p] == 'X');
    if (hex)
      ++p;
    const auto digits_begin = p;
    char32_t cp = 0;
    for (; p < n; ++p) {
      int v = hex ? hex_digit_value(s[p]) : (s[p] >= '0' && s[p] <= '9' ? s[p] - '0' : -1);
      if (v < 0)
        break;
      if (cp <= 0x10FFFF)
        cp = cp * (hex ? 16 : 10) + static_cast<char32_t>(v);
    }
    if (p == digits_begin) { // "&#" or "&#x" without digits: as written
      out += '&';
      return amp + 1;
    }
    if (p < n && s[p] == ';')
      ++p;
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      cp = 0xFFFD;
    append_utf8(out, windows_1252(cp));
    return p;
  }
  while (p < n && p - amp <= 32 && is_ascii_alnum(s[p]))
    ++p;
  const auto name = s.substr(amp + 1, p - amp - 1);
  const bool semicolon = p < n && s[p] == ';';
  if (!name.empty() && (semicolon || (!in_attribute && legacy_without_semicolon(name)))) {
    if (auto cp = named_character(name)) {
      append_utf8(out, cp);
      return semicolon ? p + 1 : p;
    }
  }
  out += '&';
  return amp + 1;
}

// An attribute's value as written, its references decoded, appended to `out`.
void append_attribute_value(std::string_view raw, std::string& out) {
  for (std::size_t i = 0; i < raw.size();) {
    if (raw[i] == '&') {
      i = decode_reference(raw, i, out, true);
    } else {
      auto amp = std::min(raw.find('&', i), raw.size());
      out.append(raw, i, amp - i);
      i = amp;
    }
  }
}

bool is_void(std::string_view tag) {
  static constexpr std::string_view k_void[] = {
      "area", "base",  "basefont", "bgsound", "br",   "col",   "embed",  "frame", "hr",
      "img",  "input", "keygen",   "link",    "meta", "param", "source", "track", "wbr"};
  return std::find(std::begin(k_void), std::end(k_void), tag) != std::end(k_void);
}

bool is_heading(std::string_view tag) {
  return tag.size() == 2 && tag[0] == 'h' && tag[1] >= '1' && tag[1] <= '6';
}

// A start tag of `opening` closes an open `current` element it cannot nest in.
bool start_closes(std::string_view opening, std::string_view current) {
  if (current == "p") {
    static constexpr std::string_view k_blocks[] = {
        "address", "article",   "aside",    "blockquote", "center", "details", "dialog", "dir",
        "div",     "dl",        "fieldset", "figcaption", "figure", "footer",  "form",   "header",
        "hgroup",  "hr",        "main",     "menu",       "nav",    "ol",      "p",      "pre",
        "section", "summary",   "table",    "ul",         "li",     "dd",      "dt",     "listing",
        "xmp",     "plaintext", "caption",  "td",         "th",     "tr"};
    return is_heading(opening) ||
           std::find(std::begin(k_blocks), std::end(k_blocks), opening) != std::end(k_blocks);
  }
  if (opening == "li")
    return current == "li";
  if (opening == "dt" || opening == "dd")
    return current == "dt" || current == "dd";
  if (opening == "option")
    return current == "option";
  if (opening == "optgroup")
    return current == "option" || current == "optgroup";
  if (opening == "tr")
    return current == "tr" || current == "td" || current == "th";
  if (opening == "td" || opening == "th")
    return current == "td" || current == "th";
  if (opening == "thead" || opening == "tbody" || opening == "tfoot")
    return current == "tr" || current == "td" || current == "th" || current == "thead" ||
           current == "tbody" || current == "tfoot";
  if (opening == "a")
    return current == "a";
  if (is_heading(opening))
    return is_heading(current);
  return false;
}

// An end tag never closes an open element that outranks it ("</span>" leaves a div open).
int end_priority(std::string_view tag) {
  if (tag == "div")
    return 150;
  if (tag == "td" || tag == "th")
    return 160;
  if (tag == "tr")
    return 170;
  if (tag == "thead" || tag == "tbody" || tag == "tfoot")
    return 180;
  if (tag == "table")
    return 190;
  if (tag == "head" || tag == "body")
    return 200;
  if (tag == "html")
    return 220;
  return 100;
}

enum class body_kind : std::uint8_t {
  markup,
  raw_hidden,    // script, style: raw_text
  raw_visible,   // xmp: text as written
  raw_dropped,   // iframe: what a browser never shows
  escapable_raw, // title, textarea: text with references, when an end tag closes it
  plaintext      // plaintext: the rest of the page is text
};

body_kind body_of(std::string_view tag) {
  if (tag == "script" || tag == "style")
    return body_kind::raw_hidden;
  if (tag == "xmp")
    return body_kind::raw_visible;
  if (tag == "iframe")
    return body_kind::raw_dropped;
  if (tag == "title" || tag == "textarea")
    return body_kind::escapable_raw;
  if (tag == "plaintext")
    return body_kind::plaintext;
  return body_kind::markup;
}

class reader {
public:
  reader(std::string_view html, html_handler& handler, const html_read_limits& limits)
      : in_(html), handler_(handler), limits_(limits) {}

  void run() {
    const auto n = in_.size();
    while (pos_ < n) {
      auto stop = text_end(in_, pos_);
      if (stop > pos_)
        handler_.text(in_.substr(pos_, stop - pos_));
      pos_ = stop;
      if (pos_ >= n)
        break;
      if (in_[pos_] == '\0') {
        ++pos_; // NUL shows nothing
      } else if (in_[pos_] == '&') {
        decoded_.clear();
        pos_ = decode_reference(in_, pos_, decoded_, false);
        handler_.text(decoded_);
      } else {
        read_markup();
      }
    }
    while (!open_.empty())
      pop();
  }

private:
  // At '<': a tag, a comment, a declaration, or a '<' of text.
  void read_markup() {
    const auto n = in_.size();
    const auto next = pos_ + 1 < n ? in_[pos_ + 1] : '\0';
    if (is_ascii_letter(next)) {
      read_start_tag();
    } else if (next == '/') {
      const auto after = pos_ + 2 < n ? in_[pos_ + 2] : '\0';
      if (is_ascii_letter(after))
        read_end_tag();
      else if (after == '>')
        pos_ += 3;
      else
        skip_past('>', pos_ + 2); // "</ ..." is a comment to browsers
    } else if (next == '!') {
      if (in_.substr(pos_ + 2, 2) == "--")
        skip_comment();
      else
        skip_past('>', pos_ + 2); // doctype, CDATA section outside foreign content
    } else if (next == '?') {
      skip_past('>', pos_ + 2);
    } else {
      handler_.text(in_.substr(pos_, 1));
      ++pos_;
    }
  }

  void skip_past(char c, std::size_t from) {
    auto at = in_.find(c, from);
    pos_ = at == std::string_view::npos ? in_.size() : at + 1;
  }

  void skip_comment() {
    auto body = pos_ + 4;
    // "<!-->" and "<!--->" end where they start.
    if (in_.substr(body, 1) == ">") {
      pos_ = body + 1;
      return;
    }
    if (in_.substr(body, 2) == "->") {
      pos_ = body + 2;
      return;
    }
    auto end = in_.find("-->", body);
    pos_ = end == std::string_view::npos ? in_.size() : end + 3;
  }

  std::size_t read_name(std::size_t p, std::string& out) const {
    out.clear();
    while (p < in_.size() && !is_space(in_[p]) && in_[p] != '/' && in_[p] != '>') {
      if (in_[p] != '\0' && out.size() < 64)
        out += lower(in_[p]);
      ++p;
    }
    return p;
  }

  void read_end_tag() {
    auto p = read_name(pos_ + 2, name_);
    auto close = in_.find('>', p);
    if (close == std::string_view::npos) { // unfinished at the end of the page: not a tag
      pos_ = in_.size();
      return;
    }
    pos_ = close + 1;
    end_tag(name_);
  }

  struct pending_attribute {
    std::size_t name_at, name_size;
    bool value_decoded;
    std::size_t value_at, value_size; // into values_ when decoded, else into in_
  };

  void read_start_tag() {
    const auto n = in_.size();
    auto p = read_name(pos_ + 1, name_);
    values_.clear();
    pending_.clear();
    bool self_closing = false;
    for (;;) {
      while (p < n && (is_space(in_[p]) || (in_[p] == '/' && p + 1 < n && in_[p + 1] != '>')))
        ++p;
      if (p >= n) { // unfinished at the end of the page: not a tag
        pos_ = n;
        return;
      }
      if (in_[p] == '>') {
        ++p;
        break;
      }
      if (in_[p] == '/') { // "/>"
        self_closing = true;
        p += 2;
        break;
      }
      pending_attribute a{values_.size(), 0, false, 0, 0};
      auto name_begin = p++; // a first '=' belongs to the name
      while (p < n && !is_space(in_[p]) && in_[p] != '/' && in_[p] != '>' && in_[p] != '=')
        ++p;
      for (auto c : in_.substr(name_begin, std::min<std::size_t>(p - name_begin, 256)))
        values_ += lower(c);
      a.name_size = values_.size() - a.name_at;
      auto q = p;
      while (q < n && is_space(in_[q]))
        ++q;
      if (q < n && in_[q] == '=') {
        ++q;
        while (q < n && is_space(in_[q]))
          ++q;
        std::size_t value_begin = q, value_end = q;
        if (q < n && (in_[q] == '"' || in_[q] == '\'')) {
          auto close = in_.find(in_[q], q + 1);
          if (close == std::string_view::npos) {
            pos_ = n;
            return;
          }
          value_begin = q + 1;
          value_end = close;
          p = close + 1;
        } else {
          while (q < n && !is_space(in_[q]) && in_[q] != '>')
            ++q;
          value_end = p = q;
        }
        auto raw = in_.substr(value_begin, value_end - value_begin);
        if (raw.find('&') == std::string_view::npos) {
          a.value_at = value_begin;
          a.value_size = raw.size();
        } else {
          a.value_decoded = true;
          a.value_at = values_.size();
          append_attribute_value(raw, values_);
          a.value_size = values_.size() - a.value_at;
        }
      }
      if (pending_.size() < limits_.max_attributes)
        pending_.push_back(a);
    }
    pos_ = p;
    attributes_.clear();
    for (const auto& a : pending_)
      attributes_.push_back({std::string_view(values_).substr(a.name_at, a.name_size),
                             a.value_decoded
                                 ? std::string_view(values_).substr(a.value_at, a.value_size)
                                 : in_.substr(a.value_at, a.value_size)});
    start_tag(self_closing);
  }

  void start_tag(bool self_closing) {
    while (!open_.empty() && start_closes(name_, open_.back()))
      pop();
    handler_.start_element(name_, attributes_);
    if (self_closing || is_void(name_)) {
      handler_.end_element(name_);
      return;
    }
    if (open_.size() >= limits_.max_open_elements) {
      handler_.end_element(name_);
      if (auto kind = body_of(name_); kind == body_kind::plaintext) {
        text_as_written(in_.substr(pos_));
        pos_ = in_.size();
      } else if (kind != body_kind::markup) { // a raw body is still not markup
        if (auto end = raw_body_end(name_, kind); end != std::string_view::npos)
          pos_ = end;
      }
      return;
    }
    open_.push_back(name_);
    read_body(open_.back(), body_of(name_));
  }

  // Raw text shown as written, in non-empty pieces; NUL shows nothing here either.
  void text_as_written(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
      auto stop = std::min(s.find('\0', i), s.size());
      if (stop > i)
        handler_.text(s.substr(i, stop - i));
      i = stop + 1;
    }
  }

  // Right after a start tag: a raw body up to its end tag.
  void read_body(std::string_view tag, body_kind kind) {
    if (kind == body_kind::markup)
      return;
    const auto n = in_.size();
    if (kind == body_kind::plaintext) {
      text_as_written(in_.substr(pos_));
      pos_ = n;
      return;
    }
    auto end = raw_body_end(tag, kind);
    if (end == std::string_view::npos)
      return; // a title never closed: read as markup rather than lose the page to it
    auto body = in_.substr(pos_, end - pos_);
    switch (kind) {
    case body_kind::raw_hidden:
      if (!body.empty())
        handler_.raw_text(body);
      break;
    case body_kind::raw_visible:
      text_as_written(body);
      break;
    case body_kind::escapable_raw:
      for (std::size_t i = 0; i < body.size();) {
        auto stop = std::min(body.find_first_of(std::string_view("&\0", 2), i), body.size());
        if (stop > i)
          handler_.text(body.substr(i, stop - i));
        if (stop >= body.size())
          break;
        if (body[stop] == '\0') {
          i = stop + 1;
          continue;
        }
        decoded_.clear();
        i = decode_reference(body, stop, decoded_, false);
        handler_.text(decoded_);
      }
      break;
    default:
      break;
    }
    pos_ = end; // the end tag is read as any other
  }

  // Where the raw body of `tag`, from pos_, ends: at its end tag, else at the end of the page, or
  // npos for an escapable one (title, textarea) never closed. That is remembered: a page of
  // unclosed titles is not searched to its end once per title.
  std::size_t raw_body_end(std::string_view tag, body_kind kind) {
    bool* unclosed = nullptr;
    if (kind == body_kind::escapable_raw)
      unclosed = tag == "title" ? &title_unclosed_ : &textarea_unclosed_;
    if (unclosed && *unclosed)
      return std::string_view::npos;
    auto end = find_end_tag(tag);
    if (end != std::string_view::npos)
      return end;
    if (unclosed) {
      *unclosed = true;
      return std::string_view::npos;
    }
    return in_.size();
  }

  // Where "</tag" followed by a space, '/' or '>' starts, from pos_ on.
  std::size_t find_end_tag(std::string_view tag) const {
    for (auto at = in_.find("</", pos_); at != std::string_view::npos;
         at = in_.find("</", at + 2)) {
      auto after = at + 2 + tag.size();
      if (after <= in_.size() && iequals_lower(in_.substr(at + 2, tag.size()), tag) &&
          (after == in_.size() || is_space(in_[after]) || in_[after] == '/' || in_[after] == '>'))
        return at;
    }
    return std::string_view::npos;
  }

  void end_tag(const std::string& tag) {
    if (tag == "br") { // "</br>" is a line break
      handler_.start_element(tag, {});
      handler_.end_element(tag);
      return;
    }
    const auto priority = end_priority(tag);
    const auto searched = std::min(open_.size(), limits_.end_tag_search);
    for (std::size_t i = 0; i < searched; ++i) {
      const auto& current = open_[open_.size() - 1 - i];
      if (current == tag) {
        for (std::size_t k = 0; k <= i; ++k)
          pop();
        return;
      }
      if (end_priority(current) > priority)
        break;
    }
    if (tag == "p") { // a stray "</p>" is an empty paragraph
      handler_.start_element(tag, {});
      handler_.end_element(tag);
    }
  }

  void pop() {
    handler_.end_element(open_.back());
    open_.pop_back();
  }

  std::string_view in_;
  html_handler& handler_;
  const html_read_limits& limits_;
  std::size_t pos_ = 0;
  bool title_unclosed_ = false; // no "</title>" after pos_
  bool textarea_unclosed_ = false;
  std::vector<std::string> open_;
  std::string name_;
  std::string values_;  // attribute names, and values whose references were decoded
  std::string decoded_; // one reference of text, decoded
  std::vector<pending_attribute> pending_;
  std::vector<html_attribute> attributes_;
};

} // namespace

char32_t named_character(std::string_view name) {
  const auto& table = named_references();
  auto it =
      std::lower_bound(table.begin(), table.end(), name,
                       [](const named_reference& r, std::string_view n) { return r.name < n; });
  return it != table.end() && it->name == name ? it->code_point : 0;
}

std::string decode_character_references(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_attribute_value(text, out);
  return out;
}

void read_html(std::string_view html, html_handler& handler, const html_read_limits& limits) {
  reader(html, handler, limits).run();
}

} // namespace sky::scrape
