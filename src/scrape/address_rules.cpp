// Address classification for the SSRF guard.
#include "scrape/address_rules.hpp"

namespace sky::scrape {
namespace {

struct v4_block {
  std::uint32_t base;
  int prefix;
  address_class kind;
};

constexpr std::uint32_t v4(int a, int b, int c, int d) {
  return (std::uint32_t(a) << 24) | (std::uint32_t(b) << 16) | (std::uint32_t(c) << 8) |
         std::uint32_t(d);
}

constexpr v4_block k_v4_blocks[] = {
    {v4(0, 0, 0, 0), 8, address_class::unspecified},
    {v4(10, 0, 0, 0), 8, address_class::private_net},
    {v4(100, 64, 0, 0), 10, address_class::cgnat},
    {v4(127, 0, 0, 0), 8, address_class::loopback},
    {v4(169, 254, 0, 0), 16, address_class::link_local},
    {v4(172, 16, 0, 0), 12, address_class::private_net},
    {v4(192, 0, 0, 0), 24, address_class::reserved},   // IETF protocol assignments
    {v4(192, 0, 2, 0), 24, address_class::reserved},   // documentation
    {v4(192, 88, 99, 0), 24, address_class::reserved}, // 6to4 relay anycast
    {v4(192, 168, 0, 0), 16, address_class::private_net},
    {v4(198, 18, 0, 0), 15, address_class::reserved},   // benchmarking
    {v4(198, 51, 100, 0), 24, address_class::reserved}, // documentation
    {v4(203, 0, 113, 0), 24, address_class::reserved},  // documentation
    {v4(224, 0, 0, 0), 4, address_class::multicast},
    {v4(240, 0, 0, 0), 4, address_class::reserved}, // includes 255.255.255.255
};

address_class classify_v4(std::uint32_t a) {
  for (const auto& b : k_v4_blocks) {
    std::uint32_t mask = b.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - b.prefix);
    if ((a & mask) == b.base)
      return b.kind;
  }
  return address_class::public_unicast;
}

bool starts_with(const config::ip_address& a, std::initializer_list<std::uint8_t> prefix) {
  std::size_t i = 0;
  for (auto byte : prefix)
    if (a.bytes[i++] != byte)
      return false;
  return true;
}

std::uint32_t embedded_v4(const config::ip_address& a, std::size_t offset) {
  return v4(a.bytes[offset], a.bytes[offset + 1], a.bytes[offset + 2], a.bytes[offset + 3]);
}

// The NAT64 local-use prefix 64:ff9b:1::/48 (RFC 8215) is subdivided by its operator with any
// RFC 6052 prefix length (/48, /56, /64 or /96), which puts the IPv4 address in a different
// place (bits 64-71 are always skipped). Not knowing which, every reading must be public;
// readings inside 0.0.0.0/8 are the zero padding of another length and are ignored.
address_class classify_nat64_local_use(const config::ip_address& a) {
  const auto& b = a.bytes;
  const std::uint32_t readings[] = {
      v4(b[12], b[13], b[14], b[15]), // /96
      v4(b[9], b[10], b[11], b[12]),  // /64
      v4(b[7], b[9], b[10], b[11]),   // /56
      v4(b[6], b[7], b[9], b[10]),    // /48
  };
  for (auto reading : readings)
    if (auto kind = classify_v4(reading);
        kind != address_class::public_unicast && kind != address_class::unspecified)
      return kind;
  for (auto reading : readings)
    if (classify_v4(reading) == address_class::public_unicast)
      return address_class::public_unicast;
  return address_class::unspecified;
}

} // namespace

std::string_view to_string(address_class c) {
  switch (c) {
  case address_class::public_unicast:
    return "public";
  case address_class::unspecified:
    return "unspecified";
  case address_class::loopback:
    return "loopback";
  case address_class::private_net:
    return "private";
  case address_class::link_local:
    return "link-local";
  case address_class::cgnat:
    return "carrier-grade NAT";
  case address_class::multicast:
    return "multicast";
  case address_class::reserved:
    return "reserved";
  }
  return "reserved";
}

address_class classify(const config::ip_address& a) {
  if (a.is_v4_mapped())
    return classify_v4(a.v4());
  // IPv4-translated ::ffff:0:a.b.c.d (SIIT).
  if (starts_with(a, {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}))
    return classify_v4(embedded_v4(a, 12));
  // NAT64 well-known prefix 64:ff9b::/96 carries an IPv4 address in its last 32 bits.
  if (starts_with(a, {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}))
    return classify_v4(embedded_v4(a, 12));
  if (starts_with(a, {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}))
    return classify_nat64_local_use(a);
  // Teredo 2001:0::/32 carries its client's IPv4 address, inverted, in the last 32 bits.
  if (starts_with(a, {0x20, 0x01, 0x00, 0x00}))
    return classify_v4(~embedded_v4(a, 12));
  // 6to4 2002:AABB:CCDD::/48 carries AA.BB.CC.DD.
  if (starts_with(a, {0x20, 0x02}))
    return classify_v4(embedded_v4(a, 2));
  bool all_zero_but_last = true;
  for (int i = 0; i < 15; ++i)
    all_zero_but_last = all_zero_but_last && a.bytes[i] == 0;
  if (all_zero_but_last && a.bytes[15] == 0)
    return address_class::unspecified;
  if (all_zero_but_last && a.bytes[15] == 1)
    return address_class::loopback;
  if (starts_with(a, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
    return address_class::reserved; // deprecated IPv4-compatible ::a.b.c.d
  if (a.bytes[0] == 0xff)
    return address_class::multicast;
  if (a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80)
    return address_class::link_local;
  if (a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0xc0)
    return address_class::private_net; // deprecated site-local
  if ((a.bytes[0] & 0xfe) == 0xfc)
    return address_class::private_net; // unique local, incl. fd00:ec2::254 metadata
  if (starts_with(a, {0x20, 0x01, 0x0d, 0xb8}))
    return address_class::reserved; // documentation
  if (starts_with(a, {0x01, 0x00, 0, 0, 0, 0, 0, 0}))
    return address_class::reserved; // discard-only 100::/64
  return address_class::public_unicast;
}

ssrf_policy::ssrf_policy(const std::vector<std::string>& allowlist) {
  for (const auto& entry : allowlist)
    if (auto network = config::parse_ip_network(entry))
      allowlist_.push_back(*network);
}

bool ssrf_policy::allows(const config::ip_address& address) const {
  if (classify(address) == address_class::public_unicast)
    return true;
  for (const auto& network : allowlist_)
    if (network.contains(address))
      return true;
  return false;
}

bool ssrf_policy::allows(std::string_view address_text) const {
  auto address = config::parse_ip_address(address_text);
  return address && allows(*address);
}

} // namespace sky::scrape
