// The browser console end to end: a real server (--role all) against real PostgreSQL, the
// fixture web and the fake Places API on loopback, driven by headless Chromium through
// tests/console/browser_test.py (Selenium). Screenshots of every tab land in the build folder.
#include "http/jwt.hpp"
#include "support/fixture_server.hpp"
#include "support/process.hpp"
#include "support/test_database.hpp"

#include <filesystem>
#include <gtest/gtest.h>

using namespace sky;
using namespace sky::test_support;
using namespace std::chrono_literals;

TEST(console, a_user_runs_the_whole_pipeline_from_the_browser) {
  for (const char* tool : {SCRAPERSKY_PYTHON, SCRAPERSKY_CHROMIUM, SCRAPERSKY_CHROMEDRIVER})
    ASSERT_TRUE(std::filesystem::exists(tool))
        << tool << " is missing: install chromium, chromium-driver and python3-selenium "
        << "(./scripts/test does)";
  scoped_database db;
  fixture_server web;
  // Searches the fake Places API refuses are retried once, then fail with the reason.
  auto server =
      start_server(db.url(), web.server_env({{"PLACES_SEARCH_SCHEDULER_MAX_ATTEMPTS", "2"}}));
  const std::string user = "6f1c2a4e-6b7a-4c53-9a0e-2f2d3c4b5a69";
  auto token = http::mint_token(user, http::jwt_policy{k_test_jwt_secret}, 1h,
                                std::chrono::system_clock::now(), http::k_operator_role);
  auto wrong = http::mint_token(user, "another-secret-another-secret-0123", 1h);
  auto expired =
      http::mint_token(user, k_test_jwt_secret, 60s, std::chrono::system_clock::now() - 2h);
  auto [code, output] = run_to_end(
      {SCRAPERSKY_PYTHON, SCRAPERSKY_SOURCE_DIR "/tests/console/browser_test.py", "--base",
       "http://127.0.0.1:" + std::to_string(server.port), "--token", token, "--wrong-token", wrong,
       "--expired-token", expired, "--shots", SCRAPERSKY_CONSOLE_SHOTS, "--chromium",
       SCRAPERSKY_CHROMIUM, "--chromedriver", SCRAPERSKY_CHROMEDRIVER},
      {}, 280s);
  ASSERT_EQ(code, 0) << output << "\n--- server log ---\n" << server.process->output();
  std::cout << output;
}
