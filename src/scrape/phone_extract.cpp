// libphonenumber does the parsing and validation; this file only decides what to feed it.
#include "scrape/phone_extract.hpp"

#include "scrape/lru_map.hpp"
#include "scrape/phone_windows.hpp"
#include "scrape/text_rules.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <phonenumbers/phonenumbermatch.h>
#include <phonenumbers/phonenumbermatcher.h>
#include <phonenumbers/phonenumberutil.h>
#include <set>

namespace sky::scrape {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberMatch;
using i18n::phonenumbers::PhoneNumberMatcher;
using i18n::phonenumbers::PhoneNumberUtil;

// How far before a number its label is looked for: "Bestellnummer: " or "USt-IdNr.: DE " fit,
// the label of the previous line mostly does not.
constexpr std::size_t k_label_bytes = 24;

// The visible text is matched in chunks of about this size, each with its own tries.
constexpr std::size_t k_chunk_bytes = 16 << 10;
constexpr int k_tries_per_chunk = 100;

// Where a chunk ending near `target` ends: after a word (a space that follows a letter), so that
// no number is cut in two; the text's end when it is close.
std::size_t chunk_boundary(std::string_view text, std::size_t target) {
  if (target + 1024 >= text.size())
    return text.size();
  for (auto p = target; p < target + 1024; ++p) {
    auto c = static_cast<unsigned char>(text[p - 1]);
    if (text[p] == ' ' && ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
      return p;
  }
  return target + 1024;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// "12.03.2024", "2024-03-12", "3/12/24": digit groups of a date, whatever libphonenumber thinks.
bool looks_like_date(std::string_view raw) {
  std::vector<std::size_t> groups;
  std::size_t run = 0;
  std::string separators;
  for (char c : raw) {
    if (is_digit(c)) {
      ++run;
    } else {
      if (run)
        groups.push_back(run);
      run = 0;
      if (c == '.' || c == '/' || c == '-')
        separators += c;
      else if (c != ' ' && c != '(' && c != ')' && static_cast<unsigned char>(c) < 0x80)
        return false;
    }
  }
  if (run)
    groups.push_back(run);
  // "20.–22. 6. 2025": days and months of one or two digits, then a year.
  if (groups.size() >= 3 && groups.back() == 4 &&
      std::all_of(groups.begin(), groups.end() - 1, [](std::size_t g) { return g <= 2; })) {
    auto year = raw.substr(raw.find_last_not_of("0123456789 ") + 1);
    auto digits = std::string(trim_space(year));
    if (digits.size() == 4 && (digits.rfind("19", 0) == 0 || digits.rfind("20", 0) == 0))
      return true;
  }
  if (groups.size() != 3 || separators.size() != 2 || separators[0] != separators[1])
    return false;
  bool day_first = groups[0] <= 2 && groups[1] <= 2 && (groups[2] == 2 || groups[2] == 4);
  bool year_first = groups[0] == 4 && groups[1] <= 2 && groups[2] <= 2;
  return day_first || year_first;
}

constexpr std::array<std::string_view, 14> k_phone_words{
    "tel",  "t\u00e9l", "phone", "fon", "mobil", "handy",      "cell",
    "call", "ring",     "gsm",   "tlf", "tfn",   "m\u00f3vil", "whatsapp"};

// Labelled numbers are looked for in this many bytes from their label, for this many labels.
constexpr std::size_t k_labelled_bytes = 64;
constexpr std::size_t k_max_labels = 100;
// More digits than this in the text and the matcher's tries may run out before its end.
constexpr std::size_t k_dense_digits = 300;

bool is_letter_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80;
}

// True when `word` (lower-case) is written at text[pos], in any ASCII case.
bool word_at(std::string_view text, std::size_t pos, std::string_view word) {
  if (word.size() > text.size() - pos)
    return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    auto c = text[pos + i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c) != word[i])
      return false;
  }
  return true;
}

