// JWT: the valid case and every way a token must be refused.
#include "http/jwt.hpp"

#include <gtest/gtest.h>

using namespace sky::http;
using namespace std::chrono;

namespace {

const std::string k_secret = "0123456789abcdef0123456789abcdef";
const std::string k_sub = "6f1c2a4e-6b7a-4c53-9a0e-2f2d3c4b5a69";

long long epoch_in(seconds d) {
  return duration_cast<seconds>((system_clock::now() + d).time_since_epoch()).count();
}

std::string hs256(const std::string& payload) {
  return sign_hs256(R"({"alg":"HS256","typ":"JWT"})", payload, k_secret);
}

} // namespace

TEST(jwt, minted_token_verifies) {
  auto token = mint_token(k_sub, k_secret, hours(1));
  auto v = verify_bearer("Bearer " + token, k_secret);
  ASSERT_TRUE(v.ok()) << to_string(v.failure);
  EXPECT_EQ(v.subject, k_sub);
  EXPECT_TRUE(verify_bearer("bearer " + token, k_secret).ok());
}

TEST(jwt, missing_or_not_bearer) {
  EXPECT_EQ(verify_bearer("", k_secret).failure, jwt_failure::missing);
  EXPECT_EQ(verify_bearer("Bearer ", k_secret).failure, jwt_failure::missing);
  EXPECT_EQ(verify_bearer("Basic dXNlcjpwYXNz", k_secret).failure, jwt_failure::missing);
}

TEST(jwt, malformed_tokens) {
  EXPECT_EQ(verify_token("abc", k_secret).failure, jwt_failure::malformed);
  EXPECT_EQ(verify_token("a.b", k_secret).failure, jwt_failure::malformed);
  EXPECT_EQ(verify_token("a.b.c.d", k_secret).failure, jwt_failure::malformed);
  EXPECT_EQ(verify_token("!!.??.**", k_secret).failure, jwt_failure::malformed);
  auto not_json = base64url_encode("not json") + "." + base64url_encode("{}") + ".sig";
  EXPECT_EQ(verify_token(not_json, k_secret).failure, jwt_failure::malformed);
  auto token = mint_token(k_sub, k_secret, hours(1));
  EXPECT_EQ(verify_token(token + "*", k_secret).failure, jwt_failure::malformed);
}

TEST(jwt, alg_none_and_other_algorithms_are_refused) {
  auto payload = base64url_encode(R"({"sub":"u","exp":99999999999})");
  auto none = base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + payload + ".";
  EXPECT_EQ(verify_token(none, k_secret).failure, jwt_failure::unsupported_alg);
  auto none_upper = base64url_encode(R"({"alg":"NONE"})") + "." + payload + ".";
  EXPECT_EQ(verify_token(none_upper, k_secret).failure, jwt_failure::unsupported_alg);
  auto rs = base64url_encode(R"({"alg":"RS256"})") + "." + payload + ".c2ln";
  EXPECT_EQ(verify_token(rs, k_secret).failure, jwt_failure::unsupported_alg);
  auto hs512 = base64url_encode(R"({"alg":"HS512"})") + "." + payload + ".c2ln";
  EXPECT_EQ(verify_token(hs512, k_secret).failure, jwt_failure::unsupported_alg);
  auto no_alg = base64url_encode(R"({"typ":"JWT"})") + "." + payload + ".c2ln";
  EXPECT_EQ(verify_token(no_alg, k_secret).failure, jwt_failure::unsupported_alg);
}

TEST(jwt, wrong_secret_or_tampered_payload_fails_the_signature) {
  auto token = mint_token(k_sub, k_secret, hours(1));
  EXPECT_EQ(verify_token(token, "another-secret-another-secret-0000").failure,
            jwt_failure::bad_signature);
  auto dot1 = token.find('.');
  auto dot2 = token.find('.', dot1 + 1);
  auto forged_payload = base64url_encode(R"({"sub":"admin","exp":99999999999})");
  auto forged = token.substr(0, dot1 + 1) + forged_payload + token.substr(dot2);
  EXPECT_EQ(verify_token(forged, k_secret).failure, jwt_failure::bad_signature);
  // A truncated signature must not pass a prefix comparison: cut to 40 characters (30 whole
  // bytes, canonical), it is a well-formed signature of the wrong length.
  EXPECT_EQ(verify_token(token.substr(0, dot2 + 1 + 40), k_secret).failure,
            jwt_failure::bad_signature);
}

TEST(jwt, expired_and_not_yet_valid) {
  auto issued = system_clock::now() - hours(2);
  auto expired = mint_token(k_sub, k_secret, hours(1), issued);
  EXPECT_EQ(verify_token(expired, k_secret).failure, jwt_failure::expired);
  // Valid at issue time, expired one second after its exp.
  auto token = mint_token(k_sub, k_secret, seconds(10));
  EXPECT_TRUE(verify_token(token, k_secret).ok());
  EXPECT_EQ(verify_token(token, k_secret, system_clock::now() + seconds(11)).failure,
            jwt_failure::expired);
}

