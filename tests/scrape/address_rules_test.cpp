// SSRF guard rules: every forbidden range, the IPv6 forms that smuggle IPv4, and the allowlist.
#include "scrape/address_rules.hpp"

#include <gtest/gtest.h>

using namespace sky::scrape;
using sky::config::parse_ip_address;
using sky::config::parse_ip_network;

namespace {

address_class class_of(const char* text) {
  auto a = parse_ip_address(text);
  EXPECT_TRUE(a) << text;
  return a ? classify(*a) : address_class::reserved;
}

} // namespace

TEST(address_rules, public_addresses_pass) {
  for (const char* ok :
       {"93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e",
        "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0", "11.0.0.1"})
    EXPECT_EQ(class_of(ok), address_class::public_unicast) << ok;
}

TEST(address_rules, forbidden_ipv4_ranges) {
  EXPECT_EQ(class_of("127.0.0.1"), address_class::loopback);
  EXPECT_EQ(class_of("127.255.255.254"), address_class::loopback);
  EXPECT_EQ(class_of("10.1.2.3"), address_class::private_net);
  EXPECT_EQ(class_of("172.16.0.1"), address_class::private_net);
  EXPECT_EQ(class_of("172.31.255.255"), address_class::private_net);
  EXPECT_EQ(class_of("192.168.1.1"), address_class::private_net);
  EXPECT_EQ(class_of("169.254.169.254"), address_class::link_local); // cloud metadata
  EXPECT_EQ(class_of("100.64.0.1"), address_class::cgnat);
  EXPECT_EQ(class_of("100.100.100.200"), address_class::cgnat); // Alibaba metadata
  EXPECT_EQ(class_of("0.0.0.0"), address_class::unspecified);
  EXPECT_EQ(class_of("224.0.0.1"), address_class::multicast);
  EXPECT_EQ(class_of("255.255.255.255"), address_class::reserved);
  EXPECT_EQ(class_of("198.18.0.1"), address_class::reserved);
  EXPECT_EQ(class_of("192.0.2.10"), address_class::reserved);
}

TEST(address_rules, forbidden_ipv6_ranges_and_embedded_ipv4) {
  EXPECT_EQ(class_of("::1"), address_class::loopback);
  EXPECT_EQ(class_of("::"), address_class::unspecified);
  EXPECT_EQ(class_of("fe80::1"), address_class::link_local);
  EXPECT_EQ(class_of("fc00::1"), address_class::private_net);
  EXPECT_EQ(class_of("fd00:ec2::254"), address_class::private_net); // AWS metadata over IPv6
  EXPECT_EQ(class_of("ff02::1"), address_class::multicast);
  EXPECT_EQ(class_of("2001:db8::1"), address_class::reserved);
  // IPv4 smuggled in IPv6 is judged by the IPv4 address.
  EXPECT_EQ(class_of("::ffff:127.0.0.1"), address_class::loopback);
  EXPECT_EQ(class_of("::ffff:169.254.169.254"), address_class::link_local);
  EXPECT_EQ(class_of("::ffff:7f00:1"), address_class::loopback);
  EXPECT_EQ(class_of("64:ff9b::10.0.0.1"), address_class::private_net);
  EXPECT_EQ(class_of("2002:7f00:0001::"), address_class::loopback);
  EXPECT_EQ(class_of("::127.0.0.1"), address_class::reserved);
  EXPECT_EQ(class_of("::ffff:8.8.8.8"), address_class::public_unicast);
}

