// Places requests and answers as values: request bodies, headers and field masks, the mapping of
// error answers to retry or failure, and answers to rows, for both API versions.
#include "workflows/places_api.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

using namespace sky;
using namespace sky::workflows;
using config::places_api_version;
namespace json = boost::json;

namespace {

places::api_settings new_api() {
  return {places_api_version::places_new, "https://places.googleapis.com", "k&1"};
}
places::api_settings legacy_api() {
  return {places_api_version::legacy, "https://maps.googleapis.com/maps/api/place", "k&1"};
}

std::vector<std::string> split(std::string_view list) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  for (auto comma = list.find(',');; comma = list.find(',', pos)) {
    out.emplace_back(list.substr(pos, comma == std::string_view::npos ? comma : comma - pos));
    if (comma == std::string_view::npos)
      return out;
    pos = comma + 1;
  }
}

bool has_header(const scrape::fetch_request& r, const std::string& line) {
  return std::find(r.headers.begin(), r.headers.end(), line) != r.headers.end();
}

// A new API place as Google answers it when every field is asked for.
json::object full_new_place() {
  return json::parse(R"({
    "id": "ChIJ1", "name": "places/ChIJ1",
    "displayName": {"text": "Alpha Bakery", "languageCode": "en"},
    "formattedAddress": "100 Main St, Springfield, IL 62701, USA",
    "location": {"latitude": 39.78, "longitude": -89.65},
    "rating": 4.5, "userRatingCount": 17, "types": ["bakery"], "businessStatus": "OPERATIONAL",
    "nationalPhoneNumber": "(217) 555-1000", "internationalPhoneNumber": "+1 217-555-1000",
    "websiteUri": "http://alpha-bakery.com/",
    "regularOpeningHours": {"openNow": true, "weekdayDescriptions": ["Monday: 8 AM"]}})")
      .as_object();
}

// `place` reduced to the fields a mask names (with `prefix` stripped), as the API answers.
json::object masked(const json::object& place, std::string_view mask, std::string_view prefix) {
  json::object out;
  for (const auto& field : split(mask))
    if (field.rfind(prefix, 0) == 0)
      if (const auto* v = place.if_contains(field.substr(prefix.size())))
        out[field.substr(prefix.size())] = *v;
  return out;
}

} // namespace

TEST(places_api, text_search_is_a_json_post_with_key_and_field_mask_headers) {
  auto first = places::text_search_request(new_api(), "bakery in Springfield", "");
  EXPECT_EQ(first.url, "https://places.googleapis.com/v1/places:searchText");
  ASSERT_TRUE(first.post_body);
  EXPECT_EQ(json::parse(*first.post_body),
            json::parse(R"({"textQuery":"bakery in Springfield","pageSize":20})"));
  EXPECT_TRUE(has_header(first, "X-Goog-Api-Key: k&1"));
  EXPECT_TRUE(has_header(first, "Content-Type: application/json"));
  EXPECT_TRUE(
      has_header(first, "X-Goog-FieldMask: " + std::string(places::k_text_search_field_mask)));
  // A later page repeats the search's parameters with the token, as the API requires.
  auto next = places::text_search_request(new_api(), "bakery in Springfield", "tok\"1");
  ASSERT_TRUE(next.post_body);
  EXPECT_EQ(
      json::parse(*next.post_body),
      json::parse(R"({"textQuery":"bakery in Springfield","pageSize":20,"pageToken":"tok\"1"})"));
}

TEST(places_api, field_masks_name_every_field_the_rows_are_made_of_and_no_more) {
  auto search_mask = split(places::k_text_search_field_mask);
  EXPECT_EQ(search_mask,
            (std::vector<std::string>{"places.id", "places.displayName", "places.formattedAddress",
                                      "places.location", "places.rating", "places.userRatingCount",
                                      "places.types", "places.businessStatus", "nextPageToken"}));
  // Rows made from an answer reduced to the mask equal rows made from the full answer.
  json::object answer{{"places", json::array{full_new_place()}}, {"nextPageToken", "t"}};
  json::object reduced{{"places", json::array{masked(full_new_place(),
                                                     places::k_text_search_field_mask, "places.")}},
                       {"nextPageToken", "t"}};
  auto full = places::read_search_page(places_api_version::places_new, answer);
  auto from_mask = places::read_search_page(places_api_version::places_new, reduced);
  ASSERT_EQ(from_mask.places.size(), 1u);
  EXPECT_EQ(places::to_json(from_mask.places[0]).at("name"), "Alpha Bakery");
  auto without_raw = [](places::staged_place p) {
    p.raw = {};
    return places::to_json(p);
  };
  EXPECT_EQ(without_raw(from_mask.places[0]), without_raw(full.places[0]));
  EXPECT_EQ(from_mask.next_page_token, "t");

  auto details = masked(full_new_place(), places::k_details_field_mask, "");
  EXPECT_TRUE(details.contains("websiteUri"));
  EXPECT_TRUE(details.contains("internationalPhoneNumber"));
  EXPECT_TRUE(details.contains("regularOpeningHours"));
  EXPECT_FALSE(details.contains("types")); // not stored by local_businesses
  auto d = places::read_details(places_api_version::places_new, details);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->place_id, "ChIJ1");
  EXPECT_EQ(d->name, "Alpha Bakery");
  EXPECT_EQ(d->address, "100 Main St, Springfield, IL 62701, USA");
  EXPECT_EQ(d->phone, "+1 217-555-1000");
  EXPECT_EQ(d->website, "http://alpha-bakery.com/");
  EXPECT_EQ(d->rating, 4.5);
  EXPECT_EQ(d->user_ratings_total, 17);
}

