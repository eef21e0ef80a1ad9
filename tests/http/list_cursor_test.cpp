// Keyset cursors as pure functions: round trips, refusals, and the offset cap.
#include "http/jwt.hpp"
#include "http/list_cursor.hpp"

#include <gtest/gtest.h>

using namespace sky::http;

namespace {
const std::string k_id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
}

TEST(list_cursor, round_trips_values_nulls_and_awkward_text) {
  for (std::optional<std::string> value :
       {std::optional<std::string>("2026-12-06 17:00:00.123456+00"),
        std::optional<std::string>("4.35"), std::optional<std::string>("a \"quoted\" \\ ünï"),
        std::optional<std::string>(""), std::optional<std::string>()}) {
    list_cursor c{"title:desc", value, k_id};
    auto token = encode_list_cursor(c);
    for (char ch : token) // safe in a query string as it is
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_') << token;
    auto back = decode_list_cursor(token);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->order, c.order);
    EXPECT_EQ(back->value, c.value);
    EXPECT_EQ(back->id, c.id);
  }
}

TEST(list_cursor, refuses_what_this_server_would_not_issue) {
  const auto enc = [](std::string_view json) { return base64url_encode(json); };
  EXPECT_FALSE(decode_list_cursor(""));
  EXPECT_FALSE(decode_list_cursor("not base64!"));
  EXPECT_FALSE(decode_list_cursor(enc("[1,2,3]")));
  EXPECT_FALSE(decode_list_cursor(enc(R"({"o":"title:asc","v":null})")));               // no id
  EXPECT_FALSE(decode_list_cursor(enc(R"({"o":"title:asc","v":null,"i":"1; DROP"})"))); // not UUID
  EXPECT_FALSE(decode_list_cursor(enc(R"({"o":"title:asc","v":{"x":1},"i":")" + k_id + "\"}")));
  EXPECT_FALSE(decode_list_cursor(enc(R"({"o":7,"v":null,"i":")" + k_id + "\"}")));
  EXPECT_FALSE(
      decode_list_cursor(enc(R"({"o":"title:asc","v":null,"i":")" + k_id + R"(","extra":1})")));
  EXPECT_FALSE(decode_list_cursor(std::string(k_max_cursor_bytes + 1, 'A')));
  EXPECT_TRUE(decode_list_cursor(enc(R"({"o":"title:asc","v":null,"i":")" + k_id + "\"}")));
}

TEST(list_cursor, next_offset_never_passes_the_cap) {
  EXPECT_EQ(next_offset_within(0, 50, 1'000'000), 50);
  EXPECT_EQ(next_offset_within(999'950, 50, 1'000'000), 1'000'000);
  EXPECT_FALSE(next_offset_within(999'990, 50, 1'000'000));
  EXPECT_FALSE(next_offset_within(1'000'000, 1, 1'000'000));
}
