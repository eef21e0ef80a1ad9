// LOG_FORMAT=json: one JSON object per line, with the item a line is about; retries and failures
// are logged with their reason, and a burst of identical failures folds into one line.
#include "logging/log_setup.hpp"
#include "support/engine_helpers.hpp"
#include "support/process.hpp"
#include "support/test_database.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
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
  // Remote bytes: an escape sequence, a C1 control, DEL and bytes that are not UTF-8.
  std::string remote;
  logging::append_json_escaped(remote, "text/html\x1b[2J\xc2\x9b\x7f\xff\xc3(\u00e9");
  EXPECT_EQ(remote, "text/html\\u001b[2J\\u009b\\u007f\\ufffd\\ufffd(\u00e9");
  EXPECT_NO_THROW(boost::json::parse("\"" + remote + "\""));
  auto parsed = boost::json::parse("\"" + out + "\"");
  EXPECT_EQ(parsed.as_string(), "a\"b\\c\nd\te\x01");
}

TEST(log_format, text_lines_escape_what_a_terminal_would_act_on) {
  std::string out;
  logging::append_text_escaped(out, "type text/html\x1b[2J\x1b]0;owned\x07 \xc2\x9b"
                                    "31m \x7f \xff\xfe \u00e9\u4e2d");
  EXPECT_EQ(out,
            "type text/html\\x1b[2J\\x1b]0;owned\\x07 \\u009b31m \\x7f \\xff\\xfe \u00e9\u4e2d");
  std::string lines;
  logging::append_text_escaped(lines, "first\r\n[2026-01-01 00:00:00.000] [info] forged");
  EXPECT_EQ(lines, "first\\x0d\n  [2026-01-01 00:00:00.000] [info] forged");
  // Through the formatters the process installs.
  auto oss = std::make_shared<std::ostringstream>();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*oss);
  spdlog::logger text_logger("text", sink);
  text_logger.set_formatter(logging::text_formatter());
  text_logger.warn("fetch failed: content type {}", "x\x1b[31mred");
  EXPECT_NE(oss->str().find("content type x\\x1b[31mred"), std::string::npos) << oss->str();
  EXPECT_EQ(oss->str().find('\x1b'), std::string::npos);
  auto json_out = std::make_shared<std::ostringstream>();
  spdlog::logger json_logger("json", std::make_shared<spdlog::sinks::ostream_sink_mt>(*json_out));
  json_logger.set_formatter(logging::json_line_formatter("node-1"));
  json_logger.warn("bytes {}", "\xff\x1b");
  auto line = json_out->str();
  ASSERT_FALSE(line.empty());
  auto parsed = boost::json::parse(line.substr(0, line.size() - 1)).as_object();
  EXPECT_EQ(parsed.at("message").as_string(), "bytes \ufffd\x1b");
}