TEST(places_api, details_is_a_get_of_the_encoded_place_id) {
  auto r = places::details_request(new_api(), "ChIJ/a b");
  EXPECT_EQ(r.url, "https://places.googleapis.com/v1/places/ChIJ%2Fa%20b");
  EXPECT_FALSE(r.post_body);
  EXPECT_TRUE(has_header(r, "X-Goog-Api-Key: k&1"));
  EXPECT_TRUE(has_header(r, "X-Goog-FieldMask: " + std::string(places::k_details_field_mask)));
}

TEST(places_api, legacy_requests_are_gets_with_the_key_in_the_query) {
  auto first = places::text_search_request(legacy_api(), "bakery in Springfield", "");
  EXPECT_EQ(first.url,
            "https://maps.googleapis.com/maps/api/place/textsearch/json?query=bakery%20in%"
            "20Springfield&key=k%261");
  EXPECT_FALSE(first.post_body);
  EXPECT_TRUE(first.headers.empty());
  auto next = places::text_search_request(legacy_api(), "bakery in Springfield", "t/1");
  EXPECT_EQ(next.url,
            "https://maps.googleapis.com/maps/api/place/textsearch/json?pagetoken=t%2F1&key=k%261");
  auto details = places::details_request(legacy_api(), "ChIJ1");
  EXPECT_EQ(details.url, "https://maps.googleapis.com/maps/api/place/details/json?place_id=ChIJ1&"
                         "fields=" +
                             std::string(places::k_legacy_details_fields) + "&key=k%261");
}

TEST(places_api, new_error_answers_map_to_failure_or_retry_with_the_reason) {
  struct error_case {
    long http;
    const char* status;
    places::call_kind kind;
    messages::outcome expected;
  };
  using enum places::call_kind;
  using messages::outcome;
  const std::vector<error_case> cases{
      {400, "INVALID_ARGUMENT", first_page, outcome::failed},
      {400, "INVALID_ARGUMENT", details, outcome::failed},
      {400, "INVALID_ARGUMENT", next_page, outcome::retry}, // a rejected page token
      {403, "PERMISSION_DENIED", first_page, outcome::failed},
      {404, "NOT_FOUND", details, outcome::failed},
      {429, "RESOURCE_EXHAUSTED", first_page, outcome::retry},
      {429, "RESOURCE_EXHAUSTED", details, outcome::retry},
      {500, "INTERNAL", next_page, outcome::retry},
      {503, "UNAVAILABLE", details, outcome::retry},
  };
  for (const auto& c : cases) {
    auto body = json::serialize(json::object{
        {"error", json::object{{"code", c.http}, {"message", "why"}, {"status", c.status}}}});
    auto a = places::read_answer(places_api_version::places_new, c.kind, c.http, body);
    ASSERT_TRUE(a.failure) << c.status;
    EXPECT_EQ(a.failure->result, c.expected) << c.status << " " << static_cast<int>(c.kind);
    EXPECT_NE(a.failure->error.find(std::string(c.status) + ": why (HTTP " +
                                    std::to_string(c.http) + ")"),
              std::string::npos)
        << a.failure->error;
  }
  // The reason starts with the status, as deep_scan_error has always done (NOT_FOUND ...).
  auto missing = places::read_answer(
      places_api_version::places_new, details, 404,
      R"({"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND"}})");
  EXPECT_EQ(missing.failure->error, "NOT_FOUND: Requested entity was not found. (HTTP 404)");
  // An error without Google's shape still says what happened.
  auto bare = places::read_answer(places_api_version::places_new, first_page, 502, "<html>");
  EXPECT_EQ(bare.failure->result, outcome::retry);
  EXPECT_EQ(bare.failure->error, "HTTP status 502");
  // 200: the body, or a retry when it is not a JSON object.
  auto ok = places::read_answer(places_api_version::places_new, first_page, 200, "{}");
  EXPECT_FALSE(ok.failure);
  auto garbled = places::read_answer(places_api_version::places_new, first_page, 200, "[1]");
  EXPECT_EQ(garbled.failure->result, outcome::retry);
}

