// libFuzzer target: email extraction (and page metadata) over arbitrary HTML never crash, hang
// or return junk.
#include "scrape/charset.hpp"
#include "scrape/email_extract.hpp"
#include "scrape/page_metadata.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const auto& email : sky::scrape::extract_emails(input).addresses) {
    // Every result has exactly one '@' with something on both sides.
    auto at = email.find('@');
    if (at == 0 || at == std::string::npos || at + 1 >= email.size() ||
        email.find('@', at + 1) != std::string::npos)
      __builtin_trap();
  }
  sky::scrape::extract_metadata(input, "https://example.com/page");
  sky::scrape::decode_to_utf8(input, "text/html; charset=windows-1252");
  sky::scrape::decode_to_utf8(input, "");
  sky::scrape::decode_cfemail(input);
  for (const auto& email : sky::scrape::find_text_emails(input))
    if (email.find('@') == std::string::npos || email.find(' ') != std::string::npos)
      __builtin_trap();
  sky::scrape::normalize_email(input);
  return 0;
}
