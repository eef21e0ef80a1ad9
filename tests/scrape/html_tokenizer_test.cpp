#include "scrape/html_tokenizer.hpp"
#include "scrape/page_analysis.hpp"
#include "scrape/page_metadata.hpp"
#include "scrape/page_metadata_reference.hpp"
#include "support/fixture_server.hpp"
#include "support/raw_http.hpp"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace sky::scrape;

namespace {

// Events written back as a compact markup: <tag a="v">, </tag>, text, {raw}.
class event_log final : public html_handler {
public:
  std::string out;
  void start_element(std::string_view name, std::span<const html_attribute> attributes) override {
    out += '<';
    out += name;
    for (const auto& a : attributes) {
      out += ' ';
      out += a.name;
      out += "=\"";
      out += a.value;
      out += '"';
    }
    out += '>';
  }
  void end_element(std::string_view name) override {
    out += "</";
    out += name;
    out += '>';
  }
  void text(std::string_view chars) override { out += chars; }
  void raw_text(std::string_view chars) override {
    out += '{';
    out += chars;
    out += '}';
  }
};

std::string events(std::string_view html, const html_read_limits& limits = {}) {
  event_log log;
  read_html(html, log, limits);
  return log.out;
}

} // namespace

TEST(html_tokenizer, tags_attributes_and_text) {
  EXPECT_EQ(events(R"(<P CLASS=lead Id='x' hidden data-x = "a b">Hi</p>)"),
            R"(<p class="lead" id="x" hidden="" data-x="a b">Hi</p>)");
  // Void elements close at once; a self-closed element too; "</br>" is a line break.
  EXPECT_EQ(events("a<br>b<img src=x.png/>c<div/>d</br>e"),
            R"(a<br></br>b<img src="x.png/"></img>c<div></div>d<br></br>e)");
  // Comments, doctypes and processing instructions show nothing; a lone '<' is text.
  EXPECT_EQ(events("<!DOCTYPE html><!-- a <b> -->x<!---->y<?php echo 1 ?>z 1 < 2 <3"),
            "xyz 1 < 2 <3");
  // A tag cut off by the end of the page is not a tag.
  EXPECT_EQ(events("ok<a href=\"/x"), "ok");
  EXPECT_EQ(events("ok</di"), "ok");
}

TEST(html_tokenizer, character_references) {
  EXPECT_EQ(events("a&amp;b &lt;x&gt; &eacute; &#64; &#x40; &#64x &commat; &period; &bogus; &"),
            "a&b <x> \u00e9 @ @ @x @ . &bogus; &");
  // Windows-1252 for the C1 controls, U+FFFD for what is no character.
  EXPECT_EQ(events("&#150;&#146;&#0;&#xD800;&#x110000;"), "\u2013\u2019\ufffd\ufffd\ufffd");
  // The common legacy names without a semicolon in text, never in attributes.
  EXPECT_EQ(events("&copy 2024 &amp;c <a href=\"?a=1&copy=2&amp;b=3\">x</a>"),
            "\u00a9 2024 &c <a href=\"?a=1&copy=2&b=3\">x</a>");
  // The same decoding of a value outside a page (a mailto: target, structured data).
  EXPECT_EQ(decode_character_references("info&#64firma.de?a=1&copy=2&amp;b"),
            "info@firma.de?a=1&copy=2&b");
}

TEST(html_tokenizer, raw_and_escapable_bodies) {
  EXPECT_EQ(events("<script>if (a < b && c) document.write('<p>x</p>')</script>y"),
            "<script>{if (a < b && c) document.write('<p>x</p>')}</script>y");
  EXPECT_EQ(events("<style>p > a { }</STYLE >z"), "<style>{p > a { }}</style>z");
  // A script never closed takes the rest of the page.
  EXPECT_EQ(events("<script>var a = '</scrip'; <p>"), "<script>{var a = '</scrip'; <p>}</script>");
  EXPECT_EQ(events("<title>A &amp; <b>B</b></title>"), "<title>A & <b>B</b></title>");
  // A title never closed is read as markup rather than taking the page.
  EXPECT_EQ(events("<title>A<p>B"), "<title>A<p>B</p></title>");
  EXPECT_EQ(events("<xmp><b>&amp;</b></xmp><iframe><p>gone</p></iframe>!"),
            "<xmp><b>&amp;</b></xmp><iframe></iframe>!");
  // Empty bodies give no text; NUL shows nothing in raw text either.
  EXPECT_EQ(events("<xmp></xmp><script></script><xmp>"), "<xmp></xmp><script></script><xmp></xmp>");
  EXPECT_EQ(events(std::string_view("<plaintext>a\0b", 14)), "<plaintext>ab</plaintext>");
}

TEST(html_tokenizer, elements_stay_balanced) {
  // A start tag closes what it cannot nest in.
  EXPECT_EQ(events("<ul><li>a<li>b</ul><p>c<p>d<div>e</div>"),
            "<ul><li>a</li><li>b</li></ul><p>c</p><p>d</p><div>e</div>");
  // An end tag closes what is open above its element, but never a block that outranks it.
  EXPECT_EQ(events("<div><span><b>x</span>y</div>"), "<div><span><b>x</b></span>y</div>");
  EXPECT_EQ(events("<span><div>x</span>y</div>z"), "<span><div>xy</div>z</span>");
  // Stray end tags: ignored, but "</p>" is an empty paragraph.
  EXPECT_EQ(events("a</em>b</p>c"), "ab<p></p>c");
  // Past the depth limit elements close at once, and a script's body is still not markup.
  html_read_limits shallow;
  shallow.max_open_elements = 2;
  EXPECT_EQ(events("<a><b><i>x</i><script><i></script></b></a>", shallow),
            "<a><b><i></i>x<script></script></b></a>");
}

