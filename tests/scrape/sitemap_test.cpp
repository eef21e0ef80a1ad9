// Sitemap parsing: the protocol's shapes, and the limits that keep hostile files cheap.
#include "fixtures/fixture_web.hpp"
#include "scrape/sitemap.hpp"

#include <chrono>
#include <gtest/gtest.h>

using namespace sky::scrape;

namespace {

using sky::fixtures::gzip;

std::string urlset(int n) {
  std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">)";
  for (int i = 0; i < n; ++i)
    xml += "<url><loc>https://example.com/p/" + std::to_string(i) + "</loc></url>";
  return xml + "</urlset>";
}

} // namespace

TEST(sitemap, reads_a_urlset_with_optional_fields) {
  auto doc = parse_sitemap(R"(<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc> https://example.com/a?x=1&amp;y=2 </loc>
    <lastmod>2026-01-02</lastmod><changefreq>daily</changefreq><priority>0.8</priority>
    <image:image><image:loc>https://example.com/img.png</image:loc></image:image>
  </url>
  <url><loc><![CDATA[https://example.com/b]]></loc><priority>7</priority></url>
  <url><loc>javascript:alert(1)</loc></url>
  <url><lastmod>2026-01-02</lastmod></url>
</urlset>)");
  ASSERT_EQ(doc.type, sitemap_document::kind::urlset) << doc.error;
  ASSERT_EQ(doc.urls.size(), 2u);
  EXPECT_EQ(doc.urls[0].loc, "https://example.com/a?x=1&y=2");
  EXPECT_EQ(doc.urls[0].lastmod, "2026-01-02");
  EXPECT_EQ(doc.urls[0].changefreq, "daily");
  EXPECT_EQ(doc.urls[0].priority, 0.8);
  EXPECT_EQ(doc.urls[1].loc, "https://example.com/b");
  EXPECT_FALSE(doc.urls[1].priority) << "out-of-range priority is dropped";
}

TEST(sitemap, reads_an_index) {
  auto doc = parse_sitemap(R"(<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <sitemap><loc>https://example.com/s1.xml</loc><lastmod>2026-01-01</lastmod></sitemap>
    <sitemap><loc>https://example.com/s2.xml.gz</loc></sitemap></sitemapindex>)");
  ASSERT_EQ(doc.type, sitemap_document::kind::index);
  EXPECT_EQ(doc.type_name(), "sitemapindex");
  EXPECT_EQ(doc.sitemaps, (std::vector<std::string>{"https://example.com/s1.xml",
                                                    "https://example.com/s2.xml.gz"}));
}

TEST(sitemap, reads_plain_text_lists_and_rejects_other_text) {
  auto doc = parse_sitemap("https://example.com/a\r\n\nhttps://example.com/b\n");
  ASSERT_EQ(doc.type, sitemap_document::kind::text);
  EXPECT_EQ(doc.urls.size(), 2u);
  EXPECT_EQ(parse_sitemap("hello world\n").type, sitemap_document::kind::invalid);
  EXPECT_EQ(parse_sitemap("").type, sitemap_document::kind::invalid);
}

TEST(sitemap, gunzips_by_magic_bytes) {
  auto doc = parse_sitemap(gzip(urlset(3)));
  ASSERT_EQ(doc.type, sitemap_document::kind::urlset) << doc.error;
  EXPECT_EQ(doc.urls.size(), 3u);
}

TEST(sitemap, stops_at_the_url_cap) {
  sitemap_limits limits;
  limits.max_urls = 10;
  auto doc = parse_sitemap(urlset(25), limits);
  EXPECT_EQ(doc.urls.size(), 10u);
  EXPECT_TRUE(doc.truncated);
}

TEST(sitemap, other_xml_roots_and_broken_xml_are_errors) {
  EXPECT_NE(parse_sitemap("<rss><channel/></rss>").error.find("root element <rss>"),
            std::string::npos);
  auto broken = parse_sitemap("<urlset><url><loc>https://example.com/</loc></url>");
  EXPECT_EQ(broken.type, sitemap_document::kind::invalid);
}

TEST(sitemap, billion_laughs_is_refused_before_any_expansion) {
  std::string bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">";
  for (int i = 1; i <= 9; ++i) {
    bomb += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k)
      bomb += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
    bomb += "\">";
  }
  bomb += "]><urlset><url><loc>&lol9;</loc></url></urlset>";
  auto start = std::chrono::steady_clock::now();
  auto doc = parse_sitemap(bomb);
  EXPECT_EQ(doc.type, sitemap_document::kind::invalid);
  EXPECT_NE(doc.error.find("DTD"), std::string::npos) << doc.error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(sitemap, external_entities_are_refused) {
  auto doc =
      parse_sitemap(R"(<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<urlset><url><loc>&x;</loc></url></urlset>)");
  EXPECT_EQ(doc.type, sitemap_document::kind::invalid);
  EXPECT_NE(doc.error.find("DTD"), std::string::npos);
}

TEST(sitemap, gzip_bombs_stop_at_the_byte_cap) {
  sitemap_limits limits;
  limits.max_bytes = 1 << 20;
  auto bomb = gzip(std::string(64u << 20, ' ')); // 64 MiB of spaces in ~64 KiB
  auto start = std::chrono::steady_clock::now();
  auto doc = parse_sitemap(bomb, limits);
  EXPECT_EQ(doc.type, sitemap_document::kind::invalid);
  EXPECT_NE(doc.error.find("exceeds"), std::string::npos) << doc.error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(sitemap, corrupt_and_truncated_gzip_are_errors) {
  auto good = gzip(urlset(100));
  std::string error;
  EXPECT_FALSE(gunzip_capped(good.substr(0, good.size() / 2), 1 << 20, error));
  EXPECT_FALSE(error.empty());
  std::string corrupt = good;
  corrupt[20] ^= 0x55;
  corrupt[21] ^= 0x55;
  EXPECT_EQ(parse_sitemap(corrupt).type, sitemap_document::kind::invalid);
}
