// URL rules: only absolute http(s) URLs with a host; domains are normalised.
#include "scrape/url_rules.hpp"

#include <gtest/gtest.h>

using namespace sky::scrape;

TEST(url_rules, accepts_http_and_https) {
  auto u = parse_web_url("HTTPS://Example.COM./a?b=1#frag");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->normalized.find('#'), std::string::npos);
  EXPECT_TRUE(parse_web_url("http://127.0.0.1:8080/x"));
}

TEST(url_rules, refuses_other_schemes_and_junk) {
  for (const char* bad :
       {"ftp://example.com/", "javascript:alert(1)", "file:///etc/passwd", "example.com",
        "/relative", "http://", "https://user:pw@example.com/", "", "http://exa mple.com/"})
    EXPECT_FALSE(parse_web_url(bad)) << bad;
  EXPECT_FALSE(parse_web_url("http://example.com/" + std::string(3000, 'a')));
}

TEST(url_rules, normalizes_domains) {
  EXPECT_EQ(normalize_domain("Example.COM."), "example.com");
  EXPECT_EQ(normalize_domain("sub.example.co.uk"), "sub.example.co.uk");
  for (const char* bad :
       {"", "localhost", "-a.com", "a-.com", "a..com", "http://a.com", "a.com/path", "a_b.com"})
    EXPECT_FALSE(normalize_domain(bad)) << bad;
}

TEST(url_rules, connect_to_lists_put_a_hosts_own_entries_first_and_keep_the_rest) {
  const std::vector<std::string> entries = {"a.test:80:127.0.0.2:80", "b.test:80:127.0.0.3:80",
                                            "A.Test:443:127.0.0.2:8443"};
  EXPECT_EQ(connect_to_for_host(entries, "a.test"),
            (std::vector<std::string>{"a.test:80:127.0.0.2:80", "A.Test:443:127.0.0.2:8443",
                                      "a.test:80:127.0.0.2:80", "b.test:80:127.0.0.3:80",
                                      "A.Test:443:127.0.0.2:8443"}));
  EXPECT_EQ(connect_to_for_host(entries, "b.test"),
            (std::vector<std::string>{"b.test:80:127.0.0.3:80", "a.test:80:127.0.0.2:80",
                                      "b.test:80:127.0.0.3:80", "A.Test:443:127.0.0.2:8443"}));
  EXPECT_TRUE(connect_to_for_host(entries, "c.test").empty()) << "no entry of its own";
  // An entry for any host may match before a host's own: the order as written must stay.
  EXPECT_TRUE(
      connect_to_for_host({"a.test:80:127.0.0.2:80", "::127.0.0.1:8099"}, "a.test").empty());
  EXPECT_TRUE(connect_to_for_host({"[::1]:80:127.0.0.2:80"}, "[::1]").size() == 2);
}

TEST(url_rules, connect_to_hosts_are_the_hosts_with_entries_of_their_own) {
  EXPECT_EQ(connect_to_hosts(
                {"a.test:80:127.0.0.2:80", "B.test:80:127.0.0.3:80", "A.Test:443:127.0.0.2:8443"}),
            (std::vector<std::string>{"a.test", "b.test"}));
  EXPECT_TRUE(connect_to_hosts({"a.test:80:127.0.0.2:80", "::127.0.0.1:8099"}).empty());
  EXPECT_EQ(connect_to_hosts({"[::1]:80:127.0.0.2:80"}), (std::vector<std::string>{"[::1]"}));
}
