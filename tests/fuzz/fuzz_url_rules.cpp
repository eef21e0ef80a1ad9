// libFuzzer target: URL, domain and address parsing.
#include "config/ip_network.hpp"
#include "scrape/address_rules.hpp"
#include "scrape/domain_rules.hpp"
#include "scrape/url_rules.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto url = sky::scrape::parse_web_url(input))
    if (url->scheme != "http" && url->scheme != "https")
      __builtin_trap();
  sky::scrape::registrable_domain(input);
  sky::scrape::normalize_domain(input);
  if (auto address = sky::config::parse_ip_address(input))
    sky::scrape::classify(*address);
  sky::config::parse_ip_network(input);
  return 0;
}
