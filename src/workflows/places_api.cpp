// Places requests and answers for both API versions, without I/O.
#include "workflows/places_api.hpp"

#include <boost/json.hpp>
#include <cctype>

namespace sky::workflows::places {
namespace {

namespace json = boost::json;
using config::places_api_version;

// Percent-encodes everything but RFC 3986 unreserved characters (query values, path segments).
std::string url_encode(std::string_view s) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 15];
    }
  }
  return out;
}

std::string string_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

const json::object* object_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

std::optional<double> number_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v)
    return std::nullopt;
  if (v->is_double())
    return v->as_double();
  if (v->is_int64())
    return static_cast<double>(v->as_int64());
  if (v->is_uint64())
    return static_cast<double>(v->as_uint64());
  return std::nullopt;
}

std::optional<int> count_at(const json::object& o, std::string_view key) {
  auto n = number_at(o, key);
  if (!n || *n < 0 || *n > 2'000'000'000)
    return std::nullopt;
  return static_cast<int>(*n);
}

std::optional<std::string> non_empty(std::string s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(std::move(s));
}

// Both versions' place objects, field by field: new name, then legacy name.
std::string display_name(places_api_version version, const json::object& p) {
  if (version == places_api_version::legacy)
    return string_at(p, "name");
  const auto* name = object_at(p, "displayName"); // {"text": ..., "languageCode": ...}
  return name ? string_at(*name, "text") : std::string();
}

// New: why an error answer failed, from {"error": {"code", "message", "status"}}.
std::string error_reason(long http_status, std::string_view body) {
  std::string status, message;
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (!ec && v.is_object())
    if (const auto* error = object_at(v.as_object(), "error")) {
      status = string_at(*error, "status");
      message = string_at(*error, "message");
    }
  if (status.empty())
    return "HTTP status " + std::to_string(http_status);
  return status + (message.empty() ? "" : ": " + message) + " (HTTP " +
         std::to_string(http_status) + ")";
}

bool is_transient_http(long http_status) {
  return http_status == 429 || http_status >= 500;
}

handler_result rejected_page_token(const std::string& reason) {
  return handler_result::retry("page token rejected, the search starts over: " + reason);
}

answer read_new_answer(call_kind kind, long http_status, std::string_view body) {
  if (http_status != 200) {
    auto reason = error_reason(http_status, body);
    if (is_transient_http(http_status))
      return {{}, handler_result::retry(reason)};
    if (http_status == 400 && kind == call_kind::next_page)
      return {{}, rejected_page_token(reason)};
    return {{}, handler_result::failed(reason)};
  }
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object())
    return {{}, handler_result::retry("Places API answered with malformed JSON")};
  return {std::move(v.as_object()), std::nullopt};
}

answer read_legacy_answer(call_kind kind, long http_status, std::string_view body) {
  if (http_status != 200) {
    auto reason = "Places API: HTTP status " + std::to_string(http_status);
    return {{},
            is_transient_http(http_status) ? handler_result::retry(reason)
                                           : handler_result::failed(reason)};
  }
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object())
    return {{}, handler_result::retry("Places API answered with malformed JSON")};
  auto& object = v.as_object();
  auto status = string_at(object, "status");
  auto message = string_at(object, "error_message");
  auto reason = status + (message.empty() ? "" : ": " + message);
  if (status == "OK" || status == "ZERO_RESULTS")
    return {std::move(object), std::nullopt};
  if (status == "OVER_QUERY_LIMIT" || status == "UNKNOWN_ERROR")
    return {{}, handler_result::retry(reason)};
  if (status == "INVALID_REQUEST" && kind == call_kind::next_page)
    return {{}, rejected_page_token(reason)};
  return {{}, handler_result::failed(reason.empty() ? "Places API gave no status" : reason)};
}

std::vector<std::string> new_api_headers(const api_settings& api, std::string_view field_mask) {
  return {"X-Goog-Api-Key: " + api.key, "X-Goog-FieldMask: " + std::string(field_mask)};
}

} // namespace

std::string text_query(std::string_view business_type, std::string_view location) {
  return std::string(business_type) + " in " + std::string(location);
}

scrape::fetch_request text_search_request(const api_settings& api, std::string_view query,
                                          std::string_view page_token) {
  scrape::fetch_request r;
  if (api.version == places_api_version::legacy) {
    // A legacy page token stands for the whole search; the query is not repeated.
    r.url = api.base_url + "/textsearch/json?" +
            (page_token.empty() ? "query=" + url_encode(query)
                                : "pagetoken=" + url_encode(page_token)) +
            "&key=" + url_encode(api.key);
    return r;
  }
  // A new page token is only valid with the parameters of the search that produced it.
  json::object body{{"textQuery", query}, {"pageSize", k_text_search_page_size}};
  if (!page_token.empty())
    body["pageToken"] = page_token;
  r.url = api.base_url + "/v1/places:searchText";
  r.post_body = json::serialize(body);
  r.headers = new_api_headers(api, k_text_search_field_mask);
  r.headers.push_back("Content-Type: application/json");
  return r;
}

