// Page metadata from HTML: title, meta description, Open Graph, canonical URL, language.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

struct page_metadata {
  std::string title;
  std::string description;                       // <meta name="description">, else og:description
  std::string canonical;                         // absolute, resolved against the page URL
  std::string language;                          // <html lang>, else content-language meta
  std::map<std::string, std::string> open_graph; // "og:title" -> ..., first value wins
  // Absolute http(s) targets of <a href> and <area href>, without fragments, in page order,
  // deduplicated, at most k_max_links.
  std::vector<std::string> links;
  static constexpr std::size_t k_max_links = 2000;
  // Targets of tel: links, as written (percent-decoding left to the phone extractor).
  std::vector<std::string> tel_links;
  // Visible text (no script, style or template content), whitespace-collapsed, at most
  // k_max_text bytes: what loose-text extractors (phone numbers) read.
  std::string text;
  static constexpr std::size_t k_max_text = 256 << 10;
};

// Tolerant of broken markup (libxml2's recovering HTML parser, network off). Text is trimmed and
// whitespace-collapsed.
page_metadata extract_metadata(std::string_view html, std::string_view page_url);

} // namespace sky::scrape
