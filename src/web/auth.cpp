#include "web/auth.hpp"

#include <array>
#include <cstring>
#include <memory>

#include <crypt.h>
#include <openssl/evp.h>
#include <strings.h>

namespace iwx::web {

namespace {

// -1 for characters outside the standard base64 alphabet.
int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  while (!text.empty() && text.back() == '=') {
    text.remove_suffix(1);
  }
  std::string bytes;
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = Base64Value(c);
    if (value < 0) {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<unsigned>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return bytes;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return difference == 0;
}

// A hash no password is checked against in earnest: verifying an unknown user's password
// against it takes as long as for a known user, so response times do not tell which user
// names exist.
const std::string& DummyHash() {
  static const std::string hash = [] {
    std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> salt{};
    if (crypt_gensalt_rn("$2b$", 10, nullptr, 0, salt.data(), static_cast<int>(salt.size())) ==
        nullptr) {
      return std::string();
    }
    auto data = std::make_unique<crypt_data>();
    const char* result = crypt_r("not a password", salt.data(), data.get());
    return result == nullptr || result[0] == '*' ? std::string() : std::string(result);
  }();
  return hash;
}

}  // namespace

bool VerifyBcrypt(const std::string& password, const std::string& hash) {
  if (hash.size() < 7 || !hash.starts_with("$2")) {
    return false;
  }
  // crypt_data is large (tens of kilobytes): not for the stack of a server thread.
  auto data = std::make_unique<crypt_data>();
  const char* result = crypt_r(password.c_str(), hash.c_str(), data.get());
  // libxcrypt reports failures as NULL or as a string starting with '*'.
  if (result == nullptr || result[0] == '*') {
    return false;
  }
  return ConstantTimeEqual(result, hash);
}

std::optional<std::pair<std::string, std::string>> ParseBasicAuthorization(
    std::string_view header) {
  constexpr std::string_view kScheme = "Basic ";
  if (header.size() < kScheme.size() ||
      strncasecmp(header.data(), kScheme.data(), kScheme.size()) != 0) {
    return std::nullopt;
  }
  std::string_view encoded = header.substr(kScheme.size());
  while (!encoded.empty() && encoded.front() == ' ') {
    encoded.remove_prefix(1);
  }
  const auto decoded = DecodeBase64(encoded);
  if (!decoded) {
    return std::nullopt;
  }
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

std::string Sha256Hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0F];
  }
  return hex;
}

BasicAuthenticator::BasicAuthenticator(std::map<std::string, std::string> users)
    : users_(std::move(users)) {}

bool BasicAuthenticator::Allows(std::string_view authorization) {
  if (users_.empty()) {
    return true;
  }
  const auto credentials = ParseBasicAuthorization(authorization);
  if (!credentials) {
    return false;
  }
  const auto& [user, password] = *credentials;
  const auto found = users_.find(user);
  if (found == users_.end()) {
    VerifyBcrypt(password, DummyHash());
    return false;
  }

  // The user name and the hash are part of the key so that one password's digest never
  // unlocks another account.
  const std::string key = user + '\n' + found->second + '\n' + Sha256Hex(password);
  {
    const std::lock_guard lock(mutex_);
    if (verified_.count(key) != 0) {
      return true;
    }
    ++verifications_;
  }
  // Outside the lock: bcrypt is slow on purpose, and other users need not wait for it.
  if (!VerifyBcrypt(password, found->second)) {
    return false;
  }
  const std::lock_guard lock(mutex_);
  verified_.insert(key);
  return true;
}

size_t BasicAuthenticator::verifications() const {
  const std::lock_guard lock(mutex_);
  return verifications_;
}

}  // namespace iwx::web
