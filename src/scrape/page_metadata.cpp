// Metadata extraction over a stream of elements and text (scrape/html_tokenizer.hpp): a page of
// millions of elements costs no tree (a tree takes some 100 times the page's size in memory).
// libxml2's HTML parser drives the same reader as a reference (page_metadata_reference.hpp).
#include "scrape/page_metadata.hpp"

#include "scrape/html_tokenizer.hpp"
#include "scrape/page_metadata_reference.hpp"
#include "scrape/structured_data.hpp"
#include "scrape/text_rules.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <libxml/HTMLparser.h>
#include <memory>
#include <set>
#include <span>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sky::scrape {
namespace {

// ASCII whitespace as std::isspace sees it in the C locale, without a call per character.
bool is_space(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

// Cuts `s` to at most `max_bytes` without splitting a UTF-8 sequence.
void cut_utf8(std::string& s, std::size_t max_bytes) {
  if (s.size() <= max_bytes)
    return;
  auto end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80)
    --end; // s[end] continues a sequence: cut before its lead byte
  s.resize(end);
}

// Whitespace runs become one space; at most `max_bytes` of the result are kept.
std::string collapse(std::string_view s, std::size_t max_bytes = page_metadata::k_max_field) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (out.size() > max_bytes)
      break;
    if (is_space(c)) {
      space = !out.empty();
    } else {
      if (space)
        out += ' ';
      space = false;
      out += c;
    }
  }
  cut_utf8(out, max_bytes);
  return out;
}

std::string resolve(std::string_view base, const std::string& reference) {
  auto base_url = boost::urls::parse_uri(base);
  auto ref = boost::urls::parse_uri_reference(reference);
  if (!base_url || !ref)
    return {};
  boost::urls::url out;
  if (!boost::urls::resolve(*base_url, *ref, out))
    return {};
  out.remove_fragment();
  return std::string(out.buffer());
}

