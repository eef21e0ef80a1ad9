// Email extraction: every source a page offers goes through one validation (normalize_email), and
// loose text through a linear scanner anchored on '@' and on the spelled-out forms of it.
#include "scrape/email_extract.hpp"

#include "scrape/domain_rules.hpp"
#include "scrape/text_rules.hpp"
#include "scrape/url_rules.hpp"

#include <algorithm>
#include <array>
#include <unordered_set>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sky::scrape {
namespace {

constexpr std::size_t k_max_local = 64;
constexpr std::size_t k_max_domain = 253;

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_local_char(char c) {
  return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool is_label_char(char c) {
  return is_alnum(c) || c == '-';
}
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool valid_domain(std::string_view d) {
  if (d.size() < 3 || d.size() > k_max_domain || d.find('.') == std::string_view::npos)
    return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (d[i] == '.') {
      if (label == 0 || d[i - 1] == '-')
        return false;
      label = 0;
    } else if (!is_label_char(d[i]) || ++label > 63 || (label == 1 && d[i] == '-')) {
      return false;
    }
  }
  auto tld = d.substr(d.rfind('.') + 1);
  return tld.size() >= 2 && std::all_of(tld.begin(), tld.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
         });
}

// Domains that sample text and form hints use in each of the sites' languages.
bool is_placeholder_domain(std::string_view d) {
  static constexpr std::array<std::string_view, 18> k_placeholders{
      "domain.com",     "yourdomain.com", "your-domain.com", "yourcompany.com", "company.com",
      "yoursite.com",   "mysite.com",     "mydomain.com",    "website.com",     "beispiel.de",
      "musterfirma.de", "mustermann.de",  "exemple.com",     "exemple.fr",      "ejemplo.com",
      "esempio.it",     "voorbeeld.nl",   "exempel.se"};
  return std::find(k_placeholders.begin(), k_placeholders.end(), d) != k_placeholders.end();
}

// Error trackers put their keys in the user part of URLs and scripts: "key@o1.ingest.sentry.io".
bool is_tracker_domain(std::string_view d) {
  return d == "sentry.io" || ends_with(d, ".sentry.io") || d == "wixpress.com" ||
         ends_with(d, ".wixpress.com") || ends_with(d, ".sentry-cdn.com");
}

// "logo@2x.png", "icon@1.5x.webp": image density names, whatever their last label.
bool looks_like_file_name(std::string_view d) {
  auto first = d.substr(0, d.find('.'));
  if (first.size() >= 2 && first.back() == 'x' &&
      std::all_of(first.begin(), first.end() - 1, [](char c) { return c >= '0' && c <= '9'; }))
    return true;
  auto tld = d.substr(d.rfind('.') + 1);
  static constexpr std::array<std::string_view, 16> k_file_types{
      "png", "jpg", "jpeg", "gif", "webp", "svg", "avif", "ico",
      "mov", "mp4", "zip",  "css", "js",   "pdf", "json", "woff"};
  return std::find(k_file_types.begin(), k_file_types.end(), tld) != k_file_types.end();
}

// A 24+ digit hexadecimal user part is a key or a hash, never a mailbox someone reads.
bool looks_like_key(std::string_view local) {
  return local.size() >= 24 &&
         std::all_of(local.begin(), local.end(), [](char c) { return hex_digit_value(c) >= 0; });
}

std::optional<std::string> accept(std::string local, std::string domain) {
  while (!local.empty() && local.front() == '.')
    local.erase(0, 1);
  while (!domain.empty() && (domain.back() == '.' || domain.back() == '-'))
    domain.pop_back();
  if (local.empty() || local.size() > k_max_local || local.back() == '.' ||
      local.find("..") != std::string::npos ||
      !std::all_of(local.begin(), local.end(), is_local_char))
    return std::nullopt;
  for (auto& c : local)
    c = lower(c);
  for (auto& c : domain)
    c = lower(c);
  if (!valid_domain(domain) || !has_listed_suffix(domain) || is_reserved_domain(domain) ||
      is_placeholder_domain(domain) || is_tracker_domain(domain) || looks_like_file_name(domain) ||
      looks_like_key(local))
    return std::nullopt;
  return local + "@" + domain;
}

