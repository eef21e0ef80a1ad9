// libFuzzer target: the HTML tokenizer over arbitrary bytes never crashes, keeps every element
// balanced (each end names the innermost open start), and gives lower-case names; the metadata
// read through it and through libxml2 (the reference) never crash either.
#include "scrape/html_tokenizer.hpp"
#include "scrape/page_metadata.hpp"
#include "scrape/page_metadata_reference.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

class balance_check final : public sky::scrape::html_handler {
public:
  std::vector<std::string> open;
  void start_element(std::string_view name,
                     std::span<const sky::scrape::html_attribute> attributes) override {
    check_lower(name);
    for (const auto& a : attributes)
      check_lower(a.name);
    open.emplace_back(name);
  }
  void end_element(std::string_view name) override {
    if (open.empty() || open.back() != name)
      __builtin_trap();
    open.pop_back();
  }
  void text(std::string_view chars) override {
    if (chars.empty())
      __builtin_trap(); // no empty pieces
  }
  void raw_text(std::string_view) override {}

private:
  static void check_lower(std::string_view name) {
    for (char c : name)
      if (c >= 'A' && c <= 'Z')
        __builtin_trap();
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  balance_check check;
  sky::scrape::html_read_limits limits;
  limits.max_open_elements = 16; // the depth cap's paths too
  sky::scrape::read_html(input, check, limits);
  if (!check.open.empty())
    __builtin_trap(); // everything closes at the end
  sky::scrape::extract_metadata(input, "https://example.com/page");
  sky::scrape::extract_metadata_libxml2(input, "https://example.com/page");
  return 0;
}