bool is_web_link(std::string_view url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

// Script bodies read: JSON-LD; page data (JSON scripts, objects assigned to window); nothing else.
enum class script_body : std::uint8_t { none, json_ld, page_data, program };

// What an open element changes until it closes.
struct open_element {
  bool hides = false;                     // script, style, template or a hidden element
  bool reverses = false;                  // unicode-bidi:bidi-override with direction:rtl
  script_body script = script_body::none; // what a script's body is read for
  bool code = false;                      // pre, code, kbd, samp, tt
  bool listing = false;                   // pre (and its obsolete forms): a block of code
  bool variable = false;                  // var: a placeholder
  contact_property captures = contact_property::none; // microdata/RDFa value read from its text
  std::size_t text_start = 0;                         // m.text.size() when it opened
  std::size_t link_index = 0;                         // its entry in m.links + 1, 0 when none
};

constexpr std::size_t k_max_open_elements = 4096;

// Where the visible text is inside some kind of element (code, listings), outermost elements
// only, in positions of the stream of visible characters.
struct span_tracker {
  int depth = 0;         // open elements of the kind
  std::size_t begin = 0; // where the outermost one began
  std::vector<std::pair<std::size_t, std::size_t>> spans;

  void open(std::size_t at) {
    if (depth++ == 0)
      begin = at;
  }
  void close(std::size_t at) {
    if (depth == 0 || --depth > 0 || at <= begin)
      return;
    if (spans.size() < page_metadata::k_max_code_spans)
      spans.emplace_back(begin, at);
    else // past the cap, the last span grows to take in the later ones
      spans.back().second = at;
  }
  void finish(std::size_t at) { // elements still open at the end
    if (depth > 0 && at > begin)
      spans.emplace_back(begin, at);
  }
};

struct parse_state {
  parse_state(std::string_view url, const page_limits& l, page_metadata& meta)
      : page_url(url), limits(l), m(meta) {}
  std::string_view page_url;
  const page_limits& limits;
  page_metadata& m;
  std::string fallback_lang;
  std::string og_description;
  std::set<std::string, std::less<>> seen_links;
  std::vector<open_element> open;
  std::size_t too_deep = 0; // elements opened past k_max_open_elements
  int hidden_depth = 0;     // open elements that hide their content
  bool in_title = false;    // reading the first <title>
  std::string title;        // its raw text, at most k_max_title_raw bytes
  bool text_gap = false;    // whitespace or a separating tag since the last character of m.text
  std::string tail;         // visible text past the head of m.text, rolling
  std::string script;       // the body of the script being read (JSON-LD, page data)
  std::size_t json_ld_bytes = 0;   // JSON-LD read in all on this page
  std::size_t page_data_bytes = 0; // JSON page data read in all on this page
  std::size_t program_bytes = 0;   // inline scripts' bodies read (apart: a large bundle early in
                                   // the page must not use up what __NEXT_DATA__ needs)
  std::size_t tail_dropped = 0;    // bytes of `tail` dropped from its front so far
  int reversing_depth = 0;         // open right-to-left overrides
  // Code and listing spans in positions of written(), mapped to m.text's when the parse ends.
  span_tracker code;
  span_tracker listing;
  span_tracker variable;
  // The position of the next visible character in the stream of all of them (head, then tail).
  std::size_t written() const { return m.text.size() + tail_dropped + tail.size(); }
  static constexpr std::size_t k_max_title_raw = 64 << 10;
};

// The attributes any rule below reads, found in one pass; an absent one has no data().
struct tag_attributes {
  std::string_view lang;
  std::string_view href;
  std::string_view rel;
  std::string_view name;
  std::string_view property;
  std::string_view http_equiv;
  std::string_view content;
  std::string_view itemprop;
  std::string_view cfemail;
  std::string_view style;
  std::string_view type;
  std::string_view src;
  bool hidden = false;
};

bool present(std::string_view attribute) {
  return attribute.data() != nullptr;
}

tag_attributes read_attributes(std::span<const html_attribute> attributes) {
  tag_attributes a;
  static constexpr std::pair<std::string_view, std::string_view tag_attributes::*> k_read[] = {
      {"lang", &tag_attributes::lang},
      {"href", &tag_attributes::href},
      {"rel", &tag_attributes::rel},
      {"name", &tag_attributes::name},
      {"property", &tag_attributes::property},
      {"http-equiv", &tag_attributes::http_equiv},
      {"content", &tag_attributes::content},
      {"itemprop", &tag_attributes::itemprop},
      {"data-cfemail", &tag_attributes::cfemail},
      {"style", &tag_attributes::style},
      {"type", &tag_attributes::type},
      {"src", &tag_attributes::src}};
  for (const auto& attribute : attributes) {
    // A bare attribute's value is "" (present, empty).
    const auto value = attribute.value.data() ? attribute.value : std::string_view("");
    if (attribute.name == "hidden") {
      a.hidden = true;
      continue;
    }
    for (const auto& [name, field] : k_read)
      if (!present(a.*field) && attribute.name == name) {
        a.*field = value;
        break;
      }
  }
  return a;
}

std::string str(std::string_view s) {
  return std::string(s);
}

// Inline elements flow into the text around them: "info<b>@</b>firma.de" reads as one word.
bool is_inline(std::string_view tag) {
  static constexpr std::string_view k_inline[] = {
      "a",    "abbr",  "b",    "bdi",    "bdo", "big", "cite", "code", "data", "del",
      "dfn",  "em",    "font", "i",      "ins", "kbd", "mark", "nobr", "q",    "s",
      "samp", "small", "span", "strong", "sub", "sup", "time", "tt",   "u",    "var"};
  for (auto t : k_inline)
    if (t == tag)
      return true;
  return false;
}

// display:none and visibility:hidden hide; "unicode-bidi: bidi-override; direction: rtl" shows
// the text reversed (a known way of writing an address backwards in the source).
void read_style(std::string_view style, open_element& e) {
  if (style.empty())
    return;
  std::string css;
  for (std::size_t i = 0; i < style.size() && css.size() < 1024; ++i)
    if (char c = style[i]; c != ' ' && c != '\t' && c != '\n' && c != '\r')
      css += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  if (css.find("display:none") != std::string::npos ||
      css.find("visibility:hidden") != std::string::npos)
    e.hides = true;
  if (css.find("bidi-override") != std::string::npos &&
      css.find("direction:rtl") != std::string::npos)
    e.reverses = true;
}

// Reverses the code points of s[from..]: what a right-to-left override shows.
void reverse_utf8_from(std::string& s, std::size_t from) {
  while (from < s.size() && s[from] == ' ')
    ++from; // the gap before the element stays in front
  if (from >= s.size())
    return;
  std::string out;
  out.reserve(s.size() - from);
  std::size_t end = s.size();
  while (end > from) {
    auto start = end - 1;
    while (start > from && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80)
      --start;
    out.append(s, start, end - start);
    end = start;
  }
  s.replace(from, std::string::npos, out);
}

#if defined(__SSE2__)
// Sixteen characters from `p` on hold no whitespace but single spaces before other characters.
// Reads p[0, 17).
bool single_spaced_block(const char* p) {
  auto here = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  auto next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
  auto controls = [](__m128i v) { // '\t' to '\r' (bytes past 0x7F compare as negative)
    return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('\t' - 1)),
                         _mm_cmplt_epi8(v, _mm_set1_epi8('\r' + 1)));
  };
  auto space = [](__m128i v) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(' ')); };
  auto next_is_space = _mm_or_si128(space(next), controls(next));
  auto doubled = _mm_and_si128(space(here), next_is_space);
  return _mm_movemask_epi8(_mm_or_si128(controls(here), doubled)) == 0;
}
#endif

