// JWT HS256 with OpenSSL's HMAC and a constant-time signature comparison.
#include "http/jwt.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unordered_set>

namespace sky::http {
namespace {

constexpr char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

int decode_char(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

// A JSON handler that only checks that no object names a key twice: {"alg":"HS256","alg":"none"}
// means one thing to one library and another to the next.
struct duplicate_key_check {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
  using ec_t = boost::system::error_code;
  using sv = boost::json::string_view;
  std::vector<std::unordered_set<std::string>> keys; // per open object (a hash: linear time)
  std::string key;
  bool duplicate = false;

  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_object_begin(ec_t&) {
    keys.emplace_back();
    return keys.size() <= 64;
  }
  bool on_object_end(std::size_t, ec_t&) {
    keys.pop_back();
    return true;
  }
  bool on_array_begin(ec_t&) { return true; }
  bool on_array_end(std::size_t, ec_t&) { return true; }
  bool on_key_part(sv s, std::size_t, ec_t&) {
    key.append(s.data(), s.size());
    return true;
  }
  bool on_key(sv s, std::size_t, ec_t&) {
    key.append(s.data(), s.size());
    duplicate = !keys.back().insert(std::move(key)).second;
    key.clear();
    return !duplicate;
  }
  bool on_string_part(sv, std::size_t, ec_t&) { return true; }
  bool on_string(sv, std::size_t, ec_t&) { return true; }
  bool on_number_part(sv, ec_t&) { return true; }
  bool on_int64(std::int64_t, sv, ec_t&) { return true; }
  bool on_uint64(std::uint64_t, sv, ec_t&) { return true; }
  bool on_double(double, sv, ec_t&) { return true; }
  bool on_bool(bool, ec_t&) { return true; }
  bool on_null(ec_t&) { return true; }
  bool on_comment_part(sv, ec_t&) { return true; }
  bool on_comment(sv, ec_t&) { return true; }
};

bool has_duplicate_keys(std::string_view json) {
  boost::json::basic_parser<duplicate_key_check> parser{boost::json::parse_options{}};
  boost::system::error_code ec;
  parser.write_some(false, json.data(), json.size(), ec);
  return parser.handler().duplicate;
}

const boost::json::object* parse_object(std::string_view b64, boost::json::value& storage) {
  std::string raw;
  if (!base64url_decode(b64, raw) || has_duplicate_keys(raw))
    return nullptr;
  boost::system::error_code ec;
  storage = boost::json::parse(raw, ec);
  if (ec || !storage.is_object())
    return nullptr;
  return &storage.as_object();
}

// Accepts integral or floating NumericDate values.
bool numeric_date(const boost::json::value& v, double& out) {
  if (v.is_int64())
    out = static_cast<double>(v.as_int64());
  else if (v.is_uint64())
    out = static_cast<double>(v.as_uint64());
  else if (v.is_double())
    out = v.as_double();
  else
    return false;
  return true;
}

} // namespace

std::string_view to_string(jwt_failure f) {
  switch (f) {
  case jwt_failure::none:
    return "ok";
  case jwt_failure::missing:
    return "missing bearer token";
  case jwt_failure::malformed:
    return "malformed token";
  case jwt_failure::unsupported_alg:
    return "unsupported token algorithm (only HS256)";
  case jwt_failure::bad_signature:
    return "invalid token signature";
  case jwt_failure::expired:
    return "token expired";
  case jwt_failure::not_yet_valid:
    return "token not yet valid";
  case jwt_failure::wrong_issuer:
    return "token issuer is not accepted";
  case jwt_failure::wrong_audience:
    return "token audience is not accepted";
  case jwt_failure::lifetime_too_long:
    return "token lifetime exceeds the allowed maximum";
  case jwt_failure::issued_in_future:
    return "token issued in the future";
  case jwt_failure::missing_subject:
    return "token has no subject";
  }
  return "invalid token";
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += k_alphabet[(v >> 18) & 63];
    out += k_alphabet[(v >> 12) & 63];
    out += k_alphabet[(v >> 6) & 63];
    out += k_alphabet[v & 63];
  }
  if (bytes.size() - i == 1) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += k_alphabet[(v >> 18) & 63];
    out += k_alphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += k_alphabet[(v >> 18) & 63];
    out += k_alphabet[(v >> 12) & 63];
    out += k_alphabet[(v >> 6) & 63];
  }
  return out;
}

bool base64url_decode(std::string_view text, std::string& out) {
  // Canonical only (RFC 7515 section 2): no padding, and the bits past the last byte are zero, so
  // that one signature has exactly one spelling.
  if (text.size() % 4 == 1 || text.find('=') != std::string_view::npos)
    return false;
  out.clear();
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = decode_char(c);
    if (v < 0)
      return false;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return (buffer & ((1u << bits) - 1)) == 0;
}

namespace {

bool names_audience(const boost::json::value& aud, std::string_view audience) {
  if (aud.is_string())
    return aud.as_string() == audience;
  if (aud.is_array())
    for (const auto& a : aud.as_array())
      if (a.is_string() && a.as_string() == audience)
        return true;
  return false;
}

} // namespace

