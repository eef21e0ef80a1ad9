// Signature table: a technology is present when any of its markers occurs (case-insensitive) in
// the page or its headers. Markers are distinctive strings (paths, globals, generator tags), so a
// plain substring search is enough and runs in linear time.
#include "scrape/tech_stack.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace sky::scrape {
namespace {

struct signature {
  std::string_view name;
  std::array<std::string_view, 4> markers; // lower-case
};

constexpr std::array<signature, 22> k_signatures{{
    {"WordPress", {"/wp-content/", "/wp-includes/", "content=\"wordpress", "wp-json"}},
    {"Shopify", {"cdn.shopify.com", "shopify.theme", "x-shopid", "myshopify.com"}},
    {"Wix", {"static.wixstatic.com", "wix.com website builder", "x-wix-request-id", ""}},
    {"Squarespace", {"static1.squarespace.com", "squarespace.com", "x-squarespace", ""}},
    {"Webflow", {"webflow.js", "data-wf-page", "assets.website-files.com", ""}},
    {"Joomla", {"content=\"joomla", "/media/jui/", "/components/com_", ""}},
    {"Drupal", {"drupal.settings", "/sites/default/files/", "content=\"drupal", "x-drupal-cache"}},
    {"WooCommerce", {"woocommerce", "wc-ajax", "", ""}},
    {"Magento", {"mage/cookies", "magento", "x-magento", ""}},
    {"jQuery", {"jquery.min.js", "jquery.js", "/jquery-", "jquery("}},
    {"React", {"data-reactroot", "react-dom", "__react", "react.production"}},
    {"Next.js", {"__next_data__", "/_next/static/", "x-nextjs", ""}},
    {"Vue.js", {"vue.min.js", "data-v-app", "vue.runtime", "__vue__"}},
    {"Angular", {"ng-version=", "angular.min.js", "ng-app", ""}},
    {"Bootstrap", {"bootstrap.min.css", "bootstrap.min.js", "bootstrap.bundle", ""}},
    {"Google Analytics",
     {"google-analytics.com/analytics.js", "gtag('config', 'g-", "gtag(\"config\", \"g-",
      "googletagmanager.com/gtag/js"}},
    {"Google Tag Manager", {"googletagmanager.com/gtm.js", "googletagmanager.com/ns.html", "", ""}},
    {"Facebook Pixel", {"connect.facebook.net", "fbq('init'", "fbq(\"init\"", ""}},
    {"Cloudflare", {"cdn-cgi/", "cf-ray", "server: cloudflare", ""}},
    {"Google Fonts", {"fonts.googleapis.com", "fonts.gstatic.com", "", ""}},
    {"Font Awesome", {"font-awesome", "fontawesome", "", ""}},
    {"HubSpot", {"js.hs-scripts.com", "hs-analytics", "hubspot", ""}},
}};

} // namespace

std::vector<std::string> detect_tech_stack(std::string_view html, std::string_view headers) {
  std::string haystack;
  haystack.reserve(html.size() + headers.size() + 1);
  for (char c : headers)
    haystack += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  haystack += '\n';
  for (char c : html)
    haystack += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::string> found;
  for (const auto& sig : k_signatures) {
    for (auto marker : sig.markers) {
      if (marker.empty())
        continue;
      // glibc's memmem (two-way, vectorised) is linear and several times faster than a
      // per-call Boyer-Moore-Horspool table here.
      if (::memmem(haystack.data(), haystack.size(), marker.data(), marker.size())) {
        found.emplace_back(sig.name);
        break;
      }
    }
  }
  return found;
}

std::size_t tech_signature_count() {
  return k_signatures.size();
}

} // namespace sky::scrape
