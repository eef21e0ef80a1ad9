// The auto mode's rules and the merge of a rendered page, as pure functions.
#include "scrape/render_rules.hpp"

#include <gtest/gtest.h>

using namespace sky::scrape;

namespace {

std::string_view reason(const std::string& html, render_mode mode = render_mode::auto_) {
  static page_analysis page; // kept alive: the reason is a view of a constant
  page = analyze_page(html, "https://shop-example.com/");
  return render_reason(html, page, mode);
}

const std::string k_prose = "<p>" + std::string(40, 'a') + " " + std::string(60, 'b') + " " +
                            std::string(80, 'c') + " " + std::string(60, 'd') +
                            "</p><p>Call us or write to info@shop-example.com</p>";

} // namespace

TEST(render_rules, pages_without_scripts_of_their_own_are_never_rendered) {
  EXPECT_EQ(reason("<html><body><p>tiny</p></body></html>"), "");
  // Data, not code: JSON-LD, page data, templates.
  EXPECT_EQ(reason("<script type=\"application/ld+json\">{\"email\":\"x\"}</script><p>tiny</p>"),
            "");
  EXPECT_EQ(
      reason("<script id=\"__NEXT_DATA__\" type=\"application/json\">{\"props\":{}}</script>"), "");
  EXPECT_EQ(reason("<script type=\"text/template\"><p>{{email}}</p></script><p>tiny</p>"), "");
  EXPECT_EQ(reason("<script></script>" + k_prose), "");
  EXPECT_EQ(reason("<p>tiny</p>", render_mode::off), "");
}

TEST(render_rules, scripts_that_write_markup_or_text_are_rendered) {
  for (std::string code :
       {"document.write('<a href=mailto:' + u + '@' + d + '>')", "el.innerHTML = a",
        "node.insertAdjacentHTML('beforeend', s)", "x.textContent = [u, d].join('@')",
        "p.appendChild(document.createTextNode(t))", "EL.INNERHTML = A"})
    EXPECT_EQ(reason("<script>" + code + "</script>" + k_prose), "scripts_write_markup") << code;
  EXPECT_EQ(reason("<SCRIPT type=\"text/javascript\">document.write(x)</SCRIPT>" + k_prose),
            "scripts_write_markup");
  EXPECT_EQ(reason("<script type=module>root.innerHTML = view()</script>" + k_prose),
            "scripts_write_markup");
}

TEST(render_rules, an_app_shell_with_little_text_is_rendered) {
  EXPECT_EQ(reason("<div id=\"root\"></div><script src=\"/app.js\"></script>"), "app_shell");
  // The same script file under a page that shows its text is left alone.
  EXPECT_EQ(reason("<script src=\"/app.js\"></script>" + k_prose), "");
}

TEST(render_rules, scripts_that_name_contact_fields_are_rendered_when_no_address_was_found) {
  const std::string text = "<p>" + std::string(300, 'w') + "</p>";
  EXPECT_EQ(reason("<script>var config = {email: decode(k)};</script>" + text),
            "scripts_name_contacts");
  // An address already read: nothing more to look for.
  EXPECT_EQ(reason("<script>var config = {email: decode(k)};</script>" + k_prose), "");
}

TEST(render_rules, always_renders_every_page) {
  EXPECT_EQ(reason("<p>plain</p>", render_mode::always), "always");
  EXPECT_EQ(render_mode_of("always"), render_mode::always);
  EXPECT_EQ(render_mode_of("auto"), render_mode::auto_);
  EXPECT_EQ(render_mode_of("nonsense"), render_mode::off);
}

TEST(render_rules, a_hostile_page_of_scripts_is_read_in_bounded_work) {
  std::string html;
  for (int i = 0; i < 5000; ++i)
    html += "<script src=x></script>";
  html += "<script>document.write(1)</script>";
  // Only the first few thousand scripts are looked at: the writer at the end is not seen.
  EXPECT_EQ(reason(html), "app_shell");
}

TEST(render_rules, merging_adds_only_what_the_rendered_page_shows_anew) {
  auto served = analyze_page(
      "<p>Write to info@shop-example.com or call +1 217 789 0100</p><a href=\"/about\">About</a>",
      "https://shop-example.com/");
  auto rendered = analyze_page("<p>info@shop-example.com and sales@shop-example.com</p>"
                               "<a href=\"/about\">About</a><a href=\"/team\">Team</a>",
                               "https://shop-example.com/");
  merge_rendered(served, rendered);
  ASSERT_EQ(served.emails.size(), 2u);
  EXPECT_EQ(served.emails[0], "info@shop-example.com");
  EXPECT_EQ(served.emails[1], "sales@shop-example.com");
  EXPECT_EQ(served.phones.size(), 1u);
  ASSERT_EQ(served.meta.links.size(), 2u);
  EXPECT_EQ(served.meta.links[1], "https://shop-example.com/team");
  ASSERT_EQ(served.meta.link_texts.size(), 2u);
  EXPECT_EQ(served.meta.link_texts[1], "Team");
}
