// HTTP Digest authentication (RFC 7616 with MD5 and qop=auth, as the IoTaWatt uses it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iwx::iotawatt {

struct DigestChallenge {
  std::string realm;
  std::string nonce;
  std::string qop;  // "auth" or empty
  std::string opaque;
  std::string algorithm;  // empty or "MD5"
};

/// Parses a `WWW-Authenticate: Digest ...` value; nullopt when it is not a Digest challenge
/// or lacks realm or nonce.
std::optional<DigestChallenge> ParseDigestChallenge(std::string_view header);

/// A Digest session: the cached challenge and an increasing nonce count, so that one 401
/// round trip serves many requests.
class DigestSession {
 public:
  DigestSession(std::string username, std::string password)
      : username_(std::move(username)), password_(std::move(password)) {}

  /// Adopts a new challenge (after a 401) and restarts the nonce count.
  void Accept(DigestChallenge challenge);

  bool HasChallenge() const noexcept { return challenge_.has_value(); }

  /// The Authorization header value for the next request; increments the nonce count.
  /// `uri` is placed last because the device finds fields by substring search.
  std::string Authorize(std::string_view method, std::string_view uri);

  /// Overrides the client nonce generator (tests).
  void SetClientNonceForTest(std::string cnonce) { fixed_cnonce_ = std::move(cnonce); }

 private:
  std::string username_;
  std::string password_;
  std::optional<DigestChallenge> challenge_;
  uint32_t nonce_count_ = 0;
  std::string fixed_cnonce_;
};

}  // namespace iwx::iotawatt
