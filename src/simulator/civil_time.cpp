#include "simulator/civil_time.hpp"

#include <cstdio>

namespace iwx::sim {

namespace {

int64_t FloorDiv(int64_t value, int64_t divisor) {
  return FloorTo(value, divisor) / divisor;
}

}  // namespace

// The classic era-based conversion: a 400-year era has a fixed number of days, and
// starting the year in March puts the leap day at the end of the year.
int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = FloorDiv(year, 400);
  const int64_t year_of_era = year - era * 400;
  const int64_t month_from_march = month > 2 ? month - 3 : month + 9;
  const int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

BrokenTime BreakDown(int64_t seconds) {
  const int64_t days = FloorDiv(seconds, 86400);
  const int64_t second_of_day = seconds - days * 86400;

  const int64_t shifted = days + 719468;
  const int64_t era = FloorDiv(shifted, 146097);
  const int64_t day_of_era = shifted - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t month_from_march = (5 * day_of_year + 2) / 153;

  BrokenTime time;
  time.day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
  const int64_t month = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
  time.year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  time.month = month - 1;
  time.hour = second_of_day / 3600;
  time.minute = second_of_day / 60 % 60;
  time.second = second_of_day % 60;
  time.weekday = static_cast<int>((days + 4) - FloorDiv(days + 4, 7) * 7);
  return time;
}

int64_t ToSeconds(const BrokenTime& time) {
  const int64_t year = time.year + FloorDiv(time.month, 12);
  const int64_t month = time.month - FloorDiv(time.month, 12) * 12;
  const int64_t days = DaysFromCivil(year, month + 1, 1) + time.day - 1;
  return days * 86400 + time.hour * 3600 + time.minute * 60 + time.second;
}

std::string FormatIso(int64_t seconds) {
  const BrokenTime time = BreakDown(seconds);
  char text[64];
  std::snprintf(text, sizeof text, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld",
                static_cast<long long>(time.year), static_cast<long long>(time.month + 1),
                static_cast<long long>(time.day), static_cast<long long>(time.hour),
                static_cast<long long>(time.minute), static_cast<long long>(time.second));
  return text;
}

}  // namespace iwx::sim
