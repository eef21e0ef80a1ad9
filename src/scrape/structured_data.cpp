// JSON-LD through Boost.JSON, walked with an explicit stack so that depth costs no recursion.
#include "scrape/structured_data.hpp"

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
  boost::json::parse_options options;
  options.allow_comments = true;
  options.allow_trailing_commas = true;
  options.allow_invalid_utf8 = true;
  options.max_depth = k_max_depth + 1;
  boost::system::error_code ec;
  auto root = boost::json::parse(json, ec, {}, options);
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

} // namespace sky::scrape
