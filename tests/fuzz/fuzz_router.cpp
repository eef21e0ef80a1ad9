// libFuzzer target: no request target, however spelt, runs a protected handler without a token,
// and normalized paths never hold a segment that could be read two ways.
#include "http/router.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

const sky::http::router& fuzz_router() {
  using namespace sky::http;
  static const router r(
      {{"GET", "/health", [](request_context&) { return api_response{}; }, access::open},
       {"GET", "/api/v3/queues", [](request_context&) -> api_response { __builtin_trap(); }},
       {"POST", "/api/v3/domains", [](request_context&) -> api_response { __builtin_trap(); }},
       {"POST", "/api/v3/jobs/{id}/cancel",
        [](request_context&) -> api_response { __builtin_trap(); }}},
      std::string("fuzz-secret-fuzz-secret-fuzz-secret!"));
  return r;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  static constexpr const char* k_methods[] = {"GET", "POST", "HEAD", "PUT"};
  std::string target(reinterpret_cast<const char*>(data) + 1, size - 1);
  sky::http::api_request request{
      k_methods[data[0] % 4], target, "", "application/json", "{}", "", ""};
  fuzz_router().handle(request);

  auto normalized = sky::http::normalize_path(target.substr(0, target.find('?')));
  if (auto* segments = std::get_if<std::vector<std::string>>(&normalized))
    for (const auto& s : *segments)
      if (s.empty() || s == "." || s == ".." ||
          s.find_first_of(std::string_view("/\\\0%", 4)) != std::string::npos)
        __builtin_trap();
  return 0;
}
