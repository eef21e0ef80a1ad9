// robots.txt: groups, precedence, wildcards, sitemaps, limits.
#include "scrape/robots.hpp"

#include <gtest/gtest.h>

using namespace sky::scrape;

TEST(robots, star_group_applies_when_no_group_names_us) {
  auto r =
      parse_robots("User-agent: *\nDisallow: /private/\nAllow: /private/public\n", "ScraperSkyBot");
  EXPECT_TRUE(r.allowed("/"));
  EXPECT_FALSE(r.allowed("/private/x"));
  EXPECT_TRUE(r.allowed("/private/public/page"));
  EXPECT_TRUE(r.allowed("/robots.txt"));
}

TEST(robots, our_own_group_replaces_the_star_group) {
  auto text = "User-agent: *\nDisallow: /\n\nUser-agent: OtherBot\nUser-agent: scraperskybot\n"
              "Disallow: /cart\nCrawl-delay: 2.5\n";
  auto r = parse_robots(text, "ScraperSkyBot");
  EXPECT_TRUE(r.allowed("/products"));
  EXPECT_FALSE(r.allowed("/cart/checkout"));
  ASSERT_TRUE(r.crawl_delay_s);
  EXPECT_DOUBLE_EQ(*r.crawl_delay_s, 2.5);
  auto other = parse_robots(text, "SomeoneElse");
  EXPECT_FALSE(other.allowed("/products"));
  // A longer product name is not us, so the "*" group applies.
  auto longer =
      parse_robots("User-agent: scraperskybot-x\nDisallow: /\n\nUser-agent: *\nDisallow: /tmp\n",
                   "ScraperSkyBot");
  EXPECT_TRUE(longer.allowed("/page"));
  EXPECT_FALSE(longer.allowed("/tmp/x"));
  // A versioned token in the file still names us.
  EXPECT_FALSE(parse_robots("User-agent: ScraperSkyBot/2.1\nDisallow: /\n", "ScraperSkyBot")
                   .allowed("/page"));
}

TEST(robots, longest_match_wins_and_allow_wins_ties) {
  auto r = parse_robots("User-agent: *\nDisallow: /a\nAllow: /a/b\nDisallow: /a/b/c\n"
                        "Allow: /tie\nDisallow: /tie\n",
                        "bot");
  EXPECT_FALSE(r.allowed("/a/x"));
  EXPECT_TRUE(r.allowed("/a/b/x"));
  EXPECT_FALSE(r.allowed("/a/b/c/d"));
  EXPECT_TRUE(r.allowed("/tie"));
}

TEST(robots, wildcards_and_end_anchor) {
  EXPECT_TRUE(robots_pattern_matches("/*.pdf$", "/docs/a.pdf"));
  EXPECT_FALSE(robots_pattern_matches("/*.pdf$", "/docs/a.pdf?x=1"));
  EXPECT_TRUE(robots_pattern_matches("/*?session=", "/shop?session=1"));
  EXPECT_TRUE(robots_pattern_matches("/fish*", "/fish.html"));
  EXPECT_TRUE(robots_pattern_matches("/fish", "/fishheads/yummy.html"));
  EXPECT_FALSE(robots_pattern_matches("/fish", "/Fish.asp"));
  EXPECT_TRUE(robots_pattern_matches("/", "/anything"));
  EXPECT_TRUE(robots_pattern_matches("/a$", "/a"));
  EXPECT_FALSE(robots_pattern_matches("/a$", "/ab"));
  // Pathological patterns stay fast.
  std::string stars(200, '*');
  EXPECT_FALSE(robots_pattern_matches("/" + stars + "x$", "/" + std::string(2000, 'a')));
}

TEST(robots, empty_disallow_allows_everything_and_sitemaps_are_global) {
  auto r = parse_robots("Sitemap: https://example.com/sitemap.xml\nUser-agent: *\nDisallow:\n"
                        "sitemap: https://example.com/news.xml # news\n",
                        "bot");
  EXPECT_TRUE(r.allowed("/anything"));
  EXPECT_EQ(r.sitemaps, (std::vector<std::string>{"https://example.com/sitemap.xml",
                                                  "https://example.com/news.xml"}));
}

TEST(robots, junk_and_huge_input) {
  auto r = parse_robots("\x01\x02 garbage\nDisallow: /before-any-agent\n\r\n:::\n", "bot");
  EXPECT_TRUE(r.allowed("/before-any-agent"));
  std::string huge = "User-agent: *\n";
  while (huge.size() < 2 * 1024 * 1024)
    huge += "Disallow: /x" + std::to_string(huge.size()) + "\n";
  auto big = parse_robots(huge, "bot");
  EXPECT_LT(big.rules.size(), 60000u); // only the first 512 KiB are read
  EXPECT_FALSE(big.rules.empty());
}
