// IP addresses and CIDR blocks, as parsed from configuration (e.g. FETCH_ALLOW_PRIVATE).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sky::config {

// An address in IPv6 form; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d).
struct ip_address {
  std::array<std::uint8_t, 16> bytes{};
  bool is_v4_mapped() const;
  std::uint32_t v4() const; // valid when is_v4_mapped()
};

struct ip_network {
  ip_address base;
  int prefix = 128; // in IPv6 bits; an IPv4 /n is stored as /(96+n)
  bool contains(const ip_address& a) const;
};

std::optional<ip_address> parse_ip_address(std::string_view text);
// "10.0.0.0/8", "::1", "127.0.0.1" (a bare address is a single-host network).
std::optional<ip_network> parse_ip_network(std::string_view text);

} // namespace sky::config
