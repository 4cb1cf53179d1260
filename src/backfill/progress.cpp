#include "backfill/progress.hpp"

#include <algorithm>
#include <cstdio>

#include "log/log.hpp"

namespace iwx::backfill {

namespace {

const log::Logger kLog("backfill");

constexpr auto kBarInterval = std::chrono::milliseconds{200};
constexpr auto kLogInterval = std::chrono::seconds{5};
constexpr int kBarWidth = 30;

std::string FormatEta(double seconds) {
  const auto total = static_cast<int64_t>(seconds);
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%lld:%02lld:%02lld", static_cast<long long>(total / 3600),
                static_cast<long long>(total / 60 % 60), static_cast<long long>(total % 60));
  return buffer;
}

}  // namespace

Progress::Progress(std::vector<std::string> devices, std::vector<int64_t> total_minutes,
                   ProgressStyle style)
    : devices_(std::move(devices)),
      total_(std::move(total_minutes)),
      done_(devices_.size(), 0),
      style_(style) {}

void Progress::Advance(size_t device, int64_t minutes) {
  done_.at(device) = std::min(total_[device], done_[device] + minutes);
  Show(false);
}

void Progress::Finish() {
  Show(true);
}

std::string Progress::Line(size_t device, double elapsed_seconds) const {
  const double total = static_cast<double>(std::max<int64_t>(total_[device], 1));
  const double done = static_cast<double>(done_[device]);
  const double rate = elapsed_seconds > 0 ? done / elapsed_seconds : 0;
  const double eta = rate > 0 ? (total - done) / rate : 0;
  const int filled = static_cast<int>(kBarWidth * done / total);

  char buffer[256];
  std::snprintf(buffer, sizeof(buffer), "%-12s [%s%s] %5.1f%% %lld/%lld min %.0f min/s ETA %s",
                devices_[device].c_str(), std::string(filled, '#').c_str(),
                std::string(kBarWidth - filled, '.').c_str(), 100 * done / total,
                static_cast<long long>(done_[device]), static_cast<long long>(total_[device]), rate,
                FormatEta(eta).c_str());
  return buffer;
}

void Progress::Show(bool force) {
  const bool bars = style_ == ProgressStyle::kBars;
  const auto now = std::chrono::steady_clock::now();
  if (style_ == ProgressStyle::kSilent ||
      (!force && now - last_shown_ < (bars ? kBarInterval : kLogInterval))) {
    return;
  }
  last_shown_ = now;
  const double elapsed = std::chrono::duration<double>(now - started_).count();

  if (!bars) {
    for (size_t i = 0; i < devices_.size(); ++i) {
      const double total = static_cast<double>(std::max<int64_t>(total_[i], 1));
      const double rate = elapsed > 0 ? static_cast<double>(done_[i]) / elapsed : 0;
      kLog.Info("progress",
                {{"device", devices_[i]},
                 {"percent", 100 * static_cast<double>(done_[i]) / total},
                 {"minutes_done", done_[i]},
                 {"minutes_total", total_[i]},
                 {"minutes_per_second", rate},
                 {"eta_seconds", rate > 0 ? (total - static_cast<double>(done_[i])) / rate : 0}});
    }
    return;
  }

  // Move the cursor back over the bars drawn last time, then redraw them.
  std::string text = drawn_ ? "\x1b[" + std::to_string(devices_.size()) + "F" : "";
  for (size_t i = 0; i < devices_.size(); ++i) {
    text += "\x1b[2K" + Line(i, elapsed) + "\n";
  }
  std::fputs(text.c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace iwx::backfill