scrape::fetch_request details_request(const api_settings& api, std::string_view place_id) {
  scrape::fetch_request r;
  if (api.version == places_api_version::legacy) {
    r.url = api.base_url + "/details/json?place_id=" + url_encode(place_id) +
            "&fields=" + std::string(k_legacy_details_fields) + "&key=" + url_encode(api.key);
    return r;
  }
  r.url = api.base_url + "/v1/places/" + url_encode(place_id);
  r.headers = new_api_headers(api, k_details_field_mask);
  return r;
}

answer read_answer(places_api_version version, call_kind kind, long http_status,
                   std::string_view body) {
  return version == places_api_version::legacy ? read_legacy_answer(kind, http_status, body)
                                               : read_new_answer(kind, http_status, body);
}

search_page read_search_page(places_api_version version, const json::object& body) {
  const bool legacy = version == places_api_version::legacy;
  search_page page;
  page.next_page_token = string_at(body, legacy ? "next_page_token" : "nextPageToken");
  const auto* list = body.if_contains(legacy ? "results" : "places");
  if (!list || !list->is_array())
    return page;
  for (const auto& item : list->as_array()) {
    if (!item.is_object())
      continue;
    const auto& p = item.as_object();
    staged_place row;
    row.place_id = string_at(p, legacy ? "place_id" : "id");
    if (row.place_id.empty())
      continue;
    row.name = display_name(version, p);
    row.address = string_at(p, legacy ? "formatted_address" : "formattedAddress");
    const json::object* location = nullptr;
    if (legacy) {
      if (const auto* geometry = object_at(p, "geometry"))
        location = object_at(*geometry, "location");
    } else {
      location = object_at(p, "location");
    }
    if (location) {
      row.latitude = number_at(*location, legacy ? "lat" : "latitude");
      row.longitude = number_at(*location, legacy ? "lng" : "longitude");
    }
    row.rating = number_at(p, "rating");
    row.user_ratings_total = count_at(p, legacy ? "user_ratings_total" : "userRatingCount");
    row.raw = p;
    page.places.push_back(std::move(row));
  }
  return page;
}

std::optional<place_details> read_details(places_api_version version, const json::object& body) {
  const bool legacy = version == places_api_version::legacy;
  const json::object* p = &body;
  if (legacy) {
    p = object_at(body, "result");
    if (!p)
      return std::nullopt;
  }
  place_details d;
  d.place_id = string_at(*p, legacy ? "place_id" : "id");
  if (d.place_id.empty())
    return std::nullopt;
  d.name = display_name(version, *p);
  d.address = string_at(*p, legacy ? "formatted_address" : "formattedAddress");
  d.phone =
      non_empty(string_at(*p, legacy ? "international_phone_number" : "internationalPhoneNumber"));
  if (!d.phone)
    d.phone = non_empty(string_at(*p, legacy ? "formatted_phone_number" : "nationalPhoneNumber"));
  d.website = non_empty(string_at(*p, legacy ? "website" : "websiteUri"));
  d.rating = number_at(*p, "rating");
  d.user_ratings_total = count_at(*p, legacy ? "user_ratings_total" : "userRatingCount");
  d.raw = *p;
  return d;
}

namespace {

json::value optional_value(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}
json::value optional_value(const std::optional<int>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}
json::value optional_value(const std::optional<std::string>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

} // namespace

json::object to_json(const staged_place& p) {
  return {{"place_id", p.place_id},
          {"name", p.name},
          {"address", p.address},
          {"latitude", optional_value(p.latitude)},
          {"longitude", optional_value(p.longitude)},
          {"rating", optional_value(p.rating)},
          {"user_ratings_total", optional_value(p.user_ratings_total)},
          {"raw", p.raw}};
}

staged_place staged_place_from_json(const json::object& o) {
  staged_place p;
  p.place_id = string_at(o, "place_id");
  p.name = string_at(o, "name");
  p.address = string_at(o, "address");
  p.latitude = number_at(o, "latitude");
  p.longitude = number_at(o, "longitude");
  p.rating = number_at(o, "rating");
  p.user_ratings_total = count_at(o, "user_ratings_total");
  if (const auto* raw = object_at(o, "raw"))
    p.raw = *raw;
  return p;
}

json::object to_json(const place_details& d) {
  return {{"place_id", d.place_id},
          {"name", d.name},
          {"address", d.address},
          {"phone", optional_value(d.phone)},
          {"website", optional_value(d.website)},
          {"rating", optional_value(d.rating)},
          {"user_ratings_total", optional_value(d.user_ratings_total)},
          {"raw", d.raw}};
}

place_details place_details_from_json(const json::object& o) {
  place_details d;
  d.place_id = string_at(o, "place_id");
  d.name = string_at(o, "name");
  d.address = string_at(o, "address");
  d.phone = non_empty(string_at(o, "phone"));
  d.website = non_empty(string_at(o, "website"));
  d.rating = number_at(o, "rating");
  d.user_ratings_total = count_at(o, "user_ratings_total");
  if (const auto* raw = object_at(o, "raw"))
    d.raw = *raw;
  return d;
}

} // namespace sky::workflows::places