TEST(html_tokenizer, hostile_input_ends_in_linear_time) {
  // Many unclosed elements, and as many end tags that match none of them.
  std::string deep;
  for (int i = 0; i < 30000; ++i)
    deep += "<span>";
  for (int i = 0; i < 30000; ++i)
    deep += "</b>";
  deep += "<title>";
  for (int i = 0; i < 30000; ++i)
    deep += "<title>x";
  auto log = events(deep);
  EXPECT_NE(log.find("x"), std::string::npos);
  // Every start has its end.
  std::size_t starts = 0, ends = 0;
  for (std::size_t i = 0; i + 1 < log.size(); ++i)
    if (log[i] == '<')
      (log[i + 1] == '/' ? ends : starts)++;
  EXPECT_EQ(starts, ends);
}

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The pages of bench/extract's corpora: the blind one, the labelled sites and the real pages.
std::vector<std::filesystem::path> corpus_pages() {
  std::vector<std::filesystem::path> pages;
  const std::filesystem::path root = std::filesystem::path(SCRAPERSKY_SOURCE_DIR) / "bench/extract";
  for (const auto* corpus : {"blind", "sites", "real"})
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root / corpus))
      if (entry.is_regular_file() &&
          (entry.path().extension() == ".html" || entry.path().extension() == ".htm"))
        pages.push_back(entry.path());
  std::sort(pages.begin(), pages.end());
  return pages;
}

// What differs between two readings of a page, field by field ("" when nothing does).
std::string differences(const page_metadata& a, const page_metadata& b) {
  std::string out;
  auto field = [&](const char* name, const auto& x, const auto& y) {
    if (!(x == y))
      (out += name) += ' ';
  };
  field("title", a.title, b.title);
  field("description", a.description, b.description);
  field("canonical", a.canonical, b.canonical);
  field("language", a.language, b.language);
  field("open_graph", a.open_graph, b.open_graph);
  field("links", a.links, b.links);
  field("link_texts", a.link_texts, b.link_texts);
  field("tel_links", a.tel_links, b.tel_links);
  field("mailto_links", a.mailto_links, b.mailto_links);
  field("cf_emails", a.cf_emails, b.cf_emails);
  field("structured_emails", a.structured_emails, b.structured_emails);
  field("structured_phones", a.structured_phones, b.structured_phones);
  field("data_links", a.data_links, b.data_links);
  field("refresh_url", a.refresh_url, b.refresh_url);
  field("text", a.text, b.text);
  field("code_spans", a.code_spans, b.code_spans);
  field("listing_spans", a.listing_spans, b.listing_spans);
  return out;
}

} // namespace

// Where the two readings differ, libxml2 departs from what a browser shows: <xmp> shows its
// markup as text, and "&amp" without its semicolon is still "&" in text.
const std::map<std::string, std::string> k_browser_readings = {
    {"graphviz-output.test", R"(<A HREF="x.map"><IMG SRC="x.gif" ismap="ismap" /></A>)"},
    {"graphviz-faq.test", R"(yen [label="&#165;"])"}};

void expect_same_reading(const std::string& html, const std::string& url, const std::string& name,
                         std::size_t& compared) {
  const auto own = extract_metadata(html, url);
  const auto reference = extract_metadata_libxml2(html, url);
  ++compared;
  if (auto known = k_browser_readings.find(name); known != k_browser_readings.end()) {
    EXPECT_NE(own.text.find(known->second), std::string::npos) << name;
    EXPECT_EQ(reference.text.find(known->second), std::string::npos) << name;
    return;
  }
  EXPECT_EQ(differences(own, reference), "") << name;
}

TEST(html_tokenizer, reads_the_corpora_as_libxml2_does) {
  const auto pages = corpus_pages();
  ASSERT_GT(pages.size(), 500u);
  std::size_t compared = 0;
  for (const auto& path : pages) {
    const auto site = path.parent_path().parent_path().filename().string();
    expect_same_reading(read_file(path), "http://" + site + "/", site, compared);
  }
  EXPECT_EQ(compared, pages.size());
}

TEST(html_tokenizer, reads_the_fixture_web_as_libxml2_does) {
  // Every page of the fixture sites reachable by links from their home pages.
  sky::test_support::fixture_server web;
  std::size_t compared = 0;
  for (std::string host :
       {"alpha-bakery.com", "bella-pizzeria.com", "corner-dental.com", "handover.test",
        "landing.test", "scripted-studio.com", "traps.test", "plain-site.com"}) {
    std::set<std::string> seen{"http://" + host + "/"};
    std::deque<std::string> queue{"http://" + host + "/"};
    while (!queue.empty() && seen.size() < 40) {
      auto url = queue.front();
      queue.pop_front();
      auto target = url.substr(url.find('/', 7));
      auto response = sky::test_support::raw_exchange(
          web.port(), sky::test_support::make_request("GET", target, {{"Host", host}}));
      if (response.status != 200 ||
          response.headers["content-type"].find("text/html") == std::string::npos)
        continue;
      expect_same_reading(response.body, url, url, compared);
      for (const auto& link : extract_metadata(response.body, url).links)
        if (link.rfind("http://" + host + "/", 0) == 0 && seen.insert(link).second)
          queue.push_back(link);
    }
  }
  EXPECT_GT(compared, 40u);
}
