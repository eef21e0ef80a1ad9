// The tables of spelled_address_words.hpp.
#include "scrape/spelled_address_words.hpp"

#include <algorithm>
#include <array>
#include <vector>

namespace sky::scrape {
namespace {

using enum spelled_sign;

// "@" and "." count only inside brackets ("[@]", "(.)"); every word in brackets, in capitals
// between lower-case parts, or on the page's own domain or after an address label.
constexpr std::array k_words{
    spelled_word{"at", at, true, "en"},
    spelled_word{"chez", at, true, "fr"},
    spelled_word{"arobase", at, false, "fr"},
    spelled_word{"arroba", at, false, "es pt ca gl"},
    spelled_word{"aroba", at, false, "ro"},
    spelled_word{"chiocciola", at, false, "it"},
    spelled_word{"chiocciolina", at, false, "it"},
    spelled_word{"\u00e4t", at, false, "de fi"},
    spelled_word{"klammeraffe", at, false, "de"},
    spelled_word{"apenstaartje", at, false, "nl"},
    spelled_word{"apestaart", at, false, "nl"},
    spelled_word{"snabel-a", at, false, "sv da"},
    spelled_word{"snabela", at, false, "sv da"},
    spelled_word{"kr\u00f8llalfa", at, false, "nb"},
    spelled_word{"alfakr\u00f8ll", at, false, "nb"},
    spelled_word{"ma\u0142pa", at, false, "pl"},
    spelled_word{"malpa", at, false, "pl"},
    spelled_word{"zavin\u00e1\u010d", at, false, "cs sk"},
    spelled_word{"zavinac", at, false, "cs sk"},
    spelled_word{"kukac", at, false, "hu"},
    spelled_word{"miukumauku", at, false, "fi"},
    spelled_word{"majmun", at, false, "hr sr bs"},
    spelled_word{"afna", at, false, "sl"},
    spelled_word{"\u03c0\u03b1\u03c0\u03ac\u03ba\u03b9", at, false, "el"}, // papaki
    spelled_word{"papaki", at, false, "el"},
    spelled_word{"\u0441\u043e\u0431\u0430\u043a\u0430", at, false, "ru uk bg"}, // sobaka
    spelled_word{"\u0441\u043e\u0431\u0430\u0447\u043a\u0430", at, false, "ru"}, // sobachka
    spelled_word{"\u0440\u0430\u0432\u043b\u0438\u043a", at, false, "uk"},       // ravlyk
    spelled_word{"@", at, false, "*"},
    spelled_word{"dot", dot, false, "en"},
    spelled_word{"point", dot, false, "fr"},
    spelled_word{"punto", dot, false, "es it"},
    spelled_word{"ponto", dot, false, "pt"},
    spelled_word{"punt", dot, false, "nl ca"},
    spelled_word{"punkt", dot, false, "de sv da nb pl"},
    spelled_word{"punktum", dot, false, "da nb"},
    spelled_word{"prikk", dot, false, "nb"},
    spelled_word{"prik", dot, false, "da"},
    spelled_word{"kropka", dot, false, "pl"},
    spelled_word{"te\u010dka", dot, false, "cs"},
    spelled_word{"tecka", dot, false, "cs"},
    spelled_word{"bodka", dot, false, "sk"},
    spelled_word{"pont", dot, false, "hu"},
    spelled_word{"piste", dot, false, "fi"},
    spelled_word{"punct", dot, false, "ro"},
    spelled_word{"to\u010dka", dot, false, "hr sl sr"},
    spelled_word{"tocka", dot, false, "hr sl sr"},
    spelled_word{"\u03c4\u03b5\u03bb\u03b5\u03af\u03b1", dot, false, "el"}, // teleia
    spelled_word{"\u0442\u043e\u0447\u043a\u0430", dot, false, "ru uk bg"}, // tochka
    spelled_word{"\u043a\u0440\u0430\u043f\u043a\u0430", dot, false, "uk"}, // krapka
    spelled_word{"nokta", dot, false, "tr"},
    spelled_word{".", dot, false, "*"},
};

constexpr std::string_view k_label_words[] = {
    "courriel", "correo", "correu", "posta", "po\u0161ta", "poczta", "e-post", "epost", "mejl",
    "s\u00e4hk\u00f6posti", "kontakt", "contact", "contacto", "contatto", "contato", "adres",
    "adresse", "address", "indirizzo", "direcci\u00f3n", "endere\u00e7o",
    "\u043f\u043e\u0447\u0442\u0430", // pochta
    "\u043f\u043e\u0448\u0442\u0430", // poshta
    "e-mailadres", "epostadress", "s\u00e4hk\u00f6postiosoite",
    // "Write to us:" in the same languages
    "write", "\u00e9crivez-nous", "ecrivez-nous", "\u00e9crire", "schreiben", "escr\u00edbenos",
    "escribenos", "escr\u00edbanos", "scrivici", "scriveteci", "escreva-nos", "skriv", "napisz",
    "napi\u0161te", "kirjoita", "schrijf"};

} // namespace

std::span<const spelled_word> spelled_words() {
  static const auto sorted = [] {
    std::vector<spelled_word> words(k_words.begin(), k_words.end());
    std::stable_sort(words.begin(), words.end(), [](const spelled_word& a, const spelled_word& b) {
      return a.word.size() > b.word.size();
    });
    return words;
  }();
  return sorted;
}

std::span<const std::string_view> address_label_words() {
  return k_label_words;
}

char32_t lower_code_point(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z')
    return cp + 32;
  if (cp < 0xC0)
    return cp;
  if (cp <= 0xDE && cp != 0xD7) // Latin-1: À-Þ
    return cp + 32;
  if (cp == 0x178) // Ÿ, whose lower case is in Latin-1
    return 0xFF;
  if (cp >= 0x100 && cp <= 0x17F) { // Latin Extended-A: pairs, upper case first...
    const bool odd_pairs = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
    if (cp == 0x130 || cp == 0x131 || cp == 0x138 || cp == 0x149 || cp == 0x17F)
      return cp;
    return odd_pairs ? (cp % 2 == 1 ? cp + 1 : cp) : (cp % 2 == 0 ? cp + 1 : cp);
  }
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) // Greek capitals
    return cp + 32;
  if (cp >= 0x386 && cp <= 0x38F) { // Greek capitals with tonos
    static constexpr char32_t k_tonos[] = {0x3AC, 0x387, 0x3AD, 0x3AE, 0x3AF,
                                           0x38B, 0x3CC, 0x38D, 0x3CD, 0x3CE};
    return k_tonos[cp - 0x386];
  }
  if (cp >= 0x410 && cp <= 0x42F) // Cyrillic А-Я
    return cp + 32;
  if (cp >= 0x400 && cp <= 0x40F) // Cyrillic Ѐ-Џ
    return cp + 80;
  return cp;
}

} // namespace sky::scrape
