// The SSRF guard's rules: which resolved addresses a fetch may connect to. Pure, so the fetcher
// can apply them at connect time on every hop (after DNS, after each redirect).
#pragma once

#include "config/ip_network.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

enum class address_class {
  public_unicast,
  unspecified, // 0.0.0.0/8, ::
  loopback,    // 127/8, ::1
  private_net, // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10
  link_local,  // 169.254/16 (cloud metadata lives here), fe80::/10
  cgnat,       // 100.64/10 (also Alibaba's metadata address)
  multicast,   // 224/4, ff00::/8
  reserved,    // documentation, benchmarking, 240/4, broadcast, deprecated IPv6 forms
};

std::string_view to_string(address_class c);

// IPv6 forms that carry an IPv4 address are judged by that address: IPv4-mapped ::ffff:0:0/96,
// IPv4-translated ::ffff:0:0:0/96, NAT64 64:ff9b::/96 and the local-use 64:ff9b:1::/48 (every
// position its prefix lengths allow), Teredo 2001::/32 (the client, last 32 bits inverted) and
// 6to4 2002::/16 (bits 16-47).
address_class classify(const config::ip_address& address);

class ssrf_policy {
public:
  // `allowlist`: networks exempt from the guard (FETCH_ALLOW_PRIVATE); invalid entries are
  // rejected by configuration loading, and ignored here.
  explicit ssrf_policy(const std::vector<std::string>& allowlist);
  // True when a connection to `address` may be made.
  bool allows(const config::ip_address& address) const;
  bool allows(std::string_view address_text) const;

private:
  std::vector<config::ip_network> allowlist_;
};

} // namespace sky::scrape
