// Registrable domains via the public suffix list.
#include "scrape/domain_rules.hpp"

#include <gtest/gtest.h>

using sky::scrape::registrable_domain;

TEST(domain_rules, registrable_domain_of_urls_and_hosts) {
  EXPECT_EQ(registrable_domain("https://www.shop.example.co.uk/x?y=1"), "example.co.uk");
  EXPECT_EQ(registrable_domain("http://EXAMPLE.com."), "example.com");
  EXPECT_EQ(registrable_domain("www.example.com/contact"), "example.com");
  EXPECT_EQ(registrable_domain("  https://a.b.example.org:8443/  "), "example.org");
}

TEST(domain_rules, refuses_ips_suffixes_and_junk) {
  for (const char* bad : {"", "http://127.0.0.1/", "http://[::1]/", "co.uk", "https://co.uk/",
                          "not a url", "mailto:a@example.com", "localhost"})
    EXPECT_FALSE(registrable_domain(bad)) << bad;
}
