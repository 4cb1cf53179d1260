#include "iotawatt/digest.hpp"

#include <gtest/gtest.h>

#include "util/md5.hpp"

namespace iwx::iotawatt {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The example exchange of RFC 2617 section 3.5.
constexpr const char* kRfcChallenge =
    "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";

DigestSession RfcSession() {
  DigestSession session("Mufasa", "Circle Of Life");
  session.Accept(ParseDigestChallenge(kRfcChallenge).value());
  session.SetClientNonceForTest("0a4f113b");
  return session;
}

TEST(ParseDigestChallenge, device_challenge) {
  const auto challenge = ParseDigestChallenge(
      "Digest realm=\"IotaWatt\",qop=\"auth\",nonce=\"0123456789abcdef0123456789abcdef\"");

  ASSERT_TRUE(challenge.has_value());
  EXPECT_EQ(challenge->realm, "IotaWatt");
  EXPECT_EQ(challenge->qop, "auth");
  EXPECT_EQ(challenge->nonce, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(challenge->opaque, "");
  EXPECT_EQ(challenge->algorithm, "");
}

TEST(ParseDigestChallenge, rfc_challenge_reduces_qop_list_to_auth) {
  const auto challenge = ParseDigestChallenge(kRfcChallenge);

  ASSERT_TRUE(challenge.has_value());
  EXPECT_EQ(challenge->realm, "testrealm@host.com");
  EXPECT_EQ(challenge->qop, "auth");
  EXPECT_EQ(challenge->opaque, "5ccc069c403ebaf9f0171e9517f40e41");
}

TEST(ParseDigestChallenge, case_insensitive_names_unquoted_values_and_commas_in_quotes) {
  const auto challenge =
      ParseDigestChallenge("  DIGEST Realm=\"Home, garage\" ,NONCE=abc123 , Algorithm=md5");

  ASSERT_TRUE(challenge.has_value());
  EXPECT_EQ(challenge->realm, "Home, garage");
  EXPECT_EQ(challenge->nonce, "abc123");
  EXPECT_EQ(challenge->algorithm, "md5");
  EXPECT_EQ(challenge->qop, "");
}

TEST(ParseDigestChallenge, rejects_other_schemes_incomplete_and_broken_challenges) {
  EXPECT_FALSE(ParseDigestChallenge("Basic realm=\"IotaWatt\"").has_value());
  EXPECT_FALSE(ParseDigestChallenge("Digest realm=\"IotaWatt\"").has_value());
  EXPECT_FALSE(ParseDigestChallenge("Digest nonce=\"abc\"").has_value());
  EXPECT_FALSE(ParseDigestChallenge("Digest realm=\"unterminated, nonce=\"abc\"x").has_value());
  EXPECT_FALSE(ParseDigestChallenge("Digestrealm=\"a\",nonce=\"b\"").has_value());
  EXPECT_FALSE(ParseDigestChallenge("Digest realm=\"a\",nonce=\"b\",algorithm=SHA-256"));
  EXPECT_FALSE(ParseDigestChallenge("Digest stale, realm=\"a\",nonce=\"b\"").has_value());
  EXPECT_FALSE(ParseDigestChallenge("").has_value());
}

TEST(ParseDigestParams, reads_an_authorization_header) {
  const auto params = ParseDigestParams(
      "Digest username=\"a\\\"b\", nc=0000000a, response=\"ff\", uri=\"/query?select=%5Bx%5D\"");

  ASSERT_TRUE(params.has_value());
  EXPECT_EQ(params->at("username"), "a\"b");
  EXPECT_EQ(params->at("nc"), "0000000a");
  EXPECT_EQ(params->at("uri"), "/query?select=%5Bx%5D");
}

TEST(DigestSession, rfc_2617_example_response) {
  DigestSession session = RfcSession();

  const std::string header = session.Authorize("GET", "/dir/index.html");

  EXPECT_PRED2(Contains, header, "response=\"6629fae49393a05397450978507c4ef1\"");
  EXPECT_PRED2(Contains, header, "username=\"Mufasa\"");
  EXPECT_PRED2(Contains, header, "realm=\"testrealm@host.com\"");
  EXPECT_PRED2(Contains, header, "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\"");
  EXPECT_PRED2(Contains, header, "qop=auth, nc=00000001, cnonce=\"0a4f113b\"");
  EXPECT_PRED2(Contains, header, "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
  EXPECT_PRED2(EndsWith, header, ", uri=\"/dir/index.html\"");
}

TEST(DigestSession, uri_is_the_last_field_and_nonce_precedes_cnonce) {
  DigestSession session = RfcSession();

  const std::string header = session.Authorize("GET", "/status?stats");

  EXPECT_EQ(header.find("uri="), header.size() - std::string("uri=\"/status?stats\"").size());
  EXPECT_LT(header.find("nonce="), header.find("cnonce="));
}

TEST(DigestSession, nonce_count_increments_and_restarts_with_a_new_challenge) {
  DigestSession session = RfcSession();

  EXPECT_PRED2(Contains, session.Authorize("GET", "/a"), "nc=00000001");
  EXPECT_PRED2(Contains, session.Authorize("GET", "/a"), "nc=00000002");
  for (int i = 3; i <= 16; ++i) {
    session.Authorize("GET", "/a");
  }
  EXPECT_PRED2(Contains, session.Authorize("GET", "/a"), "nc=00000011");

  session.Accept(ParseDigestChallenge("Digest realm=\"r\",qop=\"auth\",nonce=\"n2\"").value());
  EXPECT_PRED2(Contains, session.Authorize("GET", "/a"), "nc=00000001");
}

TEST(DigestSession, without_qop_uses_the_rfc_2069_response) {
  DigestSession session("admin", "secret");
  session.Accept(ParseDigestChallenge("Digest realm=\"IotaWatt\", nonce=\"abc\"").value());

  const std::string header = session.Authorize("GET", "/status");

  const std::string ha1 = util::Md5Hex("admin:IotaWatt:secret");
  const std::string ha2 = util::Md5Hex("GET:/status");
  EXPECT_EQ(header, "Digest username=\"admin\", realm=\"IotaWatt\", nonce=\"abc\", response=\"" +
                        util::Md5Hex(ha1 + ":abc:" + ha2) + "\", uri=\"/status\"");
}

TEST(DigestSession, random_client_nonces_are_16_hex_digits) {
  DigestSession session("admin", "secret");
  session.Accept(ParseDigestChallenge("Digest realm=\"r\",qop=\"auth\",nonce=\"n\"").value());

  const auto cnonce = [&] {
    const auto params = ParseDigestParams(session.Authorize("GET", "/"));
    return params.value().at("cnonce");
  };
  const std::string first = cnonce();
  EXPECT_EQ(first.size(), 16u);
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), std::string::npos) << first;
  EXPECT_NE(first, cnonce());
}

TEST(DigestSession, authorize_before_a_challenge_is_a_logic_error) {
  DigestSession session("admin", "secret");

  EXPECT_FALSE(session.HasChallenge());
  EXPECT_THROW(session.Authorize("GET", "/"), std::logic_error);
}

}  // namespace
}  // namespace iwx::iotawatt