jwt_verdict verify_token(std::string_view token, const jwt_policy& policy,
                         std::chrono::system_clock::time_point now) {
  const std::string_view secret = policy.secret;
  auto first = token.find('.');
  auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos ||
      token.find('.', second + 1) != std::string_view::npos)
    return {jwt_failure::malformed, {}};
  auto header_b64 = token.substr(0, first);
  auto payload_b64 = token.substr(first + 1, second - first - 1);
  auto signature_b64 = token.substr(second + 1);

  // The header first (its algorithm decides how to check the rest); the payload only once the
  // signature holds, so an unsigned token costs no more than its header's parse.
  boost::json::value header_storage, payload_storage;
  const auto* header = parse_object(header_b64, header_storage);
  if (!header)
    return {jwt_failure::malformed, {}};
  // The algorithm is pinned: the token cannot choose "none" or an asymmetric algorithm.
  const auto* alg = header->if_contains("alg");
  if (!alg || !alg->is_string() || alg->as_string() != "HS256")
    return {jwt_failure::unsupported_alg, {}};

  std::string signature;
  if (!base64url_decode(signature_b64, signature))
    return {jwt_failure::malformed, {}};
  auto expected = hmac_sha256(secret, token.substr(0, second));
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0)
    return {jwt_failure::bad_signature, {}};
  const auto* payload = parse_object(payload_b64, payload_storage);
  if (!payload)
    return {jwt_failure::malformed, {}};

  double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
  const auto leeway_s = static_cast<double>(policy.leeway.count());
  const auto* exp = payload->if_contains("exp");
  double exp_s = 0;
  if (!exp || !numeric_date(*exp, exp_s))
    return {jwt_failure::malformed, {}};
  if (now_s >= exp_s + leeway_s)
    return {jwt_failure::expired, {}};
  if (const auto* nbf = payload->if_contains("nbf")) {
    double nbf_s = 0;
    if (!numeric_date(*nbf, nbf_s))
      return {jwt_failure::malformed, {}};
    if (now_s + leeway_s < nbf_s)
      return {jwt_failure::not_yet_valid, {}};
  }
  double iat_s = now_s;
  if (const auto* iat = payload->if_contains("iat")) {
    if (!numeric_date(*iat, iat_s))
      return {jwt_failure::malformed, {}};
    // A token issued in the future would carry its lifetime past the maximum.
    if (iat_s > now_s + leeway_s)
      return {jwt_failure::issued_in_future, {}};
  }
  // The lifetime runs from the earlier of iat and now: an iat in the past does not launder a
  // long lifetime, and one a little ahead (within the leeway) does not shorten it.
  if (policy.max_lifetime.count() > 0 &&
      exp_s - std::min(iat_s, now_s) > static_cast<double>(policy.max_lifetime.count()) + leeway_s)
    return {jwt_failure::lifetime_too_long, {}};
  if (!policy.issuer.empty()) {
    const auto* iss = payload->if_contains("iss");
    if (!iss || !iss->is_string() || iss->as_string() != policy.issuer)
      return {jwt_failure::wrong_issuer, {}};
  }
  if (!policy.audience.empty()) {
    const auto* aud = payload->if_contains("aud");
    if (!aud || !names_audience(*aud, policy.audience))
      return {jwt_failure::wrong_audience, {}};
  }
  const auto* sub = payload->if_contains("sub");
  if (!sub || !sub->is_string() || sub->as_string().empty())
    return {jwt_failure::missing_subject, {}};
  jwt_verdict verdict{jwt_failure::none, std::string(sub->as_string())};
  if (const auto* role = payload->if_contains("role"); role && role->is_string())
    verdict.roles.emplace_back(role->as_string());
  if (const auto* roles = payload->if_contains("roles"); roles && roles->is_array())
    for (const auto& r : roles->as_array())
      if (r.is_string() && verdict.roles.size() < 16)
        verdict.roles.emplace_back(r.as_string());
  return verdict;
}

jwt_verdict verify_token(std::string_view token, std::string_view secret,
                         std::chrono::system_clock::time_point now) {
  return verify_token(token, jwt_policy{std::string(secret)}, now);
}

jwt_verdict verify_bearer(std::string_view authorization, std::string_view secret,
                          std::chrono::system_clock::time_point now) {
  return verify_bearer(authorization, jwt_policy{std::string(secret)}, now);
}

jwt_verdict verify_bearer(std::string_view authorization, const jwt_policy& policy,
                          std::chrono::system_clock::time_point now) {
  constexpr std::string_view k_scheme = "Bearer ";
  if (authorization.size() <= k_scheme.size())
    return {jwt_failure::missing, {}};
  // The scheme is case-insensitive (RFC 7235).
  for (std::size_t i = 0; i < k_scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(k_scheme[i])))
      return {jwt_failure::missing, {}};
  auto token = authorization.substr(k_scheme.size());
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  return verify_token(token, policy, now);
}

std::string mint_token(std::string_view subject, const jwt_policy& policy, std::chrono::seconds ttl,
                       std::chrono::system_clock::time_point now, std::string_view role) {
  auto iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  boost::json::object payload{{"sub", subject}, {"iat", iat}, {"exp", iat + ttl.count()}};
  if (!role.empty())
    payload["role"] = role;
  if (!policy.issuer.empty())
    payload["iss"] = policy.issuer;
  if (!policy.audience.empty())
    payload["aud"] = policy.audience;
  return sign_hs256(R"({"alg":"HS256","typ":"JWT"})", boost::json::serialize(payload),
                    policy.secret);
}

std::string mint_token(std::string_view subject, std::string_view secret, std::chrono::seconds ttl,
                       std::chrono::system_clock::time_point now) {
  return mint_token(subject, jwt_policy{std::string(secret)}, ttl, now);
}

std::string sign_hs256(std::string_view header_json, std::string_view payload_json,
                       std::string_view secret) {
  std::string signing_input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  return signing_input + "." + base64url_encode(hmac_sha256(secret, signing_input));
}

} // namespace sky::http
