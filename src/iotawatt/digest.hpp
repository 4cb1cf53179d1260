// HTTP Digest authentication (RFC 7616 with MD5 and qop=auth, as the IoTaWatt uses it).
#pragma once

#include <cstdint>
#include <map>
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

/// The parameters of a `Digest name=value, name="quoted, value"` header (a challenge or an
/// Authorization value): names lower-cased, quotes and escapes removed. nullopt when the
/// scheme (case-insensitive) is not Digest or the syntax is broken.
std::optional<std::map<std::string, std::string>> ParseDigestParams(std::string_view header);

/// Parses a `WWW-Authenticate: Digest ...` value; nullopt when it is not a Digest challenge,
/// lacks realm or nonce, or names an algorithm other than MD5. A qop list is reduced to
/// "auth" when it offers it, else to empty.
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
  /// \throw std::logic_error before the first Accept().
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
