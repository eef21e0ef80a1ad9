// JSON-LD and microdata property names.
#include "scrape/page_metadata.hpp"
#include "scrape/structured_data.hpp"

#include <gtest/gtest.h>

using namespace sky::scrape;
using v = std::vector<std::string>;

TEST(structured_data, json_ld_contacts_at_any_depth_in_document_order) {
  structured_contacts c;
  read_json_ld(R"({"@context":"https://schema.org","@graph":[
      {"@type":"Organization","email":"info@firma.de","telephone":["+49 30 1","+49 30 2"],
       "contactPoint":[{"@type":"ContactPoint","email":"mailto:sales@firma.de",
                        "telephone":"+49 30 3"}]},
      {"@type":"LocalBusiness","address":{"@type":"PostalAddress","telephone":"+49 30 4"},
       "http://schema.org/email":"iri@firma.de","faxNumber":"+49 30 9"}],
    })",
               c, 100);
  EXPECT_EQ(c.emails, (v{"info@firma.de", "mailto:sales@firma.de", "iri@firma.de"}));
  EXPECT_EQ(c.phones, (v{"+49 30 1", "+49 30 2", "+49 30 3", "+49 30 4"}));
}

TEST(structured_data, comments_and_trailing_commas_are_tolerated_and_junk_adds_nothing) {
  structured_contacts c;
  read_json_ld("/* site */ {\"email\": \"a@firma.de\",}", c, 10);
  EXPECT_EQ(c.emails, v{"a@firma.de"});
  for (const char* junk :
       {"", "{", "{\"email\":", "null", "[1,2,", "{\"email\": 5}", "{\"email\": {\"x\": 1}}"})
    read_json_ld(junk, c, 10);
  EXPECT_EQ(c.emails, v{"a@firma.de"});
}

TEST(structured_data, limits_hold) {
  structured_contacts c;
  std::string many = "[";
  for (int i = 0; i < 1000; ++i)
    many += "{\"email\":\"u" + std::to_string(i) + "@firma.de\"},";
  many += "{}]";
  read_json_ld(many, c, 7);
  EXPECT_EQ(c.emails.size(), 7u);
  structured_contacts deep;
  read_json_ld(std::string(100, '[') + "{\"email\":\"d@firma.de\"}" + std::string(100, ']'), deep,
               10);
  EXPECT_TRUE(deep.emails.empty());
}

TEST(structured_data, property_names) {
  EXPECT_EQ(contact_property_of("email"), contact_property::email);
  EXPECT_EQ(contact_property_of("schema:telephone"), contact_property::telephone);
  EXPECT_EQ(contact_property_of("name email"), contact_property::email);
  EXPECT_EQ(contact_property_of("http://schema.org/telephone"), contact_property::telephone);
  EXPECT_EQ(contact_property_of("og:title"), contact_property::none);
  EXPECT_EQ(contact_property_of("emailAddress"), contact_property::none);
  EXPECT_EQ(contact_property_of(""), contact_property::none);
}

// Page data of sites built by scripts: the contacts a browser would render from it.
TEST(page_data, contact_keys_whole_addresses_and_links_are_read_samples_and_faxes_are_not) {
  structured_contacts c;
  read_page_data(R"({"props":{"pageProps":{"site":{"contactEmail":"praxis@zahnarzt-wolff.de",
      "phoneNumber":"+49 30 44556677","faxNumber":"+49 30 44556678",
      "team":[{"name":"Dr. Wolff","mail":"wolff@zahnarzt-wolff.de"}],
      "footer":"mailto:abrechnung@zahnarzt-wolff.de","misc":"owner@zahnarzt-wolff.de",
      "form":{"placeholder":"nome@email.it","example":{"phone":"+34 600 000 000"}},
      "social":["https://www.instagram.com/zahnarzt.wolff","https://cdn.zahnarzt-wolff.de/a.js"],
      "mailingList":"none","version":"1.2.3@4"}}}})",
                 c, 50);
  EXPECT_EQ(c.emails,
            (v{"praxis@zahnarzt-wolff.de", "wolff@zahnarzt-wolff.de",
               "mailto:abrechnung@zahnarzt-wolff.de", "owner@zahnarzt-wolff.de", "1.2.3@4"}));
  EXPECT_EQ(c.phones, v{"+49 30 44556677"});
  EXPECT_EQ(c.links,
            (v{"https://www.instagram.com/zahnarzt.wolff", "https://cdn.zahnarzt-wolff.de/a.js"}));
  for (const char* junk : {"", "{", "{\"email\":", "<html>", "{'email': 'a@b.de'}"})
    read_page_data(junk, c, 50);
  EXPECT_EQ(c.phones.size(), 1u);
}

TEST(page_data, the_bounds_of_json_ld_hold) {
  structured_contacts c;
  std::string many = "[";
  for (int i = 0; i < 1000; ++i)
    many += "{\"email\":\"u" + std::to_string(i) + "@firma.de\"},";
  many += "{}]";
  read_page_data(many, c, 7);
  EXPECT_EQ(c.emails.size(), 7u);
  structured_contacts deep;
  read_page_data(std::string(100, '[') + "{\"email\":\"d@firma.de\"}" + std::string(100, ']'), deep,
                 10);
  EXPECT_TRUE(deep.emails.empty());
}

TEST(page_data, objects_scripts_assign_to_window_are_found_as_written) {
  auto found = script_assigned_json(R"(
    var x = 1; window.__INITIAL_STATE__ = {"contact": {"email": "a@b.es", "s": "}{"}};
    window['__NUXT__']={"data":[{"tel":"+39 0577 848123"}]};
    self.__DATA__ = JSON.parse("{\"mail\":\"c\\u0040d.fi\"}");
    if (window.ready == true) {} window.onload = function() {};
    mywindow.x = {"no": 1}; window.cfg = {unquoted: "js"};
    window.broken = {"never": "closed";
  )");
  EXPECT_EQ(found, (v{R"({"contact": {"email": "a@b.es", "s": "}{"}})",
                      R"({"data":[{"tel":"+39 0577 848123"}]})", "{unquoted: \"js\"}",
                      R"({"mail":"c\u0040d.fi"})"}));
  EXPECT_LE(script_assigned_json(std::string(5000, '{'), 16).size(), 16u);
  EXPECT_TRUE(script_assigned_json("window.x = " + std::string(200, '[')).empty());
}

TEST(page_data, app_shells_contacts_reach_the_page_through_its_scripts) {
  auto meta = extract_metadata(
      R"(<html><head><script id="__NEXT_DATA__" type="application/json">
      {"props":{"pageProps":{"email":"hallo@toemrer-kristensen.dk","phone":"+45 20 12 34 56"}}}
      </script><script>window.__INITIAL_STATE__ = {"site":{"reservas":{"email":"reservas@el-faro.es"},
      "instagram":"https://www.instagram.com/elfaro"}};</script>
      <script src="/app.js">window.__X__ = {"email":"never@read.es"}</script>
      <script type="text/template">{"email":"tpl@read.es"}</script></head>
      <body><div id="__next"></div></body></html>)",
      "https://toemrer-kristensen.dk/");
  EXPECT_EQ(meta.structured_emails, (v{"hallo@toemrer-kristensen.dk", "reservas@el-faro.es"}));
  EXPECT_EQ(meta.structured_phones, v{"+45 20 12 34 56"});
  EXPECT_EQ(meta.data_links, v{"https://www.instagram.com/elfaro"});
  EXPECT_TRUE(meta.links.empty()) << "page data's URLs are not crawl candidates";
}
