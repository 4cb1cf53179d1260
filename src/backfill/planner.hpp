// Pure arithmetic of a backfill: times, ranges, windows, gaps, pacing and retry delays.
// No I/O; every function is safe to call from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace iwx::backfill {

inline constexpr int64_t kMinuteSeconds = 60;
inline constexpr int64_t kDaySeconds = 86400;
/// Rows of one /query page: the device's own default limit, which bounds how long one
/// request keeps it from measuring.
inline constexpr int kRowsPerPage = 1000;
/// Windows of one full page each: a year of history is 526 requests, where UTC days (1440
/// rows, a page and a part) would be 730.
inline constexpr int64_t kWindowSeconds = kRowsPerPage * kMinuteSeconds;

/// Minutes [begin, end) as UTC epoch seconds; both multiples of 60 in every use here.
struct Span {
  int64_t begin = 0;
  int64_t end = 0;

  int64_t minutes() const { return end > begin ? (end - begin) / kMinuteSeconds : 0; }
  bool empty() const { return end <= begin; }
  bool operator==(const Span&) const = default;
};

int64_t FloorToMinute(int64_t seconds);
int64_t CeilToMinute(int64_t seconds);

/// Parses a time given on the command line: RFC 3339 in UTC ("2026-01-02T03:04:00Z") or
/// Unix epoch seconds ("1767322800").
/// \throw std::invalid_argument naming `what` (e.g. "--from"), quoting the text and showing
/// both accepted forms.
int64_t ParseTime(std::string_view text, std::string_view what);

/// "2026-01-02T03:04:00Z".
std::string FormatTime(int64_t seconds);

/// Cuts a range into consecutive windows whose boundaries are multiples of
/// `window_seconds` since the epoch; the first and last may be shorter.
std::vector<Span> SplitIntoWindows(Span range, int64_t window_seconds);

/// The minutes of a window whose flag in `present` is false, as spans; minute i starts at
/// base + 60 i. Spans separated by fewer than `merge_minutes` present minutes are joined,
/// since one request for a few extra rows is cheaper for the device than two requests.
std::vector<Span> MissingSpans(int64_t base, const std::vector<bool>& present,
                               int64_t merge_minutes);

/// The pause after a device request that took `busy`, so that the device spends at most
/// `device_share` (0 < share <= 1) of its time answering: busy / (busy + pause) <= share.
std::chrono::milliseconds PauseAfter(std::chrono::milliseconds busy, double device_share);

/// Exponential backoff: initial, 2x initial, ... capped at `max`. Not thread-safe.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : initial_(initial), max_(max) {}

  /// The delay before the next attempt; doubles on every call up to the cap.
  std::chrono::milliseconds Next();
  /// After a success: the next failure waits `initial` again.
  void Reset() { failures_ = 0; }
  int failures() const noexcept { return failures_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  int failures_ = 0;
};

/// What backfilling one device costs, for --plan.
struct PlanEstimate {
  int64_t minutes = 0;
  int64_t requests = 0;
  int64_t rows = 0;
  int64_t samples = 0;
  std::chrono::seconds duration{0};
};

/// Estimates a device's backfill: pages of `rows_per_page` rows per window (windows of
/// `window_seconds`), one energy baseline request, `series_per_minute` samples per row, a
/// device that needs `seconds_per_row` per row, paced to `device_share`.
PlanEstimate EstimatePlan(Span range, int64_t window_seconds, int rows_per_page,
                          int64_t series_per_minute, double seconds_per_row, double device_share);

}  // namespace iwx::backfill
