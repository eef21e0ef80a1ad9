// HS256 JSON Web Tokens: verification at the API edge and minting of development tokens.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
  wrong_issuer,      // `iss` differs from the configured issuer
  wrong_audience,    // `aud` does not name the configured audience
  lifetime_too_long, // exp lies further from the earlier of iat and now than the maximum
  issued_in_future,  // iat lies past now + leeway
};

std::string_view to_string(jwt_failure f);

// The role a token names to control queues and other subjects' jobs.
inline constexpr std::string_view k_operator_role = "operator";

struct jwt_verdict {
  jwt_failure failure = jwt_failure::none;
  std::string subject; // the `sub` claim when valid
  // The `role` claim (a string) or the `roles` claim (an array of strings), when valid.
  std::vector<std::string> roles = {};
  bool has_role(std::string_view role) const {
    for (const auto& r : roles)
      if (r == role)
        return true;
    return false;
  }
  bool ok() const { return failure == jwt_failure::none; }
};

// What a token must satisfy beyond its HS256 signature.
struct jwt_policy {
  explicit jwt_policy(std::string secret_ = {}, std::string issuer_ = {},
                      std::string audience_ = {}, std::chrono::seconds leeway_ = {},
                      std::chrono::seconds max_lifetime_ = {})
      : secret(std::move(secret_)), issuer(std::move(issuer_)), audience(std::move(audience_)),
        leeway(leeway_), max_lifetime(max_lifetime_) {}

  std::string secret;
  std::string issuer;   // when set, `iss` must equal it
  std::string audience; // when set, `aud` (a string or an array) must contain it
  // Clock skew tolerated on `exp` and `nbf` between the issuer and this server.
  std::chrono::seconds leeway{0};
  // When positive, a token may not be valid for longer than this: exp - iat, or exp - now when
  // the token has no `iat`. A leaked long-lived token is the usual way into an API.
  std::chrono::seconds max_lifetime{0};
};

// Checks an `Authorization` header value ("Bearer <token>"). `exp` is required; `nbf` is
// honoured when present. `now` is injectable for tests.
jwt_verdict
verify_bearer(std::string_view authorization, const jwt_policy& policy,
              std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
jwt_verdict
verify_token(std::string_view token, const jwt_policy& policy,
             std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// The same with a bare secret: no issuer, audience, leeway or lifetime rules.
jwt_verdict
verify_bearer(std::string_view authorization, std::string_view secret,
              std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
jwt_verdict
verify_token(std::string_view token, std::string_view secret,
             std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// Mints an HS256 token for `subject` valid for `ttl`, carrying the policy's issuer and audience,
// and the `role` claim when `role` is not empty.
std::string mint_token(std::string_view subject, const jwt_policy& policy, std::chrono::seconds ttl,
                       std::chrono::system_clock::time_point now = std::chrono::system_clock::now(),
                       std::string_view role = {});
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
