// Signature table: a technology is present when any of its markers occurs (case-insensitive) in
// the page or its headers. Markers are distinctive strings (paths, globals, generator tags), so a
// plain substring search is enough; all markers are looked for in one linear pass.
#include "scrape/tech_stack.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
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

// Every marker is at least this long, so the search below need look only at every third
// position of the text: any occurrence of a marker holds such a position at one of its first
// three offsets, each with four bytes of the marker from there.
constexpr std::size_t k_prefix_bytes = 4;
constexpr std::size_t k_shortest_marker = 6;
constexpr std::size_t k_stride = k_shortest_marker - k_prefix_bytes + 1;

// The one-pass search below reads four bytes at a time and compares lower-case bytes.
constexpr bool markers_are_searchable() {
  for (const auto& sig : k_signatures)
    for (auto marker : sig.markers)
      if (!marker.empty()) {
        if (marker.size() < k_shortest_marker || marker.find('\n') != std::string_view::npos)
          return false;
        for (char c : marker)
          if (c >= 'A' && c <= 'Z')
            return false;
      }
  return true;
}
static_assert(markers_are_searchable());

// Markers are found in one pass over the page with no lower-cased copy of it: at every third
// position the next four bytes, ASCII-folded by setting bit 0x20 (which maps 'A'-'Z' onto 'a'-'z'
// and keeps every lower-case marker byte), are hashed into a 65,536-bit set of the markers'
// folded four bytes at offsets 0, 1 and 2. Ordinary text rarely hits the set; a hit is then
// checked against the markers with those four folded bytes at that offset, case-insensitively as
// std::tolower does (A-Z only).

std::uint32_t folded_prefix(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v | 0x20202020u;
}

std::uint32_t prefix_hash(std::uint32_t folded) {
  return (folded * 0x9E3779B1u) >> 16;
}

struct marker_entry {
  std::uint32_t prefix; // folded_prefix of the marker at `offset`
  std::size_t offset;   // 0 to k_stride - 1
  std::size_t signature;
  std::string_view marker;
};

struct marker_index {
  std::array<std::uint64_t, (1u << 16) / 64> hashed_prefixes{};
  std::vector<marker_entry> entries; // sorted by prefix

  marker_index() {
    for (std::size_t s = 0; s < k_signatures.size(); ++s)
      for (auto marker : k_signatures[s].markers) {
        if (marker.empty())
          continue;
        for (std::size_t offset = 0; offset < k_stride; ++offset) {
          auto prefix = folded_prefix(marker.data() + offset);
          auto h = prefix_hash(prefix);
          hashed_prefixes[h / 64] |= std::uint64_t{1} << (h % 64);
          entries.push_back({prefix, offset, s, marker});
        }
      }
    // A common word can pass the hashed set ("service" starts "server: cloudflare"): its
    // entries are then found by binary search, not by a walk over all of them.
    std::sort(entries.begin(), entries.end(),
              [](const marker_entry& a, const marker_entry& b) { return a.prefix < b.prefix; });
  }

  bool may_start_at(std::uint32_t folded) const {
    auto h = prefix_hash(folded);
    return (hashed_prefixes[h / 64] >> (h % 64)) & 1;
  }
};

const marker_index& markers() {
  static const marker_index index;
  return index;
}

char ascii_lower_char(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// True when `marker` (lower-case) is written at text[pos..], in any ASCII case.
bool marker_at(std::string_view text, std::size_t pos, std::string_view marker) {
  if (marker.size() > text.size() - pos)
    return false;
  for (std::size_t i = 0; i < marker.size(); ++i)
    if (ascii_lower_char(text[pos + i]) != marker[i])
      return false;
  return true;
}

using signature_set = std::array<bool, k_signatures.size()>;

// Marks in `found` the signatures with a marker in `text`.
void find_tech_markers(std::string_view text, signature_set& found) {
  const auto& index = markers();
  if (text.size() < k_prefix_bytes)
    return;
  const auto last = text.size() - k_prefix_bytes;
  for (std::size_t pos = 0; pos <= last; pos += k_stride) {
    auto folded = folded_prefix(text.data() + pos);
    if (!index.may_start_at(folded))
      continue;
    auto first = std::lower_bound(
        index.entries.begin(), index.entries.end(), folded,
        [](const marker_entry& e, std::uint32_t prefix) { return e.prefix < prefix; });
    for (auto e = first; e != index.entries.end() && e->prefix == folded; ++e)
      if (pos >= e->offset && !found[e->signature] && marker_at(text, pos - e->offset, e->marker))
        found[e->signature] = true;
  }
}

} // namespace

std::vector<std::string> detect_tech_stack(std::string_view html, std::string_view headers) {
  // No marker holds a line break, so none spans the headers and the page: each is read alone.
  signature_set found{};
  find_tech_markers(headers, found);
  find_tech_markers(html, found);
  std::vector<std::string> names;
  for (std::size_t s = 0; s < k_signatures.size(); ++s)
    if (found[s])
      names.emplace_back(k_signatures[s].name);
  return names;
}

std::size_t tech_signature_count() {
  return k_signatures.size();
}

} // namespace sky::scrape
