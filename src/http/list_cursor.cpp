// Keyset cursors: {"o": order, "v": value or null, "i": id} as base64url JSON.
#include "http/list_cursor.hpp"

#include "http/jwt.hpp"
#include "http/request_body.hpp"

#include <boost/json.hpp>

namespace sky::http {
namespace json = boost::json;

std::string encode_list_cursor(const list_cursor& cursor) {
  json::object o{{"o", cursor.order}, {"i", cursor.id}};
  if (cursor.value)
    o["v"] = *cursor.value;
  else
    o["v"] = nullptr;
  return base64url_encode(json::serialize(o));
}

std::optional<list_cursor> decode_list_cursor(std::string_view token) {
  std::string text;
  if (token.empty() || token.size() > k_max_cursor_bytes || !base64url_decode(token, text))
    return std::nullopt;
  // The token is small and bounded above; a parser with a fixed depth is enough.
  json::parse_options options;
  options.max_depth = 2;
  std::error_code ec;
  auto value = json::parse(text, ec, {}, options);
  if (ec || !value.is_object())
    return std::nullopt;
  const auto& o = value.get_object();
  if (o.size() != 3)
    return std::nullopt;
  const auto* order = o.if_contains("o");
  const auto* id = o.if_contains("i");
  const auto* v = o.if_contains("v");
  if (!order || !order->is_string() || order->get_string().size() > 128 || !id ||
      !id->is_string() || !is_uuid(id->get_string()) || !v || !(v->is_string() || v->is_null()))
    return std::nullopt;
  list_cursor cursor{std::string(order->get_string()), std::nullopt, std::string(id->get_string())};
  if (v->is_string())
    cursor.value = std::string(v->get_string());
  return cursor;
}

std::optional<long long> next_offset_within(long long offset, std::size_t returned,
                                            long long max_offset) {
  const long long next = offset + static_cast<long long>(returned);
  if (next > max_offset)
    return std::nullopt;
  return next;
}

} // namespace sky::http