TEST(jwt, signed_tokens_with_bad_claims) {
  auto exp = std::to_string(epoch_in(hours(1)));
  EXPECT_TRUE(verify_token(hs256(R"({"sub":"u","exp":)" + exp + "}"), k_secret).ok());
  EXPECT_EQ(verify_token(hs256(R"({"sub":"u"})"), k_secret).failure, jwt_failure::malformed);
  EXPECT_EQ(verify_token(hs256(R"({"sub":"u","exp":"soon"})"), k_secret).failure,
            jwt_failure::malformed);
  EXPECT_EQ(verify_token(hs256(R"({"exp":)" + exp + "}"), k_secret).failure,
            jwt_failure::missing_subject);
  EXPECT_EQ(verify_token(hs256(R"({"sub":"","exp":)" + exp + "}"), k_secret).failure,
            jwt_failure::missing_subject);
  EXPECT_EQ(verify_token(hs256(R"({"sub":42,"exp":)" + exp + "}"), k_secret).failure,
            jwt_failure::missing_subject);
  auto nbf = std::to_string(epoch_in(minutes(10)));
  EXPECT_EQ(verify_token(hs256(R"({"sub":"u","exp":)" + exp + R"(,"nbf":)" + nbf + "}"), k_secret)
                .failure,
            jwt_failure::not_yet_valid);
  // A token signed with HS256 whose header claims "none" is still refused.
  auto lying = sign_hs256(R"({"alg":"none"})", R"({"sub":"u","exp":)" + exp + "}", k_secret);
  EXPECT_EQ(verify_token(lying, k_secret).failure, jwt_failure::unsupported_alg);
  // Payload that is JSON but not an object.
  EXPECT_EQ(verify_token(hs256("[1,2]"), k_secret).failure, jwt_failure::malformed);
}

TEST(jwt, base64url_round_trip) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00\x01"}) {
    std::string out;
    ASSERT_TRUE(base64url_decode(base64url_encode(s), out));
    EXPECT_EQ(out, s);
  }
  std::string out;
  EXPECT_FALSE(base64url_decode("a+b/", out));  // standard alphabet is not base64url
  EXPECT_FALSE(base64url_decode("abcde", out)); // impossible length
}

