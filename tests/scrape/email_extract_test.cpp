// Email extraction on real-world-shaped markup: what a person reads, and nothing that only looks
// like an address.
#include "scrape/email_extract.hpp"

#include <gtest/gtest.h>

using namespace sky::scrape;
using v = std::vector<std::string>;

namespace {

// `plain` XOR-encoded as Cloudflare's email protection writes it, with key 0x42.
std::string cloudflare_hex(const std::string& plain) {
  std::string hex = "42";
  const char* digits = "0123456789abcdef";
  for (char c : plain) {
    auto b = static_cast<unsigned char>(c) ^ 0x42;
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  return hex;
}

v emails_of(std::string_view html) {
  return extract_emails(html).addresses;
}

} // namespace

TEST(email_extract, visible_text_and_json_ld_are_read_in_order_and_normalised) {
  auto html = R"(<html><body><p>Write to Info@Baeckerei-Sommer.DE. Or sales@shop.acme.co.uk,</p>
    <a href="/contact" data-owner="owner@acme-tools.com">Contact</a>
    <script type="application/ld+json">{"@context":"https://schema.org","email":"hello@bakery.de"}</script>
    <p>Again: info@baeckerei-sommer.de</p></body></html>)";
  // Structured data first; attributes that are not contact attributes are not read.
  EXPECT_EQ(emails_of(html),
            (v{"hello@bakery.de", "info@baeckerei-sommer.de", "sales@shop.acme.co.uk"}));
}

TEST(email_extract, text_joins_across_inline_elements_and_decodes_entities) {
  EXPECT_EQ(emails_of("<p>info<span>@</span>firma-muster.de</p>"), v{"info@firma-muster.de"});
  EXPECT_EQ(emails_of("<p><b>anna</b>&#64;<i>studio-rossi</i>.it</p>"), v{"anna@studio-rossi.it"});
  EXPECT_EQ(emails_of("<p>contact&#x40;acme-tools&period;com</p>"), v{"contact@acme-tools.com"});
  EXPECT_EQ(emails_of("<p>contact&commat;acme-tools.com</p>"), v{"contact@acme-tools.com"});
  // Block elements separate: a label in its own cell does not glue onto the address.
  EXPECT_EQ(emails_of("<table><tr><td>Mail</td><td>team@acme-tools.com</td></tr></table>"),
            v{"team@acme-tools.com"});
  EXPECT_EQ(emails_of("<div>Kontakt</div><div>info@firma-muster.de</div>"),
            v{"info@firma-muster.de"});
}

TEST(email_extract, hidden_and_reversed_text_read_as_a_person_sees_them) {
  // The hidden span is a spam trap inside the address; a person reads "info@firma-muster.de".
  EXPECT_EQ(emails_of("<p>info<span style=\"display: none\">nospam</span>@firma-muster.de</p>"),
            v{"info@firma-muster.de"});
  EXPECT_EQ(emails_of("<p hidden>trap@firma-muster.de</p><p>real@firma-muster.de</p>"),
            v{"real@firma-muster.de"});
  EXPECT_EQ(emails_of("<span style=\"unicode-bidi:bidi-override; direction: rtl\">"
                      "ed.retsum-amrif@ofni</span>"),
            v{"info@firma-muster.de"});
}

TEST(email_extract, mailto_links_are_percent_and_entity_decoded) {
  auto html = R"(<a href="mailto:Team%40Acme-Tools.org?subject=Hi%20there&amp;cc=x">mail us</a>
                 <a href='MAILTO:press@acme-tools.net'>press</a>
                 <a href="mailto:&#105;&#110;&#102;&#111;&#64;acme-tools.com">write</a>
                 <a href="mailto:a@acme-tools.com,b@acme-tools.com">both</a>)";
  EXPECT_EQ(emails_of(html), (v{"team@acme-tools.org", "press@acme-tools.net",
                                "info@acme-tools.com", "a@acme-tools.com", "b@acme-tools.com"}));
}

