// Energy counters against per-record integrals of the simulator's generator.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>

#include <gtest/gtest.h>

#include "harness.hpp"
#include "log/log.hpp"

namespace iwx::testing {
namespace {

using std::chrono::seconds;

// 2026-06-21 06:00 UTC, 01:00 at the simulated units (UTC-5): solar inverters on standby
// read slightly negative, so signed channels have negative records.
constexpr int64_t kNight = 1782021600;
// 12:00 UTC, 07:00 local: solar ramping up through the house load.
constexpr int64_t kMorning = 1782043200;

// Per record, the device's rounding (1e-9 Wh) and the counters' rounding allowance
// (2e-8 Wh) are far below this; the rest covers floating-point sums of the truth.
double Tolerance(int64_t records) {
  return 0.01 + 0.002 * static_cast<double>(records);
}

std::filesystem::path TempStateFile(const std::string& name) {
  const auto folder = std::filesystem::temp_directory_path() / "iwx-energy-test";
  std::filesystem::create_directories(folder);
  const auto path = folder / (name + ".json");
  std::filesystem::remove(path);
  return path;
}

struct Counter {
  double positive = 0;
  std::optional<double> negative;
};

std::optional<Counter> ChannelCounter(const Harness& harness, const std::string& unit,
                                      const std::string& channel) {
  const auto samples = harness.Scrape();
  const auto positive =
      FindValue(samples, "iotawatt_energy_joules_total",
                {{"device", unit}, {"channel", channel}, {"direction", "positive"}});
  if (!positive) {
    return std::nullopt;
  }
  return Counter{*positive,
                 FindValue(samples, "iotawatt_energy_joules_total",
                           {{"device", unit}, {"channel", channel}, {"direction", "negative"}})};
}

std::optional<Counter> DerivedCounter(const Harness& harness, const std::string& name) {
  const auto samples = harness.Scrape();
  const auto positive = FindValue(samples, "iotawatt_derived_energy_joules_total",
                                  {{"name", name}, {"direction", "positive"}});
  if (!positive) {
    return std::nullopt;
  }
  return Counter{*positive, FindValue(samples, "iotawatt_derived_energy_joules_total",
                                      {{"name", name}, {"direction", "negative"}})};
}

/// Checks every channel counter: positive minus negative is the net energy since the
/// history log began, and the negative part is what the records since `start` held
/// (plus the offset that keeps the positive counter from starting below zero).
void ExpectChannelCounters(Harness& harness, int64_t start, int64_t end) {
  for (const std::string unit : {"iwatt5", "iwatt6"}) {
    auto& model = harness.simulator().unit(unit).model();
    const int64_t history = model.HistoryFirstKey();
    for (const auto& input : model.spec().inputs) {
      if (input.kind != sim::InputKind::kPower) {
        continue;
      }
      const auto counter = ChannelCounter(harness, unit, input.name);
      ASSERT_TRUE(counter) << unit << "." << input.name;

      const auto before = harness.ChannelEnergy(unit, input.name, history, start);
      const auto during = harness.ChannelEnergy(unit, input.name, start, end);
      const double net = before.positive - before.negative + during.positive - during.negative;
      const double tolerance = Tolerance((end - start) / 5 + 1);
      const double negative = counter->negative.value_or(0);
      EXPECT_NEAR(counter->positive - negative, net, tolerance) << unit << "." << input.name;

      const double offset = std::max(0.0, before.negative - before.positive);
      EXPECT_NEAR(negative, offset + during.negative, tolerance) << unit << "." << input.name;
      EXPECT_EQ(counter->negative.has_value(), offset + during.negative > 0)
          << unit << "." << input.name;
    }
  }
}

/// The derived series of the harness configuration, per record, from the generator.
struct DerivedRecord {
  std::optional<double> load, solar_a, solar_b, solar, grid_import, grid_export;
};

DerivedRecord DerivedAt(const Harness& harness, int64_t time) {
  const auto sum = [&](const std::string& unit, const char* a, const char* b) {
    const auto x = harness.MaybeTruth(unit, a, time);
    const auto y = harness.MaybeTruth(unit, b, time);
    return x && y ? std::optional(*x + *y) : std::nullopt;
  };
  DerivedRecord record;
  record.load = sum("iwatt5", "Mains_1", "Mains_2");
  record.solar_a = sum("iwatt5", "SolarA_1", "SolarA_2");
  record.solar_b = sum("iwatt6", "SolarB_1", "SolarB_2");
  if (record.solar_a && record.solar_b) {
    record.solar = std::max(0.0, *record.solar_a + *record.solar_b);
  }
  if (record.load && record.solar) {
    record.grid_import = std::max(0.0, *record.load - *record.solar);
    record.grid_export = std::max(0.0, *record.solar - *record.load);
  }
  return record;
}

void ExpectDerivedCounters(const Harness& harness, int64_t start, int64_t end) {
  const std::vector<std::pair<std::string, std::optional<double> DerivedRecord::*>> series = {
      {"load", &DerivedRecord::load},
      {"solar_a", &DerivedRecord::solar_a},
      {"solar_b", &DerivedRecord::solar_b},
      {"solar", &DerivedRecord::solar},
      {"grid_import", &DerivedRecord::grid_import},
      {"grid_export", &DerivedRecord::grid_export},
  };
  std::vector<EnergyTruth> truth(series.size());
  for (int64_t time = start; time < end; time += 5) {
    const auto record = DerivedAt(harness, time);
    for (size_t i = 0; i < series.size(); ++i) {
      const auto& value = record.*(series[i].second);
      if (value) {
        (*value >= 0 ? truth[i].positive : truth[i].negative) += std::abs(*value) * 5;
      }
    }
  }

  for (size_t i = 0; i < series.size(); ++i) {
    const auto counter = DerivedCounter(harness, series[i].first);
    ASSERT_TRUE(counter) << series[i].first;
    const double tolerance = 4 * Tolerance((end - start) / 5);
    EXPECT_NEAR(counter->positive, truth[i].positive, tolerance) << series[i].first;
    EXPECT_NEAR(counter->negative.value_or(0), truth[i].negative, tolerance) << series[i].first;
  }
}

TEST(EnergyCounters, equal_the_device_totals_and_the_per_record_integrals) {
  Harness harness(kNight);
  harness.PollAll();
  for (int poll = 0; poll < 6; ++poll) {
    harness.Advance(seconds{10});
    harness.PollAll();
  }

  ExpectChannelCounters(harness, kNight - 10, kNight + 60);
  ExpectDerivedCounters(harness, kNight - 10, kNight + 60);
}

TEST(EnergyCounters, rate_over_a_window_equals_the_power_gauge) {
  Harness harness(kMorning);
  harness.PollAll();
  const auto before = ChannelCounter(harness, "iwatt5", "Mains_1");
  harness.Advance(seconds{10});
  harness.PollAll();
  const auto after = ChannelCounter(harness, "iwatt5", "Mains_1");
  const auto power = FindValue(harness.Scrape(), "iotawatt_power_watts",
                               {{"device", "iwatt5"}, {"channel", "Mains_1"}});

  ASSERT_TRUE(before && after && power);
  // The counter's rounding allowance is 2e-8 Wh per record: 7.2e-6 W over 10 seconds.
  EXPECT_NEAR((after->positive - before->positive) / 10, *power, 2e-5);
}

TEST(EnergyCounters, are_exact_after_the_exporter_was_stopped_for_30_minutes) {
  const auto state_file = TempStateFile("restart");
  Harness harness(kNight, {{}, state_file.string(), ""});
  harness.PollAll();
  harness.Advance(seconds{10});
  harness.PollAll();

  harness.StopExporter();
  harness.Advance(seconds{1800});
  harness.StartExporter();
  harness.CatchUp();

  const int64_t end = harness.now();
  ExpectChannelCounters(harness, kNight - 10, end);
  ExpectDerivedCounters(harness, kNight - 10, end);
}

TEST(EnergyCounters, are_exact_after_the_device_was_unreachable_for_10_minutes) {
  Harness harness(kNight);
  harness.PollAll();
  harness.simulator().unit("iwatt6").SetFault({sim::FaultKind::kRefuse, {}});
  for (int poll = 0; poll < 60; ++poll) {
    harness.Advance(seconds{10});
    harness.PollAll();
  }
  harness.simulator().unit("iwatt6").SetFault({});
  harness.Advance(seconds{10});
  harness.CatchUp();

  const int64_t end = harness.now();
  ExpectChannelCounters(harness, kNight - 10, end);
  ExpectDerivedCounters(harness, kNight - 10, end);
}

TEST(EnergyCounters, add_nothing_for_a_device_power_outage) {
  auto installation = sim::DefaultInstallation(kNight, 2);
  for (auto& unit : installation.units) {
    // A short outage (the 5-second log repeats the last record) and a long one (a hole).
    unit.outages.push_back({kNight + 100, kNight + 400});
    unit.outages.push_back({kNight + 1000, kNight + 1900});
  }
  Harness harness(kNight, {installation, "", ""});
  harness.PollAll();
  for (int poll = 0; poll < 240; ++poll) {
    harness.Advance(seconds{10});
    harness.PollAll();
  }

  const int64_t end = harness.now();
  EXPECT_FALSE(harness.MaybeTruth("iwatt5", "Mains_1", kNight + 1500).has_value());
  ExpectChannelCounters(harness, kNight - 10, end);
  ExpectDerivedCounters(harness, kNight - 10, end);
}

class LogLines;

TEST(EnergyCounters, read_a_gap_older_than_the_5_second_log_at_1_minute_resolution) {
  auto installation = sim::DefaultInstallation(kNight, 4);
  for (auto& unit : installation.units) {
    unit.current_log_days = 1;  // the 5-second log keeps one day
    unit.outages.clear();
  }
  const auto state_file = TempStateFile("history");
  Harness harness(kNight, {installation, state_file.string(), ""});
  harness.PollAll();
  harness.Advance(seconds{10});
  harness.PollAll();
  harness.StopExporter();

  // Two days away: the first day of the gap exists only in the 1-minute history.
  harness.Advance(seconds{2 * 86400});
  harness.StartExporter();
  harness.CatchUp();

  // Channels that never read negative count exactly the device's total: minute sums of
  // the accumulators are as exact as 5-second ones.
  const int64_t end = harness.now();
  auto& model = harness.simulator().unit("iwatt5").model();
  for (const char* channel : {"Mains_1", "Mains_2", "Fridge"}) {
    const auto counter = ChannelCounter(harness, "iwatt5", channel);
    ASSERT_TRUE(counter) << channel;
    const auto truth = harness.ChannelEnergy("iwatt5", channel, model.HistoryFirstKey(), end);
    EXPECT_EQ(truth.negative, 0) << channel;
    EXPECT_NEAR(counter->positive, truth.positive, Tolerance((end - kNight) / 5)) << channel;
  }
}

class LogLines {
 public:
  LogLines() {
    log::SetSink([this](std::string_view line) {
      const std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    });
  }
  ~LogLines() { log::SetSink({}); }

