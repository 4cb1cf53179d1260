#include "backfill/planner.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace iwx::backfill {

namespace {

int64_t FloorTo(int64_t seconds, int64_t step) {
  return seconds - ((seconds % step) + step) % step;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

bool ParseDigits(std::string_view text, int64_t& out) {
  const auto result = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && result.ec == std::errc{} && result.ptr == text.data() + text.size();
}

bool AllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "YYYY-MM-DDThh:mm:ssZ" exactly; false for anything else or out-of-range fields.
bool ParseRfc3339Utc(std::string_view text, int64_t& out) {
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || (text[19] != 'Z' && text[19] != 'z')) {
    return false;
  }
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ParseDigits(text.substr(0, 4), year) || !ParseDigits(text.substr(5, 2), month) ||
      !ParseDigits(text.substr(8, 2), day) || !ParseDigits(text.substr(11, 2), hour) ||
      !ParseDigits(text.substr(14, 2), minute) || !ParseDigits(text.substr(17, 2), second)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return false;
  }
  out = DaysFromCivil(year, month, day) * kDaySeconds + hour * 3600 + minute * 60 + second;
  return true;
}

}  // namespace

int64_t FloorToMinute(int64_t seconds) {
  return FloorTo(seconds, kMinuteSeconds);
}

int64_t CeilToMinute(int64_t seconds) {
  return FloorTo(seconds + kMinuteSeconds - 1, kMinuteSeconds);
}

int64_t ParseTime(std::string_view text, std::string_view what) {
  int64_t seconds = 0;
  if (AllDigits(text) && ParseDigits(text, seconds)) {
    return seconds;
  }
  if (ParseRfc3339Utc(text, seconds)) {
    return seconds;
  }
  throw std::invalid_argument(std::string(what) + ": invalid time \"" + std::string(text) +
                              "\"; expected RFC 3339 in UTC such as 2026-01-02T03:04:00Z or "
                              "Unix epoch seconds such as 1767322800");
}

std::string FormatTime(int64_t seconds) {
  const int64_t days = FloorTo(seconds, kDaySeconds) / kDaySeconds;
  const int64_t in_day = seconds - days * kDaySeconds;

  // Inverse of DaysFromCivil.
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t day_of_era = z - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t mp = (5 * day_of_year + 2) / 153;
  const int64_t day = day_of_year - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);

  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
                static_cast<long long>(year), static_cast<long long>(month),
                static_cast<long long>(day), static_cast<long long>(in_day / 3600),
                static_cast<long long>(in_day / 60 % 60), static_cast<long long>(in_day % 60));
  return buffer;
}

std::vector<Span> SplitIntoWindows(Span range, int64_t window_seconds) {
  std::vector<Span> windows;
  for (int64_t begin = range.begin; begin < range.end;) {
    const int64_t end = std::min(range.end, FloorTo(begin, window_seconds) + window_seconds);
    windows.push_back({begin, end});
    begin = end;
  }
  return windows;
}

std::vector<Span> MissingSpans(int64_t base, const std::vector<bool>& present,
                               int64_t merge_minutes) {
  std::vector<Span> spans;
  for (size_t i = 0; i < present.size(); ++i) {
    if (present[i]) {
      continue;
    }
    const int64_t begin = base + static_cast<int64_t>(i) * kMinuteSeconds;
    if (!spans.empty() && begin - spans.back().end < merge_minutes * kMinuteSeconds) {
      spans.back().end = begin + kMinuteSeconds;
    } else {
      spans.push_back({begin, begin + kMinuteSeconds});
    }
  }
  return spans;
}

std::chrono::milliseconds PauseAfter(std::chrono::milliseconds busy, double device_share) {
  const double share = std::clamp(device_share, 0.01, 1.0);
  const double pause = static_cast<double>(busy.count()) * (1 - share) / share;
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(pause)));
}

std::chrono::milliseconds Backoff::Next() {
  auto delay = initial_;
  for (int i = 0; i < failures_ && delay < max_; ++i) {
    delay *= 2;
  }
  ++failures_;
  return std::min(delay, max_);
}

PlanEstimate EstimatePlan(Span range, int64_t window_seconds, int rows_per_page,
                          int64_t series_per_minute, double seconds_per_row, double device_share) {
  PlanEstimate plan;
  plan.minutes = range.minutes();
  plan.rows = plan.minutes;
  plan.samples = plan.minutes * series_per_minute;
  for (const Span& window : SplitIntoWindows(range, window_seconds)) {
    plan.requests += (window.minutes() + rows_per_page - 1) / rows_per_page;
  }
  plan.requests += plan.minutes > 0 ? 1 : 0;  // the energy baseline

  const double busy = static_cast<double>(plan.rows) * seconds_per_row;
  plan.duration = std::chrono::seconds(static_cast<int64_t>(std::ceil(busy / device_share)));
  return plan;
}

}  // namespace iwx::backfill
