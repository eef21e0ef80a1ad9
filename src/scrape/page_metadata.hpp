// Page metadata from HTML: title, meta description, Open Graph, canonical URL, language.
#pragma once

#include "scrape/page_limits.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

struct page_metadata {
  // Title, description, canonical, language and Open Graph values are cut to k_max_field bytes;
  // at most k_max_open_graph Open Graph properties are kept.
  static constexpr std::size_t k_max_field = 2048;
  static constexpr std::size_t k_max_open_graph = 64;
  std::string title;
  std::string description;                       // <meta name="description">, else og:description
  std::string canonical;                         // absolute, resolved against the page URL
  std::string language;                          // <html lang>, else content-language meta
  std::map<std::string, std::string> open_graph; // "og:title" -> ..., first value wins
  // Absolute http(s) targets of <a href> and <area href>, without fragments, in page order,
  // deduplicated, at most page_limits::max_links.
  std::vector<std::string> links;
  bool links_truncated = false;
  // Targets of tel: links, as written (percent-decoding left to the phone extractor), at most
  // page_limits::max_tel_links.
  std::vector<std::string> tel_links;
  bool tel_links_truncated = false;
  // Text of each <a> link in `links` (same index), whitespace-collapsed, at most k_max_link_text
  // bytes; "" for <area> links.
  std::vector<std::string> link_texts;
  static constexpr std::size_t k_max_link_text = 128;
  // Targets of mailto: links, as written after "mailto:", at most page_limits::max_mailto_links.
  std::vector<std::string> mailto_links;
  // Cloudflare-protected addresses (data-cfemail on any element, /cdn-cgi/l/email-protection#...
  // links), hex as written, at most page_limits::max_mailto_links.
  std::vector<std::string> cf_emails;
  // Emails and telephone numbers stated as such: JSON-LD, microdata (itemprop) and RDFa
  // (property), values as written, at most page_limits::max_structured_values in all.
  // Page data (JSON scripts such as __NEXT_DATA__, objects scripts assign to window) adds to both.
  std::vector<std::string> structured_emails;
  std::vector<std::string> structured_phones;
  // http(s) URLs of the page data, at most page_limits::max_links: social profiles of app shells.
  std::vector<std::string> data_links;
  // Target of <meta http-equiv="refresh" content="0; url=...">, absolute; "" when none.
  std::string refresh_url;
  // Visible text: what a person reads. No script, style, template or hidden element ("hidden",
  // display:none, visibility:hidden); inline elements (span, b, a...) join their neighbours
  // without a space, other elements and <br> separate them; right-to-left overrides are read in
  // the order they are shown. Whitespace-collapsed, at most k_max_text bytes: of a longer text,
  // the first k_max_text - k_max_text_tail bytes and the last k_max_text_tail (from a word
  // start), so that a long page's footer is read.
  std::string text;
  // Where `text` holds code (pre, code, kbd, samp, tt): [begin, end) byte ranges, in order. A
  // person reads addresses there, but the digits are constants and dumps, not phone numbers.
  std::vector<std::pair<std::size_t, std::size_t>> code_spans;
  // Where `text` holds a block of code (pre): listings and samples, inside code_spans. Inline code
  // (code, tt...) in a sentence is often just typography for a name or an address.
  std::vector<std::pair<std::size_t, std::size_t>> listing_spans;
  // Where `text` is a <var>: a placeholder the reader replaces ("<var>ll</var>@li.org").
  std::vector<std::pair<std::size_t, std::size_t>> variable_spans;
  static constexpr std::size_t k_max_code_spans = 1024;
  // Bytes of `text` moved to show right-to-left overrides: at most its size, however they nest.
  std::size_t reversed_bytes = 0;
  static constexpr std::size_t k_max_text = 256 << 10;
  static constexpr std::size_t k_max_text_tail = 32 << 10;
};

// Tolerant of broken markup (html_tokenizer: one pass, elements kept balanced); `html` is UTF-8.
// Text is trimmed and whitespace-collapsed.
page_metadata extract_metadata(std::string_view html, std::string_view page_url,
                               const page_limits& limits = {});

} // namespace sky::scrape
