// The synthetic measurements: every value is a pure function of a seed, a source and the
// start of a 5-second interval, so any moment of any year can be recomputed on demand.
//
// A source's value in the 5-second interval i (0-11) of a minute is
//   base + amplitude * Pattern(key, minute, i)
// where base and amplitude are constant over the minute and the pattern sums to exactly
// zero over the minute's 12 intervals. A minute's energy is therefore base / 60 Wh, which
// is what lets the logs compute years of accumulators quickly.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace iwx::sim {

/// The daily patterns a source can follow.
enum class Profile {
  kVoltage,      // VT: nominal volts with slow drift, frequency around 60 Hz (50 Hz above 200 V)
  kMains,        // a mains CT: the sum of the loads on its leg (not a load itself)
  kSolar,        // PV inverter: daylight curve with clouds, a few watts negative at night
  kBase,         // always-on load with small wander
  kFridge,       // compressor cycling, a daily defrost
  kFreezer,      // like a fridge, longer cycles
  kHvac,         // air conditioning: cycling on warm afternoons
  kFurnace,      // furnace blower: cycling on cold days
  kWaterHeater,  // element runs after morning and evening draws, standby reheats
  kLighting,     // evenings and early mornings
  kEv,           // charging on some nights
  kCooking,      // oven / range: dinner, some breakfasts
  kMicrowave,    // short bursts around meals
  kLaundry,      // washer or dryer cycles on some days
  kDishwasher,   // an evening cycle on most days
  kPump,         // pool pump: daytime schedule in the warm season
  kSump,         // short runs, more in spring
  kOffice,       // computers: working hours on weekdays, standby otherwise
  kOutlets,      // general outlets: base plus evening activity
};

/// Parses a profile name ("solar", "water_heater", ...). \throw std::runtime_error naming
/// the text and listing the accepted names.
Profile ParseProfile(const std::string& name);
std::string ProfileName(Profile profile);
/// Every accepted profile name, in declaration order.
std::vector<std::string> ProfileNames();

/// One source of power (or the voltage reference) and what shapes it.
struct Source {
  Profile profile = Profile::kBase;
  double nominal = 100;  // peak watts, or nominal volts for kVoltage
  uint64_t key = 0;      // identity of the source: its own randomness
};

/// Base and amplitude of one source over one minute.
struct SourceMinute {
  double base = 0;          // W (or V)
  double amplitude = 0;     // W (or V): interval values stay within base ± amplitude
  double power_factor = 1;  // W / VA of the load, in (0, 1]
  double hertz = 0;         // only for kVoltage
};

/// Local calendar facts and the weather of one minute, shared by every source of a unit.
struct Moment {
  int64_t minute_index = 0;  // minutes since the epoch (UTC), continuous across days
  int64_t local_day = 0;     // local days since the epoch
  double hour = 0;           // local hour of day, fractional
  int minute_of_day = 0;     // local
  int day_of_year = 0;       // 0-365
  int weekday = 0;           // 0 = Sunday
  double seconds = 0;        // UTC seconds, for noise with fixed periods
  double temperature = 0;    // outdoor °C
  double sunlight = 0;       // clear-sky output fraction times cloud cover, 0 at night
};

/// The moment of the minute starting at minute_start for an installation's weather.
Moment MakeMoment(int64_t minute_start, int timezone_minutes, uint64_t weather_seed);

/// The value of a source over the minute of `moment` (all sources of a unit share it).
SourceMinute EvaluateSource(const Source& source, const Moment& moment);

/// A zero-sum pattern: values in [-1, 1] whose sum over interval = 0..11 is zero.
double Pattern(uint64_t key, int64_t minute_start, int interval);
/// All 12 values of Pattern(key, minute_start, 0..11).
std::array<double, 12> Patterns(uint64_t key, int64_t minute_start);

/// Mixes values into a well-spread 64-bit hash (splitmix64 finaliser).
uint64_t Mix(uint64_t a, uint64_t b);
/// A stable 64-bit hash of a text.
uint64_t HashText(const std::string& text);

}  // namespace iwx::sim
