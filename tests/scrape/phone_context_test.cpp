// What numbers are not phones: code, dumps, constants, outlines, registers, and fax words of
// many languages. Written from the kinds of number real documentation pages and small-business
// sites show, not from one page.
#include "scrape/page_analysis.hpp"
#include "scrape/page_metadata.hpp"
#include "scrape/phone_extract.hpp"

#include <gtest/gtest.h>

using namespace sky::scrape;

namespace {

// Pages as the fetcher hands them over: UTF-8, and saying so.
std::vector<std::string> phones_of(const std::string& html, const std::string& url) {
  std::vector<std::string> out;
  for (const auto& p : analyze_page("<meta charset=\"utf-8\">" + html, url).phones)
    out.push_back(p.e164);
  return out;
}

using v = std::vector<std::string>;

} // namespace

TEST(phone_context, numbers_in_code_are_read_only_under_a_label_written_for_a_reader) {
  EXPECT_TRUE(phones_of("<pre>0000: ab 90 78 56 34 12 00 ff\nx = 2147483647;</pre>",
                        "https://docs.acme-tools.com/")
                  .empty());
  EXPECT_TRUE(phones_of("<pre>INSERT INTO t VALUES('Alice','704-555-1212');</pre>",
                        "https://docs.acme-tools.com/")
                  .empty());
  EXPECT_TRUE(phones_of("<pre><code>const contact = { phone: \"+44 20 7946 0958\" };</code></pre>",
                        "https://studio.acme-tools.co.uk/")
                  .empty());
  EXPECT_TRUE(phones_of("<pre>.parameter set @phoneNumber \"'202-456-1111'\"</pre>",
                        "https://docs.acme-tools.com/")
                  .empty());
  // A help page in <pre> that names a phone for its reader.
  EXPECT_EQ(phones_of("<pre>Author:  Avner Lottem\n   Phone:  +972-4-8307322</pre>",
                      "https://docs.acme-tools.com/"),
            v{"+97248307322"});
  // The same number outside code is read as before.
  EXPECT_EQ(phones_of("<p>Call us: (202) 555-0143</p><pre>x = 2025550143</pre>",
                      "https://acme-tools.com/"),
            v{"+12025550143"});
}

TEST(phone_context, code_spans_follow_the_text_past_its_head_and_tail) {
  std::string html = "<p>";
  for (int i = 0; i < 30000; ++i)
    html += "word" + std::to_string(i % 10) + " ";
  html += "</p><pre>dump 2147483647 9078563412</pre><p>Telefon: 030 1234567</p>";
  auto meta = extract_metadata(html, "https://firma-muster.de/");
  ASSERT_FALSE(meta.code_spans.empty());
  for (auto [begin, end] : meta.code_spans) {
    ASSERT_LE(begin, end);
    ASSERT_LE(end, meta.text.size());
    EXPECT_NE(meta.text.substr(begin, end - begin).find("2147483647"), std::string::npos);
  }
  EXPECT_EQ(phones_of("<html lang=de>" + html, "https://firma-muster.de/"), v{"+49301234567"});
}

TEST(phone_context, dumps_constants_and_bare_runs_need_a_phone_label) {
  const std::string url = "https://acme-tools.com/";
  EXPECT_TRUE(phones_of("<p>The key ab9078563412cd is derived from the seed.</p>", url).empty());
  EXPECT_TRUE(phones_of("<p>INT_MAX is 2147483647 on this platform.</p>", url).empty());
  EXPECT_TRUE(phones_of("<p>Serial 12345678901 shipped.</p>", url).empty());
  EXPECT_EQ(phones_of("<p>Phone 2025550143</p>", url), v{"+12025550143"});
  EXPECT_EQ(phones_of("<p>\u260e 2025550143</p>", url), v{"+12025550143"});
  EXPECT_EQ(phones_of("<p>Call (202) 555-0143 today</p>", url), v{"+12025550143"});
}

TEST(phone_context, outlines_versions_and_date_ranges_are_not_phones) {
  EXPECT_TRUE(phones_of("<p>as described in Section 9.16.2.3. 9.16.2.1. Strict and Lax Modes</p>",
                        "https://docs.acme-tools.com/")
                  .empty());
  EXPECT_TRUE(
      phones_of("<p>release 1.5.8.22.5.9.2.2.1.1.1</p>", "https://docs.acme-tools.com/").empty());
  EXPECT_TRUE(phones_of("<html lang=cs><p>Slavnosti (20.\u201322. 6. 2025) jsou</p></html>",
                        "https://penzion-lipa.cz/")
                  .empty());
  // French numbers are written in pairs with dots: still phones.
  EXPECT_EQ(phones_of("<html lang=fr><p>T\u00e9l\u00e9phone : 05.56.44.12.87</p></html>",
                      "https://cabinet-martin.fr/"),
            v{"+33556441287"});
}

TEST(phone_context, faxes_registers_and_bank_numbers_in_many_languages_are_not_phones) {
  EXPECT_EQ(phones_of("<html lang=fr><p>T\u00e9l\u00e9phone : 05 56 44 12 87<br>"
                      "T\u00e9l\u00e9copie : 05 56 44 12 88</p></html>",
                      "https://cabinet-martin.fr/"),
            v{"+33556441287"});
  EXPECT_EQ(phones_of("<html lang=pl><p>Telefon: 12 345 67 89<br>Faks: 12 345 67 90</p></html>",
                      "https://kancelaria-nowak.pl/"),
            v{"+48123456789"});
  EXPECT_TRUE(phones_of("<html lang=nl><p>Ondernemingsnummer 0456.789.123</p></html>",
                        "https://tandarts-peeters.be/")
                  .empty());
  EXPECT_TRUE(phones_of("<html lang=sv><p>Bankgiro 5050-1055 \u00b7 Org.nr 556677-8899</p></html>",
                        "https://frisor-berg.se/")
                  .empty());
}
