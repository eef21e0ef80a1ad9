// Link ranking for the email crawl, social profiles and tech signatures, on realistic link sets.
#include "scrape/link_rules.hpp"
#include "scrape/page_analysis.hpp"
#include "scrape/phone_extract.hpp"
#include "scrape/tech_stack.hpp"

#include <gtest/gtest.h>

using namespace sky::scrape;

namespace {

// "+4930901820/tel": each number with where it was found.
std::vector<std::string> described(const std::vector<found_phone>& phones) {
  std::vector<std::string> out;
  for (const auto& p : phones)
    out.push_back(p.e164 + "/" + p.source);
  return out;
}

} // namespace

TEST(link_rules, contact_pages_come_first_and_other_sites_never) {
  std::vector<std::string> links{
      "https://shop.example.com/blog/2024/01/news",
      "https://example.com/products/bread",
      "https://www.example.com/kontakt",
      "https://example.com/about-us",
      "https://other.com/contact",
      "https://example.com/brochure.pdf",
      "https://example.com/impressum",
      "https://example.com/team/",
      "https://example.com/kontakt",
  };
  auto order = contact_crawl_order(links, "https://example.com/", 10);
  ASSERT_GE(order.size(), 6u);
  EXPECT_EQ(order[0], "https://www.example.com/kontakt");
  EXPECT_EQ(order[1], "https://example.com/kontakt");
  EXPECT_EQ(order[2], "https://example.com/impressum");
  EXPECT_EQ(order[3], "https://example.com/about-us");
  EXPECT_EQ(order[4], "https://example.com/team/");
  for (const auto& u : order) {
    EXPECT_EQ(u.find("other.com"), std::string::npos);
    EXPECT_EQ(u.find(".pdf"), std::string::npos);
  }
  EXPECT_EQ(contact_crawl_order(links, "https://example.com/", 2).size(), 2u);
}

TEST(link_rules, shallow_contact_pages_outrank_deep_ones) {
  EXPECT_GT(contact_link_score("https://a.com/contact"),
            contact_link_score("https://a.com/blog/2020/05/how-to-contact-us"));
  EXPECT_EQ(contact_link_score("https://a.com/products"), 0);
}

TEST(link_rules, contact_and_legal_pages_in_the_european_languages) {
  for (const char* path : {"/contact",
                           "/kontakt",
                           "/contacto",
                           "/contatti",
                           "/contattaci",
                           "/nous-contacter",
                           "/impressum",
                           "/imprint",
                           "/mentions-legales",
                           "/mentions-l%C3%A9gales",
                           "/aviso-legal",
                           "/note-legali",
                           "/about",
                           "/ueber-uns",
                           "/%C3%BCber-uns",
                           "/qui-sommes-nous",
                           "/a-propos",
                           "/chi-siamo",
                           "/quienes-somos",
                           "/over-ons",
                           "/om-oss",
                           "/team",
                           "/equipe",
                           "/yhteystiedot",
                           "/kontakta-oss",
                           "/colofon"})
    EXPECT_GT(contact_link_score(std::string("https://firma.de") + path), 0) << path;
  for (const char* path : {"/products", "/blog/2024/sourdough", "/promos", "/cart"})
    EXPECT_EQ(contact_link_score(std::string("https://firma.de") + path), 0) << path;
}

TEST(link_rules, link_texts_name_pages_whatever_their_url) {
  EXPECT_EQ(contact_link_score("https://firma.fr/page-12"), 0);
  EXPECT_GT(contact_link_score("https://firma.fr/page-12", "Nous contacter"), 0);
  EXPECT_GT(contact_link_score("https://firma.fr/p/7", "Mentions légales"), 0);
  EXPECT_GT(contact_link_score("https://firma.de/p/8", "Über uns"), 0);
  EXPECT_GT(contact_link_score("https://firma.se/s/3", "Om oss"), 0);
  // A sentence that happens to hold a keyword is not a page name.
  EXPECT_EQ(contact_link_score("https://firma.com/news/1",
                               "Read all about the new oven we installed in our bakery"),
            0);
  std::vector<std::string> links{"https://firma.fr/page-1", "https://firma.fr/page-12"};
  auto order = contact_crawl_order(links, "https://firma.fr/", 10, {"Produits", "Contact"});
  EXPECT_EQ(order.front(), "https://firma.fr/page-12");
}

