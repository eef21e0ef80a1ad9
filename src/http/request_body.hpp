// Request validation shared by the routes: JSON bodies, typed fields, UUIDs, pagination.
// Every failure is an api_response (4xx JSON) that the route returns as is; nothing is written.
#pragma once

#include "http/list_cursor.hpp"
#include "http/router.hpp"

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace sky::http {

template <class T> using validated = std::variant<T, api_response>;

bool is_uuid(std::string_view s);

// The body as a JSON object (whatever the Content-Type says); 400 for malformed JSON or another
// JSON type.
validated<boost::json::object> json_body(const request_context& ctx);

// A required non-empty string field (at most `max_length` bytes).
validated<std::string> string_field(const boost::json::object& body, std::string_view name,
                                    std::size_t max_length = 2048);
// A required UUID field.
validated<std::string> uuid_field(const boost::json::object& body, std::string_view name);
// A required array of strings with 1..max_items entries.
validated<std::vector<std::string>> string_list_field(const boost::json::object& body,
                                                      std::string_view name, std::size_t max_items);

// Offsets beyond this are refused: an offset costs the database a scan of every row before it.
// Deeper pages are reached by cursor, which costs the same wherever it points.
inline constexpr long long k_max_list_offset = 1'000'000;

struct page_request {
  int limit = 50;
  long long offset = 0;
  std::optional<list_cursor> cursor; // `cursor`: the page after a previous one (not with offset)
};
validated<page_request> page_of(const request_context& ctx);

// A query filter that must be one of `allowed` when present.
validated<std::optional<std::string>> enum_filter(const request_context& ctx, std::string_view name,
                                                  const std::vector<std::string_view>& allowed);
validated<std::optional<std::string>> uuid_filter(const request_context& ctx,
                                                  std::string_view name);

} // namespace sky::http
