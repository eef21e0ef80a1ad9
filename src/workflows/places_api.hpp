// Google Places as values: the request a text search page or a place's details needs with either
// API version, and what an answer means (rows to store, the next page, a retry or a failure).
// No I/O here; the handlers in places_workflows.cpp move these values over the network.
#pragma once

#include "config/config.hpp"
#include "scrape/fetcher.hpp"
#include "workflows/queue_handler.hpp"

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sky::workflows::places {

// Where and how the Places API is called.
struct api_settings {
  config::places_api_version version = config::places_api_version::places_new;
  std::string base_url;
  std::string key;

  static api_settings from(const config::app_config& c) {
    return {c.places_api, c.places_api_base_url, c.places_api_key};
  }
};

// Results per text search page: the new API's maximum (the legacy API always sends 20).
inline constexpr int k_text_search_page_size = 20;

// The fields the pipeline stores, and nothing more: the new API bills by the fields named.
// places_staging: place_id, name, address, latitude/longitude, rating, user_ratings_total; types
// and business status are kept in its raw JSON.
inline constexpr std::string_view k_text_search_field_mask =
    "places.id,places.displayName,places.formattedAddress,places.location,places.rating,"
    "places.userRatingCount,places.types,places.businessStatus,nextPageToken";
// local_businesses: place_id, business_name, full_address, phone, website_url, rating,
// user_ratings_total; business status and opening hours are kept in its raw JSON.
inline constexpr std::string_view k_details_field_mask =
    "id,displayName,formattedAddress,nationalPhoneNumber,internationalPhoneNumber,websiteUri,"
    "rating,userRatingCount,businessStatus,regularOpeningHours";
inline constexpr std::string_view k_legacy_details_fields =
    "place_id,name,formatted_address,formatted_phone_number,international_phone_number,website,"
    "rating,user_ratings_total,business_status";

// "<business_type> in <location>": the query both versions search for.
std::string text_query(std::string_view business_type, std::string_view location);

// One page of a text search; `page_token` empty for the first page.
scrape::fetch_request text_search_request(const api_settings& api, std::string_view query,
                                          std::string_view page_token);
scrape::fetch_request details_request(const api_settings& api, std::string_view place_id);

// What a request was for: a rejected page token means something else than a rejected search.
enum class call_kind { first_page, next_page, details };

// An HTTP answer read: its JSON body, or the handler result to return instead.
struct answer {
  boost::json::object body;
  std::optional<handler_result> failure;
};

// Maps an HTTP answer of the Places API to a body or a failure:
// - new: 200 is the body; errors are {"error": {code, message, status}}. 429 (RESOURCE_EXHAUSTED)
//   and 5xx are retried; 400 INVALID_ARGUMENT, 403 PERMISSION_DENIED, 404 NOT_FOUND and the rest
//   fail with "<STATUS>: <message> (HTTP <code>)".
// - legacy: the body's status: OK and ZERO_RESULTS are answers, OVER_QUERY_LIMIT and
//   UNKNOWN_ERROR are retried, others (REQUEST_DENIED, INVALID_REQUEST, NOT_FOUND) fail.
// Either way a rejected page token is retried: the search starts over and gets fresh tokens.
// A 200 whose body is not a JSON object is retried.
answer read_answer(config::places_api_version version, call_kind kind, long http_status,
                   std::string_view body);

// A text search result as a places_staging row.
struct staged_place {
  std::string place_id, name, address;
  std::optional<double> latitude, longitude, rating;
  std::optional<int> user_ratings_total;
  boost::json::object raw; // the API's object, as answered
};

struct search_page {
  std::vector<staged_place> places; // those with a place id
  std::string next_page_token;      // empty on the last page
};
search_page read_search_page(config::places_api_version version, const boost::json::object& body);

// A details answer as a local_businesses row.
struct place_details {
  std::string place_id, name, address;
  std::optional<std::string> phone, website; // international number preferred
  std::optional<double> rating;
  std::optional<int> user_ratings_total;
  boost::json::object raw;
};
// nullopt when the answer holds no place.
std::optional<place_details> read_details(config::places_api_version version,
                                          const boost::json::object& body);

// Rows travel from the work step to the write step as JSON (the item's result).
boost::json::object to_json(const staged_place& p);
staged_place staged_place_from_json(const boost::json::object& o);
boost::json::object to_json(const place_details& d);
place_details place_details_from_json(const boost::json::object& o);

} // namespace sky::workflows::places
