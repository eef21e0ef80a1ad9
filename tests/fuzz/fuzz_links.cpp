// libFuzzer target: links, social profiles, tech signatures and crawl ranking of one page.
#include "scrape/link_rules.hpp"
#include "scrape/page_analysis.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto page = sky::scrape::analyze_page(input, "https://www.example.com/dir/page.html");
  auto order = sky::scrape::contact_crawl_order(page.meta.links, "https://www.example.com/", 10);
  if (order.size() > 10)
    __builtin_trap();
  for (const auto& url : order)
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
      __builtin_trap(); // only web links are ever crawled
  return 0;
}