TEST(link_rules, social_profiles_skip_share_and_intent_links) {
  auto social = social_profiles({
      "https://www.facebook.com/sharer/sharer.php?u=x",
      "https://twitter.com/intent/tweet?text=hi",
      "https://twitter.com/acme",
      "https://www.facebook.com/acme",
      "https://www.linkedin.com/shareArticle?url=x",
      "https://www.linkedin.com/company/acme",
      "https://www.youtube.com/watch?v=abc",
      "https://www.youtube.com/@acme",
      "https://instagram.com/",
      "https://www.instagram.com/acme/",
      "https://www.tiktok.com/@acme",
      "https://x.com/acme_two",
  });
  EXPECT_EQ(social["facebook"], "https://www.facebook.com/acme");
  EXPECT_EQ(social["x"], "https://twitter.com/acme");
  EXPECT_EQ(social["linkedin"], "https://www.linkedin.com/company/acme");
  EXPECT_EQ(social["youtube"], "https://www.youtube.com/@acme");
  EXPECT_EQ(social["instagram"], "https://www.instagram.com/acme/");
  EXPECT_EQ(social["tiktok"], "https://www.tiktok.com/@acme");
  EXPECT_EQ(social.size(), 6u);
}

TEST(tech_stack, table_covers_at_least_fifteen_technologies) {
  EXPECT_GE(tech_signature_count(), 15u);
}

TEST(tech_stack, detects_markers_in_markup_and_headers) {
  auto wp = detect_tech_stack(
      R"(<link rel='stylesheet' href='https://a.com/wp-content/themes/x/style.css'>
         <script src="https://a.com/wp-includes/js/jquery/jquery.min.js?ver=3.7"></script>
         <script async src="https://www.googletagmanager.com/gtm.js?id=GTM-ABC"></script>
         <link href="https://fonts.googleapis.com/css?family=Roboto" rel="stylesheet">)");
  EXPECT_EQ(
      wp, (std::vector<std::string>{"WordPress", "jQuery", "Google Tag Manager", "Google Fonts"}));
  auto next = detect_tech_stack(R"(<script id="__NEXT_DATA__" type="application/json">{}</script>)",
                                "Server: cloudflare\r\nCF-RAY: 1\r\n");
  EXPECT_EQ(next, (std::vector<std::string>{"Next.js", "Cloudflare"}));
  EXPECT_TRUE(detect_tech_stack("<html><body>plain</body></html>").empty());
}

TEST(page_analysis, one_page_gives_metadata_links_emails_social_and_tech) {
  auto page = analyze_page(
      R"html(<html lang="fr"><head><title> Boulangerie </title>
         <script src="https://cdn.shopify.com/s/x.js"></script></head><body>
         <a href="/contact#form">Contact</a> <a href="mailto:Info@Boulangerie.fr">mail</a>
         <a href="https://www.instagram.com/boulangerie">insta</a>
         <a href="javascript:void(0)">x</a></body></html>)html",
      "https://boulangerie.fr/");
  EXPECT_EQ(page.meta.title, "Boulangerie");
  EXPECT_EQ(page.meta.language, "fr");
  EXPECT_EQ(page.meta.links, (std::vector<std::string>{"https://boulangerie.fr/contact",
                                                       "https://www.instagram.com/boulangerie"}));
  EXPECT_EQ(page.emails, (std::vector<std::string>{"info@boulangerie.fr"}));
  EXPECT_EQ(page.social.at("instagram"), "https://www.instagram.com/boulangerie");
  EXPECT_EQ(page.tech, (std::vector<std::string>{"Shopify"}));
}

TEST(phone_extract, tel_links_come_first_and_everything_is_e164) {
  auto phones =
      extract_phones({"+1-202-456-1111", "%2B49%2030%20901820", "not-a-number",
                      "+1-555-555-0100"}, // 555-01xx numbers are reserved as fictional
                     "Call (212) 555-0199 or +44 20 7946 0958. Order no. 12345678.", "US");
  EXPECT_EQ(described(phones.numbers),
            (std::vector<std::string>{"+12024561111/tel", "+4930901820/tel", "+12125550199/text",
                                      "+442079460958/text"}));
}

