// Metadata extraction over libxml2's HTML tree.
#include "scrape/page_metadata.hpp"

#include "scrape/text_rules.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <memory>
#include <set>

namespace sky::scrape {
namespace {

std::string collapse(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
    } else {
      if (space)
        out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

std::string attribute(xmlNode* node, const char* name) {
  xmlChar* v = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
  if (!v)
    return {};
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

std::string text_of(xmlNode* node) {
  xmlChar* v = xmlNodeGetContent(node);
  if (!v)
    return {};
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
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

struct walk_state {
  std::string fallback_lang;
  std::string og_description;
  std::set<std::string, std::less<>> seen_links;
};

bool is_web_link(std::string_view url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

void append_text(std::string& out, const xmlChar* content) {
  if (!content || out.size() >= page_metadata::k_max_text)
    return;
  auto piece = collapse(reinterpret_cast<const char*>(content));
  if (piece.empty())
    return;
  if (!out.empty())
    out += ' ';
  out.append(piece, 0, page_metadata::k_max_text - std::min(out.size(), page_metadata::k_max_text));
}

void walk(xmlNode* node, std::string_view page_url, page_metadata& m, walk_state& state) {
  for (; node; node = node->next) {
    if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
      append_text(m.text, node->content);
      continue;
    }
    if (node->type == XML_ELEMENT_NODE) {
      auto tag = ascii_lower(reinterpret_cast<const char*>(node->name));
      if (tag == "script" || tag == "style" || tag == "template")
        continue; // not visible text, and nothing below them is metadata
      if (tag == "html" && m.language.empty()) {
        m.language = collapse(attribute(node, "lang"));
      } else if (tag == "title" && m.title.empty()) {
        m.title = collapse(text_of(node));
      } else if (tag == "meta") {
        auto name = ascii_lower(attribute(node, "name"));
        auto property = ascii_lower(attribute(node, "property"));
        auto http_equiv = ascii_lower(attribute(node, "http-equiv"));
        auto content = collapse(attribute(node, "content"));
        if (name == "description" && m.description.empty())
          m.description = content;
        if (property.rfind("og:", 0) == 0 && !content.empty())
          m.open_graph.emplace(property, content);
        if (property == "og:description" && state.og_description.empty())
          state.og_description = content;
        if (http_equiv == "content-language" && state.fallback_lang.empty())
          state.fallback_lang = content;
      } else if (tag == "link" && m.canonical.empty()) {
        auto rel = ascii_lower(attribute(node, "rel"));
        if (rel == "canonical")
          m.canonical = resolve(page_url, attribute(node, "href"));
      } else if ((tag == "a" || tag == "area") && m.links.size() < page_metadata::k_max_links) {
        auto href = attribute(node, "href");
        auto start = href.find_first_not_of(" \t\r\n");
        if (start != std::string::npos && href.size() <= 256 &&
            ascii_lower(href.substr(start, 4)) == "tel:") {
          m.tel_links.push_back(href.substr(start + 4));
        } else if (start != std::string::npos && href.size() <= 2048) {
          auto target = resolve(page_url, href.substr(start));
          if (is_web_link(target) && state.seen_links.insert(target).second)
            m.links.push_back(std::move(target));
        }
      }
    }
    walk(node->children, page_url, m, state);
  }
}

} // namespace

page_metadata extract_metadata(std::string_view html, std::string_view page_url) {
  page_metadata m;
  if (html.empty())
    return m;
  std::unique_ptr<xmlDoc, void (*)(xmlDocPtr)> doc(
      htmlReadMemory(html.data(), static_cast<int>(std::min<std::size_t>(html.size(), 1 << 30)),
                     std::string(page_url).c_str(), nullptr,
                     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                         HTML_PARSE_NONET | HTML_PARSE_COMPACT),
      xmlFreeDoc);
  if (!doc)
    return m;
  walk_state state;
  walk(xmlDocGetRootElement(doc.get()), page_url, m, state);
  if (m.language.empty())
    m.language = state.fallback_lang;
  if (m.description.empty())
    m.description = state.og_description;
  if (m.title.empty() && m.open_graph.count("og:title"))
    m.title = m.open_graph["og:title"];
  return m;
}

} // namespace sky::scrape
