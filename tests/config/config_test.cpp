// Configuration: defaults, every kind of invalid value, and .env.example completeness.
#include "config/config.hpp"
#include "config/queue_catalog.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <sstream>

using namespace sky::config;

namespace {

env_lookup env_of(std::map<std::string, std::string> values) {
  return [values](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end())
      return std::nullopt;
    return it->second;
  };
}

// Development needs no secret, so tests about other variables need not set one.
env_lookup dev_env_of(std::map<std::string, std::string> values) {
  values.emplace("ENVIRONMENT", "development");
  return env_of(std::move(values));
}

std::string error_of(std::map<std::string, std::string> values) {
  try {
    load_config(env_of(std::move(values)));
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(config, defaults_cover_every_queue) {
  auto cfg = load_config(env_of({{"JWT_SECRET", std::string(40, 'k')}}));
  EXPECT_EQ(cfg.http.port, 8080);
  EXPECT_EQ(cfg.http.host, "127.0.0.1");
  EXPECT_EQ(cfg.environment, "production");
  EXPECT_TRUE(cfg.migrate_on_start);
  EXPECT_FALSE(cfg.jwt_secret_generated);
  EXPECT_EQ(cfg.http.max_connections, 1024);
  EXPECT_EQ(cfg.database.api_statement_timeout, std::chrono::seconds(5));
  EXPECT_EQ(cfg.jwt.leeway, std::chrono::seconds(30));
  EXPECT_FALSE(cfg.node_id.empty());
  ASSERT_EQ(cfg.queues.size(), queue_definitions().size());
  const auto* domain = cfg.queue("domain_metadata");
  ASSERT_NE(domain, nullptr);
  EXPECT_EQ(domain->env_prefix, "DOMAIN_SCHEDULER");
  EXPECT_EQ(domain->interval, std::chrono::minutes(1));
  EXPECT_EQ(domain->batch_size, 0); // auto: claims as large as the pool
  EXPECT_EQ(domain->claim_batch(), domain->max_instances);
  EXPECT_EQ(cfg.queue("no_such_queue"), nullptr);
}

TEST(config, reads_queue_variables_with_fractional_minutes) {
  auto cfg = load_config(dev_env_of({{"DOMAIN_SCHEDULER_INTERVAL_MINUTES", "0.5"},
                                     {"DOMAIN_SCHEDULER_BATCH_SIZE", "25"},
                                     {"DOMAIN_SCHEDULER_MAX_INSTANCES", "12"},
                                     {"EMAIL_SCAN_SCHEDULER_LEASE_SECONDS", "120"},
                                     {"SITEMAP_IMPORT_SCHEDULER_MAX_ATTEMPTS", "7"}}));
  EXPECT_EQ(cfg.queue("domain_metadata")->interval, std::chrono::seconds(30));
  EXPECT_EQ(cfg.queue("domain_metadata")->batch_size, 25);
  EXPECT_EQ(cfg.queue("domain_metadata")->max_instances, 12);
  EXPECT_EQ(cfg.queue("email_scan")->lease, std::chrono::seconds(120));
  EXPECT_EQ(cfg.queue("sitemap_import")->max_attempts, 7);
  // Untouched queues keep their defaults.
  EXPECT_EQ(cfg.queue("sitemap_jobs")->batch_size, 0);
}

TEST(config, an_auto_batch_follows_the_worker_count_up_to_its_cap) {
  auto cfg = load_config(dev_env_of({{"PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES", "500"},
                                     {"DOMAIN_SCHEDULER_MAX_INSTANCES", "1024"},
                                     {"DOMAIN_SCHEDULER_BATCH_SIZE", "auto"},
                                     {"EMAIL_SCAN_SCHEDULER_MAX_INSTANCES", "64"},
                                     {"EMAIL_SCAN_SCHEDULER_BATCH_SIZE", "16"}}));
  EXPECT_EQ(cfg.queue("page_scrape")->claim_batch(), 500);
  EXPECT_EQ(cfg.queue("domain_metadata")->claim_batch(), 1000);
  EXPECT_EQ(cfg.queue("email_scan")->claim_batch(), 16); // a size given is kept
  EXPECT_NE(error_of({{"DOMAIN_SCHEDULER_BATCH_SIZE", "Auto"}}).find("BATCH_SIZE"),
            std::string::npos);
}

TEST(config, negative_batch_size_names_the_variable) {
  auto err = error_of({{"DOMAIN_SCHEDULER_BATCH_SIZE", "-3"}});
  EXPECT_NE(err.find("DOMAIN_SCHEDULER_BATCH_SIZE"), std::string::npos) << err;
  EXPECT_NE(err.find("'-3'"), std::string::npos) << err;
}

TEST(config, non_numeric_values_are_rejected) {
  for (const char* bad : {"abc", "", "12abc", " 5", "1e3", "99999999999999999999"}) {
    auto err = error_of({{"DOMAIN_SCHEDULER_BATCH_SIZE", bad}});
    EXPECT_NE(err.find("DOMAIN_SCHEDULER_BATCH_SIZE"), std::string::npos) << bad;
  }
  EXPECT_NE(error_of({{"PORT", "70000"}}).find("PORT"), std::string::npos);
  EXPECT_NE(error_of({{"SITEMAP_SCHEDULER_INTERVAL_MINUTES", "0"}}).find("SITEMAP_SCHEDULER"),
            std::string::npos);
  EXPECT_NE(error_of({{"SITEMAP_SCHEDULER_INTERVAL_MINUTES", "nan"}}).find("INTERVAL"),
            std::string::npos);
  EXPECT_NE(error_of({{"MIGRATE_ON_START", "maybe"}}).find("MIGRATE_ON_START"), std::string::npos);
  EXPECT_NE(error_of({{"LOG_LEVEL", "loud"}}).find("LOG_LEVEL"), std::string::npos);
  EXPECT_NE(error_of({{"DATABASE_URL", "mysql://x"}}).find("DATABASE_URL"), std::string::npos);
  EXPECT_NE(error_of({{"PLACES_API_BASE_URL", "ftp://x"}}).find("PLACES_API_BASE_URL"),
            std::string::npos);
}

TEST(config, places_api_is_the_new_one_unless_chosen_and_its_base_url_follows_the_version) {
  auto defaults = load_config(dev_env_of({}));
  EXPECT_EQ(defaults.places_api, places_api_version::places_new);
  EXPECT_EQ(defaults.places_api_base_url, "https://places.googleapis.com");
  auto legacy = load_config(dev_env_of({{"PLACES_API_VERSION", "legacy"}}));
  EXPECT_EQ(legacy.places_api, places_api_version::legacy);
  EXPECT_EQ(legacy.places_api_base_url, "https://maps.googleapis.com/maps/api/place");
  // An empty value is the version's default; a URL replaces it whatever the version.
  EXPECT_EQ(load_config(dev_env_of({{"PLACES_API_VERSION", "legacy"}, {"PLACES_API_BASE_URL", ""}}))
                .places_api_base_url,
            "https://maps.googleapis.com/maps/api/place");
  EXPECT_EQ(
      load_config(dev_env_of({{"PLACES_API_BASE_URL", "http://places.test"}})).places_api_base_url,
      "http://places.test");
  auto err = error_of({{"PLACES_API_VERSION", "v2"}});
  EXPECT_NE(err.find("PLACES_API_VERSION: expected one of new, legacy, got 'v2'"),
            std::string::npos)
      << err;
}

TEST(config, every_problem_is_reported_at_once) {
  try {
    load_config(dev_env_of({{"PORT", "x"}, {"DOMAIN_SCHEDULER_BATCH_SIZE", "0"}}));
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_EQ(e.problems().size(), 2u);
  }
}

TEST(config, production_is_the_default_and_requires_a_long_secret) {
  EXPECT_NE(error_of({}).find("JWT_SECRET: required"), std::string::npos);
  EXPECT_NE(error_of({{"ENVIRONMENT", "production"}}).find("JWT_SECRET"), std::string::npos);
  // One-shot commands (migrate, scrape) need no secret.
  EXPECT_NO_THROW(load_config(env_of({}), config_purpose::command));
  auto dev = load_config(dev_env_of({}));
  EXPECT_TRUE(dev.jwt_secret_generated);
  EXPECT_GE(dev.jwt_secret.size(), 32u);
  EXPECT_NE(error_of({{"JWT_SECRET", "short"}}).find("at least 32"), std::string::npos);
  auto cfg =
      load_config(env_of({{"ENVIRONMENT", "production"}, {"JWT_SECRET", std::string(40, 'k')}}));
  EXPECT_FALSE(cfg.jwt_secret_generated);
  EXPECT_EQ(cfg.jwt_secret, std::string(40, 'k'));
}

TEST(config, allow_private_is_a_list) {
  auto cfg = load_config(dev_env_of({{"FETCH_ALLOW_PRIVATE", "127.0.0.1/32, ::1"}}));
  EXPECT_EQ(cfg.fetch.allow_private, (std::vector<std::string>{"127.0.0.1/32", "::1"}));
  EXPECT_NE(error_of({{"FETCH_ALLOW_PRIVATE", "127.0.0.1/40"}}).find("FETCH_ALLOW_PRIVATE"),
            std::string::npos);
  EXPECT_NE(error_of({{"FETCH_ALLOW_PRIVATE", "localhost"}}).find("'localhost'"),
            std::string::npos);
}

TEST(config, scrape_state_bounds_and_the_discovery_time_limit) {
  auto defaults = load_config(dev_env_of({}));
  EXPECT_EQ(defaults.fetch.max_tracked_hosts, 10'000u);
  EXPECT_EQ(defaults.fetch.robots_max_origins, 10'000u);
  EXPECT_EQ(defaults.fetch.robots_ttl, std::chrono::hours(1));
  EXPECT_EQ(defaults.fetch.robots_failure_ttl, std::chrono::seconds(30));
  EXPECT_EQ(defaults.workflows.sitemap_discovery_timeout, std::chrono::seconds(240));
  auto cfg = load_config(dev_env_of({{"FETCH_MAX_TRACKED_HOSTS", "500"},
                                     {"ROBOTS_CACHE_MAX_ORIGINS", "200"},
                                     {"ROBOTS_CACHE_TTL_SECONDS", "600"},
                                     {"ROBOTS_FAILURE_TTL_SECONDS", "0"},
                                     {"SITEMAP_DISCOVERY_TIMEOUT_SECONDS", "90"}}));
  EXPECT_EQ(cfg.fetch.max_tracked_hosts, 500u);
  EXPECT_EQ(cfg.fetch.robots_max_origins, 200u);
  EXPECT_EQ(cfg.fetch.robots_ttl, std::chrono::seconds(600));
  EXPECT_EQ(cfg.fetch.robots_failure_ttl, std::chrono::seconds(0));
  EXPECT_EQ(cfg.workflows.sitemap_discovery_timeout, std::chrono::seconds(90));
  for (const auto& [name, bad] :
       std::map<std::string, std::string>{{"FETCH_MAX_TRACKED_HOSTS", "0"},
                                          {"ROBOTS_CACHE_MAX_ORIGINS", "-1"},
                                          {"ROBOTS_CACHE_TTL_SECONDS", "0"},
                                          {"ROBOTS_FAILURE_TTL_SECONDS", "x"},
                                          {"SITEMAP_DISCOVERY_TIMEOUT_SECONDS", "0"}})
    EXPECT_NE(error_of({{name, bad}}).find(name), std::string::npos) << name;
}

TEST(config, env_example_lists_every_variable_with_its_default) {
  std::ifstream file(std::string(SCRAPERSKY_SOURCE_DIR) + "/.env.example");
  ASSERT_TRUE(file) << ".env.example is missing";
  std::stringstream text;
  text << file.rdbuf();
  for (const auto& v : documented_variables()) {
    auto line = "\n" + v.name + "=" + v.default_value + "\n";
    EXPECT_NE(("\n" + text.str()).find(line), std::string::npos) << "missing: " << line;
  }
}