// Where the run of words separated by single spaces that goes on at chars[from] ends (at the
// first whitespace that is not a single space before another character).
std::size_t single_spaced_run_end(const char* chars, std::size_t from, std::size_t n) {
  constexpr std::size_t k_block = 16;
  while (from < n) {
#if defined(__SSE2__)
    while (from + k_block + 1 <= n && single_spaced_block(chars + from))
      from += k_block;
#endif
    auto stop = std::min(n, from + k_block);
    while (from < stop) {
      if (!is_space(chars[from]))
        ++from;
      else if (chars[from] == ' ' && from + 1 < n && !is_space(chars[from + 1]))
        from += 2;
      else
        return from;
    }
  }
  return n;
}

// Visible text, whitespace-collapsed, with a space wherever a separating tag or whitespace stood.
// Past the head the text keeps rolling through `tail`, so that the end of a long page (its
// footer, where contacts usually are) is read too.
void append_text(parse_state& st, const char* chars, std::size_t n) {
  constexpr std::size_t k_head = page_metadata::k_max_text - page_metadata::k_max_text_tail;
  // Well within the head (n characters add at most n + 1, a space included): words that single
  // spaces separate are already collapsed and copied together.
  if (st.m.text.size() + n + 1 < k_head) {
    auto& out = st.m.text;
    for (std::size_t i = 0; i < n;) {
      if (is_space(chars[i])) {
        st.text_gap = true;
        ++i;
        continue;
      }
      auto end = single_spaced_run_end(chars, i + 1, n);
      if (st.text_gap && !out.empty() && out.back() != ' ')
        out += ' ';
      st.text_gap = false;
      out.append(chars + i, end - i);
      i = end;
    }
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    char c = chars[i];
    if (is_space(c)) {
      st.text_gap = true;
      continue;
    }
    auto& out = st.m.text.size() < k_head ? st.m.text : st.tail;
    if (st.text_gap && !out.empty() && out.back() != ' ')
      out += ' ';
    st.text_gap = false;
    out += c;
    if (&out == &st.tail && st.tail.size() >= 2 * page_metadata::k_max_text_tail) {
      st.tail_dropped += st.tail.size() - page_metadata::k_max_text_tail;
      st.tail.erase(0, st.tail.size() - page_metadata::k_max_text_tail);
    }
  }
}

// The end of `tail` after the head, from a word start, within k_max_text in all. Returns where in
// `tail` the appended part starts (tail.size() when nothing was appended).
std::size_t append_tail(std::string& text, const std::string& tail) {
  if (tail.empty() || text.size() + 1 >= page_metadata::k_max_text)
    return tail.size();
  auto room = std::min(page_metadata::k_max_text_tail, page_metadata::k_max_text - text.size() - 1);
  auto from = tail.size() > room ? tail.size() - room : std::size_t{0};
  if (from > 0) {
    auto space = tail.find(' ', from);
    from = space == std::string::npos ? tail.size() : space + 1;
  }
  text += ' ';
  text.append(tail, from, std::string::npos);
  return from;
}

bool is_listing(std::string_view tag) {
  return tag == "pre" || tag == "listing" || tag == "xmp" || tag == "plaintext";
}