TEST(email_extract, cloudflare_protection_is_decoded_on_any_element) {
  auto hex = cloudflare_hex("info@acme-tools.com");
  EXPECT_EQ(decode_cfemail(hex), "info@acme-tools.com");
  EXPECT_EQ(emails_of("<a href=\"/cdn-cgi/l/email-protection\" class=\"__cf_email__\" "
                      "data-cfemail=\"" +
                      hex + "\">[email&#160;protected]</a>"),
            v{"info@acme-tools.com"});
  EXPECT_EQ(emails_of("<span class=\"__cf_email__\" data-cfemail=\"" + hex + "\">x</span>"),
            v{"info@acme-tools.com"});
  EXPECT_EQ(
      emails_of("<a href=\"https://acme-tools.com/cdn-cgi/l/email-protection#" + hex + "\">x</a>"),
      v{"info@acme-tools.com"});
  EXPECT_EQ(decode_cfemail("4"), "");
  EXPECT_EQ(decode_cfemail("zz11"), "");
}

TEST(email_extract, microdata_and_rdfa) {
  auto html = R"(<div itemscope itemtype="https://schema.org/Organization">
    <span itemprop="email">office<b>@</b>kanzlei-berg.at</span>
    <meta itemprop="email" content="mailto:billing@kanzlei-berg.at">
    <a itemprop="email" href="mailto:jobs@kanzlei-berg.at">Jobs</a></div>
    <div vocab="https://schema.org/" typeof="LocalBusiness">
    <span property="schema:email">rdfa@kanzlei-berg.at</span></div>)";
  EXPECT_EQ(emails_of(html), (v{"office@kanzlei-berg.at", "billing@kanzlei-berg.at",
                                "jobs@kanzlei-berg.at", "rdfa@kanzlei-berg.at"}));
}

TEST(email_extract, obfuscations_in_the_sites_languages) {
  struct example {
    const char* text;
    const char* email;
  };
  for (auto [text, email] : std::initializer_list<example>{
           {"jane [at] acme-tools [dot] com", "jane@acme-tools.com"},
           {"jane(at)acme-tools(dot)com", "jane@acme-tools.com"},
           {"jane {AT} acme-tools {DOT} com", "jane@acme-tools.com"},
           {"jane [ at ] acme-tools [ dot ] com", "jane@acme-tools.com"},
           {"jane.doe (at) acme-tools.com", "jane.doe@acme-tools.com"},
           {"jane [dot] doe [at] acme-tools [dot] co [dot] uk", "jane.doe@acme-tools.co.uk"},
           {"Email: jane at acme-tools dot com", "jane@acme-tools.com"},
           {"EMAIL: JANE AT ACME-TOOLS DOT COM", "jane@acme-tools.com"},
           {"Ventas ARROBA empresa-lopez PUNTO es", "ventas@empresa-lopez.es"},
           {"info SNABEL-A foretaget PUNKT se", "info@foretaget.se"},
           {"jane a", ""},
           {"jane at", ""},
           {"info (at) firma-muster (punkt) de", "info@firma-muster.de"},
           {"info[at]firma-muster[punkt]de", "info@firma-muster.de"},
           {"info [\u00e4t] firma-muster.de", "info@firma-muster.de"},
           {"info [\u00c4T] firma-muster [PUNKT] de", "info@firma-muster.de"},
           {"contact (arobase) cabinet-martin (point) fr", "contact@cabinet-martin.fr"},
           {"contact [chez] societe-martin [point] fr", "contact@societe-martin.fr"},
           {"info (chiocciola) studio-rossi (punto) it", "info@studio-rossi.it"},
           {"info [at] bakkerij-jansen [punt] nl", "info@bakkerij-jansen.nl"},
           {"info [apenstaartje] bakkerij-jansen [punt] nl", "info@bakkerij-jansen.nl"},
           {"biuro [ma\u0142pa] kancelaria-nowak [kropka] pl", "biuro@kancelaria-nowak.pl"},
           {"biuro [MA\u0141PA] kancelaria-nowak [KROPKA] pl", "biuro@kancelaria-nowak.pl"},
           {"info {zavin\u00e1\u010d} autoservis-novak {te\u010dka} cz",
            "info@autoservis-novak.cz"},
           {"post [krøllalfa] rorlegger-berg [prikk] no", "post@rorlegger-berg.no"},
           {"info (snabela) tandlaege-holm (punktum) dk", "info@tandlaege-holm.dk"},
           {"hei [at] kahvila-aalto [piste] fi", "hei@kahvila-aalto.fi"},
           {"ventas [arroba] empresa-lopez [ponto] pt", "ventas@empresa-lopez.pt"},
           {"info [@] acme-tools [.] com", "info@acme-tools.com"},
           {"info@acme-tools (dot) com", "info@acme-tools.com"},
           {"E-Mail: info @ firma-muster.de", "info@firma-muster.de"},
       }) {
    auto found = find_text_emails(text);
    if (*email)
      EXPECT_EQ(found, v{email}) << text;
    else
      EXPECT_TRUE(found.empty()) << text;
  }
}

