// libFuzzer target: robots.txt parsing and matching.
#include "scrape/robots.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto split = input.find('\n');
  auto rules = sky::scrape::parse_robots(input, "ScraperSkyBot");
  auto path = split == std::string_view::npos ? input : input.substr(0, split);
  rules.allowed(path.substr(0, 2048));
  if (rules.allowed("/robots.txt") == false)
    __builtin_trap(); // robots.txt itself is always fetchable
  return 0;
}