TEST(places_api, legacy_statuses_map_as_before) {
  using enum places::call_kind;
  using messages::outcome;
  auto status = [](std::string s, places::call_kind kind = first_page) {
    return places::read_answer(places_api_version::legacy, kind, 200,
                               R"({"status":")" + s + R"(","error_message":"m","results":[]})");
  };
  EXPECT_FALSE(status("OK").failure);
  EXPECT_FALSE(status("ZERO_RESULTS").failure);
  EXPECT_EQ(status("OVER_QUERY_LIMIT").failure->result, outcome::retry);
  EXPECT_EQ(status("UNKNOWN_ERROR").failure->result, outcome::retry);
  EXPECT_EQ(status("REQUEST_DENIED").failure->result, outcome::failed);
  EXPECT_EQ(status("REQUEST_DENIED").failure->error, "REQUEST_DENIED: m");
  EXPECT_EQ(status("INVALID_REQUEST").failure->result, outcome::failed);
  EXPECT_EQ(status("INVALID_REQUEST", next_page).failure->result, outcome::retry);
  EXPECT_EQ(status("NOT_FOUND", details).failure->error, "NOT_FOUND: m");
  EXPECT_EQ(places::read_answer(places_api_version::legacy, first_page, 503, "").failure->result,
            outcome::retry);
  EXPECT_EQ(places::read_answer(places_api_version::legacy, first_page, 403, "").failure->result,
            outcome::failed);
}

TEST(places_api, both_versions_make_the_same_rows_from_their_own_shapes) {
  auto legacy_search = json::parse(R"({"status":"OK","next_page_token":"t2","results":[
    {"place_id":"ChIJ1","name":"Alpha Bakery","formatted_address":"100 Main St",
     "geometry":{"location":{"lat":39.78,"lng":-89.65}},"rating":4,"user_ratings_total":17},
    {"name":"no id, skipped"}]})")
                           .as_object();
  auto new_search = json::parse(R"({"nextPageToken":"t2","places":[
    {"id":"ChIJ1","displayName":{"text":"Alpha Bakery"},"formattedAddress":"100 Main St",
     "location":{"latitude":39.78,"longitude":-89.65},"rating":4,"userRatingCount":17},
    {"displayName":{"text":"no id, skipped"}}]})")
                        .as_object();
  auto legacy = places::read_search_page(places_api_version::legacy, legacy_search);
  auto next = places::read_search_page(places_api_version::places_new, new_search);
  ASSERT_EQ(legacy.places.size(), 1u);
  ASSERT_EQ(next.places.size(), 1u);
  EXPECT_EQ(legacy.next_page_token, "t2");
  EXPECT_EQ(next.next_page_token, "t2");
  auto row = [](places::staged_place p) {
    EXPECT_FALSE(p.raw.empty());
    p.raw = {};
    return places::to_json(p);
  };
  EXPECT_EQ(row(legacy.places[0]), row(next.places[0]));
  EXPECT_EQ(row(next.places[0]), json::parse(R"({"place_id":"ChIJ1","name":"Alpha Bakery",
    "address":"100 Main St","latitude":39.78,"longitude":-89.65,"rating":4.0,
    "user_ratings_total":17,"raw":{}})"));
  // The last page has no token; an answer without places (no results) has no rows.
  EXPECT_TRUE(
      places::read_search_page(places_api_version::places_new, json::object{}).places.empty());

  auto legacy_details =
      places::read_details(places_api_version::legacy,
                           json::parse(R"({"status":"OK","result":{"place_id":"ChIJ1","name":"A",
        "formatted_phone_number":"(217) 555-1000","website":"http://a.com/"}})")
                               .as_object());
  auto new_details = places::read_details(places_api_version::places_new,
                                          json::parse(R"({"id":"ChIJ1","displayName":{"text":"A"},
        "nationalPhoneNumber":"(217) 555-1000","websiteUri":"http://a.com/"})")
                                              .as_object());
  ASSERT_TRUE(legacy_details && new_details);
  EXPECT_EQ(legacy_details->phone, "(217) 555-1000"); // national when there is no international
  EXPECT_EQ(new_details->phone, "(217) 555-1000");
  EXPECT_EQ(new_details->website, "http://a.com/");
  EXPECT_FALSE(new_details->rating);
  EXPECT_FALSE(places::read_details(places_api_version::places_new, json::object{}));
  EXPECT_FALSE(places::read_details(places_api_version::legacy,
                                    json::parse(R"({"status":"OK"})").as_object()));
}

TEST(places_api, rows_survive_their_trip_through_json) {
  auto page = places::read_search_page(
      places_api_version::places_new,
      json::object{{"places", json::array{full_new_place(), json::object{{"id", "bare"}}}}});
  for (const auto& p : page.places)
    EXPECT_EQ(places::to_json(places::staged_place_from_json(places::to_json(p))),
              places::to_json(p));
  EXPECT_FALSE(places::staged_place_from_json(places::to_json(page.places[1])).rating);
  auto d = places::read_details(places_api_version::places_new, full_new_place());
  ASSERT_TRUE(d);
  EXPECT_EQ(places::to_json(places::place_details_from_json(places::to_json(*d))),
            places::to_json(*d));
  EXPECT_EQ(places::place_details_from_json(places::to_json(*d)).raw, full_new_place());
}
