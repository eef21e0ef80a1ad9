// Email extraction: every source a page offers goes through one validation (normalize_email), and
// loose text through a linear scanner anchored on '@' and on the spelled-out forms of it.
#include "scrape/email_extract.hpp"

#include "scrape/domain_rules.hpp"
#include "scrape/html_tokenizer.hpp"
#include "scrape/spelled_address_words.hpp"
#include "scrape/text_rules.hpp"
#include "scrape/text_spans.hpp"
#include "scrape/url_rules.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
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
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_label_char(char c) {
  return is_alnum(c) || c == '-';
}
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
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

// The words manuals and forms write where the reader puts their own: "you", "yourname", "user",
// "package" (in "bug-package@gnu.org"), "xyz"...
// And their counterparts in the languages of Europe: "votre.adresse", "nome", "uw", "din"...
bool is_metavariable(std::string_view word) {
  static constexpr std::string_view k_words[] = {
      "you", "user", "username", "login", "name", "myname", "foo", "bar", "baz", "foobar", "xyz",
      "package", "someone", "somebody", "nobody", "jdoe", "johndoe", "janedoe", "subject",
      "yourname", "account", "mailbox",
      // fr, es, it, pt, nl, de, da/sv/nb, pl, cs, fi: "your" and "name"
      "votre", "ton", "nom", "prenom", "tu", "tuo", "tua", "nombre", "nome", "seu", "sua", "uw",
      "je", "naam", "ihre", "ihr", "deine", "dein", "vorname", "nachname", "din", "dit", "navn",
      "namn", "twoj", "imie", "nazwisko", "vas", "jmeno", "prijmeni", "nimi", "sinun"};
  return word.rfind("your", 0) == 0 ||
         std::find(std::begin(k_words), std::end(k_words), word) != std::end(k_words);
}

// A sample address's user part: a metavariable, or one between '-', '.', '_' or '+'
// ("bug-package", "list-name-request", "cserve_user", "first.name").
bool looks_like_sample_local(std::string_view local) {
  for (std::size_t start = 0; start <= local.size();) {
    auto end = local.find_first_of("-._+", start);
    if (end == std::string_view::npos)
      end = local.size();
    if (is_metavariable(local.substr(start, end - start)))
      return true;
    start = end + 1;
  }
  return false;
}

// A sample address's domain: its registrable label is a metavariable of hosts ("your-isp.com",
// "host.name", "other.host", "my-company.co.uk").
bool looks_like_sample_domain(std::string_view domain) {
  auto registrable = registrable_domain(domain);
  if (!registrable)
    return false;
  auto label = std::string_view(*registrable).substr(0, registrable->find('.'));
  static constexpr std::array<std::string_view, 7> k_labels{
      "host", "other", "my-company", "mycompany", "my-domain", "company-name", "isp"};
  if (label.rfind("your", 0) == 0 ||
      std::find(k_labels.begin(), k_labels.end(), label) != k_labels.end())
    return true;
  // "fred@xyz.demon.co.uk": a placeholder host under a real provider.
  for (std::size_t start = 0; start < domain.size();) {
    auto end = std::min(domain.find('.', start), domain.size());
    if (domain.substr(start, end - start) == "xyz")
      return true;
    start = end + 1;
  }
  return false;
}

// Message ids and timestamps are not mailboxes: "20061126220101.84863bc0e5@host" (a run of ten
// or more digits).
bool looks_like_message_id(std::string_view local) {
  std::size_t run = 0;
  for (char c : local) {
    run = c >= '0' && c <= '9' ? run + 1 : 0;
    if (run >= 10)
      return true;
  }
  return false;
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
      looks_like_key(local) || looks_like_message_id(local) || looks_like_sample_local(local) ||
      looks_like_sample_domain(domain))
    return std::nullopt;
  return local + "@" + domain;
}

