// HTTP basic authentication against bcrypt hashes.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace iwx::web {

/// The realm announced in WWW-Authenticate.
inline constexpr const char* kAuthRealm = "iotawatt_exporter";

/// Whether `password` matches a bcrypt hash ($2a$, $2b$, $2y$), through libcrypt. Takes as
/// long as the hash's cost asks (about 50 ms at cost 10). Thread-safe.
bool VerifyBcrypt(const std::string& password, const std::string& hash);

/// User and password of an `Authorization: Basic ...` header value; nullopt when it is
/// not one (other scheme, bad base64, no colon).
std::optional<std::pair<std::string, std::string>> ParseBasicAuthorization(std::string_view header);

/// SHA-256 of `text` in lowercase hex.
std::string Sha256Hex(std::string_view text);

/// Checks credentials against configured users. A successful verification is remembered
/// per user, configured hash and SHA-256 of the presented password (never the password
/// itself), so that a scraper presenting the same credentials pays bcrypt's cost once.
/// Failures are not remembered. Thread-safe.
class BasicAuthenticator {
 public:
  /// `users`: name -> bcrypt hash. Empty: every request is allowed.
  explicit BasicAuthenticator(std::map<std::string, std::string> users);

  bool enabled() const noexcept { return !users_.empty(); }

  /// Whether the Authorization header value (empty when absent) names a configured user
  /// with the right password.
  bool Allows(std::string_view authorization);

  /// bcrypt verifications done so far (cache misses).
  size_t verifications() const;

 private:
  std::map<std::string, std::string> users_;
  mutable std::mutex mutex_;
  std::set<std::string> verified_;
  size_t verifications_ = 0;
};

}  // namespace iwx::web