// --- Spelled-out "@" and "." ---------------------------------------------------------------

struct marker {
  std::size_t begin = 0, end = 0; // [begin, end) in the text, brackets and spaces included
  bool bracketed = false;
  bool strong = false; // means "@" by itself; a weak one ("at", "chez") needs a spelled dot too
};

// Lower-case words; "@" and "." only count inside brackets ("[@]", "(.)").
constexpr std::array<std::string_view, 6> k_at_words{"at",   "arroba",   "chiocciola",
                                                     "chez", "snabel-a", "@"};
constexpr std::array<std::string_view, 6> k_dot_words{"dot",   "punkt", "punto",
                                                      "point", "punt",  "."};

bool strong_word(std::string_view w) {
  return w != "at" && w != "chez";
}

bool word_at(std::string_view text, std::size_t pos, std::string_view word) {
  if (pos + word.size() > text.size())
    return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (lower(text[pos + i]) != word[i])
      return false;
  return true;
}

char closing_of(char open) {
  switch (open) {
  case '[':
    return ']';
  case '(':
    return ')';
  case '{':
    return '}';
  case '<':
    return '>';
  default:
    return '\0';
  }
}

char opening_of(char close) {
  switch (close) {
  case ']':
    return '[';
  case ')':
    return '(';
  case '}':
    return '{';
  case '>':
    return '<';
  default:
    return '\0';
  }
}

std::size_t skip_spaces(std::string_view text, std::size_t pos) {
  for (int n = 0; pos < text.size() && text[pos] == ' ' && n < 2; ++n)
    ++pos;
  return pos;
}

std::size_t skip_spaces_back(std::string_view text, std::size_t pos) {
  for (int n = 0; pos > 0 && text[pos - 1] == ' ' && n < 2; ++n)
    --pos;
  return pos;
}

// A marker starting at `pos`: "[word]" (spaces allowed inside) or, with `bare`, " word ".
template <std::size_t N>
std::optional<marker> marker_at(std::string_view text, std::size_t pos,
                                const std::array<std::string_view, N>& words, bool bare) {
  char open = text[pos];
  if (char close = closing_of(open)) {
    auto p = skip_spaces(text, pos + 1);
    for (auto w : words)
      if (word_at(text, p, w)) {
        auto q = skip_spaces(text, p + w.size());
        if (q < text.size() && text[q] == close)
          return marker{pos, q + 1, true, true};
      }
  } else if (bare && open == ' ') {
    for (auto w : words)
      if (w.size() > 1 && word_at(text, pos + 1, w) && pos + 1 + w.size() < text.size() &&
          text[pos + 1 + w.size()] == ' ')
        return marker{pos, pos + w.size() + 2, false, strong_word(w)};
  }
  return std::nullopt;
}

// A marker ending just before `end`, read backwards (for dots inside the user part).
template <std::size_t N>
std::optional<marker> marker_before(std::string_view text, std::size_t end,
                                    const std::array<std::string_view, N>& words, bool bare) {
  if (end == 0)
    return std::nullopt;
  char close = text[end - 1];
  if (char open = opening_of(close)) {
    auto p = skip_spaces_back(text, end - 1);
    for (auto w : words)
      if (p >= w.size() && word_at(text, p - w.size(), w)) {
        auto q = skip_spaces_back(text, p - w.size());
        if (q > 0 && text[q - 1] == open)
          return marker{q - 1, end, true, true};
      }
  } else if (bare && close == ' ') {
    for (auto w : words)
      if (w.size() > 1 && end >= w.size() + 2 && word_at(text, end - 1 - w.size(), w) &&
          text[end - 2 - w.size()] == ' ')
        return marker{end - 2 - w.size(), end, false, true};
  }
  return std::nullopt;
}