TEST(phone_extract, numbers_without_a_country_code_follow_the_page_language) {
  EXPECT_EQ(region_for_language("de", "US"), "DE");
  EXPECT_EQ(region_for_language("de-AT", "US"), "AT");
  EXPECT_EQ(region_for_language("en", "GB"), "GB");
  EXPECT_EQ(region_for_language("", "US"), "US");
  EXPECT_EQ(region_for_language("xx-ZZ", "US"), "US");
  auto phones = extract_phones({}, "Telefon: 030 901820", "DE").numbers;
  ASSERT_EQ(phones.size(), 1u);
  EXPECT_EQ(phones[0].e164, "+4930901820");
}

TEST(phone_extract, dates_prices_and_ids_are_not_phone_numbers) {
  EXPECT_TRUE(
      extract_phones({}, "Open 2026-01-15, price $1,299.00, SKU 1234567890123, zip 62701", "US")
          .numbers.empty());
  for (const char* text : {
           "Bestellnummer: 030 12345678",
           "Rechnung Nr. 0301 2345 678 vom 12.03.2024",
           "IBAN DE89 3704 0044 0532 0130 00",
           "USt-IdNr.: DE 301234567, HRB 030 1234567",
           "Fax: 030 1234 5679",
           "Telefax +49 30 1234 5679",
           "Datum 12.03.2024, 10115 Berlin, Preis 1.299,00 EUR",
           "Commande n° 01 23 45 67 89",
       })
    EXPECT_TRUE(extract_phones({}, text, "DE").numbers.empty()) << text;
  // The label nearest to a number is the one that counts.
  auto both = extract_phones({}, "Tel.: 030 1234 5678 · Fax: 030 1234 5679", "DE").numbers;
  ASSERT_EQ(both.size(), 1u);
  EXPECT_EQ(both[0].e164, "+493012345678");
  // One number for phone and fax is a phone; footers abbreviate the labels.
  auto joined = extract_phones({}, "Tel./Fax: 030 1234 5678", "DE").numbers;
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].e164, "+493012345678");
  auto footer = extract_phones({}, "T +49 30 1234 5678 F +49 30 1234 5679 M 0171 2345678", "DE");
  EXPECT_EQ(described(footer.numbers),
            (std::vector<std::string>{"+493012345678/text", "+491712345678/text"}));
  // "August" is not "USt", "privat" is not "IVA".
  EXPECT_EQ(extract_phones({}, "Ab August privat: 030 1234 5678", "DE").numbers.size(), 1u);
}

TEST(phone_extract, written_forms_of_european_numbers) {
  struct example {
    const char* text;
    const char* region;
    const char* e164;
  };
  for (auto [text, region, e164] : std::initializer_list<example>{
           {"Tel. +49 (0)30 1234 5678", "DE", "+493012345678"},
           {"Telefon 089 / 12 34 56-0", "DE", "+49891234560"},
           {"Tel: +44 (0)20 7946 0000", "GB", "+442079460000"},
           {"Tél. : +33 (0)1 23 45 67 89", "FR", "+33123456789"},
           {"Tel. 06.1234.5678", "IT", "+390612345678"},
           {"Tel. +39 06 1234 5678", "US", "+390612345678"},
           {"Teléfono 91 123 45 67", "ES", "+34911234567"},
           {"Tel. 08-123 456 78", "SE", "+46812345678"},
       }) {
    auto found = extract_phones({}, text, region).numbers;
    ASSERT_EQ(found.size(), 1u) << text;
    EXPECT_EQ(found[0].e164, e164) << text;
  }
}

TEST(phone_extract, a_long_price_list_does_not_hide_the_footer_number) {
  std::string text;
  for (int i = 0; i < 5000; ++i)
    text += "Artikel " + std::to_string(10000 + i) + " Eiche 200 x 90 cm " +
            std::to_string(300 + i % 700) + ",00 EUR ";
  text += "Tel. 0511 123456";
  auto found = extract_phones({}, text, "DE").numbers;
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].e164, "+49511123456");
}

