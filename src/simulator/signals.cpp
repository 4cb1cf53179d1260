#include "simulator/signals.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "simulator/civil_time.hpp"

namespace iwx::sim {

namespace {

constexpr std::array<const char*, 19> kProfileNames = {
    "voltage",    "mains",        "solar",    "base",   "fridge",  "freezer",   "hvac",
    "furnace",    "water_heater", "lighting", "ev",     "cooking", "microwave", "laundry",
    "dishwasher", "pump",         "sump",     "office", "outlets"};

constexpr double kTwoPi = 2 * std::numbers::pi;
constexpr double kLatitudeRadians = 40.0 * std::numbers::pi / 180;

// A uniform value in [0, 1) from a hash.
double Uniform(uint64_t hash) {
  return static_cast<double>(hash >> 11) * 0x1.0p-53;
}

double Uniform(uint64_t key, int64_t slot, uint64_t salt = 0) {
  return Uniform(Mix(Mix(key, static_cast<uint64_t>(slot)), salt));
}

// Smooth noise in [0, 1): random values at integer x, blended with a smoothstep between them.
double ValueNoise(uint64_t key, double x) {
  const double cell = std::floor(x);
  const double fraction = x - cell;
  const double blend = fraction * fraction * (3 - 2 * fraction);
  const auto slot = static_cast<int64_t>(cell);
  return Uniform(key, slot) * (1 - blend) + Uniform(key, slot + 1) * blend;
}

double Clamp01(double value) {
  return std::clamp(value, 0.0, 1.0);
}

// Rises from 0 to 1 as x goes from edge0 to edge1.
double Ramp(double x, double edge0, double edge1) {
  return Clamp01((x - edge0) / (edge1 - edge0));
}

bool IsWeekend(const Moment& moment) {
  return moment.weekday == 0 || moment.weekday == 6;
}

// 1 in mid-summer, 0 in mid-winter (northern hemisphere).
double Summerness(const Moment& moment) {
  return 0.5 - 0.5 * std::cos(kTwoPi * (moment.day_of_year - 20) / 365.25);
}

// Outdoor temperature in °C: season, afternoon peak, and a warm or cold spell per day.
double ComputeTemperature(uint64_t weather_seed, const Moment& moment) {
  const double seasonal = 1 + 24 * Summerness(moment);
  const double diurnal = 6 * std::sin(kTwoPi * (moment.hour - 9) / 24);
  const double day_position = static_cast<double>(moment.local_day) + moment.hour / 24;
  const double spell = 10 * (ValueNoise(Mix(weather_seed, 11), day_position / 2) - 0.5);
  return seasonal + diurnal + spell;
}

// Cycles on for `duty` of every `cycle_minutes`, continuous across hours and days.
bool Cycling(uint64_t key, const Moment& moment, double cycle_minutes, double duty) {
  const auto cycle = std::max<int64_t>(2, static_cast<int64_t>(cycle_minutes));
  const auto phase = static_cast<int64_t>(Uniform(key, 0, 7) * static_cast<double>(cycle));
  const int64_t position = (moment.minute_index + phase) % cycle;
  return static_cast<double>(position) < duty * static_cast<double>(cycle);
}

// Whether a once-a-day session [start, start + duration) (local minutes, may run past
// midnight) covers the moment. `plan` gives (happens, start minute, duration) for a day.
template <typename Plan>
bool InSession(const Moment& moment, Plan plan, int* minutes_in = nullptr) {
  for (int back = 0; back <= 1; ++back) {
    const auto [happens, start, duration] = plan(moment.local_day - back);
    const int elapsed = moment.minute_of_day + back * 1440 - start;
    if (happens && elapsed >= 0 && elapsed < duration) {
      if (minutes_in != nullptr) {
        *minutes_in = elapsed;
      }
      return true;
    }
  }
  return false;
}

struct SessionPlan {
  bool happens;
  int start;
  int duration;
};

SourceMinute Load(double watts, double wander, double power_factor) {
  SourceMinute minute;
  minute.base = std::max(0.0, watts);
  minute.amplitude = std::min(minute.base, wander * minute.base);
  minute.power_factor = power_factor;
  return minute;
}

SourceMinute VoltageMinute(const Source& source, const Moment& moment) {
  const double evening_sag = 0.012 * std::sin(kTwoPi * (moment.hour - 12) / 24);
  const double wander = 0.012 * (ValueNoise(source.key, moment.seconds / 600) - 0.5);
  SourceMinute minute;
  minute.base = source.nominal * (1 + evening_sag + wander);
  minute.amplitude = 0.0015 * source.nominal;
  const double nominal_hertz = source.nominal > 200 ? 50.0 : 60.0;
  minute.hertz =
      nominal_hertz + 0.04 * (ValueNoise(Mix(source.key, 3), moment.seconds / 120) - 0.5);
  minute.power_factor = 1;
  return minute;
}

// Clear-sky output fraction from the sun's elevation at 40° N, solar noon at 12:30 local.
double ClearSky(const Moment& moment) {
  const double declination =
      23.44 * std::numbers::pi / 180 * std::sin(kTwoPi * (moment.day_of_year - 81) / 365.0);
  const double hour_angle = (moment.hour - 12.5) * 15 * std::numbers::pi / 180;
  const double sin_elevation =
      std::sin(kLatitudeRadians) * std::sin(declination) +
      std::cos(kLatitudeRadians) * std::cos(declination) * std::cos(hour_angle);
  // x^1.25, close to the usual air-mass falloff and much cheaper than pow().
  return sin_elevation <= 0 ? 0 : sin_elevation * std::sqrt(std::sqrt(sin_elevation));
}

double Sunlight(uint64_t weather_seed, const Moment& moment) {
  const double clear = ClearSky(moment);
  if (clear == 0) {
    return 0;
  }
  const double cloudiness = std::pow(Uniform(weather_seed, moment.local_day, 5), 1.5);
  const double passing = ValueNoise(Mix(weather_seed, 17), moment.seconds / 900);
  return clear * (1 - 0.85 * cloudiness * passing);
}

SourceMinute SolarMinute(const Source& source, const Moment& moment) {
  const double shimmer =
      moment.sunlight == 0 ? 1 : 0.97 + 0.03 * ValueNoise(source.key, moment.seconds / 120);
  const double production = source.nominal * moment.sunlight * shimmer;
  // At night the inverter draws a few watts of standby power from the grid.
  const double standby = std::clamp(0.0004 * source.nominal, 1.5, 4.0);

  SourceMinute minute;
  minute.base = production - standby;
  minute.amplitude = 0.04 * production + 1.0;
  minute.power_factor = production > 0.05 * source.nominal ? 0.99 : 0.25;
  return minute;
}

SourceMinute FridgeMinute(const Source& source, const Moment& moment, double cycle_base,
                          double duty_base) {
  const double cycle = cycle_base + 20 * Uniform(source.key, moment.local_day, 1);
  const double warm_kitchen = Ramp(moment.hour, 16, 19) * (1 - Ramp(moment.hour, 21, 23));
  const double duty = duty_base + 0.15 * warm_kitchen;
  const int defrost_start = static_cast<int>(60 * (1 + source.key % 4));
  if (moment.minute_of_day >= defrost_start && moment.minute_of_day < defrost_start + 20) {
    return Load(2.5 * source.nominal, 0.01, 1.0);
  }
  if (Cycling(source.key, moment, cycle, duty)) {
    return Load(source.nominal * (0.9 + 0.1 * ValueNoise(source.key, moment.seconds / 300)), 0.05,
                0.75);
  }
  return Load(0.03 * source.nominal, 0.05, 0.6);
}

SourceMinute HvacMinute(const Source& source, const Moment& moment) {
  const double temperature = moment.temperature;
  if (temperature <= 24) {
    return Load(0.01 * source.nominal, 0.02, 0.5);
  }
  const double duty = std::clamp((temperature - 24) / 9, 0.15, 1.0);
  if (Cycling(source.key, moment, 20, duty)) {
    return Load(source.nominal * (0.95 + 0.05 * ValueNoise(source.key, moment.seconds / 240)), 0.04,
                0.92);
  }
  return Load(0.01 * source.nominal, 0.02, 0.5);
}

SourceMinute FurnaceMinute(const Source& source, const Moment& moment) {
  const double temperature = moment.temperature;
  const double night_setback = moment.hour < 6 ? 2 : 0;
  if (temperature >= 14 - night_setback) {
    return Load(0.02 * source.nominal, 0.02, 0.6);
  }
  const double duty = std::clamp((14 - night_setback - temperature) / 18, 0.1, 1.0);
  if (Cycling(source.key, moment, 15, duty)) {
    return Load(source.nominal, 0.03, 0.85);
  }
  return Load(0.02 * source.nominal, 0.02, 0.6);
}

// Hot water draws in the morning and evening, each followed by an element run; standby
// losses are made up by short runs every few hours.
SourceMinute WaterHeaterMinute(const Source& source, const Moment& moment) {
  const int64_t slot = moment.minute_index / 30;
  for (int64_t back = 0; back <= 2; ++back) {
    const int64_t draw_slot = slot - back;
    const int64_t slot_minute = moment.minute_of_day - moment.minute_index % 30 - back * 30;
    const double slot_hour = static_cast<double>((slot_minute + 1440) % 1440) / 60;
    const double morning = Ramp(slot_hour, 5.5, 6.5) * (1 - Ramp(slot_hour, 8, 9));
    const double evening = Ramp(slot_hour, 17.5, 18.5) * (1 - Ramp(slot_hour, 21, 22));
    const double chance = 0.04 + 0.5 * morning + 0.35 * evening;
    if (Uniform(source.key, draw_slot, 2) >= chance) {
      continue;
    }
    const int64_t start =
        draw_slot * 30 + static_cast<int64_t>(10 * Uniform(source.key, draw_slot, 3));
    const int64_t duration = 8 + static_cast<int64_t>(45 * Uniform(source.key, draw_slot, 4));
    if (moment.minute_index >= start && moment.minute_index < start + duration) {
      return Load(source.nominal, 0.01, 1.0);
    }
  }
  return Load(0, 0, 1.0);
}

SourceMinute LightingMinute(const Source& source, const Moment& moment) {
  const double summer = Summerness(moment);
  const double dusk = 16.5 + 2.5 * summer;
  const double evening = Ramp(moment.hour, dusk, dusk + 1) * (1 - Ramp(moment.hour, 22.5, 23.5));
  const double morning =
      Ramp(moment.hour, 5.75, 6.5) * (1 - Ramp(moment.hour, 7.5, 8.25)) * (1 - 0.8 * summer);
  const double level =
      std::max({0.04, 0.12 * Ramp(moment.hour, 8, 9) * (1 - Ramp(moment.hour, 16, 17)), evening,
                0.5 * morning});
  const double flicker = 0.8 + 0.4 * ValueNoise(source.key, moment.seconds / 600);
  return Load(source.nominal * std::min(1.0, level * flicker), 0.05, 0.95);
}

SourceMinute EvMinute(const Source& source, const Moment& moment) {
  auto plan = [&source](int64_t day) {
    return SessionPlan{Uniform(source.key, day, 1) < 0.35,
                       22 * 60 + 15 * static_cast<int>(8 * Uniform(source.key, day, 2)),
                       60 + static_cast<int>(180 * Uniform(source.key, day, 3))};
  };
  int minutes_in = 0;
  if (!InSession(moment, plan, &minutes_in)) {
    return Load(0, 0, 1.0);
  }
  // The charger tapers over the last quarter hour as the battery fills.
  int64_t day = moment.local_day;
  if (moment.minute_of_day < minutes_in) {
    day -= 1;
  }
  const int remaining = plan(day).duration - minutes_in;
  const double taper = remaining < 15 ? 0.2 + 0.8 * remaining / 15.0 : 1.0;
  return Load(source.nominal * taper, 0.005, 0.99);
}

SourceMinute CookingMinute(const Source& source, const Moment& moment) {
  auto dinner = [&source](int64_t day) {
    return SessionPlan{Uniform(source.key, day, 1) < 0.7,
                       17 * 60 + 15 + static_cast<int>(60 * Uniform(source.key, day, 2)),
                       30 + static_cast<int>(45 * Uniform(source.key, day, 3))};
  };
  auto breakfast = [&source, &moment](int64_t day) {
    return SessionPlan{IsWeekend(moment) && Uniform(source.key, day, 4) < 0.5,
                       8 * 60 + static_cast<int>(60 * Uniform(source.key, day, 5)), 20};
  };
  if (InSession(moment, dinner)) {
    // The element thermostat cycles: three minutes on, one minute low.
    const bool element_on = moment.minute_index % 4 != 3;
    return Load(source.nominal * (element_on ? 0.8 : 0.25), 0.02, 1.0);
  }
  if (InSession(moment, breakfast)) {
    return Load(0.5 * source.nominal, 0.02, 1.0);
  }
  return Load(std::min(3.0, 0.001 * source.nominal), 0.05, 0.5);
}

SourceMinute MicrowaveMinute(const Source& source, const Moment& moment) {
  const int hour = moment.minute_of_day / 60;
  if (hour == 7 || hour == 12 || hour == 18) {
    const int64_t hour_slot = moment.minute_index / 60;
    const bool used = Uniform(source.key, hour_slot, 1) < 0.6;
    const int start = static_cast<int>(55 * Uniform(source.key, hour_slot, 2));
    const int length = 2 + static_cast<int>(4 * Uniform(source.key, hour_slot, 3));
    const int minute = moment.minute_of_day % 60;
    if (used && minute >= start && minute < start + length) {
      return Load(source.nominal, 0.03, 0.9);
    }
  }
  return Load(std::min(2.0, 0.002 * source.nominal), 0.05, 0.5);
}

SourceMinute LaundryMinute(const Source& source, const Moment& moment) {
  auto plan = [&source, &moment](int64_t day) {
    const double chance = IsWeekend(moment) ? 0.7 : 0.3;
    return SessionPlan{Uniform(source.key, day, 1) < chance,
                       9 * 60 + static_cast<int>(600 * Uniform(source.key, day, 2)),
                       45 + static_cast<int>(30 * Uniform(source.key, day, 3))};
  };
  if (InSession(moment, plan)) {
    const bool heavy_phase = moment.minute_index % 5 < 3;
    return Load(source.nominal * (heavy_phase ? 1.0 : 0.55), 0.04, 0.9);
  }
  return Load(std::min(1.5, 0.001 * source.nominal), 0.05, 0.5);
}

SourceMinute DishwasherMinute(const Source& source, const Moment& moment) {
  auto plan = [&source](int64_t day) {
    return SessionPlan{Uniform(source.key, day, 1) < 0.8,
                       19 * 60 + 30 + static_cast<int>(150 * Uniform(source.key, day, 2)), 100};
  };
  int minutes_in = 0;
  if (InSession(moment, plan, &minutes_in)) {
    const bool heating =
        (minutes_in >= 10 && minutes_in < 25) || (minutes_in >= 75 && minutes_in < 90);
    return Load(source.nominal * (heating ? 1.0 : 0.08), 0.03, 0.95);
  }
  return Load(1.0, 0.05, 0.5);
}

SourceMinute PumpMinute(const Source& source, const Moment& moment) {
  const bool swimming_season = moment.day_of_year >= 120 && moment.day_of_year < 280;
  const bool running = swimming_season ? (moment.hour >= 9 && moment.hour < 17)
                                       : (moment.hour >= 10 && moment.hour < 12);
  if (!running) {
    return Load(0, 0, 1.0);
  }
  return Load(source.nominal * (0.97 + 0.03 * ValueNoise(source.key, moment.seconds / 300)), 0.02,
              0.85);
}

SourceMinute SumpMinute(const Source& source, const Moment& moment) {
  const bool wet_season = moment.day_of_year >= 60 && moment.day_of_year < 150;
  const int64_t hour_slot = moment.minute_index / 60;
  const bool runs = Uniform(source.key, hour_slot, 1) < (wet_season ? 0.3 : 0.08);
  const int start = static_cast<int>(55 * Uniform(source.key, hour_slot, 2));
  const int minute = moment.minute_of_day % 60;
  if (runs && minute >= start && minute < start + 2) {
    return Load(source.nominal, 0.05, 0.8);
  }
  return Load(0, 0, 1.0);
}

SourceMinute OfficeMinute(const Source& source, const Moment& moment) {
  const bool working = !IsWeekend(moment) && moment.hour >= 8.5 && moment.hour < 17.5;
  const double noise = ValueNoise(source.key, moment.seconds / 900);
  return Load(source.nominal * (working ? 0.6 + 0.4 * noise : 0.15), 0.06, 0.95);
}

SourceMinute OutletsMinute(const Source& source, const Moment& moment) {
  const double evening = Ramp(moment.hour, 17, 18.5) * (1 - Ramp(moment.hour, 22, 23.5));
  const double noise = ValueNoise(source.key, moment.seconds / 600);
  return Load(source.nominal * (0.15 + 0.35 * evening + 0.2 * noise), 0.08, 0.9);
}

SourceMinute BaseMinute(const Source& source, const Moment& moment) {
  return Load(source.nominal * (0.85 + 0.15 * ValueNoise(source.key, moment.seconds / 1800)), 0.03,
              0.9);
}

}  // namespace

uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t z = a + 0x9E3779B97F4A7C15ULL * (b + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t HashText(const std::string& text) {
  uint64_t hash = 0xCBF29CE484222325ULL;
  for (const char c : text) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
  }
  return Mix(hash, 0);
}

Profile ParseProfile(const std::string& name) {
  for (size_t i = 0; i < kProfileNames.size(); ++i) {
    if (name == kProfileNames[i]) {
      return static_cast<Profile>(i);
    }
  }
  std::string accepted;
  for (const char* known : kProfileNames) {
    accepted += accepted.empty() ? "" : ", ";
    accepted += known;
  }
  throw std::runtime_error("unknown profile \"" + name + "\": expected one of " + accepted);
}

std::string ProfileName(Profile profile) {
  return kProfileNames.at(static_cast<size_t>(profile));
}

std::vector<std::string> ProfileNames() {
  return {kProfileNames.begin(), kProfileNames.end()};
}

std::array<double, 12> Patterns(uint64_t key, int64_t minute_start) {
  std::array<double, 12> out;
  const uint64_t minute_key = Mix(key ^ 0x5bd1e995ULL, static_cast<uint64_t>(minute_start));
  double mean = 0;
  for (int i = 0; i < 12; ++i) {
    out[i] = 2 * Uniform(Mix(minute_key, static_cast<uint64_t>(i))) - 1;
    mean += out[i];
  }
  mean /= 12;
  // Subtracting the mean makes the sum zero; halving keeps every value within [-1, 1].
  for (double& value : out) {
    value = (value - mean) / 2;
  }
  return out;
}

double Pattern(uint64_t key, int64_t minute_start, int interval) {
  return Patterns(key, minute_start)[static_cast<size_t>(interval)];
}

Moment MakeMoment(int64_t minute_start, int timezone_minutes, uint64_t weather_seed) {
  Moment moment;
  const int64_t local = minute_start + int64_t{timezone_minutes} * 60;
  moment.minute_index = FloorTo(minute_start, 60) / 60;
  moment.local_day = FloorTo(local, 86400) / 86400;
  moment.minute_of_day = static_cast<int>((local - moment.local_day * 86400) / 60);
  moment.hour = moment.minute_of_day / 60.0;
  const BrokenTime broken = BreakDown(local);
  moment.day_of_year = static_cast<int>(moment.local_day - DaysFromCivil(broken.year, 1, 1));
  moment.weekday = broken.weekday;
  moment.seconds = static_cast<double>(minute_start);
  moment.temperature = ComputeTemperature(weather_seed, moment);
  moment.sunlight = Sunlight(weather_seed, moment);
  return moment;
}

SourceMinute EvaluateSource(const Source& source, const Moment& moment) {
  switch (source.profile) {
    case Profile::kVoltage:
      return VoltageMinute(source, moment);
    case Profile::kSolar:
      return SolarMinute(source, moment);
    case Profile::kFridge:
      return FridgeMinute(source, moment, 40, 0.35);
    case Profile::kFreezer:
      return FridgeMinute(source, moment, 60, 0.45);
    case Profile::kHvac:
      return HvacMinute(source, moment);
    case Profile::kFurnace:
      return FurnaceMinute(source, moment);
    case Profile::kWaterHeater:
      return WaterHeaterMinute(source, moment);
    case Profile::kLighting:
      return LightingMinute(source, moment);
    case Profile::kEv:
      return EvMinute(source, moment);
    case Profile::kCooking:
      return CookingMinute(source, moment);
    case Profile::kMicrowave:
      return MicrowaveMinute(source, moment);
    case Profile::kLaundry:
      return LaundryMinute(source, moment);
    case Profile::kDishwasher:
      return DishwasherMinute(source, moment);
    case Profile::kPump:
      return PumpMinute(source, moment);
    case Profile::kSump:
      return SumpMinute(source, moment);
    case Profile::kOffice:
      return OfficeMinute(source, moment);
    case Profile::kOutlets:
      return OutletsMinute(source, moment);
    case Profile::kMains:
    case Profile::kBase:
      break;
  }
  return BaseMinute(source, moment);
}

}  // namespace iwx::sim
