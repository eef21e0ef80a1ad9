// JSON-LD through Boost.JSON, walked with an explicit stack so that depth costs no recursion.
#include "scrape/structured_data.hpp"

#include "scrape/text_rules.hpp"
#include "scrape/url_rules.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace sky::scrape {
namespace {

constexpr std::size_t k_max_json_values = 20'000;
constexpr std::size_t k_max_depth = 32;

// The last segment of a property IRI or prefixed name: "http://schema.org/email" -> "email".
std::string_view local_name(std::string_view name) {
  auto cut = name.find_last_of(":/#");
  return cut == std::string_view::npos ? name : name.substr(cut + 1);
}

contact_property property_named(std::string_view name) {
  auto local = local_name(name);
  if (local == "email")
    return contact_property::email;
  if (local == "telephone")
    return contact_property::telephone;
  return contact_property::none;
}

// Comments and trailing commas tolerated, nesting bounded: the JSON pages write.
boost::json::value parse_bounded(std::string_view json, boost::system::error_code& ec) {
  boost::json::parse_options options;
  options.allow_comments = true;
  options.allow_trailing_commas = true;
  options.allow_invalid_utf8 = true;
  options.max_depth = k_max_depth + 1;
  return boost::json::parse(json, ec, {}, options);
}

} // namespace

contact_property contact_property_of(std::string_view names) {
  for (std::size_t start = 0; start < names.size();) {
    auto end = names.find_first_of(" \t\r\n", start);
    if (end == std::string_view::npos)
      end = names.size();
    if (auto p = property_named(names.substr(start, end - start)); p != contact_property::none)
      return p;
    start = end + 1;
  }
  return contact_property::none;
}

void read_json_ld(std::string_view json, structured_contacts& out, std::size_t max_values) {
  boost::system::error_code ec;
  auto root = parse_bounded(json, ec);
  if (ec)
    return;
  std::size_t added = 0;
  auto add = [&](contact_property kind, const boost::json::value& v) {
    // A value is a string, or a list of strings ("email": ["a@x.de", "b@x.de"]).
    auto take = [&](const boost::json::value& s) {
      if (!s.is_string() || added >= max_values || s.as_string().size() > 512)
        return;
      auto& list = kind == contact_property::email ? out.emails : out.phones;
      list.emplace_back(s.as_string().c_str(), s.as_string().size());
      ++added;
    };
    if (v.is_array())
      for (const auto& item : v.as_array())
        take(item);
    else
      take(v);
  };
  std::vector<const boost::json::value*> pending{&root};
  std::size_t visited = 0;
  while (!pending.empty() && ++visited <= k_max_json_values && added < max_values) {
    const auto* v = pending.back();
    pending.pop_back();
    auto first_child = pending.size();
    if (v->is_object()) {
      for (const auto& [key, value] : v->as_object()) {
        if (auto kind = property_named(key); kind != contact_property::none)
          add(kind, value);
        else if (value.is_object() || value.is_array())
          pending.push_back(&value);
      }
    } else if (v->is_array()) {
      for (const auto& item : v->as_array())
        if (item.is_object() || item.is_array())
          pending.push_back(&item);
    }
    // Children are taken from the back: reversed, they are read in document order.
    std::reverse(pending.begin() + static_cast<std::ptrdiff_t>(first_child), pending.end());
  }
}

namespace {

enum class data_key { other, email, phone, fax, sample };

// What a page-data key names: "email", "contactEmail", "e_mail", "mail" -> email; "phone",
// "telephone", "phoneNumber", "tel", "telefon", "mobile", "whatsapp" -> phone; "fax..." -> fax.
data_key key_kind(std::string_view key) {
  std::string k;
  for (char c : key.substr(0, 64))
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
      k += c;
    else if (c >= 'A' && c <= 'Z')
      k += static_cast<char>(c - 'A' + 'a');
  if (k.find("fax") != std::string::npos)
    return data_key::fax;
  // Form hints and examples: "placeholder": "nome@email.it", "example": "+34 600 000 000".
  for (std::string_view w : {"placeholder", "example", "hint", "sample", "pattern", "default",
                             "template", "demo", "dummy"})
    if (k.find(w) != std::string::npos)
      return data_key::sample;
  if (k.find("mail") != std::string::npos && k.find("mailing") == std::string::npos)
    return data_key::email;
  for (std::string_view w : {"phone", "telef", "mobil", "whatsapp", "handy", "cellular"})
    if (k.find(w) != std::string::npos)
      return data_key::phone;
  if (k == "tel" || k == "telnr" || k == "telno" || k == "gsm" || k == "cell")
    return data_key::phone;
  return data_key::other;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size())
    return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != prefix[i])
      return false;
  }
  return true;
}

} // namespace