// Where a phone label word starts ("Tel.", "Telefon", "phone"...), in text order, at most `max`.
// Word by word: the loop over letters is all most of the text costs.
std::vector<std::size_t> phone_label_positions(std::string_view text, std::size_t max) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < text.size() && out.size() < max;) {
    while (i < text.size() && !is_letter_byte(text[i]))
      ++i;
    if (i >= text.size())
      break;
    // Most words start with a letter no label starts with: one switch, no loop over the labels.
    switch (text[i] | 0x20) {
    case 't':
    case 'p':
    case 'f':
    case 'm':
    case 'h':
    case 'c':
    case 'r':
    case 'g':
    case 'w':
      for (auto w : k_phone_words)
        if (w[0] == (text[i] | 0x20) && word_at(text, i, w)) {
          out.push_back(i);
          break;
        }
      break;
    default:
      break;
    }
    while (i < text.size() && is_letter_byte(text[i]))
      ++i;
  }
  return out;
}

// The words right before a number say what it is. The last keyword there wins, so
// "Tel. 030 1234 · Fax 030 1235" reads the first as a phone and the second as a fax.
bool labelled_as_other(std::string_view before) {
  // Faxes, orders, invoices, bank and tax numbers and company registers, in the languages of
  // Europe: a number they label is not one to call.
  static constexpr std::string_view k_other_words[] = {"fax",
                                                       "telefax",
                                                       "faks",
                                                       "telefaks",
                                                       "t\u00e9l\u00e9copie",
                                                       "telecopie",
                                                       "iban",
                                                       "bic",
                                                       "swift",
                                                       "konto",
                                                       "account",
                                                       "bank",
                                                       "\u00fa\u010det",
                                                       "bankgiro",
                                                       "plusgiro",
                                                       "swish",
                                                       "order",
                                                       "bestell",
                                                       "rechnung",
                                                       "invoice",
                                                       "commande",
                                                       "factura",
                                                       "pedido",
                                                       "ordine",
                                                       "fattura",
                                                       "bestel",
                                                       "factuur",
                                                       "faktura",
                                                       "ust",
                                                       "vat",
                                                       "tax",
                                                       "steuer",
                                                       "mwst",
                                                       "uid",
                                                       "iva",
                                                       "btw",
                                                       "moms",
                                                       "alv",
                                                       "dph",
                                                       "kvk",
                                                       "siret",
                                                       "siren",
                                                       "rcs",
                                                       "naf",
                                                       "cif",
                                                       "nif",
                                                       "nipc",
                                                       "nip",
                                                       "regon",
                                                       "krs",
                                                       "hrb",
                                                       "hra",
                                                       "org.nr",
                                                       "cvr",
                                                       "y-tunnus",
                                                       "i\u010do",
                                                       "ico",
                                                       "di\u010d",
                                                       "cnpj",
                                                       "cpf",
                                                       "kbo",
                                                       "rpr",
                                                       "onderneming",
                                                       "entreprise",
                                                       "unternehmens",
                                                       "company no",
                                                       "company number",
                                                       "registration",
                                                       "register",
                                                       "ref",
                                                       "sku",
                                                       "art.-nr",
                                                       "isbn",
                                                       "ean",
                                                       "gln",
                                                       "artikel",
                                                       "article",
                                                       "articolo",
                                                       "art\u00edculo",
                                                       "item",
                                                       "modell",
                                                       "model",
                                                       "rpps",
                                                       "adeli",
                                                       "riziv",
                                                       "inami"};
  auto lower = ascii_lower(before);
  auto is_letter = [](char c) {
    return (c >= 'a' && c <= 'z') || static_cast<unsigned char>(c) >= 0x80;
  };
  std::size_t best_phone = std::string::npos, best_other = std::string::npos;
  // The last place a word starts with one of `words` (a word start: "USt", not "August").
  auto last = [&](auto& words, std::size_t& best) {
    for (auto w : words)
      for (auto at = lower.rfind(w); at != std::string::npos;
           at = at == 0 ? std::string::npos : lower.rfind(w, at - 1))
        if (at == 0 || !is_letter(lower[at - 1])) {
          if (best == std::string::npos || at > best)
            best = at;
          break;
        }
  };
  // Footers abbreviate: "T +49 30 1234567 F +49 30 1234568".
  auto label = trim_space(lower);
  while (!label.empty() && (label.back() == ':' || label.back() == '.'))
    label.remove_suffix(1);
  auto letter = label.substr(
      label.find_last_of(' ') == std::string_view::npos ? 0 : label.find_last_of(' ') + 1);
  if (letter == "f")
    return true;
  if (letter == "t" || letter == "m" || letter == "p")
    return false;
  last(k_phone_words, best_phone);
  last(k_other_words, best_other);
  if (best_other != std::string::npos &&
      (best_phone == std::string::npos || best_other >= best_phone)) { // "telefax" over "tel"
    // "Tel./Fax:", "Phone & fax": one number for both is a phone.
    if (best_phone == std::string::npos || lower.compare(best_other, 3, "fax") != 0)
      return true;
    auto between = std::string_view(lower).substr(best_phone, best_other - best_phone);
    bool joined = between.size() <= 14 && (between.find('/') != std::string_view::npos ||
                                           between.find('&') != std::string_view::npos ||
                                           between.find(" und ") != std::string_view::npos ||
                                           between.find(" and ") != std::string_view::npos ||
                                           between.find(" et ") != std::string_view::npos ||
                                           between.find(" y ") != std::string_view::npos ||
                                           between.find(" e ") != std::string_view::npos);
    return !joined;
  }
  // "No. 3125550118" is some reference; "Phone no. 312 555 0117" is a phone.
  static constexpr std::array<std::string_view, 6> k_number_words{"no.",     "nr.", "n\u00b0",
                                                                  "n\u00ba", "#",   "num"};
  std::size_t best_number = std::string::npos;
  last(k_number_words, best_number);
  return best_number != std::string::npos && best_phone == std::string::npos;
}