// --- Spelled-out "@" and "." ---------------------------------------------------------------
// The words come from spelled_address_words.cpp, one row per language; what follows only knows
// brackets, bare words and capitals.

struct marker {
  std::size_t begin = 0, end = 0; // [begin, end) in the text, brackets and spaces included
  bool bracketed = false;
  bool capitals = false;  // a bare word written in capitals: " AT ", " PUNKT "
  bool ambiguous = false; // a bare word that is also a common word ("at", "chez")
};

// One sign's words, and the same by their first letter: a marker is tried only against the words
// that start as the text does.
struct spelled_index {
  std::vector<const spelled_word*> all;                             // longest first
  std::array<std::vector<const spelled_word*>, 128> by_ascii_first; // lower-case first letter
  std::vector<const spelled_word*> non_ascii_first; // any case of their first letter
  std::size_t max_bytes = 0;

  void add(const spelled_word* w) {
    all.push_back(w);
    const auto first = static_cast<unsigned char>(w->word.empty() ? 0 : w->word[0]);
    (first < 0x80 ? by_ascii_first[first] : non_ascii_first).push_back(w);
    max_bytes = std::max(max_bytes, w->word.size());
  }
  // The words that could be written at text[pos] (a non-ASCII letter may be any case's).
  const std::vector<const spelled_word*>& starting_as(std::string_view text,
                                                      std::size_t pos) const {
    static const std::vector<const spelled_word*> none;
    if (pos >= text.size())
      return none;
    const auto c = static_cast<unsigned char>(text[pos]);
    if (c >= 0x80)
      return non_ascii_first;
    return by_ascii_first[c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c];
  }
};

struct spelled_lists {
  spelled_index at, dot;
  // The ASCII letters a bare word for "@" may start with (lower case), and for each the byte
  // lengths its words have (bit n: n bytes): where the scanner stops at a space. Every non-ASCII
  // byte is a stop too (a word may start with any case of its letter).
  std::vector<unsigned char> bare_at_ascii_letters;
  std::array<std::uint32_t, 128> bare_at_lengths{};
};

const spelled_lists& spelled_table() {
  static const spelled_lists lists = [] {
    spelled_lists l;
    for (const auto& w : spelled_words()) {
      (w.sign == spelled_sign::at ? l.at : l.dot).add(&w);
      if (w.sign != spelled_sign::at || w.word.size() < 2)
        continue;
      const auto first = static_cast<unsigned char>(lower(w.word[0]));
      if (first >= 0x80 || w.word.size() >= 32)
        continue;
      if (l.bare_at_lengths[first] == 0)
        l.bare_at_ascii_letters.push_back(first);
      l.bare_at_lengths[first] |= 1u << w.word.size();
    }
    return l;
  }();
  return lists;
}

