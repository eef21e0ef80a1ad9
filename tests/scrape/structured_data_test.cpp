// JSON-LD and microdata property names.
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
