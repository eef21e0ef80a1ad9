// The result_data cap: oversized results lose their biggest members' tails first.
#include "workflows/result_limit.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

using sky::workflows::fit_result_json;
namespace json = boost::json;

TEST(result_limit, a_result_within_the_cap_is_unchanged) {
  std::string small = R"({"emails":["a@example.com"],"pages_fetched":1})";
  EXPECT_EQ(fit_result_json(small, small.size()), small);
}

TEST(result_limit, the_biggest_lists_are_cut_and_the_cut_is_recorded) {
  json::array contacts, pages;
  for (int i = 0; i < 20'000; ++i)
    contacts.push_back(json::object{{"email", "user" + std::to_string(i) + "@example.com"},
                                    {"source_url", "https://example.com/contact"}});
  for (int i = 0; i < 10; ++i)
    pages.push_back(json::string("https://example.com/" + std::to_string(i)));
  json::object result{{"contacts", contacts},
                      {"pages", pages},
                      {"title", "Example"},
                      {"limits_hit", json::array{"emails_per_page"}}};
  auto original = json::serialize(result);
  ASSERT_GT(original.size(), 100'000u);
  auto fitted = fit_result_json(original, 100'000);
  EXPECT_LE(fitted.size(), 100'000u);
  auto v = json::parse(fitted).as_object();
  auto kept = v.at("contacts").as_array();
  EXPECT_GT(kept.size(), 1000u);
  EXPECT_EQ(kept[0].at("email").as_string(), "user0@example.com"); // the first ones are kept
  EXPECT_EQ(v.at("pages").as_array().size(), 10u);                 // small members untouched
  EXPECT_EQ(v.at("title").as_string(), "Example");
  EXPECT_EQ(json::serialize(v.at("limits_hit")), R"(["emails_per_page","result_data"])");
  EXPECT_EQ(json::serialize(v.at("result_data_cut")), R"(["contacts"])");
}

TEST(result_limit, values_that_cannot_be_shortened_become_null_or_a_stub) {
  json::object huge_string{{"title", std::string(50'000, 'x')}, {"status", 200}};
  auto v = json::parse(fit_result_json(json::serialize(huge_string), 1000)).as_object();
  EXPECT_TRUE(v.at("title").is_null());
  EXPECT_EQ(v.at("status").as_int64(), 200);
  auto not_object = "[" + std::string(5000, '1') + "]";
  EXPECT_EQ(fit_result_json(not_object, 1000),
            R"({"limits_hit":["result_data"],"result_bytes":5002})");
  EXPECT_EQ(fit_result_json("{not json" + std::string(2000, ' '), 1000),
            R"({"limits_hit":["result_data"],"result_bytes":2009})");
}
