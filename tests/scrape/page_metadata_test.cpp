// Page metadata on real-world-shaped and broken markup.
#include "scrape/page_metadata.hpp"

#include <gtest/gtest.h>
#include <random>

using namespace sky::scrape;

TEST(page_metadata, typical_head) {
  auto html = R"(<!doctype html><html lang="en-GB"><head>
    <meta charset="utf-8"><title>
      Joe's   Bakery &amp; Café | Fresh bread</title>
    <meta name="Description" content="  Hand-made bread,
       every morning. ">
    <meta property="og:title" content="Joe's Bakery">
    <meta property="og:image" content="https://cdn.example.com/joe.jpg">
    <link rel="canonical" href="/about/?ref=x#top">
    </head><body><h1>Hi</h1></body></html>)";
  auto m = extract_metadata(html, "https://www.joesbakery.co.uk/about/index.html");
  EXPECT_EQ(m.title, "Joe's Bakery & Café | Fresh bread");
  EXPECT_EQ(m.description, "Hand-made bread, every morning.");
  EXPECT_EQ(m.language, "en-GB");
  EXPECT_EQ(m.canonical, "https://www.joesbakery.co.uk/about/?ref=x");
  EXPECT_EQ(m.open_graph.at("og:title"), "Joe's Bakery");
  EXPECT_EQ(m.open_graph.at("og:image"), "https://cdn.example.com/joe.jpg");
}

TEST(page_metadata, fallbacks_and_broken_markup) {
  auto html = R"(<html><head><meta http-equiv="Content-Language" content="de">
    <meta property="og:title" content="Titel"><meta property="og:description" content="Beschreibung">
    <body><p>unclosed <div>tags <title>late title</title>)";
  auto m = extract_metadata(html, "http://example.de/");
  EXPECT_EQ(m.language, "de");
  EXPECT_EQ(m.description, "Beschreibung");
  EXPECT_FALSE(m.title.empty());
}

TEST(page_metadata, empty_and_binary_input) {
  EXPECT_TRUE(extract_metadata("", "http://x.com/").title.empty());
  std::string junk(5000, '\0');
  for (std::size_t i = 0; i < junk.size(); ++i)
    junk[i] = static_cast<char>(i * 31);
  EXPECT_NO_THROW(extract_metadata(junk, "http://x.com/"));
}

TEST(page_metadata, entities_are_not_expanded_from_the_network) {
  auto html = R"(<!DOCTYPE html SYSTEM "http://169.254.169.254/evil.dtd"><html><head>
    <title>&xxe;safe</title></head></html>)";
  auto m = extract_metadata(html, "http://x.com/");
  // The external DTD is not loaded and the unknown entity stays literal text.
  EXPECT_EQ(m.title, "&xxe;safe");
}

TEST(page_metadata, huge_titles_and_endless_open_graph_tags_are_cut) {
  std::string html = "<html><head><title>" + std::string(1 << 20, 'T') + "</title>";
  for (int i = 0; i < 10'000; ++i)
    html += "<meta property=\"og:x" + std::to_string(i) + "\" content=\"v\">";
  html += "</head></html>";
  auto m = extract_metadata(html, "http://x.com/");
  EXPECT_EQ(m.title, std::string(page_metadata::k_max_field, 'T'));
  EXPECT_EQ(m.open_graph.size(), page_metadata::k_max_open_graph);
}

TEST(page_metadata, visible_text_is_what_a_person_reads) {
  auto m = extract_metadata(
      R"(<html><body><p>Mail: <span>info</span><b>@</b><a href="/x">firma</a>.de</p>
    <div>one</div><div>two</div>three<br>four
    <p style="DISPLAY: none">trap</p><p hidden>trap</p><template>trap</template>
    <p>a<span style="visibility:hidden">trap</span>b</p>
    <p><span style="direction: rtl; unicode-bidi: bidi-override">cba</span></p>
    <script>var trap = 1;</script><style>.trap{}</style></body></html>)",
      "https://firma.de/");
  EXPECT_EQ(m.text, "Mail: info@firma.de one two three four ab abc");
}

TEST(page_metadata, nested_right_to_left_overrides_reverse_the_whole_once) {
  const std::string rtl = R"(<span style="unicode-bidi:bidi-override;direction:rtl">)";
  // The bidi algorithm shows "ab[cd]ef" with both spans overriding to RTL as "fedcba".
  auto m = extract_metadata("<p>" + rtl + "ab" + rtl + "cd</span>ef</span> " + rtl +
                                "ed.amrif@ofni</span></p>",
                            "https://firma.de/");
  EXPECT_EQ(m.text, "fedcba info@firma.de");
  EXPECT_EQ(m.reversed_bytes, 6u + 1u + 13u); // the space before the second span moves too
}