// `word` (lower case) written at text[pos] in any case: the bytes it takes there (upper and
// lower case take as many in the scripts of the tables), and whether it is in capitals.
std::optional<std::pair<std::size_t, bool>> match_word(std::string_view text, std::size_t pos,
                                                       std::string_view word) {
  if (pos + word.size() > text.size())
    return std::nullopt;
  bool capitals = true;
  for (std::size_t i = 0; i < word.size();) {
    if (const auto w = static_cast<unsigned char>(word[i]); w < 0x80) { // ASCII: no decoding
      const auto have = text[pos + i];
      if (lower(have) != static_cast<char>(w))
        return std::nullopt;
      if (have == static_cast<char>(w) && w != '-')
        capitals = false;
      ++i;
      continue;
    }
    auto [want, wn] = decode_utf8_at(word, i);
    auto [have, hn] = decode_utf8_at(text, pos + i);
    if (hn != wn || lower_code_point(have) != want)
      return std::nullopt;
    if (have == want && want != '-')
      capitals = false;
    i += wn;
  }
  return std::pair{word.size(), capitals};
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
std::optional<marker> marker_at(std::string_view text, std::size_t pos, const spelled_index& words,
                                bool bare) {
  char open = text[pos];
  if (char close = closing_of(open)) {
    auto p = skip_spaces(text, pos + 1);
    for (const auto* w : words.starting_as(text, p))
      if (auto m = match_word(text, p, w->word)) {
        auto q = skip_spaces(text, p + m->first);
        if (q < text.size() && text[q] == close)
          return marker{pos, q + 1, true, false, false};
      }
  } else if (bare && open == ' ') {
    // The word runs to the next space: only words of its length can match.
    auto end = pos + 1;
    while (end < text.size() && text[end] != ' ' && end - pos <= words.max_bytes)
      ++end;
    if (end >= text.size() || end - pos > words.max_bytes)
      return std::nullopt;
    for (const auto* w : words.starting_as(text, pos + 1)) {
      if (w->word.size() < 2 || w->word.size() != end - pos - 1)
        continue;
      auto m = match_word(text, pos + 1, w->word);
      if (m && pos + 1 + m->first < text.size() && text[pos + 1 + m->first] == ' ')
        return marker{pos, pos + m->first + 2, false, m->second, w->ambiguous};
    }
  }
  return std::nullopt;
}

// A marker ending just before `end`, read backwards (for dots inside the user part).
std::optional<marker> marker_before(std::string_view text, std::size_t end,
                                    const spelled_index& index, bool bare) {
  const auto& words = index.all;
  if (end == 0)
    return std::nullopt;
  char close = text[end - 1];
  if (char open = opening_of(close)) {
    auto p = skip_spaces_back(text, end - 1);
    for (const auto* w : words)
      if (p >= w->word.size() && match_word(text, p - w->word.size(), w->word)) {
        auto q = skip_spaces_back(text, p - w->word.size());
        if (q > 0 && text[q - 1] == open)
          return marker{q - 1, end, true, false, false};
      }
  } else if (bare && close == ' ') {
    for (const auto* w : words) {
      const auto n = w->word.size();
      if (n < 2 || end < n + 2)
        continue;
      auto m = match_word(text, end - 1 - n, w->word);
      if (m && text[end - 2 - n] == ' ')
        return marker{end - 2 - n, end, false, m->second, w->ambiguous};
    }
  }
  return std::nullopt;
}

// The spelled-out dots an address was read with.
struct spelled_dots {
  int marked = 0; // bracketed, or bare in capitals
  int plain = 0;  // bare and lower case: also ordinary words ("at the point it")
  void count(const marker& m) { (m.bracketed || m.capitals ? marked : plain) += 1; }
  int all() const { return marked + plain; }
};

// The user part ending at `end`, with spelled-out dots between its pieces when `spelled`.
std::string read_local(std::string_view text, std::size_t end, bool spelled, bool bare,
                       std::size_t& begin, spelled_dots& dots) {
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
    auto dot = marker_before(text, skip_spaces_back(text, begin), spelled_table().dot, false);
    if (!dot && bare)
      dot = marker_before(text, begin, spelled_table().dot, true);
    if (!dot)
      break;
    auto before = dot->bracketed ? skip_spaces_back(text, dot->begin) : dot->begin;
    if (before == 0 || !is_local_char(text[before - 1]))
      break;
    local.insert(0, ".");
    dots.count(*dot);
    begin = before;
  }
  return local;
}

// The domain starting at `pos`: labels joined by '.' or spelled-out dots.
std::string read_domain(std::string_view text, std::size_t pos, spelled_dots& dots,
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
      const auto next = read_label(end + 1);
      if (next == std::string_view::npos)
        break; // past the longest domain: nothing more is read, and `end` stays in the text
      end = next;
      continue;
    }
    auto p = end;
    if (text[p] == ' ' && p + 1 < text.size() && closing_of(text[p + 1]))
      ++p;
    auto dot = marker_at(text, p, spelled_table().dot, true);
    if (!dot)
      break;
    auto next = dot->bracketed ? skip_spaces(text, dot->end) : dot->end;
    if (next >= text.size() || !is_label_char(text[next]))
      break;
    domain += '.';
    dots.count(*dot);
    const auto label_end = read_label(next);
    if (label_end == std::string_view::npos)
      break;
    end = label_end;
  }
  return domain;
}

