// libFuzzer target: JSON-LD blocks, page data (JSON scripts, objects scripts assign to window) and
// microdata/RDFa property names never crash, hang or exceed their caps, alone or inside a page.
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
  sky::scrape::structured_contacts data_found;
  sky::scrape::read_page_data(input, data_found, 20);
  if (data_found.emails.size() + data_found.phones.size() > 20 || data_found.links.size() > 20)
    __builtin_trap();
  auto assigned = sky::scrape::script_assigned_json(input, 4);
  if (assigned.size() > 4)
    __builtin_trap();
  for (const auto& json : assigned)
    if (json.size() > input.size())
      __builtin_trap();
  sky::scrape::contact_property_of(input);
  // The same bytes as a JSON-LD block, page data, a script and a microdata value inside a page.
  std::string page = "<html><head><script type=\"application/ld+json\">" + std::string(input) +
                     "</script><script type=\"application/json\">" + std::string(input) +
                     "</script><script>window.__STATE__ = " + std::string(input) +
                     "</script></head><body><span itemprop=\"email telephone\">" +
                     std::string(input) + "</span></body></html>";
  sky::scrape::page_limits limits;
  limits.max_structured_values = 8;
  limits.max_links = 8;
  auto meta = sky::scrape::extract_metadata(page, "https://www.example.com/", limits);
  if (meta.structured_emails.size() + meta.structured_phones.size() > 8 ||
      meta.data_links.size() > 8)
    __builtin_trap();
  return 0;
}
