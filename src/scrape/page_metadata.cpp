// Metadata extraction over libxml2's HTML parser, read as a stream of SAX events: a page of
// millions of elements costs no tree (a tree takes some 100 times the page's size in memory).
#include "scrape/page_metadata.hpp"

#include "scrape/text_rules.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <libxml/HTMLparser.h>
#include <memory>
#include <set>

namespace sky::scrape {
namespace {

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
    if (std::isspace(static_cast<unsigned char>(c))) {
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

struct parse_state {
  std::string_view page_url;
  const page_limits& limits;
  page_metadata& m;
  std::string fallback_lang;
  std::string og_description;
  std::set<std::string, std::less<>> seen_links;
  int hidden_depth = 0;  // inside script, style or template: no text, nothing is metadata
  bool in_title = false; // reading the first <title>
  std::string title;     // its raw text, at most k_max_title_raw bytes
  bool text_gap = false; // whitespace or a tag since the last character of m.text
  static constexpr std::size_t k_max_title_raw = 64 << 10;
};

parse_state& state_of(void* ctx) {
  return *static_cast<parse_state*>(static_cast<htmlParserCtxtPtr>(ctx)->_private);
}

std::string attribute(const xmlChar** attrs, std::string_view name) {
  for (; attrs && attrs[0]; attrs += 2)
    if (ascii_lower(reinterpret_cast<const char*>(attrs[0])) == name)
      return attrs[1] ? reinterpret_cast<const char*>(attrs[1]) : "";
  return {};
}

// Visible text, whitespace-collapsed, with a space wherever a tag separated two pieces.
void append_text(parse_state& st, const char* chars, std::size_t n) {
  auto& out = st.m.text;
  for (std::size_t i = 0; i < n && out.size() < page_metadata::k_max_text; ++i) {
    char c = chars[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      st.text_gap = true;
      continue;
    }
    if (st.text_gap && !out.empty()) {
      out += ' ';
      if (out.size() >= page_metadata::k_max_text)
        break;
    }
    st.text_gap = false;
    out += c;
  }
}

// A tel: target or an absolute web link, until their caps; past a cap, nothing is resolved.
void add_link(parse_state& st, const std::string& href) {
  auto& m = st.m;
  auto start = href.find_first_not_of(" \t\r\n");
  if (start == std::string::npos)
    return;
  if (href.size() <= 256 && ascii_lower(href.substr(start, 4)) == "tel:") {
    if (m.tel_links.size() < st.limits.max_tel_links)
      m.tel_links.push_back(href.substr(start + 4));
    else
      m.tel_links_truncated = true;
  } else if (href.size() <= 2048 && !m.links_truncated) {
    auto target = resolve(st.page_url, href.substr(start));
    if (!is_web_link(target) || st.seen_links.count(target))
      return;
    if (m.links.size() >= st.limits.max_links) {
      m.links_truncated = true;
      return;
    }
    st.seen_links.insert(target);
    m.links.push_back(std::move(target));
  }
}

bool hides_content(std::string_view tag) {
  return tag == "script" || tag == "style" || tag == "template";
}

void on_start(void* ctx, const xmlChar* name, const xmlChar** attrs) {
  auto& st = state_of(ctx);
  auto& m = st.m;
  st.text_gap = true;
  auto tag = ascii_lower(reinterpret_cast<const char*>(name));
  if (hides_content(tag))
    ++st.hidden_depth;
  if (st.hidden_depth > 0)
    return;
  if (tag == "html" && m.language.empty()) {
    m.language = collapse(attribute(attrs, "lang"));
  } else if (tag == "title" && m.title.empty()) {
    st.in_title = true;
  } else if (tag == "meta") {
    auto meta_name = ascii_lower(attribute(attrs, "name"));
    auto property = ascii_lower(attribute(attrs, "property"));
    auto http_equiv = ascii_lower(attribute(attrs, "http-equiv"));
    auto content = collapse(attribute(attrs, "content"));
    if (meta_name == "description" && m.description.empty())
      m.description = content;
    if (property.rfind("og:", 0) == 0 && !content.empty() &&
        m.open_graph.size() < page_metadata::k_max_open_graph)
      m.open_graph.emplace(collapse(property), content);
    if (property == "og:description" && st.og_description.empty())
      st.og_description = content;
    if (http_equiv == "content-language" && st.fallback_lang.empty())
      st.fallback_lang = content;
  } else if (tag == "link" && m.canonical.empty()) {
    auto href = attribute(attrs, "href");
    if (ascii_lower(attribute(attrs, "rel")) == "canonical" && href.size() <= 2048)
      m.canonical = resolve(st.page_url, href);
  } else if ((tag == "a" || tag == "area") && !(m.links_truncated && m.tel_links_truncated)) {
    add_link(st, attribute(attrs, "href"));
  }
}

void on_end(void* ctx, const xmlChar* name) {
  auto& st = state_of(ctx);
  st.text_gap = true;
  auto tag = ascii_lower(reinterpret_cast<const char*>(name));
  if (hides_content(tag) && st.hidden_depth > 0)
    --st.hidden_depth;
  if (tag == "title" && st.in_title) {
    st.in_title = false;
    st.m.title = collapse(st.title);
    if (st.m.title.empty())
      st.title.clear(); // an empty title lets a later one count, as before
  }
}

void on_characters(void* ctx, const xmlChar* chars, int length) {
  auto& st = state_of(ctx);
  if (st.hidden_depth > 0 || length <= 0)
    return;
  const auto* text = reinterpret_cast<const char*>(chars);
  auto n = static_cast<std::size_t>(length);
  if (st.in_title && st.title.size() < parse_state::k_max_title_raw)
    st.title.append(text, std::min(n, parse_state::k_max_title_raw - st.title.size()));
  append_text(st, text, n);
}

void ignore_characters(void*, const xmlChar*, int) {} // script and style bodies

} // namespace

page_metadata extract_metadata(std::string_view html, std::string_view page_url,
                               const page_limits& limits) {
  page_metadata m;
  if (html.empty())
    return m;
  std::unique_ptr<htmlParserCtxt, void (*)(htmlParserCtxtPtr)> ctxt(htmlNewParserCtxt(),
                                                                    htmlFreeParserCtxt);
  if (!ctxt)
    return m;
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
  sax.startElement = on_start;
  sax.endElement = on_end;
  sax.characters = on_characters;
  sax.ignorableWhitespace = on_characters;
  sax.cdataBlock = ignore_characters;
  parse_state state{page_url, limits, m, {}, {}, {}, 0, false, {}, false};
  ctxt->_private = &state;
  xmlDocPtr doc = htmlCtxtReadMemory(
      ctxt.get(), html.data(), static_cast<int>(std::min<std::size_t>(html.size(), 1 << 30)),
      std::string(page_url).c_str(), nullptr,
      HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
  if (doc)
    xmlFreeDoc(doc);
  cut_utf8(m.text, page_metadata::k_max_text);
  if (m.language.empty())
    m.language = state.fallback_lang;
  if (m.description.empty())
    m.description = state.og_description;
  if (m.title.empty() && m.open_graph.count("og:title"))
    m.title = m.open_graph["og:title"];
  return m;
}

} // namespace sky::scrape