bool has_lower_case_letter(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// "E-Mail: ", "Courriel : ", "Kontakt:", "Schreiben Sie uns:" right before `pos`: the text says
// an address follows. The label is the words (at most 40 bytes) before the colon; one of them
// must be a label word.
bool address_label_before(std::string_view text, std::size_t pos) {
  auto p = skip_spaces_back(text, pos);
  if (p == 0 || text[p - 1] != ':')
    return false;
  p = skip_spaces_back(text, p - 1);
  const auto end = p;
  while (p > 0 && end - p < 40 &&
         (is_alnum(text[p - 1]) || text[p - 1] == '-' || text[p - 1] == '.' || text[p - 1] == ' ' ||
          static_cast<unsigned char>(text[p - 1]) >= 0x80))
    --p;
  std::string label;
  for (std::size_t i = p; i < end;) {
    auto [cp, n] = decode_utf8_at(text, i);
    append_utf8(label, lower_code_point(cp));
    i += n;
  }
  if (label.find("mail") != std::string::npos)
    return true;
  for (std::size_t start = 0; start < label.size();) {
    auto stop = std::min(label.find(' ', start), label.size());
    auto word = std::string_view(label).substr(start, stop - start);
    for (auto w : address_label_words())
      if (word == w || (word.size() > w.size() && ends_with(word, w)))
        return true;
    start = stop + 1;
  }
  return false;
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
  auto decoded = decode_character_references(percent_decode(text));
  // A non-breaking space around an address is space like any other.
  for (auto at = decoded.find("\u00a0"); at != std::string::npos; at = decoded.find("\u00a0", at))
    decoded.replace(at, 2, " ");
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

// A space at text[pos] before a bare word for "@", in any case (or before any word that starts
// with a non-ASCII letter, for marker_at to read).
bool bare_at_candidate(std::string_view text, std::size_t pos) {
  if (pos + 1 >= text.size())
    return false;
  const auto first = static_cast<unsigned char>(lower(text[pos + 1]));
  if (first >= 0x80)
    return true;
  const auto lengths = spelled_table().bare_at_lengths[first];
  if (lengths == 0)
    return false;
  auto end = pos + 1;
  while (end < text.size() && end - pos < 32 && text[end] != ' ')
    ++end;
  const auto length = end - pos - 1;
  if (end >= text.size() || text[end] != ' ' || !(lengths >> length & 1u))
    return false;
  for (const auto* w : spelled_table().at.starting_as(text, pos + 1))
    if (w->word.size() == length && match_word(text, pos + 1, w->word))
      return true;
  return false;
}

#if defined(__SSE2__)
// The ASCII letters bare words for "@" start with, as eight (the last repeated to fill).
const std::array<char, 8>& bare_at_letters() {
  static const auto letters = [] {
    const auto& all = spelled_table().bare_at_ascii_letters;
    if (all.empty() || all.size() > 8)
      throw std::logic_error("bare words for '@' must start with one to eight ASCII letters");
    std::array<char, 8> out{};
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<char>(all[std::min(i, all.size() - 1)]);
    return out;
  }();
  return letters;
}

struct at_marker_masks {
  unsigned signs; // '@' and opening brackets
  unsigned words; // spaces before a letter a bare word for "@" may start with
};

// Bit i for text[from + i], i < 16: where a marker for "@" may start. Reads text[from, from + 17).
at_marker_masks at_markers_in_block(const char* from) {
  auto load = [](const char* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); };
  auto is = [](__m128i v, char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); };
  auto here = load(from);
  // Setting bit 0x20 turns 'A'-'Z' into 'a'-'z' and no other byte into a letter.
  auto first = _mm_or_si128(load(from + 1), _mm_set1_epi8(0x20));
  auto signs =
      _mm_or_si128(_mm_or_si128(is(here, '@'), is(here, '[')),
                   _mm_or_si128(is(here, '('), _mm_or_si128(is(here, '{'), is(here, '<'))));
  // Bytes past 0x7F compare as negative: every UTF-8 lead byte is a candidate. The letters are
  // eight, repeated to fill (see bare_at_letters), compared unrolled so they stay in registers.
  const auto& letters = bare_at_letters();
  auto starts = _mm_cmplt_epi8(first, _mm_setzero_si128());
  auto either = [&](std::size_t i) {
    return _mm_or_si128(is(first, letters[i]), is(first, letters[i + 1]));
  };
  starts = _mm_or_si128(starts, _mm_or_si128(either(0), either(2)));
  starts = _mm_or_si128(starts, _mm_or_si128(either(4), either(6)));
  auto words = _mm_and_si128(is(here, ' '), starts);
  return {static_cast<unsigned>(_mm_movemask_epi8(signs)),
          static_cast<unsigned>(_mm_movemask_epi8(words))};
}
#endif