TEST(phone_extract, structured_numbers_come_first) {
  auto phones = extract_phones({"+49-30-1234-5670"}, "Tel. 030 1234 5671", "DE", 10,
                               {"+49 30 1234 5672", "tel:+49-30-1234-5673", "030 1234 5674", "n/a"})
                    .numbers;
  EXPECT_EQ(described(phones),
            (std::vector<std::string>{"+493012345672/structured", "+493012345673/structured",
                                      "+493012345674/structured", "+493012345670/tel",
                                      "+493012345671/text"}));
}

TEST(phone_extract, the_region_comes_from_the_language_and_the_cctld) {
  EXPECT_EQ(region_for_host("www.baeckerei.de"), "DE");
  EXPECT_EQ(region_for_host("shop.firma.co.uk"), "GB");
  EXPECT_EQ(region_for_host("firma.ch:8443"), "CH");
  EXPECT_EQ(region_for_host("startup.io"), "");
  EXPECT_EQ(region_for_host("firma.com"), "");
  EXPECT_EQ(region_for_host("fixture.test"), "");
  // A region subtag wins, then the ccTLD, then the language's country.
  EXPECT_EQ(page_phone_region("de-CH", "firma.de", "US"), "CH");
  EXPECT_EQ(page_phone_region("de", "firma.at", "US"), "AT");
  EXPECT_EQ(page_phone_region("nl", "firma.be", "US"), "BE");
  EXPECT_EQ(page_phone_region("fr", "firma.com", "US"), "FR");
  EXPECT_EQ(page_phone_region("en", "firma.com", "US"), "US");
  EXPECT_EQ(page_phone_region("sv", "firma.com", "US"), "SE");
  // The same written number is Austrian on a .at site and German on a .de one.
  auto at = analyze_page("<html lang=de><p>Telefon: 01 234 5678</p></html>", "https://firma.at/");
  ASSERT_EQ(at.phones.size(), 1u);
  EXPECT_EQ(at.phones[0].e164, "+4312345678");
}

TEST(phone_extract, stops_at_the_cap_and_says_so) {
  std::vector<std::string> tel_links;
  for (int i = 0; i < 1000; ++i)
    tel_links.push_back("+1-202-456-" + std::to_string(1000 + i));
  auto phones = extract_phones(tel_links, "Call (212) 555-0199", "US", 3);
  ASSERT_EQ(phones.numbers.size(), 3u);
  EXPECT_EQ(phones.numbers[2].e164, "+12024561002");
  EXPECT_TRUE(phones.truncated);
  EXPECT_FALSE(extract_phones({"+1-202-456-1111"}, "", "US", 3).truncated);
}

TEST(page_analysis, a_hostile_page_is_read_up_to_the_caps_and_records_them) {
  std::string html = "<html><body>";
  for (int i = 0; i < 5000; ++i)
    html += "<a href=/p/" + std::to_string(i) + ">p</a><a href=tel:+1202456" +
            std::to_string(1000 + i) + ">t</a> u" + std::to_string(i) + "@acme-tools.com ";
  html += "</body></html>";
  page_limits limits;
  limits.max_emails = 10;
  limits.max_phones = 4;
  limits.max_links = 20;
  limits.max_tel_links = 6;
  auto page = analyze_page(html, "https://example.com/", {}, "US", limits);
  EXPECT_EQ(page.emails.size(), 10u);
  EXPECT_EQ(page.phones.size(), 4u);
  EXPECT_EQ(page.meta.links.size(), 20u);
  EXPECT_EQ(page.meta.links.back(), "https://example.com/p/19");
  EXPECT_EQ(page.meta.tel_links.size(), 6u);
  EXPECT_EQ(page.limits_hit, (std::vector<std::string>{"emails_per_page", "phones_per_page",
                                                       "links_per_page", "tel_links_per_page"}));
  auto json = to_json(page);
  EXPECT_EQ(json.at("limits_hit").as_array().size(), 4u);
  auto plain = analyze_page("<a href=/x>x</a> a@acme-tools.com", "https://example.com/");
  EXPECT_TRUE(plain.limits_hit.empty());
}
