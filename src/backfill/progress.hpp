// Progress of a backfill on stderr: one bar per device on a terminal, otherwise a log
// line every few seconds, or nothing (the rounds of --follow).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace iwx::backfill {

enum class ProgressStyle { kBars, kLogLines, kSilent };

/// Not thread-safe; driven by the backfill's one thread.
class Progress {
 public:
  Progress(std::vector<std::string> devices, std::vector<int64_t> total_minutes,
           ProgressStyle style);

  /// Adds minutes read for device i (an index into the constructor's lists).
  void Advance(size_t device, int64_t minutes);
  /// Adds minutes of device i that need no reading (VictoriaMetrics holds them): they
  /// count as done but not towards the rate, so that the ETA of a resumed run holds.
  void Skip(size_t device, int64_t minutes);
  /// Draws the final state (bars end with a line break).
  void Finish();

 private:
  struct Figures {
    double percent = 0;
    double minutes_per_second = 0;
    double eta_seconds = 0;
  };

  Figures FiguresOf(size_t device, double elapsed_seconds) const;
  void Show(bool force);
  void LogLines(double elapsed_seconds) const;
  void DrawBars(double elapsed_seconds);
  std::string Bar(size_t device, double elapsed_seconds) const;

  std::vector<std::string> devices_;
  std::vector<int64_t> total_;
  std::vector<int64_t> done_;
  std::vector<int64_t> skipped_;
  ProgressStyle style_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_shown_ = started_;
};

}  // namespace iwx::backfill
