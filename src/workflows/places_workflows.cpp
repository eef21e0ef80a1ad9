// places_search and deep_scan: the Places text search and details, new or legacy API.
#include "persistence/pg_array.hpp"
#include "persistence/sql_catalog.hpp"
#include "workflows/places_api.hpp"
#include "workflows/workflow_services.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>
#include <set>

namespace sky::workflows {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;
using messages::outcome;

// One Places API call: its JSON body, or the handler result to return instead.
asio::awaitable<places::answer> call_places(workflow_services& s, scrape::fetch_session& web,
                                            scrape::fetch_request request, places::call_kind kind) {
  auto r = co_await web.fetch(std::move(request));
  if (!r.ok())
    co_return places::answer{{}, fetch_failure(r, "Places API")};
  co_return places::read_answer(s.config.places_api, kind, r.status, r.body);
}

asio::awaitable<handler_result> places_search_work(workflow_services& s, job_session& job,
                                                   scrape::fetch_session& web) {
  auto row = payload_of(job.item());
  auto params = params_of(row);
  auto business_type = string_field(params, "business_type");
  auto location = string_field(params, "location");
  if (business_type.empty() || location.empty())
    co_return handler_result::failed("params need business_type and location");
  auto query = places::text_query(business_type, location);
  auto api = places::api_settings::from(s.config);
  json::array places;
  const auto max_places = static_cast<std::size_t>(s.config.workflows.places_max_results);
  bool truncated = false;
  // A place repeated on a later page would make the upsert touch its row twice, which
  // PostgreSQL refuses; the first copy is kept.
  std::set<std::string> seen;
  int pages = 0;
  std::string token;
  while (pages < s.config.workflows.places_max_pages) {
    if (job.cancelled())
      co_return handler_result::cancelled();
    if (!token.empty() && api.version == config::places_api_version::legacy &&
        !co_await web.sleep(s.config.workflows.places_page_delay))
      co_return handler_result::cancelled();
    auto answer = co_await call_places(s, web, places::text_search_request(api, query, token),
                                       token.empty() ? places::call_kind::first_page
                                                     : places::call_kind::next_page);
    if (answer.failure)
      co_return *answer.failure;
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
  json::object out;
  out["query"] = query;
  out["business_type"] = business_type;
  out["location"] = location;
  out["pages"] = pages;
  out["places_found"] = places.size();
  out["places"] = std::move(places);
  json::array limits;
  if (truncated)
    limits.push_back("places_per_job");
  out["limits_hit"] = std::move(limits);
  co_return handler_result::completed(json::serialize(out));
}

asio::awaitable<handler_result> deep_scan_work(workflow_services& s, job_session& job,
                                               scrape::fetch_session& web) {
  auto row = payload_of(job.item());
  auto place_id = string_field(row, "place_id");
  if (place_id.empty())
    co_return handler_result::failed("staging row has no place_id");
  auto api = places::api_settings::from(s.config);
  auto answer = co_await call_places(s, web, places::details_request(api, place_id),
                                     places::call_kind::details);
  if (answer.failure)
    co_return *answer.failure;
  auto details = places::read_details(api.version, answer.body);
  if (!details)
    co_return handler_result::failed("Places details returned no result");
  co_return handler_result::completed(json::serialize(places::to_json(*details)));
}

} // namespace

queue_handler places_search_handler(services_ptr s) {
  queue_handler h;
  h.start = network_step(s, places_search_work);
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
  h.start = network_step(s, deep_scan_work);
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