// The user part ending at `end`, with spelled-out dots between its pieces when `spelled`.
std::string read_local(std::string_view text, std::size_t end, bool spelled, bool bare,
                       std::size_t& begin) {
  std::string local;
  begin = end;
  for (int pieces = 0; pieces < 8; ++pieces) {
    auto p = begin;
    while (p > 0 && end - p < 2 * k_max_local && is_local_char(text[p - 1]))
      --p;
    if (p == begin)
      break;
    local.insert(0, text.substr(p, begin - p));
    begin = p;
    if (!spelled)
      break;
    // "jane [dot] doe": spaces, then a bracketed dot; "jane dot doe": a bare one.
    auto dot = marker_before(text, skip_spaces_back(text, begin), k_dot_words, false);
    if (!dot && bare)
      dot = marker_before(text, begin, k_dot_words, true);
    if (!dot)
      break;
    auto before = dot->bracketed ? skip_spaces_back(text, dot->begin) : dot->begin;
    if (before == 0 || !is_local_char(text[before - 1]))
      break;
    local.insert(0, ".");
    begin = before;
  }
  return local;
}

// The domain starting at `pos`: labels joined by '.' or spelled-out dots.
std::string read_domain(std::string_view text, std::size_t pos, bool& spelled_dot,
                        std::size_t& end) {
  std::string domain;
  auto read_label = [&](std::size_t p) {
    auto start = p;
    while (p < text.size() && is_label_char(text[p]) && domain.size() < k_max_domain + 1)
      domain += lower(text[p++]);
    return p > start ? p : std::string_view::npos;
  };
  end = read_label(pos);
  if (end == std::string_view::npos)
    return {};
  while (end < text.size() && domain.size() <= k_max_domain) {
    if (text[end] == '.' && end + 1 < text.size() && is_label_char(text[end + 1])) {
      domain += '.';
      end = read_label(end + 1);
      continue;
    }
    auto p = end;
    if (text[p] == ' ' && p + 1 < text.size() && closing_of(text[p + 1]))
      ++p;
    auto dot = marker_at(text, p, k_dot_words, true);
    if (!dot)
      break;
    auto next = dot->bracketed ? skip_spaces(text, dot->end) : dot->end;
    if (next >= text.size() || !is_label_char(text[next]))
      break;
    domain += '.';
    spelled_dot = true;
    end = read_label(next);
  }
  return domain;
}

// "https://key@host/...": credentials in a URL, not an address.
bool inside_url(std::string_view text, std::size_t local_begin) {
  auto token_begin = local_begin;
  while (token_begin > 0 && local_begin - token_begin < 512 && text[token_begin - 1] != ' ')
    --token_begin;
  auto token = text.substr(token_begin, local_begin - token_begin);
  return token.find("://") != std::string_view::npos;
}

} // namespace

bool is_reserved_domain(std::string_view domain) {
  for (std::string_view sld : {"example.com", "example.net", "example.org"})
    if (domain == sld || ends_with(domain, "." + std::string(sld)))
      return true;
  auto tld = domain.substr(domain.rfind('.') + 1);
  return tld == "test" || tld == "example" || tld == "invalid" || tld == "localhost";
}

std::optional<std::string> normalize_email(std::string_view written) {
  auto text = trim_space(written);
  if (text.size() > 1024)
    return std::nullopt;
  if (text.size() >= 7 && ascii_lower(text.substr(0, 7)) == "mailto:")
    text.remove_prefix(7);
  text = text.substr(0, text.find('?'));
  auto decoded = decode_html_entities(percent_decode(text));
  std::string_view s = trim_space(decoded);
  while (!s.empty() && std::string_view("<(\"'[").find(s.front()) != std::string_view::npos)
    s.remove_prefix(1);
  while (!s.empty() && std::string_view(">)\"'].,;:!").find(s.back()) != std::string_view::npos)
    s.remove_suffix(1);
  auto at = s.find('@');
  if (at == std::string_view::npos || s.find('@', at + 1) != std::string_view::npos)
    return std::nullopt;
  return accept(std::string(s.substr(0, at)), std::string(s.substr(at + 1)));
}