// Bare lower-case words are also ordinary words: they make an address only on the page's own
// domain, after an address label, or in a value stated to be an email.
TEST(email_extract, bare_lower_case_words_need_the_pages_domain_or_a_label) {
  struct example {
    const char* text;
    const char* email;
    const char* page_domain;
  };
  for (auto [text, email, page_domain] : std::initializer_list<example>{
           {"ventas arroba empresa-lopez punto es", "ventas@empresa-lopez.es", "empresa-lopez.es"},
           {"ventas arroba empresa-lopez.es", "ventas@empresa-lopez.es", "empresa-lopez.es"},
           {"contact chez societe-martin point fr", "contact@societe-martin.fr",
            "societe-martin.fr"},
           {"info chiocciola studio-rossi punto it", "info@studio-rossi.it", "studio-rossi.it"},
           {"info snabel-a foretaget punkt se", "info@foretaget.se", "foretaget.se"},
           {"contact Chez societe-martin Point fr", "contact@societe-martin.fr",
            "societe-martin.fr"},
           {"Courriel : contact chez societe-martin point fr", "contact@societe-martin.fr", ""},
           {"\u00c9crivez-nous : contact chez bistro-lune point fr", "contact@bistro-lune.fr", ""},
           {"Schreiben Sie uns: info \u00e4t firma-muster punkt de", "info@firma-muster.de", ""},
           {"Kontakt: biuro ma\u0142pa kancelaria-nowak kropka pl", "biuro@kancelaria-nowak.pl",
            ""},
           {"E-Mail-Adresse: info \u00e4t firma-muster punkt de", "info@firma-muster.de", ""},
           {"ventas arroba empresa-lopez punto es", "", "other-site.es"},
           {"contact Chez societe-martin Point fr", "", ""},
           {"info snabel-a foretaget punkt se", "", ""},
       }) {
    auto found = find_text_emails(text, 2000, {.page_domain = page_domain});
    if (*email)
      EXPECT_EQ(found, v{email}) << text;
    else
      EXPECT_TRUE(found.empty()) << text;
  }
  EXPECT_EQ(find_text_emails("ventas arroba empresa-lopez punto es", 16,
                             {.page_domain = {}, .stated_as_email = true}),
            v{"ventas@empresa-lopez.es"});
  // Through the page: the URL names the page's domain.
  auto page = extract_metadata("<p>ventas arroba empresa-lopez punto es</p>",
                               "https://www.empresa-lopez.es/contacto");
  EXPECT_EQ(extract_emails(page, 10, "https://www.empresa-lopez.es/contacto").addresses,
            v{"ventas@empresa-lopez.es"});
  EXPECT_TRUE(extract_emails(page, 10, "https://www.otro-sitio.es/").addresses.empty());
}

TEST(email_extract, addresses_side_by_side) {
  EXPECT_EQ(find_text_emails("info@firma-muster.de/sales@firma-muster.de;(jobs@firma-muster.de)"),
            (v{"info@firma-muster.de", "sales@firma-muster.de", "jobs@firma-muster.de"}));
  EXPECT_EQ(find_text_emails("E-Mail:first.last+news@firma-muster.de."),
            v{"first.last+news@firma-muster.de"});
}

