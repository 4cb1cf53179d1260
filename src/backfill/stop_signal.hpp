// A stop request shared between the thread that receives SIGTERM/SIGINT and the backfill.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>

namespace iwx::backfill {

/// Thrown when a wait ends because a stop was requested.
class Interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Thread-safe: any thread may call Stop(); sleepers wake at once.
class StopSignal {
 public:
  void Stop() {
    {
      const std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    wake_.notify_all();
  }

  bool stopped() const {
    const std::lock_guard lock(mutex_);
    return stopped_;
  }

  /// Sleeps for `duration`; returns false (early) when a stop is requested.
  bool SleepFor(std::chrono::milliseconds duration) const {
    std::unique_lock lock(mutex_);
    return !wake_.wait_for(lock, duration, [this] { return stopped_; });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable wake_;
  bool stopped_ = false;
};

}  // namespace iwx::backfill