// "600 000 000", "+33 6 00 00 00 00": the numbers forms and templates show, six repeats of one
// digit at the end.
bool looks_like_sample_number(std::uint64_t national) {
  auto digits = std::to_string(national);
  if (digits.size() < 7)
    return false;
  auto tail = digits.substr(digits.size() - 6);
  return tail.find_first_not_of(tail[0]) == std::string::npos;
}

// "9.16.2.3", "1.5.8.22": section and version numbers. Phones written with dots group their digits
// in twos and more ("05.56.44.12.87", "1.800.555.0199"); two one-digit groups between dots are an
// outline.
bool looks_like_outline_number(std::string_view raw) {
  int single_groups = 0;
  std::size_t run = 0;
  bool dotted = false;
  auto close_group = [&](char next) {
    if (run == 1 && (dotted || next == '.'))
      ++single_groups;
    run = 0;
  };
  for (char c : raw) {
    if (is_digit(c)) {
      ++run;
      continue;
    }
    close_group(c);
    dotted = c == '.';
  }
  close_group('\0');
  return single_groups >= 2;
}

// A phone label word starts in `before` ("Tel.", "Telefon", "phone", a footer's "T "), or a
// telephone sign stands there.
bool labelled_as_phone(std::string_view before) {
  if (before.find("\u260e") != std::string_view::npos ||   // ☎
      before.find("\U0001f4de") != std::string_view::npos) // 📞
    return true;
  auto lower = ascii_lower(before);
  for (auto w : k_phone_words)
    for (auto at = lower.find(w); at != std::string::npos; at = lower.find(w, at + 1))
      if (at == 0 || !is_letter_byte(lower[at - 1]))
        return true;
  auto label = trim_space(lower);
  while (!label.empty() && (label.back() == ':' || label.back() == '.'))
    label.remove_suffix(1);
  auto space = label.find_last_of(' ');
  auto last_word = space == std::string_view::npos ? label : label.substr(space + 1);
  return last_word == "t" || last_word == "m" || last_word == "p";
}

// The same for a number in code, where "phone" is as often a name in the program
// (`phoneNumber = "..."`, `phone: "+44 ..."`): the label must be written for a reader, a word
// that is no identifier, with no quote, '=' or bracket between it and the number.
bool labelled_as_phone_in_code(std::string_view before) {
  if (!labelled_as_phone(before))
    return false;
  auto lower = ascii_lower(before);
  std::size_t last = std::string::npos;
  for (auto w : k_phone_words)
    for (auto at = lower.find(w); at != std::string::npos; at = lower.find(w, at + 1))
      if ((at == 0 || !is_letter_byte(lower[at - 1])) && (last == std::string::npos || at > last))
        last = at;
  if (last == std::string::npos)
    return true; // a sign or a footer's one-letter label
  auto end = last;
  while (end < before.size() && is_letter_byte(before[end])) {
    if (before[end] >= 'A' && before[end] <= 'Z' && end > last)
      return false; // camelCase: a name in the program
    ++end;
  }
  return before.substr(end).find_first_of("\"'=_([{`") == std::string_view::npos;
}