bool is_code(std::string_view tag) {
  return is_listing(tag) || tag == "code" || tag == "kbd" || tag == "samp" || tag == "tt";
}

// Code spans in m.text's positions: the head is as written; the tail appended after a space from
// `tail_from` on; what was dropped between them is gone.
void place_spans(const parse_state& st, const span_tracker& from,
                 std::vector<std::pair<std::size_t, std::size_t>>& to, std::size_t head,
                 std::size_t tail_from) {
  const auto& m = st.m;
  auto place = [&](std::size_t p) -> std::size_t {
    if (p <= head)
      return p;
    auto in_tail = p - head;
    in_tail = in_tail > st.tail_dropped ? in_tail - st.tail_dropped : 0;
    if (tail_from >= st.tail.size())
      return head;
    in_tail = std::max(in_tail, tail_from) - tail_from;
    return std::min(m.text.size(), head + 1 + in_tail);
  };
  for (auto [begin, end] : from.spans) {
    auto b = place(begin), e = place(end);
    if (e > b)
      to.emplace_back(b, e);
  }
}

// What a script's body is read for: JSON-LD; JSON page data; an inline program (its objects
// assigned to window). Scripts with a src have no body to read.
script_body script_body_of(const tag_attributes& a) {
  const auto type = ascii_lower(trim_space(a.type));
  if (type.find("ld+json") != std::string::npos)
    return script_body::json_ld;
  if (type.find("json") != std::string::npos)
    return script_body::page_data;
  if (present(a.src))
    return script_body::none;
  if (type.empty() || type.find("javascript") != std::string::npos || type == "module" ||
      type.find("ecmascript") != std::string::npos)
    return script_body::program;
  return script_body::none;
}

void add_structured(parse_state& st, contact_property kind, std::string value);

// Page data's contacts are stated as such, like structured data's; its URLs are kept apart from
// the page's links (social profiles are read from them; the crawl does not follow them).
void add_page_data(parse_state& st, structured_contacts found) {
  for (auto& v : found.emails)
    add_structured(st, contact_property::email, std::move(v));
  for (auto& v : found.phones)
    add_structured(st, contact_property::telephone, std::move(v));
  for (auto& url : found.links)
    if (st.m.data_links.size() < st.limits.max_links && url.size() <= 2048)
      st.m.data_links.push_back(std::move(url));
}

void add_structured(parse_state& st, contact_property kind, std::string value) {
  auto& m = st.m;
  if (kind == contact_property::none || value.empty() || value.size() > 512 ||
      m.structured_emails.size() + m.structured_phones.size() >= st.limits.max_structured_values)
    return;
  (kind == contact_property::email ? m.structured_emails : m.structured_phones)
      .push_back(std::move(value));
}

// "0; url=/new" -> "/new" (quotes and spaces around the URL dropped).
std::string refresh_target(std::string_view content) {
  auto lower = ascii_lower(content);
  auto url = lower.find("url");
  if (url == std::string::npos)
    return {};
  auto p = lower.find_first_not_of(" \t", url + 3);
  if (p == std::string::npos || lower[p] != '=')
    return {};
  auto target = trim_space(content.substr(p + 1));
  while (!target.empty() && (target.front() == '\'' || target.front() == '"'))
    target.remove_prefix(1);
  while (!target.empty() && (target.back() == '\'' || target.back() == '"'))
    target.remove_suffix(1);
  return std::string(target);
}

// A tel:, mailto: or Cloudflare target, or an absolute web link, until their caps; past a cap,
// nothing is resolved. True when a web link was added.
bool add_link(parse_state& st, std::string_view raw_href) {
  auto& m = st.m;
  std::string_view href = trim_space(raw_href);
  if (href.empty())
    return false;
  auto scheme = ascii_lower(href.substr(0, 7));
  if (href.size() <= 256 && scheme.rfind("tel:", 0) == 0) {
    if (m.tel_links.size() < st.limits.max_tel_links)
      m.tel_links.emplace_back(href.substr(4));
    else
      m.tel_links_truncated = true;
    return false;
  }
  if (scheme == "mailto:") {
    if (href.size() <= 1024 && m.mailto_links.size() < st.limits.max_mailto_links)
      m.mailto_links.emplace_back(href.substr(7));
    return false;
  }
  if (auto cf = href.find("/cdn-cgi/l/email-protection#"); cf != std::string_view::npos) {
    if (m.cf_emails.size() < st.limits.max_mailto_links)
      m.cf_emails.emplace_back(href.substr(cf + 28, 1024));
    return false;
  }
  if (href.size() > 2048 || m.links_truncated)
    return false;
  auto target = resolve(st.page_url, std::string(href));
  if (!is_web_link(target) || st.seen_links.count(target))
    return false;
  if (m.links.size() >= st.limits.max_links) {
    m.links_truncated = true;
    return false;
  }
  st.seen_links.insert(target);
  m.links.push_back(std::move(target));
  m.link_texts.emplace_back();
  return true;
}