  bool Contains(const std::string& text) const {
    const std::lock_guard lock(mutex_);
    return std::any_of(lines_.begin(), lines_.end(), [&](const std::string& line) {
      return line.find(text) != std::string::npos;
    });
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

void RunWithLostStateFile(const std::function<void(const std::filesystem::path&)>& lose,
                          const std::string& expected_log) {
  LogLines logs;
  const auto state_file = TempStateFile("lost");
  Harness harness(kNight, {{}, state_file.string(), ""});
  harness.PollAll();
  for (int poll = 0; poll < 30; ++poll) {
    harness.Advance(seconds{10});
    harness.PollAll();
  }
  const auto mains_before = ChannelCounter(harness, "iwatt5", "Mains_1");
  const auto solar_before = ChannelCounter(harness, "iwatt5", "SolarA_1");
  ASSERT_TRUE(solar_before && solar_before->negative) << "solar should read negative at night";

  harness.StopExporter();
  lose(state_file);
  harness.StartExporter();
  harness.CatchUp();
  EXPECT_TRUE(logs.Contains(expected_log));

  // A channel that never read negative keeps its value: it is the device's own total.
  const auto mains_after = ChannelCounter(harness, "iwatt5", "Mains_1");
  ASSERT_TRUE(mains_before && mains_after);
  EXPECT_GE(mains_after->positive, mains_before->positive) << "a decrease is a counter reset";
  EXPECT_NEAR(mains_after->positive, mains_before->positive, Tolerance(1));
  EXPECT_FALSE(mains_after->negative);

  // A signed channel's split starts again (a counter reset), and the invariant still holds.
  const auto solar_after = ChannelCounter(harness, "iwatt5", "SolarA_1");
  ASSERT_TRUE(solar_after);
  EXPECT_LT(solar_after->negative.value_or(0), *solar_before->negative);
  ExpectChannelCounters(harness, harness.now() - 10, harness.now());
}

TEST(EnergyCounters, deleted_state_file_keeps_the_device_totals) {
  RunWithLostStateFile([](const auto& path) { std::filesystem::remove(path); },
                       "no counter file yet");
}

TEST(EnergyCounters, corrupt_state_file_is_logged_and_counting_goes_on) {
  RunWithLostStateFile(
      [](const auto& path) { std::ofstream(path) << "{\"version\": 1, \"devices\": [tru"; },
      "counter file unusable");
}

// Finds the minute in which a channel's records carry the most energy of both signs.
std::optional<int64_t> MostMixedMinute(const Harness& harness, const std::string& channel,
                                       int64_t from, int64_t to) {
  std::optional<int64_t> best;
  double best_mix = 0;
  for (int64_t minute = from; minute < to; minute += 60) {
    const auto energy = harness.ChannelEnergy("iwatt5", channel, minute, minute + 60);
    const double mix = std::min(energy.positive, energy.negative);
    if (mix > best_mix) {
      best = minute;
      best_mix = mix;
    }
  }
  return best;
}

TEST(EnergyCounters, split_import_and_export_within_a_minute_per_record) {
  const int64_t day = kNight;
  auto installation = sim::DefaultInstallation(day, 2);
  installation.units[0].net_metering = true;
  for (auto& input : installation.units[0].inputs) {
    input.is_signed |= input.profile == "mains";
  }
  Harness harness(day, {installation, "", ""});
  const auto minute = MostMixedMinute(harness, "Mains_1", day, day + 86400);
  ASSERT_TRUE(minute) << "no minute in which the net-metered mains change sign";

  harness.Advance(seconds{*minute - day});
  harness.PollAll();
  const auto before = ChannelCounter(harness, "iwatt5", "Mains_1");
  for (int poll = 0; poll < 6; ++poll) {
    harness.Advance(seconds{10});
    harness.PollAll();
  }
  const auto after = ChannelCounter(harness, "iwatt5", "Mains_1");
  ASSERT_TRUE(before && after);

  const auto truth = harness.ChannelEnergy("iwatt5", "Mains_1", *minute, *minute + 60);
  const double imported = after->positive - before->positive;
  const double exported = after->negative.value_or(0) - before->negative.value_or(0);
  EXPECT_NEAR(imported, truth.positive, Tolerance(12));
  EXPECT_NEAR(exported, truth.negative, Tolerance(12));

  // The 1-minute average nets import against export: both parts come out smaller.
  const double net = truth.positive - truth.negative;
  const double minute_import = std::max(0.0, net);
  const double minute_export = std::max(0.0, -net);
  EXPECT_GT(truth.positive - minute_import, 100.0);
  EXPECT_GT(truth.negative - minute_export, 100.0);
  std::cout << "minute " << *minute << ": per-record import " << imported << " J, export "
            << exported << " J; from the 1-minute average: import " << minute_import
            << " J, export " << minute_export << " J\n";
}

}  // namespace
}  // namespace iwx::testing