bool is_ascii_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Numbers in code and data look like phones to the matcher: a hex dump ("ab9078563412"), a
// constant ("2147483647"), a key. A number glued to letters or digits, or written as one bare run
// of digits, is read only when a phone label announces it.
bool needs_phone_label(std::string_view part, std::size_t at, std::string_view raw) {
  const auto end = at + raw.size();
  const bool glued = (at > 0 && at <= part.size() && is_ascii_alnum(part[at - 1])) ||
                     (end < part.size() && is_ascii_alnum(part[end]));
  const bool bare_run = !raw.empty() && std::all_of(raw.begin(), raw.end(), is_digit);
  return glued || bare_run;
}

} // namespace

namespace {

enum class text_scan { windows, whole };

struct matched_number {
  std::string raw; // as written in the text
  PhoneNumber number;
};

// What the matcher found in windows read lately on this thread, by region, tries and window text
// (it depends on nothing else): a site repeats its header and footer on every page, and a window
// costs the matcher far more than this lookup.
constexpr std::size_t k_cached_windows = 256;

lru_map<std::string, std::vector<matched_number>>& window_matches() {
  thread_local lru_map<std::string, std::vector<matched_number>> cache(k_cached_windows);
  return cache;
}

// The fewest digits of a number the matcher can call valid in `region`: 4 where some four-digit
// national number is valid there (Germany, a few small territories), else 5. A window whose
// digits join into no longer group (a year in a footer, "© 2026") then costs no matcher run.
// Fewer than four never (window_may_hold_number), and "+" with four digits leaves at most three
// to the national number. Found once per region: every four-digit national number (with its
// leading zeros too) against every region of the country code, as validation would check it.
std::size_t search_fewest_valid_digits(const std::string& region) {
  const auto& util = *PhoneNumberUtil::GetInstance();
  std::size_t fewest = 5;
  const int code = util.GetCountryCodeForRegion(region);
  std::list<std::string> regions;
  if (code != 0)
    util.GetRegionCodesForCountryCallingCode(code, &regions);
  for (int value = 0; value < 10000 && fewest == 5 && !regions.empty(); ++value) {
    PhoneNumber number;
    number.set_country_code(code);
    number.set_national_number(static_cast<std::uint64_t>(value));
    if (value < 1000) { // written with leading zeros: "0123"
      number.set_italian_leading_zero(true);
      number.set_number_of_leading_zeros(value < 10 ? 3 : value < 100 ? 2 : 1);
    }
    for (const auto& r : regions)
      if (util.IsValidNumberForRegion(number, r)) {
        fewest = 4;
        break;
      }
  }
  return fewest;
}

// Asked for every chunk of every page: each thread keeps the answers it has seen, and only a
// region new to the process takes the lock and the search.
std::size_t fewest_valid_digits(const std::string& region) {
  thread_local std::map<std::string, std::size_t, std::less<>> seen_here;
  if (auto it = seen_here.find(region); it != seen_here.end())
    return it->second;
  static std::mutex guard;
  static std::map<std::string, std::size_t, std::less<>> known;
  std::size_t fewest = 0;
  {
    std::lock_guard lock(guard);
    auto it = known.find(region);
    if (it == known.end())
      it = known.emplace(region, search_fewest_valid_digits(region)).first;
    fewest = it->second;
  }
  seen_here.emplace(region, fewest);
  return fewest;
}

phone_list find_phones(const std::vector<std::string>& tel_links, std::string_view visible_text,
                       const std::string& region, std::size_t max_numbers,
                       const std::vector<std::string>& structured, const text_spans& code_spans,
                       text_scan how) {
  // Whether text[pos] of the visible text lies in code.
  auto in_code = [&](std::size_t pos) { return inside_span(code_spans, pos); };
  const auto& util = *PhoneNumberUtil::GetInstance();
  phone_list out;
  std::set<std::string, std::less<>> seen;
  auto add = [&](const PhoneNumber& number, const char* source) {
    // A number seen already changes nothing, valid or not: checked first, it costs no validation.
    std::string e164;
    util.Format(number, PhoneNumberUtil::E164, &e164);
    if (seen.count(e164) || looks_like_sample_number(number.national_number()) ||
        !util.IsValidNumber(number))
      return;
    if (out.numbers.size() >= max_numbers) {
      out.truncated = true;
      return;
    }
    seen.insert(e164);
    out.numbers.push_back({std::move(e164), source});
  };
  auto parse = [&](std::string text, const char* source) {
    PhoneNumber number;
    if (text.size() <= 64 && util.Parse(text, region, &number) == PhoneNumberUtil::NO_PARSING_ERROR)
      add(number, source);
  };
  for (const auto& value : structured) {
    if (out.truncated)
      return out;
    auto text = std::string(trim_space(value));
    if (ascii_lower(text.substr(0, 4)) == "tel:") {
      auto target = text.substr(4);
      text = percent_decode(target.substr(0, target.find_first_of("?;")));
    }
    parse(std::move(text), "structured");
  }
  for (const auto& link : tel_links) {
    if (out.truncated)
      return out;
    parse(percent_decode(link.substr(0, link.find_first_of("?;"))), "tel");
  }
  // The matcher's numbers in `part`, as it reads them from part[from, to): VALID leniency and a
  // bounded number of tries keep loose text fast and its matches plausible.
  auto match = [&](std::string_view part, std::size_t from, std::size_t to, int tries,
                   std::vector<matched_number>& found) {
    std::string copy(part.substr(from, to - from));
    PhoneNumberMatcher matcher(util, copy, region, PhoneNumberMatcher::VALID, tries);
    PhoneNumberMatch next;
    while (matcher.HasNext() && matcher.Next(&next))
      found.push_back({next.raw_string(), next.number()});
  };
  // The numbers found in `part`, in order, minus dates and numbers labelled as something else.
  auto keep = [&](std::string_view part, const std::vector<matched_number>& found) {
    std::size_t searched_to = 0;
    for (const auto& m : found) {
      if (out.truncated)
        return;
      const auto& raw = m.raw;
      auto at = part.find(raw, searched_to);
      if (at == std::string_view::npos)
        at = searched_to;
      // The words since the previous number, at most k_label_bytes, label this one.
      auto label_from = std::max(searched_to, at >= k_label_bytes ? at - k_label_bytes : 0);
      searched_to = std::min(part.size(), at + raw.size());
      const auto label = part.substr(label_from, at > label_from ? at - label_from : 0);
      const auto offset = static_cast<std::size_t>(part.data() - visible_text.data()) + at;
      if (looks_like_date(raw) || looks_like_outline_number(raw) || labelled_as_other(label) ||
          (needs_phone_label(part, at, raw) && !labelled_as_phone(label)) ||
          (in_code(offset) && !labelled_as_phone_in_code(label)))
        continue;
      add(m.number, "text");
    }
  };
  auto scan = [&](std::string_view part, int tries) {
    std::vector<matched_number> found;
    match(part, 0, part.size(), tries, found);
    keep(part, found);
  };
  // The matcher only around digits (see find_phone_windows): the same numbers, when its tries
  // provably do not run out; else over the whole part, as it would have been.
  auto scan_windows = [&](std::string_view part, int tries) {
    if (!phone_matcher_accepts(part))
      return; // the matcher reads nothing from it either
    auto windows = find_phone_windows(part);
    std::vector<matched_number> found;
    auto& cache = window_matches();
    const auto fewest_digits = fewest_valid_digits(region);
    for (auto w : windows.windows) {
      if (!window_may_hold_number(part.substr(w.begin, w.end - w.begin), fewest_digits))
        continue;
      auto key = region + ' ' + std::to_string(tries) + '\n';
      key.append(part.substr(w.begin, w.end - w.begin));
      if (const auto* known = cache.find(key)) {
        found.insert(found.end(), known->begin(), known->end());
        continue;
      }
      std::vector<matched_number> in_window;
      match(part, w.begin, w.end, tries, in_window);
      found.insert(found.end(), in_window.begin(), in_window.end());
      cache.put(key, std::move(in_window));
    }
    if ((found.size() + 1) * windows.tries_bound >= static_cast<std::size_t>(tries))
      return scan(part, tries);
    keep(part, found);
  };
  // On a page dense with digits (a price list, a table of articles) the numbers a label announces
  // ("Tel.", "Telefon", "Phone"...) are read first, wherever they are, so that the other numbers
  // cannot use up the tries before the footer's. Other pages skip this pass: their digits are too
  // few to use up the tries.
  auto digits = std::count_if(visible_text.begin(), visible_text.end(), is_digit);
  if (static_cast<std::size_t>(digits) > k_dense_digits)
    for (auto pos : phone_label_positions(visible_text, k_max_labels))
      scan(visible_text.substr(pos, k_labelled_bytes), 8);
  // Then the whole text, chunk by chunk, each chunk with its own tries.
  for (std::size_t begin = 0; begin < visible_text.size() && !out.truncated;) {
    auto end = chunk_boundary(visible_text, begin + k_chunk_bytes);
    auto chunk = visible_text.substr(begin, end - begin);
    if (how == text_scan::windows)
      scan_windows(chunk, k_tries_per_chunk);
    else
      scan(chunk, k_tries_per_chunk);
    begin = end;
  }
  return out;
}

} // namespace