bool hides_content(std::string_view tag) {
  return tag == "script" || tag == "style" || tag == "template";
}

// `tag` in lower case.
void on_start(parse_state& st, std::string_view tag, std::span<const html_attribute> attributes) {
  auto& m = st.m;
  if (!is_inline(tag))
    st.text_gap = true;
  auto a = read_attributes(attributes);
  open_element e;
  e.text_start = m.text.size();
  e.hides = hides_content(tag) || a.hidden;
  read_style(a.style, e);
  if (tag == "script" && st.hidden_depth == 0)
    e.script = script_body_of(a);
  e.code = is_code(tag);
  e.listing = is_listing(tag);
  e.variable = tag == "var";
  if (st.open.size() >= k_max_open_elements) {
    ++st.too_deep; // libxml2 stops far earlier; this only keeps the stack bounded
    return;
  }
  if (e.hides)
    ++st.hidden_depth;
  if (e.code)
    st.code.open(st.written());
  if (e.listing)
    st.listing.open(st.written());
  if (e.variable)
    st.variable.open(st.written());
  if (e.reverses)
    ++st.reversing_depth;
  st.open.push_back(e);
  if (e.script != script_body::none)
    st.script.clear();
  if (present(a.cfemail) && m.cf_emails.size() < st.limits.max_mailto_links)
    m.cf_emails.emplace_back(std::string(a.cfemail).substr(0, 1024));
  if (st.hidden_depth > 0)
    return;
  auto& current = st.open.back();
  // Microdata (itemprop) and RDFa (property): the content attribute, a link target or the text.
  auto property = contact_property_of(present(a.itemprop) ? a.itemprop : a.property);
  if (property != contact_property::none) {
    if (present(a.content))
      add_structured(st, property, std::string(a.content));
    else if (present(a.href) && (tag == "a" || tag == "link"))
      add_structured(st, property, std::string(a.href));
    else
      current.captures = property;
  }
  if (tag == "html" && m.language.empty()) {
    m.language = collapse(str(a.lang));
  } else if (tag == "title" && m.title.empty()) {
    st.in_title = true;
  } else if (tag == "meta") {
    auto meta_name = ascii_lower(str(a.name));
    auto og = ascii_lower(str(a.property));
    auto http_equiv = ascii_lower(str(a.http_equiv));
    auto content = collapse(str(a.content));
    if (meta_name == "description" && m.description.empty())
      m.description = content;
    if (og.rfind("og:", 0) == 0 && !content.empty() &&
        m.open_graph.size() < page_metadata::k_max_open_graph)
      m.open_graph.emplace(collapse(og), content);
    if (og == "og:description" && st.og_description.empty())
      st.og_description = content;
    if (http_equiv == "content-language" && st.fallback_lang.empty())
      st.fallback_lang = content;
    if (http_equiv == "refresh" && m.refresh_url.empty()) {
      auto target = refresh_target(content);
      if (!target.empty() && target.size() <= 2048)
        m.refresh_url = resolve(st.page_url, target);
    }
  } else if (tag == "link" && m.canonical.empty()) {
    auto href = str(a.href);
    if (ascii_lower(str(a.rel)) == "canonical" && href.size() <= 2048)
      m.canonical = resolve(st.page_url, href);
  } else if (tag == "a" || tag == "area") {
    if (add_link(st, a.href) && tag == "a")
      current.link_index = m.links.size();
  }
}

