// Where libphonenumber's matcher can find anything in a text: a cheap scan for runs of digits,
// so that the matcher (ICU regexes over UTF-16, some 50 times slower than the scan) reads only
// small windows around them instead of the whole visible text.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace sky::scrape {

struct text_span {
  std::size_t begin = 0, end = 0; // [begin, end), byte offsets
  bool operator==(const text_span&) const = default;
};

struct phone_windows {
  // Disjoint, in text order, cut between UTF-8 sequences. The matcher, run over each window in
  // turn, finds exactly what it finds in the whole text, provided its tries do not run out.
  std::vector<text_span> windows;
  // The matcher spends at most (numbers it finds + 1) * tries_bound tries on the whole text
  // (every try is a candidate or a split of one, and candidates lie inside these windows; text
  // after a number it found may be read again, once per number).
  std::size_t tries_bound = 0;
};

// Windows around every cluster of decimal digits (Unicode Nd) of `text`: digits fewer than
// k_phone_link_distance other characters apart (spaces, tabs, commas, hyphens and no-break spaces
// not counted, as an extension may follow a number after any run of them) form one cluster, and
// its window reaches k_phone_lead_margin code points before its first digit and
// k_phone_link_distance counted ones after its last. Overlapping windows merge.
phone_windows find_phone_windows(std::string_view text);

// libphonenumber's matcher reads a number's leading brackets and plus signs (at most 10 code
// points) and the code point before it; between two digits of one candidate (an extension label
// such as "extensión" included) at most 11 code points that are not spaces, commas or hyphens.
inline constexpr std::size_t k_phone_lead_margin = 16;
inline constexpr std::size_t k_phone_link_distance = 24;

// False when no number libphonenumber calls valid can be read from `window`: it is ASCII, holds
// no 'x' but inside words (the matcher reads 'x' as punctuation, and three letters in a candidate
// map to digits), no candidate there can hold more than three digits (digits join only through
// punctuation or an extension label), and no region has valid numbers of three digits or fewer,
// country code included (tests check that against libphonenumber's metadata). Where the region
// has no valid number shorter than `fewest_valid_digits` (five in most), a group of four digits
// is ruled out too.
bool window_may_hold_number(std::string_view window, std::size_t fewest_valid_digits = 4);

// True when libphonenumber's matcher accepts `text` at all: it reads nothing from text that is
// not interchange-valid UTF-8 (no C0/C1 controls but whitespace, no noncharacters). Checked by
// libphonenumber's own test on the parts that are not printable ASCII.
bool phone_matcher_accepts(std::string_view text);

} // namespace sky::scrape
