#include "web/auth.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace iwx::web {
namespace {

// "Basic " + base64("alice:s3cret: with colon").
constexpr const char* kAliceHeader = "Basic YWxpY2U6czNjcmV0OiB3aXRoIGNvbG9u";

TEST(BasicAuth, parses_the_authorization_header) {
  const auto credentials = ParseBasicAuthorization(kAliceHeader);
  ASSERT_TRUE(credentials.has_value());
  EXPECT_EQ(credentials->first, "alice");
  EXPECT_EQ(credentials->second, "s3cret: with colon");

  EXPECT_EQ(ParseBasicAuthorization("basic YTpi")->second, "b");
  EXPECT_FALSE(ParseBasicAuthorization("").has_value());
  EXPECT_FALSE(ParseBasicAuthorization("Bearer YTpi").has_value());
  EXPECT_FALSE(ParseBasicAuthorization("Basic !!!").has_value());
  EXPECT_FALSE(ParseBasicAuthorization("Basic YWxpY2U=").has_value());  // "alice", no colon
}

TEST(BasicAuth, hashes_with_sha256) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(BasicAuth, verifies_bcrypt_hashes_and_remembers_successes) {
  const auto hash = testing::MakeBcryptHash("alice", "s3cret: with colon");
  if (!hash) {
    GTEST_SKIP() << "no way to make a bcrypt hash here (htpasswd, libcrypt)";
  }
  EXPECT_TRUE(VerifyBcrypt("s3cret: with colon", *hash));
  EXPECT_FALSE(VerifyBcrypt("wrong", *hash));
  EXPECT_FALSE(VerifyBcrypt("s3cret: with colon", "not a hash"));

  BasicAuthenticator auth({{"alice", *hash}});
  EXPECT_TRUE(auth.enabled());
  EXPECT_TRUE(auth.Allows(kAliceHeader));
  EXPECT_TRUE(auth.Allows(kAliceHeader));
  EXPECT_TRUE(auth.Allows(kAliceHeader));
  EXPECT_EQ(auth.verifications(), 1u);

  EXPECT_FALSE(auth.Allows(""));
  EXPECT_FALSE(auth.Allows("Basic YWxpY2U6d3Jvbmc="));  // alice:wrong
  EXPECT_FALSE(auth.Allows("Basic Ym9iOnMzY3JldA=="));  // bob:s3cret (unknown user)
  // Failures are verified each time, never remembered.
  EXPECT_FALSE(auth.Allows("Basic YWxpY2U6d3Jvbmc="));
  EXPECT_EQ(auth.verifications(), 3u);
}

TEST(BasicAuth, allows_everything_without_users) {
  BasicAuthenticator auth({});
  EXPECT_FALSE(auth.enabled());
  EXPECT_TRUE(auth.Allows(""));
}

}  // namespace
}  // namespace iwx::web