void on_end(parse_state& st, std::string_view tag) {
  auto& m = st.m;
  if (!is_inline(tag))
    st.text_gap = true;
  if (tag == "title" && st.in_title) {
    st.in_title = false;
    m.title = collapse(st.title);
    if (m.title.empty())
      st.title.clear(); // an empty title lets a later one count, as before
  }
  if (st.too_deep > 0) {
    --st.too_deep;
    return;
  }
  if (st.open.empty())
    return;
  auto e = st.open.back();
  st.open.pop_back();
  if (e.hides && st.hidden_depth > 0)
    --st.hidden_depth;
  if (e.code)
    st.code.close(st.written());
  if (e.listing)
    st.listing.close(st.written());
  if (e.variable)
    st.variable.close(st.written());
  if (e.script == script_body::page_data || e.script == script_body::program) {
    structured_contacts found;
    if (e.script == script_body::page_data)
      read_page_data(st.script, found, st.limits.max_structured_values);
    else
      for (const auto& json : script_assigned_json(st.script))
        read_page_data(json, found, st.limits.max_structured_values);
    add_page_data(st, std::move(found));
    st.script.clear();
  }
  if (e.script == script_body::json_ld) {
    structured_contacts found;
    read_json_ld(st.script, found, st.limits.max_structured_values);
    for (auto& v : found.emails)
      add_structured(st, contact_property::email, std::move(v));
    for (auto& v : found.phones)
      add_structured(st, contact_property::telephone, std::move(v));
    st.script.clear();
  }
  auto from = std::min(e.text_start, m.text.size());
  // Nested right-to-left overrides show their text reversed once, as a whole (the bidi
  // algorithm reverses the inner runs an odd number of times and the outer once): only the
  // outermost one reverses, so that every character moves at most once however deep they nest.
  if (e.reverses && st.reversing_depth > 0 && --st.reversing_depth == 0) {
    m.reversed_bytes += m.text.size() - std::min(m.text.size(), from);
    reverse_utf8_from(m.text, from);
  }
  if (e.captures != contact_property::none)
    add_structured(st, e.captures, std::string(trim_space(std::string_view(m.text).substr(from))));
  if (e.link_index > 0 && e.link_index <= m.link_texts.size())
    m.link_texts[e.link_index - 1] =
        collapse(std::string_view(m.text).substr(from), page_metadata::k_max_link_text);
}

void on_characters(parse_state& st, std::string_view chars) {
  if (st.hidden_depth > 0 || chars.empty())
    return;
  const auto* text = chars.data();
  auto n = chars.size();
  if (st.in_title && st.title.size() < parse_state::k_max_title_raw)
    st.title.append(text, std::min(n, parse_state::k_max_title_raw - st.title.size()));
  append_text(st, text, n);
}

// Script and style bodies: only JSON-LD is read.
void on_cdata(parse_state& st, std::string_view chars) {
  if (st.open.empty() || st.open.back().script == script_body::none || chars.empty())
    return;
  const bool json_ld = st.open.back().script == script_body::json_ld;
  auto& used = json_ld                                           ? st.json_ld_bytes
               : st.open.back().script == script_body::page_data ? st.page_data_bytes
                                                                 : st.program_bytes;
  const auto budget = json_ld ? st.limits.max_json_ld_bytes : st.limits.max_page_data_bytes;
  auto n = std::min(chars.size(), budget - std::min(budget, used));
  st.script.append(chars.data(), n);
  used += n;
}

class metadata_handler final : public html_handler {
public:
  explicit metadata_handler(parse_state& st) : st_(st) {}
  void start_element(std::string_view name, std::span<const html_attribute> attributes) override {
    on_start(st_, name, attributes);
  }
  void end_element(std::string_view name) override { on_end(st_, name); }
  void text(std::string_view chars) override { on_characters(st_, chars); }
  void raw_text(std::string_view chars) override { on_cdata(st_, chars); }

private:
  parse_state& st_;
};

// libxml2's SAX events, as the reference reader.
parse_state& state_of(void* ctx) {
  return *static_cast<parse_state*>(static_cast<htmlParserCtxtPtr>(ctx)->_private);
}

std::string_view view_of(const xmlChar* s, std::size_t n) {
  return {reinterpret_cast<const char*>(s), n};
}