// A hostile page nests thousands of overrides around a long text: each byte moves at most once.
TEST(page_metadata, a_hostile_nest_of_overrides_moves_each_byte_at_most_once) {
  const std::string rtl = R"(<span style="unicode-bidi:bidi-override;direction:rtl">)";
  std::string html = "<p>";
  for (int i = 0; i < 4000; ++i)
    html += rtl + "word" + std::to_string(i) + " ";
  for (int i = 0; i < 4000; ++i)
    html += "</span>";
  html += "</p>";
  ASSERT_GT(html.size(), 200'000u);
  auto m = extract_metadata(html, "https://firma.de/");
  EXPECT_FALSE(m.text.empty());
  EXPECT_LE(m.reversed_bytes, m.text.size());
  // Siblings, not nested: each reversed once, together at most the text.
  std::string siblings = "<p>";
  for (int i = 0; i < 4000; ++i)
    siblings += rtl + "word" + std::to_string(i) + "</span> ";
  auto s = extract_metadata(siblings + "</p>", "https://firma.de/");
  EXPECT_LE(s.reversed_bytes, s.text.size());
  EXPECT_EQ(s.text.substr(0, 13), "0drow 1drow 2");
}

TEST(page_metadata, contact_sources_links_texts_and_refresh) {
  auto m = extract_metadata(R"(<html><head>
    <meta http-equiv="Refresh" content="0; URL='/de/start'">
    <script type="application/ld+json">{"@graph":[{"@type":"Organization",
      "contactPoint":{"@type":"ContactPoint","telephone":"+49 30 1234567","email":"a@firma.de"}}]}
    </script></head><body>
    <a href="/kontakt"> Nous <b>contacter</b> </a><area href="/map">
    <a href="mailto:b@firma.de?subject=x">b</a><a href="tel:+49301234568">t</a>
    <a href="/cdn-cgi/l/email-protection#42ab">p</a><span data-cfemail="42cd">q</span>
    <span itemprop="telephone">030 1234569</span><meta itemprop="email" content="c@firma.de">
    <p property="schema:telephone" content="+49 30 1234560">x</p></body></html>)",
                            "https://firma.de/");
  EXPECT_EQ(m.refresh_url, "https://firma.de/de/start");
  EXPECT_EQ(m.links,
            (std::vector<std::string>{"https://firma.de/kontakt", "https://firma.de/map"}));
  EXPECT_EQ(m.link_texts, (std::vector<std::string>{"Nous contacter", ""}));
  EXPECT_EQ(m.mailto_links, std::vector<std::string>{"b@firma.de?subject=x"});
  EXPECT_EQ(m.tel_links, std::vector<std::string>{"+49301234568"});
  EXPECT_EQ(m.cf_emails, (std::vector<std::string>{"42ab", "42cd"}));
  EXPECT_EQ(m.structured_emails, (std::vector<std::string>{"a@firma.de", "c@firma.de"}));
  EXPECT_EQ(m.structured_phones,
            (std::vector<std::string>{"+49 30 1234567", "030 1234569", "+49 30 1234560"}));
}

TEST(page_metadata, structured_data_is_bounded) {
  std::string html = "<html><body>";
  for (int i = 0; i < 1000; ++i)
    html += "<span itemprop=\"email\">u" + std::to_string(i) + "@firma.de</span>";
  html += "<script type=\"application/ld+json\">" + std::string(2 << 20, '[') + "</script>";
  html += "</body></html>";
  page_limits limits;
  auto m = extract_metadata(html, "https://firma.de/", limits);
  EXPECT_EQ(m.structured_emails.size(), limits.max_structured_values);
  EXPECT_TRUE(m.structured_phones.empty());
}

TEST(page_metadata, a_long_page_keeps_its_head_and_its_footer) {
  std::string html = "<html><body><p>head@firma.de</p>";
  for (int i = 0; i < 40'000; ++i)
    html += "<p>filler text " + std::to_string(i) + "</p>";
  html += "<footer>Kontakt: foot@firma.de</footer></body></html>";
  auto m = extract_metadata(html, "https://firma.de/");
  EXPECT_LE(m.text.size(), page_metadata::k_max_text);
  EXPECT_EQ(m.text.rfind("head@firma.de", 0), 0u);
  EXPECT_EQ(m.text.substr(m.text.size() - 22), "Kontakt: foot@firma.de");
  EXPECT_EQ(m.text.find("filler text 20000 "), std::string::npos); // the middle is left out
}

// Runs of single-spaced words are copied in blocks: any whitespace anywhere in them still
// collapses to one space.
TEST(page_metadata, whitespace_collapses_wherever_it_falls) {
  std::mt19937 rng(3);
  const char* gaps[] = {" ", " ", " ", "  ", "\n", "\t", "\r\n", " \n "};
  for (int round = 0; round < 50; ++round) {
    std::string body, expected;
    for (int w = 0; w < 200; ++w) {
      std::string word(1 + rng() % 12, static_cast<char>('a' + rng() % 26));
      if (w > 0) {
        body += gaps[rng() % std::size(gaps)];
        expected += ' ';
      }
      body += word;
      expected += word;
    }
    auto m = extract_metadata("<html><body><p>" + body + "</p></body></html>", "https://a.com/");
    ASSERT_EQ(m.text, expected) << round;
  }
}