TEST(email_extract, spelled_words_in_ordinary_sentences_are_not_addresses) {
  for (const char* text : {
           "meet me at the bakery dot com",   // "the" is not followed by a domain
           "Find us at acme-tools.com today", // a bare "at" needs a spelled-out dot
           "dinner chez paul.",               // likewise "chez"
           "We are at home.",
           "jane [at] acme-tools [dot] notatld",
           "point de vente at 10 point 5",
           // Prose of real documentation pages: "at" and "point" are ordinary words there.
           "you can stop at any point in the build",
           "the thread at the point it blocks",
           "history at any point you like",
           "Stop At Any Point In Time",
           "IN NO EVENT SHALL THE AUTHORS BE LIABLE AT ANY POINT IN TIME",
           "which ways to go at some point in",
       })
    EXPECT_TRUE(find_text_emails(text).empty()) << text;
}

TEST(email_extract, look_alikes_are_never_reported) {
  for (const char* bad : {
           "<img src=\"logo@2x.png\"><p>logo@2x.png sprite@3x.webp hero@2x.co icon@1.5x.jpg</p>",
           "<p>user@localhost a@b name@example.c @acme-tools.com x@-bad.com foo@bar..com</p>",
           "<p>npm i package@1.2.3 react@18.2.0 @scope/pkg@4.0.1-beta</p>",
           "<link href=\"https://fonts.googleapis.com/css2?family=Inter:wght@400;700\">"
           "<p>family=Inter:ital,wght@0,400</p>",
           "<script>Sentry.init({dsn:'https://0123456789abcdef0123456789abcdef@o123.ingest.sentry"
           ".io/456'})</script>",
           "<p>https://0123456789abcdef0123456789abcdef@o123.ingest.sentry.io/456</p>",
           "<p>0123456789abcdef0123456789abcdef@sentry.wixpress.com</p>",
           "<p>git clone git@github.com:acme/tools.git</p>",
           "<p>ftp://user:secret@files.acme-tools.com/</p>",
           "<p>info@example.com sales@example.org x@mail.example.net</p>",
           "<p>info@shop.test a@b.invalid c@d.localhost e@f.example</p>",
           "<input type=\"email\" placeholder=\"you@company.com\">"
           "<input placeholder=\"max@acme-tools.com\" value=\"\">",
           "<p>name@yourdomain.com max.mustermann@musterfirma.de</p>",
           "<!-- old: webmaster@acme-tools.com --><style>.a{content:'x@acme-tools.com'}</style>",
           "<script>var e = 'owner@acme-tools.com';</script><template>t@acme-tools.com</template>",
       })
    EXPECT_TRUE(emails_of(bad).empty()) << bad;
}

TEST(email_extract, normalize_email_accepts_one_written_address) {
  EXPECT_EQ(normalize_email(" Info@Firma-Muster.DE. "), "info@firma-muster.de");
  EXPECT_EQ(normalize_email("mailto:info%40firma-muster.de?subject=x"), "info@firma-muster.de");
  EXPECT_EQ(normalize_email("<info@firma-muster.de>;"), "info@firma-muster.de");
  // Character references, a non-breaking space around the address included.
  EXPECT_EQ(normalize_email("&nbsp;info&#64;firma-muster.de&nbsp;"), "info@firma-muster.de");
  EXPECT_EQ(normalize_email("info@firma-muster.de, b@firma-muster.de"), std::nullopt);
  EXPECT_EQ(normalize_email("info@shop.test"), std::nullopt);
  EXPECT_EQ(normalize_email("logo@2x.png"), std::nullopt);
  EXPECT_EQ(normalize_email(std::string(5000, 'a') + "@firma-muster.de"), std::nullopt);
  EXPECT_TRUE(is_reserved_domain("example.com"));
  EXPECT_TRUE(is_reserved_domain("www.example.org"));
  EXPECT_TRUE(is_reserved_domain("fixture.test"));
  EXPECT_FALSE(is_reserved_domain("myexample.com"));
  EXPECT_FALSE(is_reserved_domain("testing.de"));
}

