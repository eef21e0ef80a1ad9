// The auto mode's rules read the raw HTML once for its scripts; no parser, linear in the page.
#include "scrape/render_rules.hpp"

#include <algorithm>
#include <array>
#include <set>

namespace sky::scrape {
namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Case-insensitive search of an ASCII needle.
std::size_t find_ci(std::string_view text, std::string_view needle, std::size_t from = 0) {
  if (needle.empty() || text.size() < needle.size())
    return std::string_view::npos;
  for (std::size_t i = from; i + needle.size() <= text.size(); ++i) {
    std::size_t k = 0;
    while (k < needle.size() && lower(text[i + k]) == needle[k])
      ++k;
    if (k == needle.size())
      return i;
  }
  return std::string_view::npos;
}

bool contains_ci(std::string_view text, std::string_view needle) {
  return find_ci(text, needle) != std::string_view::npos;
}

// The value of attribute `name` in a tag's attribute text, lower-cased; "" when absent.
std::string attribute(std::string_view attrs, std::string_view name) {
  for (std::size_t at = find_ci(attrs, name); at != std::string_view::npos;
       at = find_ci(attrs, name, at + 1)) {
    if (at > 0 && !(attrs[at - 1] == ' ' || attrs[at - 1] == '\t' || attrs[at - 1] == '\n' ||
                    attrs[at - 1] == '\r'))
      continue;
    auto i = at + name.size();
    while (i < attrs.size() && (attrs[i] == ' ' || attrs[i] == '\t'))
      ++i;
    if (i >= attrs.size() || attrs[i] != '=')
      continue;
    ++i;
    while (i < attrs.size() && (attrs[i] == ' ' || attrs[i] == '\t'))
      ++i;
    char quote = i < attrs.size() && (attrs[i] == '"' || attrs[i] == '\'') ? attrs[i] : 0;
    if (quote)
      ++i;
    std::string value;
    const auto ends = [&](char c) {
      return quote ? c == quote : c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '>';
    };
    while (i < attrs.size() && !ends(attrs[i]))
      value += lower(attrs[i++]);
    return value; // (type="" is JavaScript, as an absent type is)
  }
  return {};
}

// Types a browser runs as code; JSON and templates are data (the static read handles page data).
bool executable_type(const std::string& type) {
  return type.empty() || type == "module" || type.find("javascript") != std::string::npos ||
         type.find("ecmascript") != std::string::npos;
}

struct scripts_seen {
  bool any = false;    // code the browser would run: inline or a file
  bool writes = false; // inline code that writes into the document
  bool names_contact = false;
};

constexpr std::array<std::string_view, 11> k_writers{
    "document.write", ".innerhtml",    ".outerhtml",        "insertadjacenthtml",
    ".textcontent",   ".innertext",    "createtextnode",    ".append(",
    ".prepend(",      ".replacewith(", "insertadjacenttext"};
constexpr std::array<std::string_view, 8> k_contact_fields{"email", "e-mail", "mailto",  "mail",
                                                           "phone", "tel:",   "contact", "kontakt"};

scripts_seen read_scripts(std::string_view html) {
  scripts_seen seen;
  std::size_t at = 0;
  // Bounded work: at most this many scripts are looked at (a hostile page can hold millions).
  for (int scripts = 0; scripts < 2000; ++scripts) {
    at = find_ci(html, "<script", at);
    if (at == std::string_view::npos)
      break;
    // <script>, <script src=...>, not <scripts> or <script-loader>.
    if (at + 7 < html.size() &&
        !(html[at + 7] == '>' || html[at + 7] == ' ' || html[at + 7] == '\t' ||
          html[at + 7] == '\n' || html[at + 7] == '\r' || html[at + 7] == '/')) {
      at += 7;
      continue;
    }
    auto tag_end = html.find('>', at);
    if (tag_end == std::string_view::npos)
      break;
    auto attrs = html.substr(at + 7, tag_end - at - 7);
    auto close = find_ci(html, "</script", tag_end + 1);
    auto body = html.substr(tag_end + 1,
                            (close == std::string_view::npos ? html.size() : close) - tag_end - 1);
    at = close == std::string_view::npos ? html.size() : close + 8;
    if (!executable_type(attribute(attrs, "type")))
      continue;
    const bool file = !attribute(attrs, "src").empty();
    if (!file && body.find_first_not_of(" \t\r\n") == std::string_view::npos)
      continue;
    seen.any = true;
    if (file)
      continue;
    for (auto w : k_writers)
      if (contains_ci(body, w)) {
        seen.writes = true;
        break;
      }
    for (auto f : k_contact_fields)
      if (contains_ci(body, f)) {
        seen.names_contact = true;
        break;
      }
  }
  return seen;
}

template <class T, class Key>
void append_new(std::vector<T>& into, std::vector<T>& from, const Key& key) {
  std::set<std::string> have;
  for (const auto& x : into)
    have.insert(key(x));
  for (auto& x : from)
    if (have.insert(key(x)).second)
      into.push_back(std::move(x));
}

} // namespace

render_mode render_mode_of(std::string_view text) {
  if (text == "always")
    return render_mode::always;
  if (text == "auto")
    return render_mode::auto_;
  return render_mode::off;
}

std::string_view to_string(render_mode mode) {
  switch (mode) {
  case render_mode::always:
    return "always";
  case render_mode::auto_:
    return "auto";
  case render_mode::off:
    break;
  }
  return "off";
}

std::string_view render_reason(std::string_view html, const page_analysis& page, render_mode mode) {
  if (mode == render_mode::off)
    return {};
  if (mode == render_mode::always)
    return "always";
  const auto scripts = read_scripts(html);
  if (!scripts.any)
    return {};
  if (scripts.writes)
    return "scripts_write_markup";
  if (page.meta.text.size() < k_app_shell_text)
    return "app_shell";
  if (page.emails.empty() && scripts.names_contact)
    return "scripts_name_contacts";
  return {};
}

void merge_rendered(page_analysis& page, page_analysis rendered) {
  const auto same = [](const std::string& s) { return s; };
  append_new(page.emails, rendered.emails, same);
  append_new(page.phones, rendered.phones, [](const found_phone& p) { return p.e164; });
  append_new(page.tech, rendered.tech, same);
  for (auto& [network, url] : rendered.social)
    page.social.emplace(network, std::move(url));
  // Links keep their texts beside them (same index).
  std::set<std::string> have(page.meta.links.begin(), page.meta.links.end());
  for (std::size_t i = 0; i < rendered.meta.links.size(); ++i)
    if (have.insert(rendered.meta.links[i]).second) {
      page.meta.links.push_back(std::move(rendered.meta.links[i]));
      page.meta.link_texts.push_back(i < rendered.meta.link_texts.size()
                                         ? std::move(rendered.meta.link_texts[i])
                                         : std::string());
    }
  for (auto& limit : rendered.limits_hit)
    if (std::find(page.limits_hit.begin(), page.limits_hit.end(), limit) == page.limits_hit.end())
      page.limits_hit.push_back(std::move(limit));
}

} // namespace sky::scrape
