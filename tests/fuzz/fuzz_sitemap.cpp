// libFuzzer target: sitemap parsing (XML, text lists, gzip) under small caps.
#include "scrape/sitemap.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  sky::scrape::sitemap_limits limits;
  limits.max_urls = 100;
  limits.max_bytes = 1 << 20;
  auto doc = sky::scrape::parse_sitemap(input, limits);
  if (doc.urls.size() + doc.sitemaps.size() > limits.max_urls)
    __builtin_trap(); // the cap is a promise
  if (doc.type == sky::scrape::sitemap_document::kind::invalid && doc.error.empty())
    __builtin_trap(); // every refusal says why
  return 0;
}
