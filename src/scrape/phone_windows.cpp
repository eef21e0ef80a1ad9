// The digit scan behind phone matching. What it relies on in libphonenumber's PhoneNumberMatcher
// (VALID leniency): a candidate is a regex match that starts with a digit or with at most two
// brackets/plus signs each followed by at most four punctuation characters, and continues only
// from digit to digit (through at most four punctuation characters, or an extension label); the
// matcher then looks at the code point before a candidate and at most three after it.
#include "scrape/phone_windows.hpp"
#include "scrape/text_rules.hpp"

#include <cstdint>
#include <cstring>
#include <phonenumbers/phonenumberutil.h>
#include <phonenumbers/utf/unicodetext.h>
#include <unicode/uchar.h>

namespace sky::scrape {
namespace {

// The code point at text[pos] (text_rules.hpp); the matcher never runs on text with invalid
// sequences, see phone_matcher_accepts.
code_point decode_at(std::string_view text, std::size_t pos) {
  return decode_utf8_at(text, pos);
}

// \p{Nd}, as ICU's regexes read it.
bool is_decimal_digit(char32_t c) {
  if (c < 0x80)
    return c >= '0' && c <= '9';
  return u_charType(static_cast<UChar32>(c)) == U_DECIMAL_DIGIT_NUMBER;
}

// What may stand, in any number, between a number and its extension label or digits.
bool is_extension_separator(char32_t c) {
  return c == ' ' || c == '\t' || c == ',' || c == '-' || c == 0xA0;
}

// The start of the code point `count` code points before `pos` (or 0).
std::size_t back_code_points(std::string_view text, std::size_t pos, std::size_t count) {
  for (; count > 0 && pos > 0; --count) {
    --pos;
    while (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80)
      --pos;
  }
  return pos;
}

// The most tries one code point of a candidate can cost: one if a candidate may start there (a
// digit, a bracket, a plus sign), two for each of the matcher's ways of splitting a candidate it
// may anchor (at '/', '(', " -", '.', a space, a wide dash). Anything not ASCII may be a digit,
// a full-width bracket, a space or a dash.
std::size_t tries_weight(char32_t c) {
  if (c >= 0x80)
    return 3;
  switch (c) {
  case '(':
    return 3;
  case '[':
  case '+':
    return 1;
  case '/':
  case '-':
  case '.':
  case ' ':
    return 2;
  default:
    return c >= '0' && c <= '9' ? 1 : 0;
  }
}

// Eight bytes at a time: the scans below skip what holds neither an ASCII digit nor, for
// the first, a non-ASCII byte, and for the second, anything but printable ASCII.
constexpr std::uint64_t k_ones = 0x0101010101010101u;
constexpr std::uint64_t k_high = 0x8080808080808080u;

std::uint64_t load8(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Some byte is >= 0x80 or within '0'-'9'.
bool may_hold_digit(std::uint64_t x) {
  auto low = x & ~k_high;
  auto in_digits = (k_ones * (127 + ':') - low) & ~x & (low + k_ones * (127 - '/')) & k_high;
  return ((x & k_high) | in_digits) != 0;
}

// Some byte is below 0x20 or above 0x7E.
bool holds_unprintable(std::uint64_t x) {
  auto below = (x - k_ones * 0x20) & ~x & k_high;
  auto above = ((x + k_ones * (127 - 0x7E)) | x) & k_high;
  return (below | above) != 0;
}

} // namespace

phone_windows find_phone_windows(std::string_view text) {
  phone_windows out;
  constexpr std::size_t k_candidate_lead = 10; // brackets and punctuation before a first digit
  std::size_t pos = 0;
  while (pos < text.size()) {
    // The next digit; ASCII text costs a few operations per eight bytes.
    if (pos + 8 <= text.size() && !may_hold_digit(load8(text.data() + pos))) {
      pos += 8;
      continue;
    }
    auto c = static_cast<unsigned char>(text[pos]);
    if (c < 0x80 && (c < '0' || c > '9')) {
      ++pos;
      continue;
    }
    auto first = decode_at(text, pos);
    if (!is_decimal_digit(first.value)) {
      pos += first.length;
      continue;
    }
    // The cluster: digits until k_phone_link_distance counted code points pass without one.
    auto first_digit = pos;
    auto last_digit_end = pos + first.length;
    std::size_t end = last_digit_end, counted = 0;
    while (end < text.size() && counted < k_phone_link_distance) {
      auto cp = decode_at(text, end);
      if (is_decimal_digit(cp.value)) {
        last_digit_end = end + cp.length;
        counted = 0;
      } else if (!is_extension_separator(cp.value)) {
        ++counted;
      }
      end += cp.length;
    }
    auto begin = back_code_points(text, first_digit, k_phone_lead_margin);
    if (!out.windows.empty() && begin <= out.windows.back().end)
      out.windows.back().end = end;
    else
      out.windows.push_back({begin, end});
    // Every candidate of the cluster lies in [first digit - lead, last digit + one ('#')].
    auto core_end = last_digit_end < text.size()
                        ? last_digit_end + decode_at(text, last_digit_end).length
                        : last_digit_end;
    for (auto p = back_code_points(text, first_digit, k_candidate_lead); p < core_end;) {
      auto cp = decode_at(text, p);
      out.tries_bound += tries_weight(cp.value);
      p += cp.length;
    }
    pos = end;
  }
  return out;
}

namespace {

bool is_ascii_letter(char c) {
  return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

// True when one candidate of the matcher may hold the digits on both sides of `gap` (ASCII, no
// digit): up to four punctuation characters, or an extension label with the separators around
// it ("12 ext. 34", "12 int 34", "12;ext=34", "503 - 12#"). Errs towards joining.
bool gap_may_join(std::string_view gap) {
  constexpr std::string_view k_punctuation = "-xX ()./~[]";
  if (gap.size() <= 4 && gap.find_first_not_of(k_punctuation) == std::string_view::npos)
    return true;
  constexpr std::string_view k_before_label = " \t,-";
  constexpr std::string_view k_after_label = " \t,-:.";
  auto first = gap.find_first_not_of(k_before_label);
  auto last = gap.find_last_not_of(k_after_label);
  if (first == std::string_view::npos || last == std::string_view::npos || last < first)
    return true;
  auto label = gap.substr(first, last + 1 - first);
  if (label.size() > 10)
    return false;
  std::string lower(label);
  for (auto& c : lower)
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  // "e?xt(ensi(o)?)?n?" spelled out, the ambiguous one-character labels, "int", "anexo", RFC 3966.
  static constexpr std::string_view k_labels[] = {
      "xt",      "ext",      "xtn",     "extn",     "xtensi",   "extensi",
      "xtensin", "extensin", "xtensio", "extensio", "xtension", "extension",
      "x",       "#",        "~",       "int",      "anexo",    ";ext="};
  for (auto known : k_labels)
    if (lower == known)
      return true;
  return false;
}

} // namespace

bool window_may_hold_number(std::string_view window, std::size_t fewest_valid_digits) {
  std::size_t group_digits = 0;
  std::size_t previous_digit = std::string_view::npos;
  for (std::size_t i = 0; i < window.size(); ++i) {
    char c = window[i];
    if (static_cast<unsigned char>(c) >= 0x80)
      return true;
    // An 'x' inside a word ("next", "boxes") is in no candidate: as punctuation it follows a
    // digit, a bracket or punctuation; as an extension label ("ext", "x") it starts after
    // spaces or a digit.
    if ((c | 0x20) == 'x') {
      bool inside_word =
          i > 0 && is_ascii_letter(window[i - 1]) &&
          ((window[i - 1] | 0x20) != 'e' || (i > 1 && is_ascii_letter(window[i - 2])));
      if (!inside_word)
        return true;
    }
    if (c < '0' || c > '9')
      continue;
    // Digits that no candidate can join start a new group: "2026 site3" is "2026" and "3".
    if (previous_digit == std::string_view::npos ||
        !gap_may_join(window.substr(previous_digit + 1, i - previous_digit - 1)))
      group_digits = 0;
    if (++group_digits >= fewest_valid_digits)
      return true;
    previous_digit = i;
  }
  return false;
}

bool phone_matcher_accepts(std::string_view text) {
  // Printable ASCII is always valid and stands alone: the rest is checked run by run.
  auto printable = [](char c) { return c >= 0x20 && c <= 0x7E; };
  for (std::size_t pos = 0; pos < text.size();) {
    if (pos + 8 <= text.size() && !holds_unprintable(load8(text.data() + pos))) {
      pos += 8;
      continue;
    }
    if (printable(text[pos])) {
      ++pos;
      continue;
    }
    auto end = pos;
    while (end < text.size() && !printable(text[end]))
      ++end;
    // Invalid text makes libphonenumber log, through the logger PhoneNumberUtil sets up.
    i18n::phonenumbers::PhoneNumberUtil::GetInstance();
    i18n::phonenumbers::UnicodeText run;
    run.PointToUTF8(text.data() + pos, static_cast<int>(end - pos));
    if (!run.UTF8WasValid())
      return false;
    pos = end;
  }
  return true;
}

} // namespace sky::scrape