void read_page_data(std::string_view json, structured_contacts& out, std::size_t max_values) {
  boost::system::error_code ec;
  auto root = parse_bounded(json, ec);
  if (ec)
    return;
  std::size_t contacts = 0;
  auto take = [&](std::vector<std::string>& list, std::string_view value) {
    if (contacts >= max_values || value.size() > 512)
      return;
    list.emplace_back(value);
    ++contacts;
  };
  // A string anywhere: a whole address, a mailto:/tel: target or a web URL.
  auto loose = [&](std::string_view s) {
    if (s.size() > 2048)
      return;
    if (starts_with_ci(s, "mailto:")) {
      take(out.emails, s);
    } else if (starts_with_ci(s, "tel:")) {
      take(out.phones, s);
    } else if (starts_with_ci(s, "http://") || starts_with_ci(s, "https://")) {
      if (out.links.size() < max_values)
        out.links.emplace_back(s);
    } else if (s.size() <= 254 && s.find('@') != std::string_view::npos &&
               s.find_first_of(" \t\n<>\"'") == std::string_view::npos) {
      take(out.emails, s);
    }
  };
  struct item {
    const boost::json::value* value;
    data_key under;
  };
  std::vector<item> pending{{&root, data_key::other}};
  std::size_t visited = 0;
  while (!pending.empty() && ++visited <= k_max_json_values && contacts < max_values) {
    auto [v, under] = pending.back();
    pending.pop_back();
    auto first_child = pending.size();
    if (v->is_string()) {
      std::string_view s(v->as_string().data(), v->as_string().size());
      if (under == data_key::email)
        take(out.emails, s);
      else if (under == data_key::phone)
        take(out.phones, s);
      else if (under == data_key::other)
        loose(s);
    } else if (v->is_object()) {
      for (const auto& [key, value] : v->as_object()) {
        auto kind = key_kind(std::string_view(key.data(), key.size()));
        if (value.is_string() || value.is_object() || value.is_array())
          pending.push_back(
              {&value, kind == data_key::other || under == data_key::sample ? under : kind});
      }
    } else if (v->is_array()) {
      for (const auto& element : v->as_array())
        if (element.is_string() || element.is_object() || element.is_array())
          pending.push_back({&element, under});
    }
    // Children are taken from the back: reversed, they are read in document order.
    std::reverse(pending.begin() + static_cast<std::ptrdiff_t>(first_child), pending.end());
  }
}

namespace {

bool is_identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '$';
}

std::size_t skip_js_space(std::string_view s, std::size_t p) {
  while (p < s.size() && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r'))
    ++p;
  return p;
}

// The end of the string literal opening at s[p] (its quote), or npos.
std::size_t string_end(std::string_view s, std::size_t p) {
  const char quote = s[p];
  for (++p; p < s.size(); ++p) {
    if (s[p] == '\\')
      ++p;
    else if (s[p] == quote)
      return p + 1;
    else if (s[p] == '\n' && quote != '`')
      return std::string_view::npos;
  }
  return std::string_view::npos;
}

// The end of the object or array literal opening at s[p], brackets matched outside strings; npos
// when it does not close or nests deeper than the JSON bounds.
std::size_t literal_end(std::string_view s, std::size_t p) {
  std::size_t depth = 0;
  for (; p < s.size(); ++p) {
    char c = s[p];
    if (c == '"' || c == '\'' || c == '`') {
      p = string_end(s, p);
      if (p == std::string_view::npos)
        return p;
      --p;
    } else if (c == '{' || c == '[') {
      if (++depth > k_max_depth + 1)
        return std::string_view::npos;
    } else if (c == '}' || c == ']') {
      if (depth == 0 || --depth == 0)
        return p + 1;
    }
  }
  return std::string_view::npos;
}

// The value of a JavaScript string literal ("...", '...'), escapes decoded (\uXXXX as UTF-8).
std::string js_string_value(std::string_view literal) {
  std::string out;
  const auto end = literal.size() - 1; // the closing quote
  for (std::size_t i = 1; i < end; ++i) {
    if (literal[i] != '\\') {
      out += literal[i];
      continue;
    }
    if (++i >= end)
      break;
    const char e = literal[i];
    if (e == 'n') {
      out += '\n';
    } else if (e == 't') {
      out += '\t';
    } else if (e == 'u' && i + 4 < end) {
      unsigned cp = 0;
      bool ok = true;
      for (std::size_t k = 1; k <= 4 && ok; ++k) {
        const int d = hex_digit_value(literal[i + k]);
        ok = d >= 0;
        cp = cp * 16 + static_cast<unsigned>(std::max(d, 0));
      }
      if (ok) {
        append_utf8(out, cp);
        i += 4;
      } else {
        out += e;
      }
    } else {
      out += e; // \" \' \\ \/ and the rest: the character itself
    }
  }
  return out;
}

} // namespace

std::vector<std::string> script_assigned_json(std::string_view script, std::size_t max) {
  std::vector<std::string> out;
  for (std::string_view owner : {"window", "self", "globalThis"}) {
    for (auto at = script.find(owner); at != std::string_view::npos && out.size() < max;
         at = script.find(owner, at + 1)) {
      if (at > 0 && (is_identifier_char(script[at - 1]) || script[at - 1] == '.'))
        continue;
      auto p = at + owner.size();
      if (p < script.size() && script[p] == '.') { // .name
        const auto name = ++p;
        while (p < script.size() && is_identifier_char(script[p]))
          ++p;
        if (p == name)
          continue;
      } else if (p + 1 < script.size() && script[p] == '[' &&
                 (script[p + 1] == '"' || script[p + 1] == '\'')) { // ["name"]
        const auto end = string_end(script, p + 1);
        if (end == std::string_view::npos || end >= script.size() || script[end] != ']')
          continue;
        p = end + 1;
      } else {
        continue;
      }
      p = skip_js_space(script, p);
      if (p >= script.size() || script[p] != '=' || (p + 1 < script.size() && script[p + 1] == '='))
        continue;
      p = skip_js_space(script, p + 1);
      if (p >= script.size())
        break;
      if (script[p] == '{' || script[p] == '[') {
        const auto end = literal_end(script, p);
        if (end != std::string_view::npos)
          out.emplace_back(script.substr(p, end - p));
      } else if (script.compare(p, 11, "JSON.parse(") == 0) {
        p = skip_js_space(script, p + 11);
        if (p < script.size() && (script[p] == '"' || script[p] == '\'' || script[p] == '`')) {
          const auto end = string_end(script, p);
          if (end != std::string_view::npos)
            out.push_back(js_string_value(script.substr(p, end - p)));
        }
      }
    }
  }
  return out;
}

} // namespace sky::scrape
