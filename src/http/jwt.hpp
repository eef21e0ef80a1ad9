// HS256 JSON Web Tokens: verification at the API edge and minting of development tokens.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace sky::http {

enum class jwt_failure {
  none,
  missing,         // no Authorization header / not a Bearer token
  malformed,       // not three base64url parts of JSON
  unsupported_alg, // anything but HS256, including "none"
  bad_signature,
  expired,
  not_yet_valid,
  missing_subject,
};

std::string_view to_string(jwt_failure f);

struct jwt_verdict {
  jwt_failure failure = jwt_failure::none;
  std::string subject; // the `sub` claim when valid
  bool ok() const { return failure == jwt_failure::none; }
};

// Checks an `Authorization` header value ("Bearer <token>"). `exp` is required; `nbf` is
// honoured when present. `now` is injectable for tests.
jwt_verdict
verify_bearer(std::string_view authorization, std::string_view secret,
              std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

jwt_verdict
verify_token(std::string_view token, std::string_view secret,
             std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// Mints an HS256 token for `subject` valid for `ttl`.
std::string
mint_token(std::string_view subject, std::string_view secret, std::chrono::seconds ttl,
           std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// Signs arbitrary header and payload JSON with HS256 (whatever `alg` the header claims).
std::string sign_hs256(std::string_view header_json, std::string_view payload_json,
                       std::string_view secret);

std::string base64url_encode(std::string_view bytes);
// Strict decoder: returns false on any character outside the base64url alphabet.
bool base64url_decode(std::string_view text, std::string& out);

} // namespace sky::http