TEST(address_rules, ipv6_transition_forms_are_judged_by_the_ipv4_address_they_carry) {
  // IPv4-mapped ::ffff:0:0/96 and IPv4-translated ::ffff:0:0:0/96.
  EXPECT_EQ(class_of("::ffff:10.0.0.1"), address_class::private_net);
  EXPECT_EQ(class_of("::ffff:192.168.0.1"), address_class::private_net);
  EXPECT_EQ(class_of("::ffff:0:127.0.0.1"), address_class::loopback);
  EXPECT_EQ(class_of("::ffff:0:169.254.169.254"), address_class::link_local);
  EXPECT_EQ(class_of("::ffff:0:8.8.8.8"), address_class::public_unicast);
  // NAT64 well-known prefix 64:ff9b::/96.
  EXPECT_EQ(class_of("64:ff9b::127.0.0.1"), address_class::loopback);
  EXPECT_EQ(class_of("64:ff9b::169.254.169.254"), address_class::link_local);
  EXPECT_EQ(class_of("64:ff9b::8.8.8.8"), address_class::public_unicast);
  // NAT64 local-use 64:ff9b:1::/48, whatever RFC 6052 length the operator chose.
  EXPECT_EQ(class_of("64:ff9b:1::127.0.0.1"), address_class::loopback);           // /96
  EXPECT_EQ(class_of("64:ff9b:1:abcd:0:0:a9fe:a9fe"), address_class::link_local); // /96
  EXPECT_EQ(class_of("64:ff9b:1:0:a:0:100::"), address_class::private_net);       // /64: 10.0.0.1
  EXPECT_EQ(class_of("64:ff9b:1:7f:0:1::"), address_class::loopback);             // /56: 127.0.0.1
  EXPECT_EQ(class_of("64:ff9b:1:c0a8:1:100::"), address_class::private_net); // /48: 192.168.1.1
  EXPECT_EQ(class_of("64:ff9b:1::8.8.8.8"), address_class::public_unicast);
  // Teredo 2001::/32: the client's address, inverted, in the last 32 bits.
  EXPECT_EQ(class_of("2001:0:4136:e378:8000:63bf:80ff:fffe"), address_class::loopback); // 127.0.0.1
  EXPECT_EQ(class_of("2001:0:4136:e378:8000:63bf:f5ff:fffe"), address_class::private_net); // 10/8
  EXPECT_EQ(class_of("2001::5601:5656"), address_class::link_local); // 169.254.169.169
  EXPECT_EQ(class_of("2001:0:4136:e378:8000:63bf:3fff:fdd2"),
            address_class::reserved); // 192.0.2.45
  EXPECT_EQ(class_of("2001:0:4136:e378:8000:63bf:f7f7:f7f7"), address_class::public_unicast);
  // 6to4 2002::/16: bits 16-47.
  EXPECT_EQ(class_of("2002:7f00:0001::"), address_class::loopback);
  EXPECT_EQ(class_of("2002:a9fe:a9fe::1"), address_class::link_local);
  EXPECT_EQ(class_of("2002:c0a8:0101::1"), address_class::private_net);
  EXPECT_EQ(class_of("2002:0808:0808::1"), address_class::public_unicast);
  // None of these is allowed by an allowlist of 127.0.0.1 alone except its own forms.
  ssrf_policy tests({"127.0.0.1/32"});
  for (const char* refused :
       {"2002:7f00:0001::", "64:ff9b::127.0.0.1", "64:ff9b:1::127.0.0.1",
        "2001:0:4136:e378:8000:63bf:80ff:fffe", "::ffff:0:127.0.0.1", "::ffff:10.0.0.1"})
    EXPECT_FALSE(tests.allows(refused)) << refused;
}

TEST(address_rules, policy_is_closed_by_default_and_opens_only_the_allowlist) {
  ssrf_policy strict({});
  EXPECT_TRUE(strict.allows("93.184.216.34"));
  EXPECT_FALSE(strict.allows("127.0.0.1"));
  EXPECT_FALSE(strict.allows("::ffff:127.0.0.1"));
  EXPECT_FALSE(strict.allows("not an address"));
  ssrf_policy tests({"127.0.0.1/32", "::1"});
  EXPECT_TRUE(tests.allows("127.0.0.1"));
  EXPECT_TRUE(tests.allows("::ffff:127.0.0.1")); // the same IPv4 host
  EXPECT_TRUE(tests.allows("::1"));
  EXPECT_FALSE(tests.allows("127.0.0.2"));
  EXPECT_FALSE(tests.allows("169.254.169.254"));
}

TEST(address_rules, networks_parse_strictly) {
  EXPECT_TRUE(parse_ip_network("10.0.0.0/8"));
  EXPECT_TRUE(parse_ip_network("::1/128"));
  EXPECT_TRUE(parse_ip_network("[::1]"));
  for (const char* bad : {"", "10.0.0.0/33", "::1/129", "10.0.0/8", "10.0.0.0/", "10.0.0.0/x",
                          "localhost", "1.2.3.4/8/8"})
    EXPECT_FALSE(parse_ip_network(bad)) << bad;
  auto net = parse_ip_network("10.0.0.0/8");
  EXPECT_TRUE(net->contains(*parse_ip_address("10.255.0.1")));
  EXPECT_FALSE(net->contains(*parse_ip_address("11.0.0.1")));
}
