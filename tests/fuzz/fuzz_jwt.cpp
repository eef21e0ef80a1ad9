// libFuzzer target: untrusted bearer tokens are never accepted without the secret.
#include "http/jwt.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto verdict = sky::http::verify_bearer(input, "fuzz-secret-fuzz-secret-fuzz-secret!");
  // Finding a valid HMAC by chance would be a bug worth stopping for.
  if (verdict.ok())
    __builtin_trap();
  std::string decoded;
  sky::http::base64url_decode(input, decoded);
  return 0;
}