void libxml2_start(void* ctx, const xmlChar* name, const xmlChar** attrs) {
  std::vector<html_attribute> attributes;
  std::vector<std::string> names;
  for (auto* a = attrs; a && a[0]; a += 2)
    names.push_back(ascii_lower(reinterpret_cast<const char*>(a[0])));
  std::size_t i = 0;
  for (auto* a = attrs; a && a[0]; a += 2, ++i)
    attributes.push_back({names[i], a[1] ? std::string_view(reinterpret_cast<const char*>(a[1]))
                                         : std::string_view("")});
  on_start(state_of(ctx), ascii_lower(reinterpret_cast<const char*>(name)), attributes);
}

void libxml2_end(void* ctx, const xmlChar* name) {
  on_end(state_of(ctx), ascii_lower(reinterpret_cast<const char*>(name)));
}

void libxml2_characters(void* ctx, const xmlChar* chars, int length) {
  if (length > 0)
    on_characters(state_of(ctx), view_of(chars, static_cast<std::size_t>(length)));
}

void libxml2_cdata(void* ctx, const xmlChar* chars, int length) {
  if (length > 0)
    on_cdata(state_of(ctx), view_of(chars, static_cast<std::size_t>(length)));
}

void read_with_libxml2(std::string_view html, std::string_view page_url, parse_state& state) {
  std::unique_ptr<htmlParserCtxt, void (*)(htmlParserCtxtPtr)> ctxt(htmlNewParserCtxt(),
                                                                    htmlFreeParserCtxt);
  if (!ctxt)
    return;
  // The default handlers build a tree; these only watch. Error callbacks stay (the options
  // below silence them).
  auto& sax = *ctxt->sax;
  sax.startDocument = nullptr;
  sax.endDocument = nullptr;
  sax.internalSubset = nullptr;
  sax.externalSubset = nullptr;
  sax.reference = nullptr;
  sax.comment = nullptr;
  sax.processingInstruction = nullptr;
  sax.startElementNs = nullptr;
  sax.endElementNs = nullptr;
  sax.startElement = libxml2_start;
  sax.endElement = libxml2_end;
  sax.characters = libxml2_characters;
  sax.ignorableWhitespace = libxml2_characters;
  sax.cdataBlock = libxml2_cdata;
  ctxt->_private = &state;
  xmlDocPtr doc = htmlCtxtReadMemory(
      ctxt.get(), html.data(), static_cast<int>(std::min<std::size_t>(html.size(), 1 << 30)),
      std::string(page_url).c_str(), "UTF-8", // already decoded (decode_to_utf8)
      HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
  if (doc)
    xmlFreeDoc(doc);
}

template <class Read>
page_metadata extract_with(std::string_view html, std::string_view page_url,
                           const page_limits& limits, Read read) {
  page_metadata m;
  if (html.empty())
    return m;
  parse_state state(page_url, limits, m);
  // The visible text is most of a typical page: grown once, not doubling all the way.
  m.text.reserve(std::min(html.size(), page_metadata::k_max_text - page_metadata::k_max_text_tail));
  read(state);
  state.code.finish(state.written());
  state.listing.finish(state.written());
  state.variable.finish(state.written());
  const auto head = m.text.size();
  const auto tail_from = append_tail(m.text, state.tail);
  cut_utf8(m.text, page_metadata::k_max_text);
  place_spans(state, state.code, m.code_spans, head, tail_from);
  place_spans(state, state.listing, m.listing_spans, head, tail_from);
  place_spans(state, state.variable, m.variable_spans, head, tail_from);
  if (m.language.empty())
    m.language = state.fallback_lang;
  if (m.description.empty())
    m.description = state.og_description;
  if (m.title.empty() && m.open_graph.count("og:title"))
    m.title = m.open_graph["og:title"];
  return m;
}

} // namespace

page_metadata extract_metadata(std::string_view html, std::string_view page_url,
                               const page_limits& limits) {
  return extract_with(html, page_url, limits, [&](parse_state& state) {
    metadata_handler handler(state);
    read_html(html, handler);
  });
}

page_metadata extract_metadata_libxml2(std::string_view html, std::string_view page_url,
                                       const page_limits& limits) {
  return extract_with(html, page_url, limits,
                      [&](parse_state& state) { read_with_libxml2(html, page_url, state); });
}

} // namespace sky::scrape
