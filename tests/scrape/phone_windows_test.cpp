// The digit windows phone matching runs in, and the proof that matching only there finds what
// matching the whole text finds.
#include "scrape/phone_extract.hpp"
#include "scrape/phone_windows.hpp"

#include <cstdio>
#include <gtest/gtest.h>
#include <phonenumbers/phonenumberutil.h>
#include <random>
#include <set>

using namespace sky::scrape;

namespace {

std::string window_text(std::string_view text, const text_span& w) {
  return std::string(text.substr(w.begin, w.end - w.begin));
}

std::vector<std::string> described(const phone_list& phones) {
  std::vector<std::string> out;
  for (const auto& p : phones.numbers)
    out.push_back(p.e164 + "/" + p.source);
  if (phones.truncated)
    out.push_back("truncated");
  return out;
}

} // namespace

TEST(phone_windows, text_without_digits_has_none) {
  EXPECT_TRUE(find_phone_windows("").windows.empty());
  auto words = find_phone_windows("Fresh bread every morning, call us \xC2\xA0 or write.");
  EXPECT_TRUE(words.windows.empty());
  EXPECT_EQ(words.tries_bound, 0u);
}

TEST(phone_windows, windows_stop_at_the_text_ends) {
  std::string text = "030 1234567 is our number and this sentence goes on long enough to end.";
  auto start = find_phone_windows(text).windows;
  ASSERT_EQ(start.size(), 1u);
  EXPECT_EQ(start[0].begin, 0u);
  EXPECT_LT(start[0].end, text.size());
  // Past the number: k_phone_link_distance (24) code points that are not spaces.
  EXPECT_EQ(window_text(text, start[0]), "030 1234567 is our number and this senten");

  text = "A sentence long enough to start somewhere before our number: 030 1234567";
  auto end = find_phone_windows(text).windows;
  ASSERT_EQ(end.size(), 1u);
  EXPECT_EQ(end[0].end, text.size());
  // Before it: k_phone_lead_margin (16) code points.
  EXPECT_EQ(window_text(text, end[0]), "ore our number: 030 1234567");
}

TEST(phone_windows, near_digits_share_a_window_and_far_ones_do_not) {
  std::string filler(200, 'a');
  auto two = find_phone_windows("Tel 030 123 " + filler + " Fax 030 124").windows;
  EXPECT_EQ(two.size(), 2u);
  // An extension after any run of spaces, commas and hyphens stays with its number.
  auto ext =
      find_phone_windows("Call 202 456 1111 ,,, - - ,,,,,,,,,,,,,,,,,,,,,, ext. 12 " + filler)
          .windows;
  ASSERT_EQ(ext.size(), 1u);
  // Windows that would overlap merge: 30 letters apart is a new cluster, but the lead margin of
  // the second reaches into the first window.
  auto merged = find_phone_windows("1 " + std::string(30, 'b') + " 2").windows;
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_EQ(merged[0].begin, 0u);
}

