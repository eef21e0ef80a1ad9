// places_search and deep_scan: the Places text search and details, new or legacy API.
#include "persistence/pg_array.hpp"
#include "persistence/sql_catalog.hpp"
#include "workflows/places_api.hpp"
#include "workflows/workflow_services.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>
#include <set>
#include <thread>

namespace sky::workflows {
namespace {

namespace json = boost::json;
using messages::outcome;

// One Places API call: its JSON body, or the handler result to return instead.
places::answer call_places(workflow_services& s, scrape::fetch_request request,
                           places::call_kind kind) {
  auto r = s.fetcher.fetch_blocking(std::move(request));
  if (!r.ok())
    return {{}, fetch_failure(r, "Places API")};
  return places::read_answer(s.config.places_api, kind, r.status, r.body);
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
    auto query = places::text_query(business_type, location);
    auto api = places::api_settings::from(s->config);
    json::array places;
    const auto max_places = static_cast<std::size_t>(s->config.workflows.places_max_results);
    bool truncated = false;
    // A place repeated on a later page would make the upsert touch its row twice, which
    // PostgreSQL refuses; the first copy is kept.
    std::set<std::string> seen;
    int pages = 0;
    std::string token;
    while (pages < s->config.workflows.places_max_pages) {
      if (ctx.cancelled())
        return handler_result{outcome::cancelled, "cancelled by request", {}};
      if (!token.empty() && api.version == config::places_api_version::legacy)
        std::this_thread::sleep_for(s->config.workflows.places_page_delay);
      auto answer =
          call_places(*s, places::text_search_request(api, query, token),
                      token.empty() ? places::call_kind::first_page : places::call_kind::next_page);
      if (answer.failure)
        return *answer.failure;
      ++pages;
      auto page = places::read_search_page(api.version, answer.body);
      for (const auto& p : page.places) {
        if (!seen.insert(p.place_id).second)
          continue;
        if (places.size() >= max_places) {
          truncated = true;
          break;
        }
        places.push_back(places::to_json(p));
      }
      token = std::move(page.next_page_token);
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
        auto p = places::staged_place_from_json(v.as_object());
        ids.push_back(p.place_id);
        names.push_back(p.name);
        addresses.push_back(p.address);
        raws.push_back(json::serialize(p.raw));
        lats.push_back(p.latitude);
        lngs.push_back(p.longitude);
        ratings.push_back(p.rating);
        totals.push_back(p.user_ratings_total);
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
    auto api = places::api_settings::from(s->config);
    auto answer =
        call_places(*s, places::details_request(api, place_id), places::call_kind::details);
    if (answer.failure)
      return *answer.failure;
    auto details = places::read_details(api.version, answer.body);
    if (!details)
      return handler_result::failed("Places details returned no result");
    return handler_result::completed(json::serialize(places::to_json(*details)));
  };
  h.write = [](pqxx::transaction_base& tx, const std::vector<written_item>& items) {
    for (const auto& [done, status] : items) {
      if (done->result != outcome::completed) {
        if (status == "Error")
          tx.exec_params(persistence::query("places_staging_record_deep_scan_error"), done->id,
                         done->error);
        continue;
      }
      auto d = places::place_details_from_json(json::parse(done->result_json).as_object());
      tx.exec_params(persistence::query("local_businesses_upsert_from_details"), d.place_id, d.name,
                     d.address, d.phone, d.website, d.rating, d.user_ratings_total,
                     json::serialize(d.raw));
      tx.exec_params(persistence::query("places_staging_clear_deep_scan_error"), done->id);
    }
  };
  return h;
}

} // namespace sky::workflows