TEST(jwt, policy_checks_issuer_and_audience) {
  jwt_policy policy{k_secret, "https://auth.scrapersky.test", "scrapersky-api"};
  auto payload = [&](const std::string& extra) {
    return R"({"sub":")" + k_sub + R"(","exp":)" + std::to_string(epoch_in(minutes(5))) + extra +
           "}";
  };
  auto verdict = [&](const std::string& extra) {
    return verify_token(hs256(payload(extra)), policy).failure;
  };
  EXPECT_EQ(verdict(R"(,"iss":"https://auth.scrapersky.test","aud":"scrapersky-api")"),
            jwt_failure::none);
  EXPECT_EQ(verdict(R"(,"iss":"https://auth.scrapersky.test","aud":["other","scrapersky-api"])"),
            jwt_failure::none);
  EXPECT_EQ(verdict(R"(,"aud":"scrapersky-api")"), jwt_failure::wrong_issuer);
  EXPECT_EQ(verdict(R"(,"iss":"https://evil.test","aud":"scrapersky-api")"),
            jwt_failure::wrong_issuer);
  EXPECT_EQ(verdict(R"(,"iss":"https://auth.scrapersky.test")"), jwt_failure::wrong_audience);
  EXPECT_EQ(verdict(R"(,"iss":"https://auth.scrapersky.test","aud":["other"])"),
            jwt_failure::wrong_audience);
  EXPECT_EQ(verdict(R"(,"iss":"https://auth.scrapersky.test","aud":7)"),
            jwt_failure::wrong_audience);
  // Minted tokens carry what the policy asks for.
  EXPECT_TRUE(verify_token(mint_token(k_sub, policy, minutes(5)), policy).ok());
  // Without an issuer or audience configured, the claims are not required.
  EXPECT_TRUE(verify_token(hs256(payload("")), jwt_policy{k_secret}).ok());
}

TEST(jwt, leeway_tolerates_small_clock_skew_only) {
  jwt_policy policy{k_secret, "", "", seconds(30)};
  auto with_exp = [&](seconds from_now) {
    return hs256(R"({"sub":")" + k_sub + R"(","exp":)" + std::to_string(epoch_in(from_now)) + "}");
  };
  EXPECT_TRUE(verify_token(with_exp(seconds(-10)), policy).ok());
  EXPECT_EQ(verify_token(with_exp(seconds(-60)), policy).failure, jwt_failure::expired);
  EXPECT_EQ(verify_token(with_exp(seconds(-10)), k_secret).failure, jwt_failure::expired);
  auto not_before = [&](seconds from_now) {
    return hs256(R"({"sub":")" + k_sub + R"(","exp":)" + std::to_string(epoch_in(hours(1))) +
                 R"(,"nbf":)" + std::to_string(epoch_in(from_now)) + "}");
  };
  EXPECT_TRUE(verify_token(not_before(seconds(10)), policy).ok());
  EXPECT_EQ(verify_token(not_before(seconds(120)), policy).failure, jwt_failure::not_yet_valid);
}

TEST(jwt, maximum_lifetime_refuses_long_lived_tokens) {
  jwt_policy policy{k_secret, "", "", seconds(0), hours(24)};
  EXPECT_TRUE(verify_token(mint_token(k_sub, policy, hours(24)), policy).ok());
  EXPECT_EQ(verify_token(mint_token(k_sub, policy, hours(25)), policy).failure,
            jwt_failure::lifetime_too_long);
  // Without iat, the lifetime left counts.
  auto no_iat = hs256(R"({"sub":")" + k_sub + R"(","exp":)" +
                      std::to_string(epoch_in(hours(24 * 365))) + "}");
  EXPECT_EQ(verify_token(no_iat, policy).failure, jwt_failure::lifetime_too_long);
  // An iat far in the past does not launder a long lifetime.
  auto old_iat =
      hs256(R"({"sub":")" + k_sub + R"(","iat":)" + std::to_string(epoch_in(-hours(24 * 300))) +
            R"(,"exp":)" + std::to_string(epoch_in(hours(1))) + "}");
  EXPECT_EQ(verify_token(old_iat, policy).failure, jwt_failure::lifetime_too_long);
  EXPECT_TRUE(verify_token(no_iat, jwt_policy{k_secret}).ok());
}

TEST(jwt, a_token_issued_in_the_future_is_refused_and_cannot_stretch_its_lifetime) {
  jwt_policy policy{k_secret, "", "", seconds(30), hours(24)};
  auto issued = [&](seconds iat_from_now, seconds exp_from_now) {
    return hs256(R"({"sub":")" + k_sub + R"(","iat":)" + std::to_string(epoch_in(iat_from_now)) +
                 R"(,"exp":)" + std::to_string(epoch_in(exp_from_now)) + "}");
  };
  // iat a year ahead, exp a day after it: exp - iat is within the maximum, but it is not.
  EXPECT_EQ(verify_token(issued(hours(24 * 365), hours(24 * 366)), policy).failure,
            jwt_failure::issued_in_future);
  EXPECT_EQ(verify_token(issued(hours(1), hours(2)), jwt_policy{k_secret}).failure,
            jwt_failure::issued_in_future);
  // Within the leeway, a clock a little ahead is tolerated, and the lifetime counts from now.
  EXPECT_TRUE(verify_token(issued(seconds(20), hours(23)), policy).ok());
  EXPECT_EQ(verify_token(issued(seconds(20), hours(25)), policy).failure,
            jwt_failure::lifetime_too_long);
}

TEST(jwt, non_canonical_base64_and_duplicate_keys_are_malformed) {
  auto token = mint_token(k_sub, jwt_policy{k_secret}, minutes(5));
  ASSERT_TRUE(verify_token(token, k_secret).ok());
  // The last character of a 43-character signature carries 2 unused bits: set them.
  auto tweaked = token;
  char& last = tweaked.back();
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  auto value = alphabet.find(last);
  ASSERT_EQ(value % 4, 0u) << "a canonical signature ends on a multiple of 4";
  last = alphabet[value + 1];
  EXPECT_EQ(verify_token(tweaked, k_secret).failure, jwt_failure::malformed);
  EXPECT_EQ(verify_token(token + "=", k_secret).failure, jwt_failure::malformed);
  std::string out;
  EXPECT_FALSE(base64url_decode("QQ==", out));
  EXPECT_FALSE(base64url_decode("QR", out)); // 'R' leaves non-zero bits past the byte
  EXPECT_TRUE(base64url_decode("QQ", out));
  EXPECT_EQ(out, "A");
  // Two "alg" (or two "sub") keys: whichever a library reads, the token is refused.
  auto sign = [&](const std::string& header, const std::string& payload_json) {
    return sign_hs256(header, payload_json, k_secret);
  };
  const auto claims =
      R"({"sub":")" + k_sub + R"(","exp":)" + std::to_string(epoch_in(hours(1))) + "}";
  EXPECT_TRUE(verify_token(sign(R"({"alg":"HS256","typ":"JWT"})", claims), k_secret).ok());
  EXPECT_EQ(verify_token(sign(R"({"alg":"HS256","alg":"HS256"})", claims), k_secret).failure,
            jwt_failure::malformed);
  EXPECT_EQ(verify_token(sign(R"({"alg":"none","alg":"HS256"})", claims), k_secret).failure,
            jwt_failure::malformed);
  EXPECT_EQ(verify_token(sign(R"({"alg":"HS256"})", R"({"sub":"a","sub":"b","exp":)" +
                                                        std::to_string(epoch_in(hours(1))) + "}"),
                         k_secret)
                .failure,
            jwt_failure::malformed);
}
