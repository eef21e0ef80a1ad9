// libFuzzer target: the spelled-out address reader ("[at]", "(punkt)", "arroba"...) and the
// address normaliser never crash or hang, and only return well-formed lower-case addresses.
#include "scrape/email_extract.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

void check(const std::string& email) {
  auto at = email.find('@');
  if (at == 0 || at == std::string::npos || at + 1 >= email.size() ||
      email.find('@', at + 1) != std::string::npos)
    __builtin_trap();
  for (char c : email)
    if (c == ' ' || (c >= 'A' && c <= 'Z'))
      __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto found = sky::scrape::find_text_emails(input, 500);
  if (found.size() > 500)
    __builtin_trap();
  for (const auto& email : found)
    check(email);
  if (auto one = sky::scrape::normalize_email(input))
    check(*one);
  return 0;
}
