#include "iotawatt/digest.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "util/md5.hpp"

namespace iwx::iotawatt {
namespace {

constexpr std::string_view kScheme = "digest";

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Reads one auth-param (`name=value` or `name="quoted value"`) starting at `pos` and moves
// `pos` past it. False on broken syntax, including a name without a value.
bool ReadParam(std::string_view text, size_t& pos, std::string& name, std::string& value) {
  const size_t equals = text.find('=', pos);
  if (equals == std::string_view::npos) {
    return false;
  }
  std::string_view raw_name = text.substr(pos, equals - pos);
  while (!raw_name.empty() && IsSpace(raw_name.back())) {
    raw_name.remove_suffix(1);
  }
  if (raw_name.empty() || raw_name.find_first_of(" \t,\"") != std::string_view::npos) {
    return false;
  }
  name = Lower(raw_name);
  pos = equals + 1;
  while (pos < text.size() && IsSpace(text[pos])) {
    ++pos;
  }

  value.clear();
  if (pos < text.size() && text[pos] == '"') {
    // Quoted string: commas inside are data; a backslash escapes the next character.
    for (++pos; pos < text.size() && text[pos] != '"'; ++pos) {
      if (text[pos] == '\\' && pos + 1 < text.size()) {
        ++pos;
      }
      value += text[pos];
    }
    if (pos >= text.size()) {
      return false;
    }
    ++pos;
  } else {
    while (pos < text.size() && text[pos] != ',' && !IsSpace(text[pos])) {
      value += text[pos++];
    }
  }
  return true;
}

// qop may list several options ("auth,auth-int"); only auth is supported.
std::string ChooseQop(std::string_view offered) {
  size_t start = 0;
  while (start <= offered.size()) {
    const size_t comma = std::min(offered.find(',', start), offered.size());
    std::string_view option = offered.substr(start, comma - start);
    while (!option.empty() && IsSpace(option.front())) {
      option.remove_prefix(1);
    }
    while (!option.empty() && IsSpace(option.back())) {
      option.remove_suffix(1);
    }
    if (Lower(option) == "auth") {
      return "auth";
    }
    start = comma + 1;
  }
  return {};
}

std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + '"';
}

std::string RandomClientNonce() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(generator()));
  return buffer;
}

std::string NonceCount(uint32_t count) {
  char buffer[9];
  std::snprintf(buffer, sizeof(buffer), "%08x", count);
  return buffer;
}

}  // namespace

std::optional<std::map<std::string, std::string>> ParseDigestParams(std::string_view header) {
  size_t pos = 0;
  while (pos < header.size() && IsSpace(header[pos])) {
    ++pos;
  }
  const std::string_view scheme = header.substr(pos, kScheme.size());
  const size_t after = pos + kScheme.size();
  if (Lower(scheme) != kScheme || after >= header.size() || !IsSpace(header[after])) {
    return std::nullopt;
  }

  std::map<std::string, std::string> params;
  pos = after;
  while (true) {
    while (pos < header.size() && (IsSpace(header[pos]) || header[pos] == ',')) {
      ++pos;
    }
    if (pos >= header.size()) {
      return params;
    }
    std::string name;
    std::string value;
    if (!ReadParam(header, pos, name, value)) {
      return std::nullopt;
    }
    params[name] = value;
  }
}

std::optional<DigestChallenge> ParseDigestChallenge(std::string_view header) {
  const auto params = ParseDigestParams(header);
  if (!params || !params->contains("realm") || !params->contains("nonce")) {
    return std::nullopt;
  }
  DigestChallenge challenge;
  challenge.realm = params->at("realm");
  challenge.nonce = params->at("nonce");
  if (params->contains("qop")) {
    challenge.qop = ChooseQop(params->at("qop"));
  }
  if (params->contains("opaque")) {
    challenge.opaque = params->at("opaque");
  }
  if (params->contains("algorithm")) {
    challenge.algorithm = params->at("algorithm");
    if (Lower(challenge.algorithm) != "md5") {
      return std::nullopt;
    }
  }
  return challenge;
}

void DigestSession::Accept(DigestChallenge challenge) {
  challenge_ = std::move(challenge);
  nonce_count_ = 0;
}

std::string DigestSession::Authorize(std::string_view method, std::string_view uri) {
  if (!challenge_) {
    throw std::logic_error("Digest Authorize called before a challenge was accepted");
  }
  const DigestChallenge& challenge = *challenge_;
  const std::string ha1 = util::Md5Hex(username_ + ":" + challenge.realm + ":" + password_);
  const std::string ha2 = util::Md5Hex(std::string(method) + ":" + std::string(uri));

  // Field order matters to the device, which finds each field by a substring search:
  // nonce precedes cnonce (so "nonce=" is found in the right place) and uri, the only
  // value a client does not control the alphabet of, comes last.
  std::string header = "Digest username=" + Quote(username_) + ", realm=" + Quote(challenge.realm) +
                       ", nonce=" + Quote(challenge.nonce);
  if (challenge.qop.empty()) {
    header += ", response=\"" + util::Md5Hex(ha1 + ":" + challenge.nonce + ":" + ha2) + "\"";
  } else {
    const std::string nc = NonceCount(++nonce_count_);
    const std::string cnonce = fixed_cnonce_.empty() ? RandomClientNonce() : fixed_cnonce_;
    const std::string response =
        util::Md5Hex(ha1 + ":" + challenge.nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2);
    header += ", qop=auth, nc=" + nc + ", cnonce=\"" + cnonce + "\", response=\"" + response + "\"";
  }
  if (!challenge.opaque.empty()) {
    header += ", opaque=" + Quote(challenge.opaque);
  }
  if (!challenge.algorithm.empty()) {
    header += ", algorithm=" + challenge.algorithm;
  }
  return header + ", uri=" + Quote(uri);
}

}  // namespace iwx::iotawatt
