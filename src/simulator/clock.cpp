#include <atomic>
#include <mutex>

#include "simulator/simulator.hpp"

namespace iwx::sim {

namespace {

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The system clock plus an offset that Set() adjusts.
class RealClock final : public Clock {
 public:
  int64_t NowMs() const override { return SystemNowMs() + offset_ms_.load(); }
  void Set(int64_t unix_ms) override { offset_ms_.store(unix_ms - SystemNowMs()); }

 private:
  std::atomic<int64_t> offset_ms_{0};
};

class FixedClock final : public Clock {
 public:
  explicit FixedClock(int64_t start_ms) : now_ms_(start_ms) {}
  int64_t NowMs() const override { return now_ms_.load(); }
  void Set(int64_t unix_ms) override { now_ms_.store(unix_ms); }

 private:
  std::atomic<int64_t> now_ms_;
};

// Simulated time = anchor + factor × (system time since the anchor was taken).
class AcceleratedClock final : public Clock {
 public:
  AcceleratedClock(int64_t start_ms, double factor)
      : factor_(factor), anchor_ms_(start_ms), anchor_system_ms_(SystemNowMs()) {}

  int64_t NowMs() const override {
    std::lock_guard lock(mutex_);
    const auto elapsed = static_cast<double>(SystemNowMs() - anchor_system_ms_);
    return anchor_ms_ + static_cast<int64_t>(elapsed * factor_);
  }

  void Set(int64_t unix_ms) override {
    std::lock_guard lock(mutex_);
    anchor_ms_ = unix_ms;
    anchor_system_ms_ = SystemNowMs();
  }

 private:
  const double factor_;
  mutable std::mutex mutex_;
  int64_t anchor_ms_;
  int64_t anchor_system_ms_;
};

}  // namespace

std::shared_ptr<Clock> Clock::Real() {
  return std::make_shared<RealClock>();
}

std::shared_ptr<Clock> Clock::Fixed(int64_t start_unix_ms) {
  return std::make_shared<FixedClock>(start_unix_ms);
}

std::shared_ptr<Clock> Clock::Accelerated(int64_t start_unix_ms, double factor) {
  return std::make_shared<AcceleratedClock>(start_unix_ms, factor);
}

}  // namespace iwx::sim