TEST(email_extract, pathological_input_stays_linear_and_bounded) {
  std::string many_ats(200000, '@');
  EXPECT_TRUE(emails_of(many_ats).empty());
  std::string long_local(100000, 'a');
  EXPECT_TRUE(emails_of(long_local + "@acme-tools.com" + std::string(1000, 'x')).size() <= 1);
  std::string chain;
  for (int i = 0; i < 20000; ++i)
    chain += "a@a.";
  EXPECT_NO_THROW(emails_of(chain));
  std::string brackets;
  for (int i = 0; i < 20000; ++i)
    brackets += "a [at] [dot] (at) ";
  EXPECT_NO_THROW(find_text_emails(brackets));
}

// A domain that reaches the longest allowed at a dot: reading stops there, within the text, and
// the addresses after it are still read.
TEST(email_extract, a_domain_past_the_longest_stops_inside_the_text) {
  const std::string longest = "a@" + std::string(253, 'b') + ".c";
  EXPECT_NO_THROW(find_text_emails(longest));
  EXPECT_EQ(find_text_emails(longest + " then info@firma-muster.de"), v{"info@firma-muster.de"});
  const std::string spelled = "a [at] " + std::string(253, 'b') + " [dot] c info@firma-muster.de";
  EXPECT_EQ(find_text_emails(spelled), v{"info@firma-muster.de"});
}

TEST(email_extract, stops_at_the_cap_and_says_so) {
  std::string page;
  for (int i = 0; i < 10'000; ++i)
    page += "user" + std::to_string(i) + "@acme-tools.com ";
  auto found = extract_emails(page, 5);
  EXPECT_EQ(found.addresses,
            (v{"user0@acme-tools.com", "user1@acme-tools.com", "user2@acme-tools.com",
               "user3@acme-tools.com", "user4@acme-tools.com"}));
  EXPECT_TRUE(found.truncated);
  auto exact = extract_emails("a@acme-tools.com b@acme-tools.com a@acme-tools.com", 2);
  EXPECT_EQ(exact.addresses, (v{"a@acme-tools.com", "b@acme-tools.com"}));
  EXPECT_FALSE(exact.truncated);
}

TEST(email_extract, repeats_of_one_address_are_not_read_forever) {
  // One address many times: distinct results stay few, so the candidate count stops it.
  std::string page;
  for (int i = 0; i < 100'000; ++i)
    page += "same@acme-tools.com ";
  auto found = extract_emails(page, 10);
  EXPECT_EQ(found.addresses, v{"same@acme-tools.com"});
  EXPECT_TRUE(found.truncated);
}

// The scan skips text in blocks: an address is found wherever it falls against them.
TEST(email_extract, addresses_at_every_offset_and_at_the_end_of_the_text) {
  for (std::size_t pad = 0; pad < 40; ++pad)
    for (std::string written :
         {"info@firma-muster.de", "mail: jane at acme-tools dot com",
          "jane (at) acme-tools (dot) com", "info [@] acme-tools [.] com",
          "ventas ARROBA empresa-lopez PUNTO es", "biuro MA\u0141PA kancelaria-nowak KROPKA pl"}) {
      std::string text = std::string(pad, 'w') + " " + written;
      auto found = find_text_emails(text);
      ASSERT_EQ(found.size(), 1u) << text;
      found = find_text_emails(text + " and more words after it");
      ASSERT_EQ(found.size(), 1u) << text;
    }
}

TEST(email_extract, addresses_in_listings_are_sample_data_unless_written_as_mailboxes) {
  // An alias table and an access table of a configuration sample: data, also where the prose
  // repeats them, and so is inline code on the sample's own domain.
  auto sample = R"(<p>Read this first, it is long enough to be prose around a listing.</p>
    <pre>webmaster@acme-brand.com   jean@acme-corp.com
spammer@bigmail.com        REJECT</pre>
    <p>Mail from spammer@bigmail.com is refused; write <code>joe.bloggs@acme-corp.com</code>
    in full. The team list is <code>team@lists.debian.org</code>.</p>)";
  EXPECT_EQ(emails_of(sample), (v{"team@lists.debian.org"}));
  // A mailbox on the sample's domain makes it a real one: inline code there counts again.
  auto linked = std::string(sample) + R"(<a href="mailto:office@acme-corp.com">office</a>)";
  EXPECT_EQ(emails_of(linked),
            (v{"office@acme-corp.com", "joe.bloggs@acme-corp.com", "team@lists.debian.org"}));

  // Mailboxes written in a listing: name-addr forms, mail headers, fields named for an address,
  // typographic quotes and address-book rows.
  auto mailboxes = R"(<p>Some samples follow here, each in its own block of preformatted text.</p>
    <pre>Maintainer: Jane Roe &lt;jane@roe-family.net&gt;</pre>
    <pre>From: wietse@porcupine.org (Wietse Venema)</pre>
    <pre>To: submit@bugs.debian.org</pre>
    <pre>[user]
  email = "gitster@pobox.com"</pre>
    <pre>{'author_email': 'pypa-dev@googlegroups.com', 'license': 'MIT'}</pre>
    <pre>Email Address []:admin@porcupine.org</pre>
    <pre>&#8216;coordinator@translationproject.org&#8217;</pre>
    <pre>me@cs.hmc.edu   Michael Elkins  mutt dude</pre>)";
  EXPECT_EQ(emails_of(mailboxes),
            (v{"jane@roe-family.net", "wietse@porcupine.org", "submit@bugs.debian.org",
               "gitster@pobox.com", "pypa-dev@googlegroups.com", "admin@porcupine.org",
               "coordinator@translationproject.org", "me@cs.hmc.edu"}));

  // A doctest's output is data.
  EXPECT_EQ(emails_of(R"(<p>Find the address in the string with a search, like this:</p>
    <pre>&gt;&gt;&gt; m.group(0)
'tony@tiger.net'</pre>)"),
            v{});
}