phone_list extract_phones(const std::vector<std::string>& tel_links, std::string_view visible_text,
                          const std::string& region, std::size_t max_numbers,
                          const std::vector<std::string>& structured,
                          const text_spans& code_spans) {
  return find_phones(tel_links, visible_text, region, max_numbers, structured, code_spans,
                     text_scan::windows);
}

phone_list extract_phones_whole_text(const std::vector<std::string>& tel_links,
                                     std::string_view visible_text, const std::string& region,
                                     std::size_t max_numbers,
                                     const std::vector<std::string>& structured,
                                     const text_spans& code_spans) {
  return find_phones(tel_links, visible_text, region, max_numbers, structured, code_spans,
                     text_scan::whole);
}

std::string region_for_language(std::string_view language, const std::string& fallback) {
  auto dash = language.find_first_of("-_");
  std::string region;
  if (dash != std::string_view::npos && language.size() - dash - 1 == 2) {
    region = std::string(language.substr(dash + 1));
  } else if (language.size() >= 2) {
    // Languages whose main country is unambiguous enough; English and Portuguese are not.
    static const std::pair<std::string_view, std::string_view> k_countries[] = {
        {"de", "DE"}, {"fr", "FR"}, {"it", "IT"}, {"nl", "NL"}, {"pl", "PL"}, {"ja", "JP"},
        {"da", "DK"}, {"sv", "SE"}, {"fi", "FI"}, {"cs", "CZ"}, {"el", "GR"}, {"hu", "HU"},
        {"es", "ES"}, {"nb", "NO"}, {"nn", "NO"}, {"no", "NO"}};
    auto lang = ascii_lower(language.substr(0, 2));
    for (const auto& [code, country] : k_countries)
      if (lang == code)
        region = country;
  }
  std::transform(region.begin(), region.end(), region.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (region.empty() || !PhoneNumberUtil::GetInstance()->GetCountryCodeForRegion(region))
    return fallback;
  return region;
}

std::string region_for_host(std::string_view host) {
  auto colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(']') == std::string_view::npos)
    host = host.substr(0, colon);
  while (!host.empty() && host.back() == '.')
    host.remove_suffix(1);
  auto tld = ascii_lower(host.substr(host.rfind('.') + 1));
  if (tld.size() != 2 || host.find('.') == std::string_view::npos)
    return {};
  static constexpr std::array<std::string_view, 18> k_brand_tlds{
      "io", "co", "me", "tv", "ai", "ly", "fm", "am", "to",
      "ws", "cc", "gg", "so", "sh", "ac", "nu", "la", "eu"};
  if (std::find(k_brand_tlds.begin(), k_brand_tlds.end(), tld) != k_brand_tlds.end())
    return {};
  std::string region = tld == "uk" ? "GB" : ascii_lower(tld);
  for (auto& c : region)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return PhoneNumberUtil::GetInstance()->GetCountryCodeForRegion(region) ? region : std::string();
}

std::string page_phone_region(std::string_view language, std::string_view host,
                              const std::string& fallback) {
  auto dash = language.find_first_of("-_");
  if (dash != std::string_view::npos && language.size() - dash - 1 == 2) {
    auto region = region_for_language(language, "");
    if (!region.empty())
      return region;
  }
  if (auto region = region_for_host(host); !region.empty())
    return region;
  return region_for_language(language.substr(0, dash), fallback);
}

} // namespace sky::scrape
