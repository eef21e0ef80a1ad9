// Tech signatures: markers anywhere in the page or headers, in any ASCII case.
#include "scrape/tech_stack.hpp"

#include <gtest/gtest.h>

using namespace sky::scrape;

using names = std::vector<std::string>;

TEST(tech_stack, markers_at_the_very_start_and_end_of_the_page) {
  EXPECT_EQ(detect_tech_stack("wp-json"), names{"WordPress"});
  EXPECT_EQ(detect_tech_stack("<p>text</p>wp-json"), names{"WordPress"});
  EXPECT_EQ(detect_tech_stack("wp-json<p>text</p>"), names{"WordPress"});
  // Cut one byte short, at the end: nothing.
  EXPECT_TRUE(detect_tech_stack("<p>text</p>wp-jso").empty());
  EXPECT_TRUE(detect_tech_stack("wp-").empty());
  EXPECT_TRUE(detect_tech_stack("").empty());
}

TEST(tech_stack, any_ascii_case_matches) {
  EXPECT_EQ(detect_tech_stack("<script src=\"/JQuery.Min.JS\">"), names{"jQuery"});
  EXPECT_EQ(detect_tech_stack("<div DATA-REACTROOT>"), names{"React"});
  EXPECT_EQ(detect_tech_stack("<SCRIPT>GTAG('CONFIG', 'G-123')</SCRIPT>"),
            names{"Google Analytics"});
  // Only A-Z fold: '_' and '@' are not the same as DEL and '`'.
  EXPECT_TRUE(detect_tech_stack("\x7f\x7fnext_data\x7f\x7f").empty());
  EXPECT_EQ(detect_tech_stack("__NEXT_DATA__"), names{"Next.js"});
}

TEST(tech_stack, names_come_in_table_order_once_each) {
  auto found = detect_tech_stack("fonts.gstatic.com jquery.js /wp-content/ /wp-includes/ "
                                 "font-awesome wp-json JQUERY.JS",
                                 "Server: cloudflare\r\n");
  EXPECT_EQ(found, (names{"WordPress", "jQuery", "Cloudflare", "Google Fonts", "Font Awesome"}));
}

TEST(tech_stack, no_marker_spans_the_headers_and_the_page) {
  EXPECT_TRUE(detect_tech_stack("json", "X: wp-").empty());
  EXPECT_EQ(detect_tech_stack("", "X-Shopid: 1"), names{"Shopify"});
}

TEST(tech_stack, near_misses_and_marker_prefixes_in_ordinary_text) {
  // "contact", "image", "service", "data" share four bytes with markers; they are not them.
  EXPECT_TRUE(detect_tech_stack("Contact our service team: image data, static content, "
                                "reach us, Google it, fonts are nice, boots and hubs.")
                  .empty());
  std::string page(20000, 'x');
  page.replace(page.size() - 14, 14, "cdn-cgi/trace.");
  EXPECT_EQ(detect_tech_stack(page), names{"Cloudflare"});
}

TEST(tech_stack, markers_are_found_at_every_offset_from_the_page_start_and_end) {
  // The search looks at every third position: a marker must be found whichever of them falls
  // inside it, the shortest markers (six bytes) included.
  for (std::string marker : {"cf-ray", "ng-app", "wp-json", "googletagmanager.com/gtm.js"})
    for (std::size_t before = 0; before < 7; ++before)
      for (std::size_t after = 0; after < 4; ++after) {
        auto page = std::string(before, 'x') + marker + std::string(after, 'y');
        EXPECT_EQ(detect_tech_stack(page).size(), 1u) << page;
        page[before + marker.size() - 1] = '!'; // one byte short: nothing
        EXPECT_TRUE(detect_tech_stack(page).empty()) << page;
      }
}