// The first position from `from` on where a marker for "@" may start: '@', an opening bracket,
// or a space before a word a bare one could be. The loop below does nothing anywhere else.
std::size_t next_at_marker(std::string_view text, std::size_t from) {
#if defined(__SSE2__)
  // Sixteen bytes at a time; of the words, only those that start as a bare word does are read.
  while (from + 17 <= text.size()) {
    auto [signs, words] = at_markers_in_block(text.data() + from);
    const auto first_sign = signs ? static_cast<unsigned>(__builtin_ctz(signs)) : 16u;
    for (; words; words &= words - 1) {
      const auto bit = static_cast<unsigned>(__builtin_ctz(words));
      if (bit > first_sign)
        break;
      if (bare_at_candidate(text, from + bit))
        return from + bit;
    }
    if (signs)
      return from + first_sign;
    from += 16;
  }
#endif
  for (; from < text.size(); ++from) {
    char c = text[from];
    if ((c == ' ' && bare_at_candidate(text, from)) || c == '@' || closing_of(c))
      return from;
  }
  return text.size();
}

bool own_domain(std::string_view domain, std::string_view page_domain) {
  if (page_domain.empty())
    return false;
  auto registrable = registrable_domain(domain);
  return registrable && *registrable == page_domain;
}

// A preformatted document shown as HTML (an AUTHORS file, a changelog): its listing is its prose.
bool mostly_code(std::string_view text, std::span<const byte_range> code_spans) {
  std::size_t code = 0;
  for (auto [begin, end] : code_spans)
    code += std::min(end, text.size()) - std::min(begin, std::min(end, text.size()));
  return code * 10 >= text.size() * 9;
}

bool ends_with_ascii_ci(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size())
    return false;
  auto tail = s.substr(s.size() - suffix.size());
  for (std::size_t i = 0; i < suffix.size(); ++i)
    if (lower(tail[i]) != suffix[i])
      return false;
  return true;
}

