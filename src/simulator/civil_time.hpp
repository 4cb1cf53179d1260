// Calendar arithmetic on UTC epoch seconds, the way the firmware uses gmtime/mktime: a
// broken-down time whose fields may overflow (month 13, day 0, hour 25) and are normalised
// when converted back to seconds.
#pragma once

#include <cstdint>
#include <string>

namespace iwx::sim {

struct BrokenTime {
  int64_t year = 1970;
  int64_t month = 0;  // 0-based, may be out of range before Normalise()
  int64_t day = 1;    // day of the month, 1-based, may be out of range
  int64_t hour = 0;
  int64_t minute = 0;
  int64_t second = 0;
  int weekday = 4;  // 0 = Sunday; set by BreakDown(), ignored by ToSeconds()
};

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12).
int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day);

/// Splits epoch seconds into calendar fields (like gmtime).
BrokenTime BreakDown(int64_t seconds);

/// Epoch seconds of possibly overflowing fields (like timegm/mktime in UTC).
int64_t ToSeconds(const BrokenTime& time);

/// "YYYY-MM-DDThh:mm:ss" of epoch seconds (strftime "%FT%T" of gmtime).
std::string FormatIso(int64_t seconds);

/// Largest multiple of step not above value (floor division for negative values too).
inline int64_t FloorTo(int64_t value, int64_t step) {
  const int64_t remainder = value % step;
  return remainder < 0 ? value - remainder - step : value - remainder;
}

}  // namespace iwx::sim
