#include "simulator/digest_auth.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <random>

#include "util/md5.hpp"

namespace iwx::sim {

namespace {

// Finds `name=` at the start of the header's parameter list or after a separator, and
// returns the value with any quotes removed.
std::optional<std::string> Field(const std::string& header, const std::string& name) {
  size_t from = 0;
  while (true) {
    const size_t found = header.find(name + "=", from);
    if (found == std::string::npos) {
      return std::nullopt;
    }
    from = found + 1;
    const char before = found == 0 ? ' ' : header[found - 1];
    if (before != ' ' && before != ',' && before != '\t') {
      continue;
    }
    size_t begin = found + name.size() + 1;
    if (begin < header.size() && header[begin] == '"') {
      const size_t close = header.find('"', begin + 1);
      if (close == std::string::npos) {
        return std::nullopt;
      }
      return header.substr(begin + 1, close - begin - 1);
    }
    const size_t end = header.find_first_of(", ", begin);
    return header.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  }
}

std::optional<uint64_t> ParseHex(const std::string& text) {
  if (text.empty() || text.size() > 16 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return std::isxdigit(c) != 0; })) {
    return std::nullopt;
  }
  return std::stoull(text, nullptr, 16);
}

}  // namespace

DigestAuth::DigestAuth(std::string realm, std::string user_password, TimeSource now)
    : realm_(std::move(realm)), user_password_(std::move(user_password)), now_(std::move(now)) {}

std::string DigestAuth::Challenge() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  std::lock_guard lock(mutex_);
  char nonce[33];
  std::snprintf(nonce, sizeof nonce, "%016llx%016llx", static_cast<unsigned long long>(random()),
                static_cast<unsigned long long>(random() ^ ++nonce_counter_));
  sessions_[nonce] = Session{now_(), {}};
  return "Digest realm=\"" + realm_ + "\",qop=\"auth\",nonce=\"" + nonce + "\"";
}

void DigestAuth::ExpireSessions(std::chrono::steady_clock::time_point now) {
  std::erase_if(sessions_,
                [now](const auto& entry) { return now - entry.second.last_used > kSessionIdle; });
}

bool DigestAuth::Verify(const std::string& method, const std::string& authorization) {
  if (authorization.rfind("Digest ", 0) != 0) {
    return false;
  }
  const auto username = Field(authorization, "username");
  const auto realm = Field(authorization, "realm");
  const auto nonce = Field(authorization, "nonce");
  const auto uri = Field(authorization, "uri");
  const auto response = Field(authorization, "response");
  const auto qop = Field(authorization, "qop");
  const auto cnonce = Field(authorization, "cnonce");
  const auto nc = Field(authorization, "nc");
  if (!username || !realm || !nonce || !uri || !response || !cnonce) {
    return false;
  }
  // Only the read-only account exists here; any other name would need the admin hash.
  if (*username != "user") {
    return false;
  }

  const std::string ha1 = util::Md5Hex("user:" + realm_ + ":" + user_password_);
  const std::string ha2 = util::Md5Hex(method + ":" + *uri);
  const std::string expected = qop ? util::Md5Hex(ha1 + ":" + *nonce + ":" + nc.value_or("") + ":" +
                                                  *cnonce + ":" + *qop + ":" + ha2)
                                   : util::Md5Hex(ha1 + ":" + *nonce + ":" + ha2);
  if (expected != *response) {
    return false;
  }

  std::lock_guard lock(mutex_);
  const auto now = now_();
  ExpireSessions(now);
  const auto session = sessions_.find(*nonce);
  if (session == sessions_.end()) {
    return false;
  }
  // Modest reordering is fine, replays are not: the count must beat the oldest of the
  // last four and repeat none of them.
  std::deque<uint64_t>& recent = session->second.recent_counts;
  if (qop) {
    const std::optional<uint64_t> count = nc ? ParseHex(*nc) : std::nullopt;
    if (!count) {
      return false;
    }
    const bool beats_oldest = recent.empty() || *count > recent.front();
    const bool repeated = std::find(recent.begin(), recent.end(), *count) != recent.end();
    if (!beats_oldest || repeated || *count == 0) {
      return false;
    }
    recent.push_back(*count);
    if (recent.size() > 4) {
      recent.pop_front();
    }
  }
  session->second.last_used = now;
  return true;
}

}  // namespace iwx::sim