// `email = "addr"`, `'author_email': 'addr'`, `Email Address []: addr`, `Maintainer: addr`: the
// value of a field whose name says it holds a mailbox.
bool mailbox_field_before(std::string_view text, std::size_t pos) {
  auto is_quote = [](char c) { return c == '"' || c == '\'' || c == '`'; };
  auto p = pos;
  while (p > 0 && (text[p - 1] == ' ' || is_quote(text[p - 1])))
    --p;
  if (p == 0 || (text[p - 1] != ':' && text[p - 1] != '=' && text[p - 1] != '>'))
    return false;
  if (text[p - 1] == '>' && (p < 2 || text[p - 2] != '=')) // only "=>"
    return false;
  p -= text[p - 1] == '>' ? 2 : 1;
  while (p > 0 &&
         (text[p - 1] == ' ' || is_quote(text[p - 1]) || text[p - 1] == ']' || text[p - 1] == '['))
    --p;
  const auto end = p;
  while (p > 0 && end - p < 40 &&
         (is_alnum(text[p - 1]) || text[p - 1] == '_' || text[p - 1] == '-' || text[p - 1] == ' '))
    --p;
  std::string name;
  for (auto c : text.substr(p, end - p))
    name += lower(c);
  if (name.find("mail") != std::string::npos)
    return true;
  auto last =
      std::string_view(name).substr(name.rfind(' ') == std::string::npos ? 0 : name.rfind(' ') + 1);
  // Mail headers name mailboxes too: "To: submit@bugs...", "From: addr (Name)".
  for (std::string_view field : {"author", "maintainer", "uploaders", "owner", "contact", "from",
                                 "to", "cc", "reply-to", "sender"})
    if (last == field)
      return true;
  return false;
}

// Written as a mailbox, not as data: "Name <addr>", "(addr)", "mailto:addr", "E-Mail: addr".
bool written_as_mailbox(std::string_view text, std::size_t begin, std::size_t end) {
  auto before = skip_spaces_back(text, begin);
  auto after = end;
  while (after < text.size() && text[after] == ' ')
    ++after;
  if (before > 0 && after < text.size() &&
      ((text[before - 1] == '<' && text[after] == '>') ||
       (text[before - 1] == '(' && text[after] == ')')))
    return true;
  // Typographic quotes are prose's, never code's: ‘addr’, “addr”.
  auto quoted = [&](std::string_view open, std::string_view close) {
    return before >= open.size() && text.substr(before - open.size(), open.size()) == open &&
           text.substr(after, close.size()) == close;
  };
  if (quoted("\u2018", "\u2019") || quoted("\u201c", "\u201d"))
    return true;
  // "addr (Full Name)": the older form of "Full Name <addr>".
  if (after > end && after + 1 < text.size() && text[after] == '(' && is_upper(text[after + 1]))
    return true;
  // "addr Full Name": a row of an address book or a query's answer.
  auto capitalised_word = [&](std::size_t p) -> std::size_t { // its end, or npos
    if (p >= text.size() || !is_upper(text[p]))
      return std::string_view::npos;
    auto q = p + 1;
    while (q < text.size() && text[q] >= 'a' && text[q] <= 'z')
      ++q;
    return q - p >= 2 && (q == text.size() || text[q] == ' ') ? q : std::string_view::npos;
  };
  if (after > end) {
    auto first = capitalised_word(after);
    if (first != std::string_view::npos && capitalised_word(first + 1) != std::string_view::npos)
      return true;
  }
  return ends_with_ascii_ci(text.substr(0, begin), "mailto:") ||
         address_label_before(text, begin) || mailbox_field_before(text, begin);
}

// Manuals' stand-ins for a person: a qualifier and a role ("Usual Maintainer", "Random Hacker",
// "Example User", "Your Name") or a placeholder name of its own ("John Doe", "Max Mustermann").
bool is_persona_name(std::string_view name) {
  std::vector<std::string> words;
  for (std::size_t p = 0; p < name.size();) {
    auto end = std::min(name.find(' ', p), name.size());
    std::string word;
    for (auto c : name.substr(p, end - p))
      if (c != '.')
        word += lower(c);
    if (!word.empty())
      words.push_back(std::move(word));
    p = end + 1;
  }
  auto is_one_of = [](const std::string& word, std::initializer_list<std::string_view> list) {
    return std::find(list.begin(), list.end(), word) != list.end();
  };
  if (words.size() == 3 && words[0] == "j" && words[1] == "random") // "J. Random Hacker"
    words.erase(words.begin());
  if (words.size() != 2)
    return false;
  if (is_one_of(words[0], {"usual", "random", "typical", "example", "sample", "some", "any",
                           "other", "your", "my", "test", "dummy", "fake", "fictional", "generic",
                           "average", "default", "joe"}) &&
      is_one_of(words[1], {"maintainer", "hacker", "user", "developer", "author", "person",
                           "contributor", "name", "customer", "admin", "administrator",
                           "programmer", "committer", "reporter", "tester", "member"}))
    return true;
  const auto full = words[0] + ' ' + words[1];
  return is_one_of(full,
                   {"john doe", "jane doe", "joe bloggs", "max mustermann", "erika mustermann",
                    "jean dupont", "mario rossi", "jan kowalski", "juan perez"});
}

