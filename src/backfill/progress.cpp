#include "backfill/progress.hpp"

#include <algorithm>
#include <cmath>
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
      skipped_(devices_.size(), 0),
      style_(style) {}

void Progress::Advance(size_t device, int64_t minutes) {
  done_.at(device) = std::min(total_[device], done_[device] + minutes);
  Show(false);
}

void Progress::Skip(size_t device, int64_t minutes) {
  const int64_t before = done_.at(device);
  done_[device] = std::min(total_[device], before + minutes);
  skipped_[device] += done_[device] - before;
  Show(false);
}

void Progress::Finish() {
  Show(true);
}

Progress::Figures Progress::FiguresOf(size_t device, double elapsed_seconds) const {
  const double total = static_cast<double>(std::max<int64_t>(total_[device], 1));
  const double done = static_cast<double>(done_[device]);
  const double read = static_cast<double>(done_[device] - skipped_[device]);

  Figures figures;
  figures.percent = 100 * done / total;
  figures.minutes_per_second = elapsed_seconds > 0 ? read / elapsed_seconds : 0;
  figures.eta_seconds =
      figures.minutes_per_second > 0 ? (total - done) / figures.minutes_per_second : 0;
  return figures;
}

std::string Progress::Bar(size_t device, double elapsed_seconds) const {
  const Figures figures = FiguresOf(device, elapsed_seconds);
  const int filled = static_cast<int>(kBarWidth * figures.percent / 100);

  char buffer[256];
  std::snprintf(buffer, sizeof(buffer), "%-12s [%s%s] %5.1f%% %lld/%lld min %.0f min/s ETA %s",
                devices_[device].c_str(), std::string(filled, '#').c_str(),
                std::string(kBarWidth - filled, '.').c_str(), figures.percent,
                static_cast<long long>(done_[device]), static_cast<long long>(total_[device]),
                figures.minutes_per_second, FormatEta(figures.eta_seconds).c_str());
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
  if (bars) {
    DrawBars(elapsed);
  } else {
    LogLines(elapsed);
  }
}

void Progress::LogLines(double elapsed_seconds) const {
  for (size_t i = 0; i < devices_.size(); ++i) {
    const Figures figures = FiguresOf(i, elapsed_seconds);
    kLog.Info("progress", {{"device", devices_[i]},
                           {"percent", std::round(figures.percent * 10) / 10},
                           {"minutes_done", done_[i]},
                           {"minutes_total", total_[i]},
                           {"minutes_per_second", std::llround(figures.minutes_per_second)},
                           {"eta_seconds", std::llround(figures.eta_seconds)}});
  }
}

void Progress::DrawBars(double elapsed_seconds) {
  // Move the cursor back over the bars drawn last time, then redraw them.
  std::string text = drawn_ ? "\x1b[" + std::to_string(devices_.size()) + "F" : "";
  for (size_t i = 0; i < devices_.size(); ++i) {
    text += "\x1b[2K" + Bar(i, elapsed_seconds) + "\n";
  }
  std::fputs(text.c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace iwx::backfill
