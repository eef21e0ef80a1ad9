// Email extraction on real-world-shaped markup.
#include "scrape/email_extract.hpp"

#include <gtest/gtest.h>

using namespace sky::scrape;
using v = std::vector<std::string>;

TEST(email_extract, text_attributes_and_json_ld) {
  auto html = R"(<html><body><p>Write to Info@Example.com or sales@shop.example.co.uk.</p>
    <a href="/contact" data-owner="owner@example.com">Contact</a>
    <script type="application/ld+json">{"@context":"https://schema.org","email":"hello@bakery.de"}</script>
    <p>Again: info@example.com</p></body></html>)";
  EXPECT_EQ(extract_emails(html).addresses, (v{"info@example.com", "sales@shop.example.co.uk",
                                               "owner@example.com", "hello@bakery.de"}));
}

TEST(email_extract, mailto_links_drop_the_query_and_are_percent_decoded) {
  auto html = R"(<a href="mailto:Team%40Example.org?subject=Hi%20there&cc=x">mail us</a>
                 <a href='MAILTO:press@example.net'>press</a>)";
  EXPECT_EQ(extract_emails(html).addresses, (v{"team@example.org", "press@example.net"}));
}

TEST(email_extract, entities_and_obfuscations) {
  EXPECT_EQ(extract_emails("contact&#64;example.com").addresses, v{"contact@example.com"});
  EXPECT_EQ(extract_emails("contact&#x40;example&period;com").addresses, v{"contact@example.com"});
  EXPECT_EQ(extract_emails("contact&commat;example.com").addresses, v{"contact@example.com"});
  EXPECT_EQ(extract_emails("jane [at] example [dot] com").addresses, v{"jane@example.com"});
  EXPECT_EQ(extract_emails("jane(at)example(dot)com").addresses, v{"jane@example.com"});
  EXPECT_EQ(extract_emails("jane {AT} example {DOT} com").addresses, v{"jane@example.com"});
  EXPECT_TRUE(extract_emails("meet me at example dot com").addresses.empty());
}

TEST(email_extract, cloudflare_protection_is_decoded) {
  // "info@example.com" XOR 0x42, prefixed by the key.
  std::string plain = "info@example.com", hex = "42";
  const char* digits = "0123456789abcdef";
  for (char c : plain) {
    auto b = static_cast<unsigned char>(c) ^ 0x42;
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  EXPECT_EQ(decode_cfemail(hex), plain);
  auto html = "<a href=\"/cdn-cgi/l/email-protection\" class=\"__cf_email__\" data-cfemail=\"" +
              hex + "\">[email&#160;protected]</a>";
  EXPECT_EQ(extract_emails(html).addresses, v{"info@example.com"});
  EXPECT_EQ(extract_emails("<a href=\"/cdn-cgi/l/email-protection#" + hex + "\">x</a>").addresses,
            v{"info@example.com"});
  EXPECT_EQ(decode_cfemail("4"), "");
  EXPECT_EQ(decode_cfemail("zz11"), "");
}

TEST(email_extract, no_false_positives) {
  for (const char* bad :
       {"<img src=\"logo@2x.png\">", "sprite@3x.webp", "user@localhost", "a@b", "name@example.c",
        "@example.com", "x@-bad.com", "npm i package@1.2.3", "git@github", "foo@bar..com"})
    EXPECT_TRUE(extract_emails(bad).addresses.empty()) << bad;
}

TEST(email_extract, pathological_input_stays_linear_and_bounded) {
  std::string many_ats(200000, '@');
  EXPECT_TRUE(extract_emails(many_ats).addresses.empty());
  std::string long_local(100000, 'a');
  EXPECT_TRUE(
      extract_emails(long_local + "@example.com" + std::string(1000, 'x')).addresses.size() <= 1);
  std::string chain;
  for (int i = 0; i < 20000; ++i)
    chain += "a@a.";
  EXPECT_NO_THROW(extract_emails(chain));
}

TEST(email_extract, stops_at_the_cap_and_says_so) {
  std::string page;
  for (int i = 0; i < 100'000; ++i)
    page += "user" + std::to_string(i) + "@example.com ";
  auto found = extract_emails(page, 5);
  EXPECT_EQ(found.addresses, (v{"user0@example.com", "user1@example.com", "user2@example.com",
                                "user3@example.com", "user4@example.com"}));
  EXPECT_TRUE(found.truncated);
  auto exact = extract_emails("a@example.com b@example.com a@example.com", 2);
  EXPECT_EQ(exact.addresses, (v{"a@example.com", "b@example.com"}));
  EXPECT_FALSE(exact.truncated);
}

TEST(email_extract, repeats_of_one_address_are_not_read_forever) {
  // One address a million times: distinct results stay few, so the candidate count stops it.
  std::string page;
  for (int i = 0; i < 1'000'000; ++i)
    page += "same@example.com ";
  auto found = extract_emails(page, 10);
  EXPECT_EQ(found.addresses, v{"same@example.com"});
  EXPECT_TRUE(found.truncated);
}
