// Router: matching, path/query parameters, auth at the edge, JSON 401/404/405/500.
#include "http/jwt.hpp"
#include "http/router.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

using namespace sky::http;

namespace {

const std::string k_secret = "router-secret-router-secret-01234";

api_response reply(int status, std::string body) {
  return api_response{status, std::move(body), "application/json", {}};
}

router make_router() {
  return router(
      {
          {"GET", "/health", [](request_context&) { return reply(200, "{}"); }},
          {"GET", "/api/v3/jobs/{id}",
           [](request_context& c) {
             return reply(200, c.path_params.at("id") + "|" + c.user_id.value_or("-"));
           }},
          {"POST", "/api/v3/jobs/{id}/cancel",
           [](request_context& c) { return reply(202, c.path_params.at("id")); }},
          {"GET", "/api/v3/echo",
           [](request_context& c) {
             return reply(200, c.query.count("q") ? c.query.at("q") : "none");
           }},
          {"GET", "/api/v3/boom",
           [](request_context&) -> api_response { throw std::runtime_error("secret detail"); }},
      },
      k_secret);
}

api_request get(std::string target, std::string auth = "") {
  return {"GET", std::move(target), std::move(auth), "", "", ""};
}

std::string bearer() {
  return "Bearer " + mint_token("user-1", k_secret, std::chrono::minutes(5));
}

boost::json::object body_of(const api_response& r) {
  return boost::json::parse(r.body).as_object();
}

} // namespace

TEST(router, public_route_needs_no_token) {
  EXPECT_EQ(make_router().handle(get("/health")).status, 200);
}

TEST(router, api_routes_need_a_valid_token) {
  auto r = make_router().handle(get("/api/v3/jobs/abc"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(body_of(r).at("error").as_string(), "unauthorized");
  EXPECT_EQ(body_of(r).at("detail").as_string(), "missing bearer token");
  auto ok = make_router().handle(get("/api/v3/jobs/abc", bearer()));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "abc|user-1");
}

TEST(router, unknown_api_paths_do_not_leak_without_a_token) {
  EXPECT_EQ(make_router().handle(get("/api/v3/nothing-here")).status, 401);
  EXPECT_EQ(make_router().handle(get("/api/v3/nothing-here", bearer())).status, 404);
}

TEST(router, not_found_and_method_not_allowed_are_json) {
  auto nf = make_router().handle(get("/nope"));
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(body_of(nf).at("error").as_string(), "not_found");
  api_request del{"DELETE", "/health", "", "", "", ""};
  auto na = make_router().handle(del);
  EXPECT_EQ(na.status, 405);
  EXPECT_EQ(body_of(na).at("error").as_string(), "method_not_allowed");
  ASSERT_EQ(na.headers.size(), 1u);
  EXPECT_EQ(na.headers[0].first, "Allow");
  EXPECT_EQ(na.headers[0].second, "GET");
}

TEST(router, query_parameters_are_decoded) {
  EXPECT_EQ(make_router().handle(get("/api/v3/echo?q=a%20b+c&x=1", bearer())).body, "a b c");
  EXPECT_EQ(make_router().handle(get("/api/v3/echo", bearer())).body, "none");
  EXPECT_EQ(make_router().handle(get("/api/v3/echo?q=%zz", bearer())).status, 400);
  EXPECT_EQ(make_router().handle(get("/api/v3/echo?q=%2", bearer())).status, 400);
}

TEST(router, handler_exceptions_become_a_500_without_detail) {
  auto r = make_router().handle(get("/api/v3/boom", bearer()));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret detail"), std::string::npos);
}

TEST(router, relative_targets_are_bad_requests) {
  EXPECT_EQ(make_router().handle(get("health")).status, 400);
  EXPECT_EQ(make_router().handle(get("")).status, 400);
}

TEST(router, a_rest_pattern_takes_the_remaining_path) {
  router r({{"GET", "/files/{rest...}",
             [](request_context& c) { return reply(200, "[" + c.path_params.at("rest") + "]"); }}},
           k_secret, "/api/");
  EXPECT_EQ(r.handle(get("/files/a/b/c.xml?x=1")).body, "[a/b/c.xml]");
  EXPECT_EQ(r.handle(get("/files")).body, "[]");
  EXPECT_EQ(r.handle(get("/other/a")).status, 404);
}
