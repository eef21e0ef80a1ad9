// libFuzzer target: the rendering tier's auto rules and the merge of a rendered page read from
// the same input, whose results stay within the page's limits.
#include "scrape/page_analysis.hpp"
#include "scrape/render_rules.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  using namespace sky::scrape;
  auto page = analyze_page(input, "https://www.example.com/");
  auto reason = render_reason(input, page, render_mode::auto_);
  if (!(reason.empty() || reason == "scripts_write_markup" || reason == "app_shell" ||
        reason == "scripts_name_contacts"))
    __builtin_trap();
  if (render_reason(input, page, render_mode::off) != "")
    __builtin_trap();
  const auto emails = page.emails.size(), links = page.meta.links.size();
  auto again = analyze_page(input, "https://www.example.com/");
  merge_rendered(page, std::move(again));
  // The same page merged into itself adds nothing.
  if (page.emails.size() != emails || page.meta.links.size() != links ||
      page.meta.links.size() != page.meta.link_texts.size())
    __builtin_trap();
  return 0;
}
