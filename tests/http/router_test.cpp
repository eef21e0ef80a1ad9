// Router: matching, path/query parameters, auth at the edge, JSON 401/404/405/500.
#include "http/jwt.hpp"
#include "http/router.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <variant>

using namespace sky::http;

namespace {

const std::string k_secret = "router-secret-router-secret-01234";

api_response reply(int status, std::string body) {
  return api_response{status, std::move(body), "application/json", {}};
}

router make_router() {
  return router(
      {
          {"GET", "/health", [](request_context&) { return reply(200, "{}"); }, access::open},
          {"GET", "/status", [](request_context&) { return reply(200, "{}"); }},
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
  return {"GET", std::move(target), std::move(auth), "", "", "", ""};
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
  api_request del{"DELETE", "/health", "", "", "", "", ""};
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

TEST(router, a_catch_all_route_takes_the_path_as_sent) {
  router r(
      open_routes(
          {{"GET", "/api/v3/fixed", [](request_context&) { return reply(200, "fixed"); }},
           {"GET", "/{path...}",
            [](request_context& c) { return reply(200, "[" + c.path_params.at("path") + "]"); }}}),
      k_secret);
  EXPECT_EQ(r.handle(get("/a/b/c.xml?x=1")).body, "[a/b/c.xml]");
  EXPECT_EQ(r.handle(get("/blog/")).body, "[blog/]");
  EXPECT_EQ(r.handle(get("/")).body, "[]");
  EXPECT_EQ(r.handle(get("/api/v3/fixed")).body, "fixed");
  // Non-canonical spellings never reach the specific route, only the catch-all.
  EXPECT_EQ(r.handle(get("//api/v3/fixed")).body, "[/api/v3/fixed]");
}

TEST(router, routes_need_a_token_unless_declared_open) {
  EXPECT_EQ(make_router().handle(get("/status")).status, 401);
  EXPECT_EQ(make_router().handle(get("/status", bearer())).status, 200);
}

// Every spelling of a protected path that is not the canonical one is refused before any handler
// runs; none of them is treated as a public path.
TEST(router, odd_spellings_of_protected_paths_never_reach_a_handler) {
  int calls = 0;
  auto counting = [&calls](request_context&) {
    ++calls;
    return reply(202, "created");
  };
  router r({{"GET", "/health", counting, access::open},
            {"GET", "/api/v3/queues", counting},
            {"POST", "/api/v3/domains", counting},
            {"POST", "/api/v3/jobs/{id}/cancel", counting}},
           k_secret);
  const std::vector<std::string> spellings = {
      "//api/v3/queues",
      "/api//v3/queues",
      "/api/v3//queues",
      "/api/v3/queues/",
      "/./api/v3/queues",
      "/api/./v3/queues",
      "/api/v3/x/../queues",
      "/api/v3/queues/.",
      "/%2Fapi/v3/queues",
      "/api%2Fv3%2Fqueues",
      "/api/v3/%2e%2e/v3/queues",
      "/api/v3/queues%00",
      "/api/v3/queues%2F",
      "/api\\v3\\queues",
      "/API/v3/queues",
      "/Api/V3/Queues",
      "/api/V3/queues",
      "/health/../api/v3/queues",
      "/health/%2e%2e/api/v3/queues",
      "/api/v3/queues;x=1",
      "/api/v3/queues%5C",
      "/api/v3/jobs/1/cancel/",
      "/api/v3/jobs//cancel",
      "/api/v3/jobs/%2F/cancel",
      std::string("/api/v3/queues\0", 15),
      std::string("/api/v3/\0queues", 15),
      "/api/v3/queues\t",
      "/api/v3/qu\xc3\xa9ues",
      "/api/v3/%61%70%69",
  };
  for (const auto& method : {"GET", "POST", "HEAD", "PUT"}) {
    for (const auto& path : spellings) {
      for (const auto& target : {path, path + "?x=1", std::string("//api/v3/domains")}) {
        api_request request{method, target, "", "application/json", "{}", "", ""};
        auto response = r.handle(request);
        EXPECT_TRUE(response.status == 400 || response.status == 401 || response.status == 404)
            << method << " " << target << " -> " << response.status;
      }
    }
  }
  EXPECT_EQ(calls, 0);
  // With a valid token, a case variant is an unknown route, never the canonical one.
  EXPECT_EQ(r.handle(get("/API/v3/queues", bearer())).status, 404);
  EXPECT_EQ(r.handle(get("/api/v3/queues/", bearer())).status, 400);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(r.handle(get("/api/v3/queues", bearer())).status, 202);
  EXPECT_EQ(calls, 1);
}

TEST(router, unknown_paths_under_api_need_a_token_in_any_case) {
  EXPECT_EQ(make_router().handle(get("/API/whatever")).status, 401);
  EXPECT_EQ(make_router().handle(get("/api")).status, 401);
  EXPECT_EQ(make_router().handle(get("/ApI/v9/x", bearer())).status, 404);
  // A method not allowed on a protected path says so only to a caller with a token.
  api_request del{"DELETE", "/api/v3/echo", "", "", "", "", ""};
  EXPECT_EQ(make_router().handle(del).status, 401);
  del.authorization = bearer();
  EXPECT_EQ(make_router().handle(del).status, 405);
}

TEST(router, normalize_path_decodes_only_unreserved_characters) {
  using segments = std::vector<std::string>;
  auto ok = [](std::string_view p) {
    auto r = normalize_path(p);
    return std::holds_alternative<segments>(r) ? std::get<segments>(r) : segments{"<refused>"};
  };
  EXPECT_EQ(ok("/"), segments{});
  EXPECT_EQ(ok("/api/v3/jobs/abc"), (segments{"api", "v3", "jobs", "abc"}));
  EXPECT_EQ(ok("/%61pi/v%33"), (segments{"api", "v3"}));
  EXPECT_EQ(ok("/a-b_c.d~e"), (segments{"a-b_c.d~e"}));
  for (auto refused :
       {"",          "api",    "//",     "/a//b", "/a/",   "/.",    "/..",   "/a/%2e",
        "/a/%2E%2E", "/a%2fb", "/a%5cb", "/a%00", "/a%",   "/a%4",  "/a%zz", "/a b",
        "/a\\b",     "/a?b",   "/a#b",   "/\x7f", "/\x80", "/a%20b"})
    EXPECT_EQ(ok(refused), segments{"<refused>"}) << refused;
}
