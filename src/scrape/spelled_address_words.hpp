// How people spell out "@" and "." to hide an address from harvesters, language by language, and
// the labels that announce an address. Data only: the email extractor reads these tables, and a
// new language is a new row, not a new code path.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace sky::scrape {

enum class spelled_sign : std::uint8_t { at, dot };

struct spelled_word {
  std::string_view word; // lower case, UTF-8
  spelled_sign sign;
  // Bare (unbracketed, lower-case) words that also mean something else in running text ("at",
  // "chez") need a spelled-out dot beside them before they count at all.
  bool ambiguous;
  std::string_view languages; // ISO 639-1 codes, for the reader
};

// Longest words first, so that "chiocciolina" is tried before "chiocciola".
std::span<const spelled_word> spelled_words();

// Words of a label that announces an address when it ends in ':' right before it ("E-Mail:",
// "courriel :", "Kontakt:"). Compared in lower case; any word containing "mail" counts too.
std::span<const std::string_view> address_label_words();

// Lower case of one code point, for the scripts the tables use (Latin, Greek, Cyrillic).
char32_t lower_code_point(char32_t cp);

} // namespace sky::scrape
