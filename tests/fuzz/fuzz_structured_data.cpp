// libFuzzer target: JSON-LD blocks and microdata/RDFa property names never crash, hang or exceed
// their caps, alone or inside a page.
#include "scrape/page_metadata.hpp"
#include "scrape/structured_data.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  sky::scrape::structured_contacts found;
  sky::scrape::read_json_ld(input, found, 20);
  if (found.emails.size() + found.phones.size() > 20)
    __builtin_trap();
  sky::scrape::contact_property_of(input);
  // The same bytes as a JSON-LD block and as a microdata value inside a page.
  std::string page = "<html><head><script type=\"application/ld+json\">" + std::string(input) +
                     "</script></head><body><span itemprop=\"email telephone\">" +
                     std::string(input) + "</span></body></html>";
  sky::scrape::page_limits limits;
  limits.max_structured_values = 8;
  auto meta = sky::scrape::extract_metadata(page, "https://www.example.com/", limits);
  if (meta.structured_emails.size() + meta.structured_phones.size() > 8)
    __builtin_trap();
  return 0;
}
