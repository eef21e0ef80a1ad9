// LOG_FORMAT=json: one JSON object per line, with the item a line is about; retries and failures
// are logged with their reason, and a burst of identical failures folds into one line.
#include "logging/log_setup.hpp"
#include "support/engine_helpers.hpp"
#include "support/process.hpp"
#include "support/test_database.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sstream>

using namespace sky;
using namespace sky::test_support;
using namespace std::chrono_literals;

TEST(log_format, json_lines_carry_the_item_and_the_reason) {
  scoped_database db;
  auto log = temp_path("exec");
  auto server =
      start_server(db.url(), synthetic_env(log, {{"LOG_FORMAT", "json"},
                                                 {"NODE_ID", "node-json-1"},
                                                 {"PAGE_SCRAPE_SCHEDULER_MAX_ATTEMPTS", "1"}}));
  insert_jobs(db.url(), 1, R"({"fault":"retry_once"})");
  auto failed = insert_jobs(db.url(), 30, R"({"fault":"fail"})");
  ASSERT_TRUE(eventually(
      [&] { return count(db.url(), "SELECT count(*) FROM jobs WHERE status = 'Error'") == 31; },
      30s));
  ASSERT_TRUE(server.process->wait_for_line("no attempts left", 10s).has_value());

  std::istringstream lines(server.process->output());
  std::string line;
  int parsed = 0, failures = 0;
  bool saw_item_fields = false;
  while (std::getline(lines, line)) {
    if (line.empty() || line.front() != '{')
      continue; // lines the sanitizers or the runtime print themselves
    boost::system::error_code ec;
    auto value = boost::json::parse(line, ec);
    ASSERT_FALSE(ec) << "not JSON: " << line;
    const auto& o = value.as_object();
    ++parsed;
    for (const char* field : {"time", "level", "message", "node"})
      EXPECT_TRUE(o.contains(field)) << field << " missing: " << line;
    EXPECT_EQ(o.at("node").as_string(), "node-json-1");
    if (o.at("message").as_string().find("no attempts left") != boost::json::string::npos) {
      ++failures;
      EXPECT_EQ(o.at("level").as_string(), "warning");
      EXPECT_EQ(o.at("queue").as_string(), "page_scrape");
      EXPECT_EQ(o.at("attempt").as_int64(), 1);
      // The reason: a permanent failure, or the transient one that had no attempt left.
      EXPECT_NE(o.at("message").as_string().find("injected"), boost::json::string::npos);
      saw_item_fields = o.at("item_id").is_string();
    }
  }
  EXPECT_GT(parsed, 3);
  EXPECT_TRUE(saw_item_fields);
  // 30 items failing for one reason within seconds: far fewer than 30 lines.
  EXPECT_GE(failures, 1);
  EXPECT_LT(failures, 30) << "identical failures were not folded";
}

TEST(log_format, json_escaping_keeps_one_object_per_line) {
  std::string out;
  logging::append_json_escaped(out, "a\"b\\c\nd\te\x01");
  EXPECT_EQ(out, "a\\\"b\\\\c\\nd\\te\\u0001");
  auto parsed = boost::json::parse("\"" + out + "\"");
  EXPECT_EQ(parsed.as_string(), "a\"b\\c\nd\te\x01");
}