namespace {

// Bare words for "@" start "at", "ar", "ch" or "sn": two letters rule out most words.
bool may_start_bare_at_word(char first, char second) {
  first = lower(first);
  second = lower(second);
  return (first == 'a' && (second == 't' || second == 'r')) || (first == 'c' && second == 'h') ||
         (first == 's' && second == 'n');
}

#if defined(__SSE2__)
// Sixteen positions from `from` on hold no '@', no opening bracket and no space before "at",
// "ar", "ch" or "sn" (any case). Reads text[from, from + 18).
bool no_at_marker_in_block(const char* from) {
  auto load = [](const char* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); };
  auto is = [](__m128i v, char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); };
  auto here = load(from);
  // Setting bit 0x20 turns 'A'-'Z' into 'a'-'z' and no other byte into a letter.
  auto first = _mm_or_si128(load(from + 1), _mm_set1_epi8(0x20));
  auto second = _mm_or_si128(load(from + 2), _mm_set1_epi8(0x20));
  auto signs =
      _mm_or_si128(_mm_or_si128(is(here, '@'), is(here, '[')),
                   _mm_or_si128(is(here, '('), _mm_or_si128(is(here, '{'), is(here, '<'))));
  auto a_word = _mm_and_si128(is(first, 'a'), _mm_or_si128(is(second, 't'), is(second, 'r')));
  auto c_word = _mm_and_si128(is(first, 'c'), is(second, 'h'));
  auto s_word = _mm_and_si128(is(first, 's'), is(second, 'n'));
  auto words = _mm_and_si128(is(here, ' '), _mm_or_si128(a_word, _mm_or_si128(c_word, s_word)));
  return _mm_movemask_epi8(_mm_or_si128(signs, words)) == 0;
}
#endif

// The first position from `from` on where a marker for "@" may start: '@', an opening bracket,
// or a space before a bare word. The loop below does nothing anywhere else.
std::size_t next_at_marker(std::string_view text, std::size_t from) {
  constexpr std::size_t k_block = 16;
  while (from < text.size()) {
#if defined(__SSE2__)
    while (from + k_block + 2 <= text.size() && no_at_marker_in_block(text.data() + from))
      from += k_block;
#endif
    auto stop = from + k_block + 2 <= text.size() ? from + k_block : text.size();
    for (; from < stop; ++from) {
      char c = text[from];
      if (c == ' ') {
        if (from + 2 < text.size() && may_start_bare_at_word(text[from + 1], text[from + 2]))
          return from;
      } else if (c == '@' || closing_of(c)) {
        return from;
      }
    }
  }
  return text.size();
}

} // namespace

std::vector<std::string> find_text_emails(std::string_view text, std::size_t max_candidates) {
  std::vector<std::string> out;
  std::size_t candidates = 0;
  for (std::size_t i = next_at_marker(text, 0); i < text.size(); i = next_at_marker(text, i + 1)) {
    char c = text[i];
    std::optional<marker> at;
    if (c == '@') {
      // "info @ firma.de": spaces around the sign are a common, readable disguise.
      bool spaced = i > 0 && text[i - 1] == ' ' && i + 1 < text.size() && text[i + 1] == ' ';
      at = spaced ? marker{i - 1, i + 2, false, true} : marker{i, i + 1, false, true};
    } else if (closing_of(c)) {
      at = marker_at(text, i, k_at_words, false);
    } else if (c == ' ') {
      at = marker_at(text, i, k_at_words, true);
    }
    if (!at)
      continue;
    if (++candidates > max_candidates)
      break;
    const bool literal = c == '@';
    auto local_end = at->bracketed ? skip_spaces_back(text, at->begin) : at->begin;
    std::size_t local_begin = 0;
    auto local = read_local(text, local_end, !literal, !literal && !at->bracketed, local_begin);
    if (local.empty() || (literal && inside_url(text, local_begin)))
      continue;
    auto domain_begin = at->bracketed ? skip_spaces(text, at->end) : at->end;
    bool spelled_dot = false;
    std::size_t domain_end = domain_begin;
    auto domain = read_domain(text, domain_begin, spelled_dot, domain_end);
    if (domain.empty() || (!at->strong && !spelled_dot))
      continue;
    // "git@github.com:owner/repo": a remote, not a mailbox.
    if (domain_end + 1 < text.size() && text[domain_end] == ':' && text[domain_end + 1] != ' ')
      continue;
    if (auto email = accept(std::move(local), std::move(domain)))
      out.push_back(std::move(*email));
    if (!literal)
      i = std::max(i, domain_end == 0 ? i : domain_end - 1);
  }
  return out;
}