TEST(email_extract, a_stand_in_for_a_person_has_no_address) {
  // A ChangeLog entry shown as the way not to write one, beside a real author's: the stand-in's
  // address is nobody's, here and wherever the page repeats it.
  auto changelog = R"(<p>Write the entry under your own name, rather than this:</p>
    <pre>2002-07-14  Usual Maintainer  &lt;usual@gnu.org&gt;

        * sewing.c: Make it sew.</pre>
    <pre>2019-03-02  Paul Eggert  &lt;eggert@cs.ucla.edu&gt;</pre>
    <p>Mail usual@gnu.org with questions.</p>)";
  EXPECT_EQ(emails_of(changelog), v{"eggert@cs.ucla.edu"});
  // The same forms in prose, and "addr (Name)".
  EXPECT_EQ(emails_of("<p>Sign as J. Random Hacker &lt;jrh@example.org&gt; or as "
                      "hans@firma-muster.de (Max Mustermann); write to Ana Lima "
                      "&lt;ana@lima-tech.pt&gt;.</p>"),
            v{"ana@lima-tech.pt"});
  // A role of a real organisation is a mailbox: neither word is a stand-in's.
  EXPECT_EQ(emails_of("<pre>Maintainer: Debian QA Group &lt;packages@qa.debian.org&gt;</pre>"),
            v{"packages@qa.debian.org"});
}

TEST(email_extract, a_page_that_is_one_listing_is_read_as_prose) {
  // A plain-text AUTHORS file shown as HTML.
  EXPECT_EQ(emails_of("<html><body><pre>AUTHORS\n\nLead: ana@pt-dev.org\nDocs: "
                      "bo@se-dev.se</pre></body></html>"),
            (v{"ana@pt-dev.org", "bo@se-dev.se"}));
}

TEST(email_extract, an_address_with_a_placeholder_in_it_is_none) {
  EXPECT_EQ(emails_of("<p>Reach your team at <tt><var>ll</var>@li.org</tt>, for example "
                      "<tt>zh@li.org</tt>.</p>"),
            (v{"zh@li.org"}));
}