// "Usual Maintainer <addr>", "addr (Random Hacker)": a mailbox of a stand-in, not of a person.
bool written_for_a_persona(std::string_view text, std::size_t begin, std::size_t end) {
  auto before = skip_spaces_back(text, begin);
  if (before > 0 && text[before - 1] == '<') {
    auto name_end = skip_spaces_back(text, before - 1);
    auto name_begin = name_end;
    // Words of letters and initials back to the first that is not one ("2002-07-14  Name").
    while (name_begin > 0 && name_end - name_begin < 64 &&
           (is_alnum(text[name_begin - 1]) || text[name_begin - 1] == ' ' ||
            text[name_begin - 1] == '.') &&
           !(text[name_begin - 1] >= '0' && text[name_begin - 1] <= '9'))
      --name_begin;
    if (is_persona_name(text.substr(name_begin, name_end - name_begin)))
      return true;
  }
  auto after = end;
  while (after < text.size() && text[after] == ' ')
    ++after;
  if (after < text.size() && text[after] == '(') {
    auto close = text.find(')', after);
    if (close != std::string_view::npos && close - after < 64 &&
        is_persona_name(text.substr(after + 1, close - after - 1)))
      return true;
  }
  return false;
}

} // namespace

std::vector<std::string> find_text_emails(std::string_view text, std::size_t max_candidates,
                                          const text_email_context& context) {
  std::vector<std::string> out;
  const auto listings = mostly_code(text, context.listing_spans) ? decltype(context.listing_spans){}
                                                                 : context.listing_spans;
  // Addresses written as data in listings, those in inline code, and those written as mailboxes
  // in either.
  std::unordered_set<std::string> samples, inline_code, mailboxes;
  std::unordered_set<std::string> personas; // given as a stand-in's: none anywhere on the page
  std::size_t candidates = 0;
  for (std::size_t i = next_at_marker(text, 0); i < text.size(); i = next_at_marker(text, i + 1)) {
    char c = text[i];
    std::optional<marker> at;
    if (c == '@') {
      // "info @ firma.de": spaces around the sign are a common, readable disguise.
      bool spaced = i > 0 && text[i - 1] == ' ' && i + 1 < text.size() && text[i + 1] == ' ';
      at = spaced ? marker{i - 1, i + 2, false, false, false}
                  : marker{i, i + 1, false, false, false};
    } else if (closing_of(c)) {
      at = marker_at(text, i, spelled_table().at, false);
    } else if (c == ' ') {
      at = marker_at(text, i, spelled_table().at, true);
    }
    if (!at)
      continue;
    if (++candidates > max_candidates)
      break;
    const bool literal = c == '@';
    spelled_dots dots;
    auto local_end = at->bracketed ? skip_spaces_back(text, at->begin) : at->begin;
    std::size_t local_begin = 0;
    auto local =
        read_local(text, local_end, !literal, !literal && !at->bracketed, local_begin, dots);
    if (local.empty() || (literal && inside_url(text, local_begin)))
      continue;
    auto domain_begin = at->bracketed ? skip_spaces(text, at->end) : at->end;
    std::size_t domain_end = domain_begin;
    auto domain = read_domain(text, domain_begin, dots, domain_end);
    if (domain.empty() || (at->ambiguous && dots.all() == 0))
      continue;
    // "git@github.com:owner/repo": a remote, not a mailbox.
    if (domain_end + 1 < text.size() && text[domain_end] == ':' && text[domain_end + 1] != ' ')
      continue;
    if (!literal) {
      // Spelled out, the words must be markers a reader sees as such: brackets, or capitals
      // that stand out from the address around them. Bare lower-case words ("at the point it")
      // are also plain prose, so they count only for the page's own domain or after a label.
      const auto written = text.substr(local_begin, domain_end - local_begin);
      const bool capitals_stand_out = has_lower_case_letter(written);
      const bool marked =
          (at->bracketed || (at->capitals && capitals_stand_out)) && dots.plain == 0;
      if (!marked && !context.stated_as_email && !own_domain(domain, context.page_domain) &&
          !address_label_before(text, local_begin))
        continue;
    }
    auto email = accept(std::move(local), std::move(domain));
    // A placeholder in it ("<var>ll</var>@li.org"): a template, not an address.
    if (email && touches_span(context.variable_spans, local_begin, domain_end))
      email.reset();
    if (email && written_for_a_persona(text, local_begin, domain_end))
      personas.insert(*email);
    if (email) {
      const bool in_listing = inside_span(listings, local_begin);
      const bool in_code = in_listing || inside_span(context.code_spans, local_begin);
      if (in_code) {
        const bool mailbox = written_as_mailbox(text, local_begin, domain_end);
        if (mailbox)
          mailboxes.insert(*email);
        else if (in_listing)
          samples.insert(*email);
        else
          inline_code.insert(*email);
      }
      out.push_back(std::move(*email));
    }
    if (!literal)
      i = std::max(i, domain_end == 0 ? i : domain_end - 1);
  }
  if (!personas.empty())
    std::erase_if(out, [&](const std::string& email) { return personas.count(email) > 0; });
  if (!samples.empty()) {
    // The domains of samples, unless the page also gives a mailbox there: those are its own
    // fictional company's, not a real organisation's.
    auto domain_of = [](const std::string& email) {
      return registrable_domain(std::string_view(email).substr(email.find('@') + 1));
    };
    std::unordered_set<std::string> sample_domains, real_domains;
    for (const auto& email : mailboxes)
      if (auto domain = domain_of(email))
        real_domains.insert(std::move(*domain));
    for (const auto& email : context.linked_addresses)
      if (auto domain = domain_of(email))
        real_domains.insert(std::move(*domain));
    for (const auto& email : samples)
      if (auto domain = domain_of(email); domain && !real_domains.count(*domain))
        sample_domains.insert(std::move(*domain));
    auto on_sample_domain = [&](const std::string& email) {
      auto domain = domain_of(email);
      return domain && sample_domains.count(*domain);
    };
    std::erase_if(out, [&](const std::string& email) {
      return !mailboxes.count(email) &&
             (samples.count(email) || (inline_code.count(email) && on_sample_domain(email)));
    });
  }
  return out;
}

email_list extract_emails(const page_metadata& page, std::size_t max_addresses,
                          std::string_view page_url) {
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
      for (auto& e : find_text_emails(value, 16, {.page_domain = {}, .stated_as_email = true}))
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
  // What the page gives as mailboxes (structured data, links) tells its real domains.
  const std::vector<std::string> linked(found.addresses.begin(), found.addresses.end());
  const std::string_view text = page.text;
  text_email_context context;
  std::optional<std::string> page_domain;
  if (!page_url.empty())
    page_domain = registrable_domain(page_url);
  if (page_domain)
    context.page_domain = *page_domain;
  context.listing_spans = page.listing_spans;
  context.code_spans = page.code_spans;
  context.variable_spans = page.variable_spans;
  context.linked_addresses = linked;
  auto text_emails = find_text_emails(text, max_candidates, context);
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
