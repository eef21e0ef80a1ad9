// inet_pton-based parsing; everything is compared as 128-bit addresses.
#include "config/ip_network.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <cstring>
#include <string>

namespace sky::config {

bool ip_address::is_v4_mapped() const {
  for (int i = 0; i < 10; ++i)
    if (bytes[i] != 0)
      return false;
  return bytes[10] == 0xff && bytes[11] == 0xff;
}

std::uint32_t ip_address::v4() const {
  return (std::uint32_t{bytes[12]} << 24) | (std::uint32_t{bytes[13]} << 16) |
         (std::uint32_t{bytes[14]} << 8) | std::uint32_t{bytes[15]};
}

bool ip_network::contains(const ip_address& a) const {
  int full = prefix / 8, rest = prefix % 8;
  for (int i = 0; i < full; ++i)
    if (a.bytes[i] != base.bytes[i])
      return false;
  if (rest == 0)
    return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a.bytes[full] & mask) == (base.bytes[full] & mask);
}

std::optional<ip_address> parse_ip_address(std::string_view text) {
  std::string s(text);
  if (s.size() > 2 && s.front() == '[' && s.back() == ']')
    s = s.substr(1, s.size() - 2);
  ip_address a;
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    a.bytes[10] = a.bytes[11] = 0xff;
    std::memcpy(&a.bytes[12], &v4, 4);
    return a;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(a.bytes.data(), &v6, 16);
    return a;
  }
  return std::nullopt;
}

std::optional<ip_network> parse_ip_network(std::string_view text) {
  auto slash = text.find('/');
  auto address = parse_ip_address(text.substr(0, slash));
  if (!address)
    return std::nullopt;
  const bool v4 = text.substr(0, slash).find(':') == std::string_view::npos;
  int prefix = v4 ? 32 : 128;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty() || prefix < 0 ||
        prefix > (v4 ? 32 : 128))
      return std::nullopt;
  }
  return ip_network{*address, v4 ? prefix + 96 : prefix};
}

} // namespace sky::config