email_list extract_emails(const page_metadata& page, std::size_t max_addresses) {
  email_list found;
  std::unordered_set<std::string> seen;
  auto add = [&](std::optional<std::string> email) {
    if (!email || found.truncated || seen.count(*email))
      return;
    if (found.addresses.size() >= max_addresses) {
      found.truncated = true;
      return;
    }
    seen.insert(*email);
    found.addresses.push_back(std::move(*email));
  };
  // Repeats of a few addresses would otherwise make every '@' of a huge page a lookup.
  const std::size_t max_candidates = 100 * std::max<std::size_t>(max_addresses, 10);
  for (const auto& value : page.structured_emails) {
    if (auto email = normalize_email(value))
      add(std::move(email));
    else
      for (auto& e : find_text_emails(value, 16))
        add(std::move(e));
  }
  for (const auto& target : page.mailto_links) {
    auto to = std::string_view(target).substr(0, target.find('?'));
    for (std::size_t start = 0; start <= to.size();) {
      auto comma = to.find_first_of(",;", start);
      auto piece =
          to.substr(start, comma == std::string_view::npos ? to.size() - start : comma - start);
      add(normalize_email(piece));
      if (comma == std::string_view::npos)
        break;
      start = comma + 1;
    }
  }
  for (const auto& hex : page.cf_emails)
    add(normalize_email(decode_cfemail(hex)));
  // HTML5 named the characters of an address (&commat;, &period;); libxml2 knows only HTML 4's
  // entities and leaves these as written.
  std::string_view text = page.text;
  std::string decoded;
  if (text.find("&commat;") != std::string_view::npos ||
      text.find("&period;") != std::string_view::npos) {
    decoded = decode_html_entities(text);
    text = decoded;
  }
  auto text_emails = find_text_emails(text, max_candidates);
  for (auto& e : text_emails)
    add(std::move(e));
  if (text_emails.size() >= max_candidates)
    found.truncated = true;
  return found;
}

email_list extract_emails(std::string_view html, std::size_t max_addresses) {
  page_limits limits;
  limits.max_emails = max_addresses;
  return extract_emails(extract_metadata(html, "http://localhost/", limits), max_addresses);
}

std::string decode_html_entities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] != '&') {
      out += text[i++];
      continue;
    }
    auto semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) {
      out += text[i++];
      continue;
    }
    auto name = text.substr(i + 1, semi - i - 1);
    if (!name.empty() && name[0] == '#') {
      unsigned long cp = 0;
      bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
      auto digits = name.substr(hex ? 2 : 1);
      bool ok = !digits.empty();
      for (char c : digits) {
        int v = hex ? hex_digit_value(c) : (c >= '0' && c <= '9' ? c - '0' : -1);
        if (v < 0) {
          ok = false;
          break;
        }
        cp = cp * (hex ? 16 : 10) + static_cast<unsigned long>(v);
      }
      if (ok) {
        append_utf8(out, cp);
        i = semi + 1;
        continue;
      }
    } else {
      static const std::pair<std::string_view, std::string_view> k_named[] = {
          {"amp", "&"},  {"lt", "<"},   {"gt", ">"},     {"quot", "\""},
          {"apos", "'"}, {"nbsp", " "}, {"commat", "@"}, {"period", "."}};
      bool found = false;
      for (const auto& [n, v] : k_named)
        if (name == n) {
          out += v;
          found = true;
          break;
        }
      if (found) {
        i = semi + 1;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

std::string decode_cfemail(std::string_view hex) {
  if (hex.size() < 4 || hex.size() % 2 != 0 || hex.size() > 2 * (k_max_local + k_max_domain + 2))
    return {};
  auto byte_at = [&](std::size_t i) {
    return hex_digit_value(hex[i]) * 16 + hex_digit_value(hex[i + 1]);
  };
  for (char c : hex)
    if (hex_digit_value(c) < 0)
      return {};
  int key = byte_at(0);
  std::string out;
  for (std::size_t i = 2; i < hex.size(); i += 2)
    out += static_cast<char>(byte_at(i) ^ key);
  return out;
}

} // namespace sky::scrape
