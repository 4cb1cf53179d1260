// HTTP Digest authentication as the firmware implements it: one session per challenge,
// replay protection by nonce count, sessions that expire after 600 s without use.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace iwx::sim {

class DigestAuth {
 public:
  using TimeSource = std::function<std::chrono::steady_clock::time_point()>;

  /// realm: the device name. user_password: the `user` account; empty disables auth.
  /// now: the wall time that session expiry follows (replaceable for tests).
  DigestAuth(
      std::string realm, std::string user_password,
      TimeSource now = [] { return std::chrono::steady_clock::now(); });

  bool enabled() const noexcept { return !user_password_.empty(); }

  /// Whether an Authorization header authenticates `method` (wall-clock expiry). Thread-safe.
  bool Verify(const std::string& method, const std::string& authorization);

  /// Opens a new session and returns the WWW-Authenticate header value. Thread-safe.
  std::string Challenge();

  static constexpr std::chrono::seconds kSessionIdle{600};

 private:
  struct Session {
    std::chrono::steady_clock::time_point last_used;
    std::deque<uint64_t> recent_counts;  // the last four nc values, oldest first
  };

  void ExpireSessions(std::chrono::steady_clock::time_point now);

  std::string realm_;
  std::string user_password_;
  TimeSource now_;
  std::mutex mutex_;
  std::map<std::string, Session> sessions_;
  uint64_t nonce_counter_ = 0;
};

}  // namespace iwx::sim