TEST(phone_windows, windows_never_cut_a_utf8_sequence) {
  // Two-, three- and four-byte code points right before and after the digits.
  for (std::string around : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x93\x9E"}) {
    std::string side;
    for (int i = 0; i < 40; ++i)
      side += around;
    std::string text = side + "0301234567" + side;
    auto windows = find_phone_windows(text).windows;
    ASSERT_EQ(windows.size(), 1u) << around;
    auto lead = [&](std::size_t pos) {
      return pos == text.size() || (static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80;
    };
    EXPECT_TRUE(lead(windows[0].begin)) << around;
    EXPECT_TRUE(lead(windows[0].end)) << around;
    // k_phone_lead_margin code points before the digits.
    EXPECT_EQ(windows[0].begin, side.size() - k_phone_lead_margin * around.size()) << around;
  }
}

TEST(phone_windows, digits_of_other_scripts_count) {
  // Arabic-Indic and full-width digits: the matcher reads them as digits too.
  EXPECT_EQ(find_phone_windows("\xD9\xA0\xD9\xA3\xD9\xA0").windows.size(), 1u);
  EXPECT_EQ(find_phone_windows("\xEF\xBC\x90\xEF\xBC\x93").windows.size(), 1u);
  // A digit within an eight-byte block of letters, at every offset.
  for (std::size_t at = 0; at < 24; ++at) {
    std::string text(24, 'x');
    text[at] = '7';
    auto windows = find_phone_windows(text).windows;
    ASSERT_EQ(windows.size(), 1u) << at;
    EXPECT_LE(windows[0].begin, at);
    EXPECT_GT(windows[0].end, at);
  }
}

TEST(phone_windows, the_tries_bound_grows_with_what_candidates_hold) {
  auto one = find_phone_windows("call (202) 456-1111 today").tries_bound;
  auto two = find_phone_windows("call (202) 456-1111 or (202) 456-1112 today").tries_bound;
  EXPECT_GT(one, 10u);
  EXPECT_GT(two, one);
}

TEST(phone_windows, windows_of_three_digits_or_fewer_hold_no_number) {
  EXPECT_FALSE(window_may_hold_number("sales12@site3.bench-bakery.com"));
  EXPECT_FALSE(window_may_hold_number("call 1 int 23 now"));
  EXPECT_TRUE(window_may_hold_number("call 1 ext 23 now"));
  EXPECT_TRUE(window_may_hold_number("(202) 456-1111"));
  EXPECT_TRUE(window_may_hold_number("2026 site"));
  EXPECT_TRUE(window_may_hold_number("12 x 3")); // 'x' may be read as a digit
  EXPECT_TRUE(window_may_hold_number("x12"));
  EXPECT_TRUE(window_may_hold_number("1xxx2x3"));
  EXPECT_TRUE(window_may_hold_number("12 ext 3"));
  EXPECT_TRUE(window_may_hold_number("(xxx) 12"));
  EXPECT_FALSE(window_may_hold_number("Home Next Contact site3.bench-bakery.com"));
  EXPECT_FALSE(window_may_hold_number("next delivery, 24 boxes"));
  EXPECT_TRUE(window_may_hold_number("Express delivery, 24 boxes")); // "Ex" may start "ext"
  EXPECT_TRUE(window_may_hold_number("\xEF\xBC\x91 2"));             // full-width digits
  // Digits join through up to four punctuation characters or an extension label, not letters.
  EXPECT_FALSE(window_may_hold_number("sales123@site33.bench-bakery.com"));
  EXPECT_FALSE(window_may_hold_number("12 pieces 34"));
  EXPECT_TRUE(window_may_hold_number("12 (3) 4"));
  EXPECT_TRUE(window_may_hold_number("12 - . 34"));
  EXPECT_TRUE(window_may_hold_number("12 int 34"));
  EXPECT_TRUE(window_may_hold_number("12, INT. 34"));
  EXPECT_TRUE(window_may_hold_number("12 anexo 34"));
  EXPECT_TRUE(window_may_hold_number("12 # 34"));
  EXPECT_TRUE(window_may_hold_number("12;ext=34"));
  EXPECT_TRUE(window_may_hold_number("12 , , , - - 34"));
  EXPECT_FALSE(window_may_hold_number("12 ; 34"));
  // What that rests on: libphonenumber knows no valid number of one to three digits, with or
  // without a country code, in any region (every region, a sample of the digit strings).
  const auto& util = *i18n::phonenumbers::PhoneNumberUtil::GetInstance();
  std::set<std::string> regions;
  util.GetSupportedRegions(&regions);
  regions.insert("ZZ");
  std::vector<std::string> strings;
  for (int length = 1, count = 10; length <= 3; ++length, count *= 10)
    for (int value = 0; value < count; ++value) {
      auto digits = std::to_string(value);
      strings.push_back(std::string(length - digits.size(), '0') + digits);
    }
  for (std::size_t i = 0; i < strings.size(); ++i)
    for (const auto& region : regions) {
      if (i % 53 != 0 && region != "ZZ" && region != "US" && region != "DE")
        continue;
      for (const auto& text : {strings[i], "+" + strings[i]}) {
        i18n::phonenumbers::PhoneNumber number;
        if (util.Parse(text, region, &number) ==
            i18n::phonenumbers::PhoneNumberUtil::NO_PARSING_ERROR) {
          EXPECT_FALSE(util.IsValidNumber(number)) << region << " " << text;
        }
      }
    }
}

TEST(phone_windows, a_group_of_four_digits_is_ruled_out_where_no_number_has_four) {
  EXPECT_TRUE(window_may_hold_number("\xC2\xA9 2026 site", 4));
  EXPECT_FALSE(window_may_hold_number("\xC2\xA9 2026 site", 5) &&
               window_may_hold_number("2026 site", 5));
  EXPECT_FALSE(window_may_hold_number("2026 site3.bench-bakery.com, order 1234.", 5));
  EXPECT_TRUE(window_may_hold_number("2026 1", 5)); // the space joins them: five digits
  EXPECT_TRUE(window_may_hold_number("20-26-1", 5));
  EXPECT_TRUE(window_may_hold_number("12345", 5));
}

TEST(phone_windows, four_digit_numbers_are_found_where_a_region_has_them) {
  // A few small territories have valid four-digit numbers; there the windows keep four-digit
  // groups, elsewhere a year costs no matcher run. Both read what whole-text matching reads.
  const auto& util = *i18n::phonenumbers::PhoneNumberUtil::GetInstance();
  std::vector<std::pair<std::string, std::string>> four_digit; // region, a valid number there
  for (const char* region : {"NU", "TK", "SH", "FK", "CK"}) {
    char digits[5] = {};
    for (int value = 0; value < 10000; ++value) {
      std::snprintf(digits, sizeof digits, "%04d", value);
      i18n::phonenumbers::PhoneNumber number;
      if (util.Parse(digits, region, &number) ==
              i18n::phonenumbers::PhoneNumberUtil::NO_PARSING_ERROR &&
          util.IsValidNumber(number)) {
        four_digit.emplace_back(region, digits);
        break;
      }
    }
  }
  ASSERT_FALSE(four_digit.empty()) << "no region with four-digit numbers: nothing to test";
  for (const auto& [region, number] : four_digit) {
    auto text = "Bakery. Call " + number + " today. \xC2\xA9 2026 Bakery, order 1234.";
    auto windowed = extract_phones({}, text, region);
    EXPECT_EQ(described(windowed), described(extract_phones_whole_text({}, text, region)))
        << region;
    EXPECT_FALSE(windowed.numbers.empty()) << region << " " << number;
  }
  for (const char* region : {"US", "DE", "GB", "FR"}) {
    std::string text = "Fresh bread. \xC2\xA9 2026 Bakery, order 1234, 7 days a week.";
    auto windowed = extract_phones({}, text, region);
    EXPECT_TRUE(windowed.numbers.empty()) << region;
    EXPECT_EQ(described(windowed), described(extract_phones_whole_text({}, text, region)));
  }
}

TEST(phone_windows, the_matcher_accepts_interchange_valid_utf8_only) {
  EXPECT_TRUE(phone_matcher_accepts(""));
  EXPECT_TRUE(phone_matcher_accepts("Tel. 030 1234567\tStra\xC3\x9F"
                                    "e 5\r\n\xE2\x82\xAC \xEF\xBF\xBD"));
  EXPECT_FALSE(phone_matcher_accepts("Tel. 030 1234567 \x01"));
  EXPECT_FALSE(phone_matcher_accepts("Stra\xC3(e"));
  EXPECT_FALSE(phone_matcher_accepts("long enough for the fast path \xC3"));
  EXPECT_FALSE(phone_matcher_accepts("\xEF\xBF\xBE")); // U+FFFE
  EXPECT_FALSE(phone_matcher_accepts("abc\x7f"));
  for (std::size_t at = 0; at < 20; ++at) {
    std::string text(20, 'x');
    text[at] = '\x1f';
    EXPECT_FALSE(phone_matcher_accepts(text)) << at;
  }
}

// The windows exist for speed only: on texts full of what the matcher reacts to (numbers in many
// forms, extensions, dates, times, labels, non-ASCII digits and spaces), the numbers are those
// the matcher finds in the whole text, in the same order, with the same cap.
TEST(phone_windows, windowed_matching_finds_what_whole_text_matching_finds) {
  const std::vector<std::string> words = {"bakery",
                                          "fresh bread",
                                          "Tel.",
                                          "Telefon:",
                                          "Fax",
                                          "phone",
                                          "Bestellnummer:",
                                          "No.",
                                          "\xC2\xA0",
                                          ",,,,",
                                          "-----",
                                          "Stra\xC3\x9F"
                                          "e",
                                          "\xE9\x9B\xBB\xE8\xA9\xB1",
                                          "%",
                                          "\xE2\x82\xAC",
                                          "(",
                                          "[",
                                          "+",
                                          "/",
                                          "ext.",
                                          "x",
                                          "#",
                                          ":",
                                          "*",
                                          "\xEF\xBC\x88"};
  const std::vector<std::string> numbers = {
      "(202) 456-1111",
      "202-456-1112",
      "+1 202 456 1113",
      "+49 30 1234567",
      "030 1234 5678",
      "030/12345-0",
      "089 / 12 34 56-0",
      "+44 (0)20 7946 0000",
      "01 23 45 67 89",
      "06.1234.5678",
      "ext. 12",
      "x123",
      "extensi\xC3\xB3n 4",
      ";ext=55",
      "- 503#",
      "12.03.2024",
      "2024-03-12 08:00",
      "3/10/2011",
      ":30",
      "211-227 (2003)",
      "$1,299.00",
      "42",
      "7",
      "abc8005001234",
      "8005001234def",
      "*1234",
      "12 int 3",
      "1 anexo 23",
      "site3",
      "sales12@site3",
      "1x2",
      "12 ; 3",
      "1 # 2",
      "12, INT. 3",
      "2026",
      "Next 12 boxes 3",
      "\xD9\xA0\xD9\xA3\xD9\xA0 \xD9\xA1\xD9\xA2\xD9\xA3\xD9\xA4\xD9\xA5\xD9\xA6\xD9\xA7",
      "\xEF\xBC\x90\xEF\xBC\x93\xEF\xBC\x90\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93"
      "\xEF\xBC\x94\xEF\xBC\x95\xEF\xBC\x96\xEF\xBC\x97"};
  std::mt19937 rng(7);
  for (int round = 0; round < 150; ++round) {
    // Mostly words, as pages are: numbers in one piece of 3 to 30 (or, rarely, most pieces).
    std::string text;
    auto length = round % 25 == 0 ? 1500 : 5 + rng() % 80;
    auto number_odds = round % 25 == 1 ? 2 : 3 + rng() % 28;
    for (std::size_t i = 0; i < length; ++i) {
      const auto& from = rng() % number_odds == 0 ? numbers : words;
      text += from[rng() % from.size()];
      if (rng() % 4 != 0)
        text += ' ';
    }
    for (const char* region : {"US", "DE"})
      for (std::size_t cap : {2u, 20u}) {
        auto windowed = extract_phones({}, text, region, cap);
        auto whole = extract_phones_whole_text({}, text, region, cap);
        ASSERT_EQ(described(windowed), described(whole)) << region << " " << cap << "\n" << text;
      }
  }
}
