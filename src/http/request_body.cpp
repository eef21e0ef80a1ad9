// Validation helpers: precise messages, because a 4xx is the API's only way to teach its callers.
#include "http/request_body.hpp"

#include <boost/json.hpp>
#include <charconv>

namespace sky::http {

namespace json = boost::json;

bool is_uuid(std::string_view s) {
  if (s.size() != 36)
    return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-')
        return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

validated<json::object> json_body(const request_context& ctx) {
  boost::system::error_code ec;
  auto v = json::parse(ctx.request.body, ec);
  if (ec)
    return json_error(400, "invalid_json", "body is not valid JSON: " + ec.message());
  if (!v.is_object())
    return json_error(400, "invalid_body", "body must be a JSON object");
  return std::move(v.as_object());
}

validated<std::string> string_field(const json::object& body, std::string_view name,
                                    std::size_t max_length) {
  const auto* v = body.if_contains(name);
  if (!v)
    return json_error(400, "missing_field", std::string(name) + " is required");
  if (!v->is_string())
    return json_error(400, "invalid_field", std::string(name) + " must be a string");
  std::string s(v->as_string());
  if (s.empty() || s.size() > max_length)
    return json_error(400, "invalid_field",
                      std::string(name) + " must have 1 to " + std::to_string(max_length) +
                          " characters");
  return s;
}

validated<std::string> uuid_field(const json::object& body, std::string_view name) {
  auto s = string_field(body, name, 64);
  if (auto* id = std::get_if<std::string>(&s); id && !is_uuid(*id))
    return json_error(400, "invalid_field", std::string(name) + " must be a UUID");
  return s;
}

validated<std::vector<std::string>>
string_list_field(const json::object& body, std::string_view name, std::size_t max_items) {
  const auto* v = body.if_contains(name);
  if (!v)
    return json_error(400, "missing_field", std::string(name) + " is required");
  if (!v->is_array())
    return json_error(400, "invalid_field", std::string(name) + " must be an array of strings");
  const auto& a = v->as_array();
  if (a.empty())
    return json_error(400, "invalid_field", std::string(name) + " must not be empty");
  if (a.size() > max_items)
    return json_error(400, "too_many_items",
                      std::string(name) + " has " + std::to_string(a.size()) + " items; at most " +
                          std::to_string(max_items) + " are accepted");
  std::vector<std::string> out;
  out.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string())
      return json_error(400, "invalid_field",
                        std::string(name) + "[" + std::to_string(i) + "] must be a string");
    out.emplace_back(a[i].as_string());
  }
  return out;
}

namespace {

std::optional<long long> parse_number(const std::string& s) {
  long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size())
    return std::nullopt;
  return v;
}

} // namespace

validated<page_request> page_of(const request_context& ctx) {
  page_request page;
  if (auto it = ctx.query.find("limit"); it != ctx.query.end()) {
    auto v = parse_number(it->second);
    if (!v || *v < 1 || *v > 500)
      return json_error(400, "invalid_query", "limit must be an integer from 1 to 500");
    page.limit = static_cast<int>(*v);
  }
  if (auto it = ctx.query.find("offset"); it != ctx.query.end()) {
    auto v = parse_number(it->second);
    if (!v || *v < 0 || *v > k_max_list_offset)
      return json_error(400, "invalid_query",
                        "offset must be an integer from 0 to " + std::to_string(k_max_list_offset));
    page.offset = *v;
  }
  if (auto it = ctx.query.find("cursor"); it != ctx.query.end()) {
    if (ctx.query.contains("offset"))
      return json_error(400, "invalid_query", "cursor and offset cannot be combined");
    page.cursor = decode_list_cursor(it->second);
    if (!page.cursor)
      return json_error(400, "invalid_query",
                        "cursor is not one this server issued (use next_cursor as it is)");
  }
  return page;
}

validated<std::optional<std::string>> enum_filter(const request_context& ctx, std::string_view name,
                                                  const std::vector<std::string_view>& allowed) {
  auto it = ctx.query.find(name);
  if (it == ctx.query.end())
    return std::optional<std::string>();
  for (auto a : allowed)
    if (it->second == a)
      return std::optional<std::string>(it->second);
  std::string list;
  for (auto a : allowed)
    list.append(list.empty() ? "" : ", ").append(a);
  return json_error(400, "invalid_query", std::string(name) + " must be one of: " + list);
}

validated<std::optional<std::string>> uuid_filter(const request_context& ctx,
                                                  std::string_view name) {
  auto it = ctx.query.find(name);
  if (it == ctx.query.end())
    return std::optional<std::string>();
  if (!is_uuid(it->second))
    return json_error(400, "invalid_query", std::string(name) + " must be a UUID");
  return std::optional<std::string>(it->second);
}

} // namespace sky::http
