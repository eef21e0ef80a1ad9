// places_search and deep_scan: the Places text-search and details APIs.
#include "persistence/pg_array.hpp"
#include "persistence/sql_catalog.hpp"
#include "workflows/workflow_services.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>
#include <thread>

namespace sky::workflows {
namespace {

namespace json = boost::json;
using messages::outcome;

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

// A Places API answer: the parsed body, or the handler result to return instead.
struct places_answer {
  json::object body;
  std::optional<handler_result> failure;
};

places_answer call_places(workflow_services& s, const std::string& endpoint,
                          const std::string& query_string) {
  auto url = s.config.places_api_base_url + endpoint + "?" + query_string +
             "&key=" + url_encode(s.config.places_api_key);
  auto r = s.fetcher.fetch_blocking(url);
  if (!r.ok() || r.status != 200)
    return {{}, fetch_failure(r, "Places API")};
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object())
    return {{}, handler_result::retry("Places API answered with malformed JSON")};
  auto body = v.as_object();
  auto status = string_field(body, "status");
  auto message = string_field(body, "error_message");
  auto reason = status + (message.empty() ? "" : ": " + message);
  if (status == "OK" || status == "ZERO_RESULTS")
    return {std::move(body), std::nullopt};
  if (status == "OVER_QUERY_LIMIT" || status == "UNKNOWN_ERROR")
    return {{}, handler_result::retry(reason)};
  return {{}, handler_result::failed(reason.empty() ? "Places API gave no status" : reason)};
}

std::optional<double> number(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v)
    return std::nullopt;
  if (v->is_double())
    return v->as_double();
  if (v->is_int64())
    return static_cast<double>(v->as_int64());
  return std::nullopt;
}

} // namespace

queue_handler places_search_handler(services_ptr s) {
  queue_handler h;
  h.work = [s](handler_context& ctx) {
    auto row = payload_of(ctx.item);
    auto params = params_of(row);
    auto business_type = string_field(params, "business_type");
    auto location = string_field(params, "location");
    if (business_type.empty() || location.empty())
      return handler_result::failed("params need business_type and location");
    auto query = business_type + " in " + location;
    json::array places;
    const auto max_places = static_cast<std::size_t>(s->config.workflows.places_max_results);
    bool truncated = false;
    int pages = 0;
    std::string token;
    while (pages < s->config.workflows.places_max_pages) {
      if (ctx.cancelled())
        return handler_result{outcome::cancelled, "cancelled by request", {}};
      if (!token.empty()) // a next_page_token only works after a short delay
        std::this_thread::sleep_for(s->config.workflows.places_page_delay);
      auto answer = call_places(*s, "/textsearch/json",
                                token.empty() ? "query=" + url_encode(query)
                                              : "pagetoken=" + url_encode(token));
      if (answer.failure)
        return *answer.failure;
      ++pages;
      if (const auto* results = answer.body.if_contains("results"); results && results->is_array())
        for (const auto& p : results->as_array()) {
          if (!p.is_object() || string_field(p.as_object(), "place_id").empty())
            continue;
          if (places.size() >= max_places) {
            truncated = true;
            break;
          }
          places.push_back(p);
        }
      token = string_field(answer.body, "next_page_token");
      if (token.empty() || truncated)
        break;
    }
    return handler_result::completed(json::serialize(
        json::object{{"query", query},
                     {"business_type", business_type},
                     {"location", location},
                     {"pages", pages},
                     {"places_found", places.size()},
                     {"places", places},
                     {"limits_hit", truncated ? json::array{"places_per_job"} : json::array{}}}));
  };
  h.write = [](pqxx::transaction_base& tx, const std::vector<written_item>& items) {
    for (const auto& [done, status] : items) {
      if (done->result != outcome::completed)
        continue;
      auto result = json::parse(done->result_json).as_object();
      std::vector<std::string> ids, names, addresses, raws;
      std::vector<std::optional<double>> lats, lngs, ratings;
      std::vector<std::optional<int>> totals;
      for (const auto& v : result.at("places").as_array()) {
        const auto& p = v.as_object();
        ids.push_back(string_field(p, "place_id"));
        names.push_back(string_field(p, "name"));
        addresses.push_back(string_field(p, "formatted_address"));
        raws.push_back(json::serialize(p));
        std::optional<double> lat, lng;
        if (const auto* g = p.if_contains("geometry"); g && g->is_object())
          if (const auto* l = g->as_object().if_contains("location"); l && l->is_object()) {
            lat = number(l->as_object(), "lat");
            lng = number(l->as_object(), "lng");
          }
        lats.push_back(lat);
        lngs.push_back(lng);
        ratings.push_back(number(p, "rating"));
        auto total = number(p, "user_ratings_total");
        totals.push_back(total ? std::optional<int>(static_cast<int>(*total)) : std::nullopt);
      }
      if (ids.empty())
        continue;
      tx.exec_params(persistence::query("places_staging_upsert"), done->id,
                     persistence::text_array(ids), persistence::text_array(names),
                     persistence::text_array(addresses), persistence::double_array(lats),
                     persistence::double_array(lngs), persistence::double_array(ratings),
                     persistence::int_array(totals), persistence::text_array(raws),
                     string_field(result, "business_type"), string_field(result, "location"));
    }
  };
  return h;
}

queue_handler deep_scan_handler(services_ptr s) {
  queue_handler h;
  h.work = [s](handler_context& ctx) {
    auto row = payload_of(ctx.item);
    auto place_id = string_field(row, "place_id");
    if (place_id.empty())
      return handler_result::failed("staging row has no place_id");
    auto answer = call_places(
        *s, "/details/json",
        "place_id=" + url_encode(place_id) +
            "&fields=place_id,name,formatted_address,formatted_phone_number,"
            "international_phone_number,website,rating,user_ratings_total,business_status");
    if (answer.failure)
      return *answer.failure;
    const auto* result = answer.body.if_contains("result");
    if (!result || !result->is_object())
      return handler_result::failed("Places details returned no result");
    return handler_result::completed(json::serialize(result->as_object()));
  };
  h.write = [](pqxx::transaction_base& tx, const std::vector<written_item>& items) {
    for (const auto& [done, status] : items) {
      if (done->result != outcome::completed) {
        if (status == "Error")
          tx.exec_params(persistence::query("places_staging_record_deep_scan_error"), done->id,
                         done->error);
        continue;
      }
      auto r = json::parse(done->result_json).as_object();
      auto phone = string_field(r, "international_phone_number");
      if (phone.empty())
        phone = string_field(r, "formatted_phone_number");
      auto rating = number(r, "rating");
      auto total = number(r, "user_ratings_total");
      auto website = string_field(r, "website");
      tx.exec_params(persistence::query("local_businesses_upsert_from_details"),
                     string_field(r, "place_id"), string_field(r, "name"),
                     string_field(r, "formatted_address"),
                     phone.empty() ? std::optional<std::string>() : phone,
                     website.empty() ? std::optional<std::string>() : website,
                     rating ? std::optional<std::string>(std::to_string(*rating)) : std::nullopt,
                     total ? std::optional<std::string>(std::to_string(static_cast<long>(*total)))
                           : std::nullopt,
                     done->result_json);
      tx.exec_params(persistence::query("places_staging_clear_deep_scan_error"), done->id);
    }
  };
  return h;
}

} // namespace sky::workflows
