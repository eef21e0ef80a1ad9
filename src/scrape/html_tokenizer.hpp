// HTML read as a stream of balanced elements and text, without a tree: what the extractors read
// (visible text, links, meta, script bodies) at the cost of one pass over the bytes.
//
// Tokenizing follows HTML's rules where they change what a reader sees: character references
// (HTML 4's names, the ASCII punctuation names HTML5 added, numeric references with and without
// a semicolon, Windows-1252 for 128-159), raw text (script, style, xmp, iframe), escapable raw
// text (title, textarea, when closed), comments, and attributes quoted, unquoted or bare. Element
// nesting is kept balanced the way libxml2's HTML parser keeps it: void elements close at once,
// a start tag closes the open elements it cannot nest in ("<p>" closes a "<p>", "<li>" a
// "<li>"), an end tag closes what is open above its element but never a block that outranks it
// ("</span>" leaves a "<div>" open), and everything left open closes at the end.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace sky::scrape {

struct html_attribute {
  std::string_view name;  // lower-case ASCII
  std::string_view value; // references decoded; "" for a bare attribute
};

// Receives a page's elements in document order; every start_element has its end_element.
// Views are valid only during the call.
class html_handler {
public:
  virtual ~html_handler() = default;
  virtual void start_element(std::string_view name, std::span<const html_attribute> attributes) = 0;
  virtual void end_element(std::string_view name) = 0;
  virtual void text(std::string_view chars) = 0;     // references decoded; in pieces
  virtual void raw_text(std::string_view chars) = 0; // a script's or a style's body, as written
};

struct html_read_limits {
  std::size_t max_open_elements = 1024; // deeper elements close at once
  std::size_t max_attributes = 128;     // per tag; later ones are skipped
  std::size_t end_tag_search = 256;     // open elements an end tag looks through for its own
};

void read_html(std::string_view html, html_handler& handler, const html_read_limits& limits = {});

// The code point a named character reference stands for ("amp" -> '&'), 0 when unknown.
char32_t named_character(std::string_view name);

// `text` with its character references decoded as in an attribute value ("info&#64;firma.de").
std::string decode_character_references(std::string_view text);

} // namespace sky::scrape
