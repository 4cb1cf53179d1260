// The backfill tests' fixture: the simulated two-unit installation with its device clock
// standing still, a real VictoriaMetrics, and the per-minute truth computed straight from
// the simulator's generator.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "backfill/backfill.hpp"
#include "derived/resolver.hpp"
#include "simulator/simulator.hpp"
#include "vm_process.hpp"

namespace iwx::backfill::testing {

using namespace std::chrono_literals;

// 2026-01-01T12:00:30Z: the device clock of every test.
constexpr int64_t kNow = 1767268830;
constexpr int64_t kLastMinute = 1767268800 - 60;  // the last complete minute starts here
constexpr int kHistoryDays = 40;

constexpr const char* kConfig = R"toml(
[poll]
timeout = "2s"

[victoriametrics]
url = "@VM@"
extra_labels = { job = "iotawatt", instance = "127.0.0.1:9980" }

[[device]]
name = "iwatt5"
url = "@IWATT5@"

[[device]]
name = "iwatt6"
url = "@IWATT6@"

[[labels]]
match = "Mains_*"
set = { type = "mains" }

[derived]
load = "iwatt5.Mains_1 + iwatt5.Mains_2"
solar = "max(0, SolarA_1 + SolarA_2 + SolarB_1 + SolarB_2)"
grid_import = "max(0, load - solar)"
)toml";

inline void Replace(std::string& text, const std::string& placeholder, const std::string& value) {
  text.replace(text.find(placeholder), placeholder.size(), value);
}

// Minute averages straight from the generator, keyed like the exported series.
struct Truth {
  // "metric|device|channel-or-name" → minute start (s) → value
  std::map<std::string, std::map<int64_t, double>> series;
  // Minutes in which a unit was on only part of the time. The unit's log and the generator
  // attribute the 5-s records at an outage's edges differently, so values are not
  // compared there (the presence of the minute still is).
  std::set<int64_t> partial;
};

class BackfillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (VmProcess::FindBinary().empty()) {
      GTEST_SKIP() << "victoria-metrics is not on PATH";
    }
    simulator_ = std::make_unique<sim::Simulator>(sim::DefaultInstallation(kNow, kHistoryDays),
                                                  sim::Clock::Fixed(kNow * 1000));
    simulator_->Start("127.0.0.1", 0);
  }

  void StartVm(bool dedup) {
    vm_ = std::make_unique<VmProcess>(dedup);
    std::string text = kConfig;
    Replace(text, "@VM@", vm_->url());
    Replace(text, "@IWATT5@", simulator_->unit("iwatt5").url());
    Replace(text, "@IWATT6@", simulator_->unit("iwatt6").url());
    config_ = config::ParseConfig(text, "test.toml");
    config_text_ = text;
  }

  Options MakeOptions(int64_t from, int64_t to) const {
    Options options;
    options.from = from;
    options.to = to;
    options.vm = {vm_->url(), vm_->url(), "", "", 30s, std::nullopt};
    options.extra_labels = config_.victoriametrics.extra_labels;
    options.reader.device_share = 0.9;
    options.reader.backoff_initial = 100ms;
    options.reader.backoff_max = 500ms;
    options.vm_retry = {100ms, 500ms, 60s};
    return options;
  }

  Summary RunBackfill(const Options& options) {
    std::ostringstream out;
    return backfill::Run(config_, options, stop_, out);
  }

  // Per-minute truth of every channel, device output and derived series in [from, to).
  Truth ComputeTruth(int64_t from, int64_t to) {
    Truth truth;
    derived::Inventory inventory;
    std::map<std::string, std::map<int64_t, double>> watts;  // "device.channel"
    for (const std::string& unit_name : simulator_->unit_names()) {
      auto& model = simulator_->unit(unit_name).model();
      const auto& spec = model.spec();
      std::vector<std::map<int64_t, double>> inputs(spec.inputs.size());
      for (size_t i = 0; i < spec.inputs.size(); ++i) {
        const bool power = spec.inputs[i].kind == sim::InputKind::kPower;
        for (int64_t minute = from; minute < to; minute += 60) {
          double sum = 0;
          int count = 0;
          for (int64_t t = minute; t < minute + 60; t += 5) {
            if (const auto value = model.TruthValue(i, t)) {
              sum += *value;
              ++count;
            }
          }
          if (count > 0) {
            inputs[i][minute] = sum / count;
          }
          if (count > 0 && count < 12) {
            truth.partial.insert(minute);
          }
        }
        const std::string metric = power ? "iotawatt_power_watts" : "iotawatt_voltage_volts";
        truth.series[metric + "|" + unit_name + "|" + spec.inputs[i].name] = inputs[i];
        watts[unit_name + "." + spec.inputs[i].name] = inputs[i];
        inventory[unit_name].push_back(spec.inputs[i].name);
      }
      for (const auto& output : spec.outputs) {
        if (output.units != "Watts") {
          continue;
        }
        // The installation's Watts outputs are sums "@a+@b+...".
        std::map<int64_t, double> sum;
        std::istringstream terms(output.script);
        std::string term;
        while (std::getline(terms, term, '+')) {
          for (const auto& [minute, value] : inputs[std::stoul(term.substr(1))]) {
            sum[minute] += value;
          }
        }
        truth.series["iotawatt_power_watts|" + unit_name + "|" + output.name] = sum;
        watts[unit_name + "." + output.name] = sum;
        inventory[unit_name].push_back(output.name);
      }
    }

    const auto set = derived::DerivedSet::Resolve(config_, inventory);
    std::vector<double> in(set.inputs().size());
    std::vector<double> out(set.names().size());
    for (int64_t minute = from; minute < to; minute += 60) {
      for (size_t k = 0; k < in.size(); ++k) {
        const auto& channel = watts[set.inputs()[k].device + "." + set.inputs()[k].channel];
        const auto found = channel.find(minute);
        in[k] = found == channel.end() ? std::nan("") : found->second;
      }
      set.Evaluate(in, out);
      for (size_t k = 0; k < out.size(); ++k) {
        if (!std::isnan(out[k])) {
          truth.series["iotawatt_derived_power_watts||" + set.names()[k]][minute] = out[k];
        }
      }
    }
    return truth;
  }

  static size_t CountSamples(const Truth& truth) {
    size_t count = 0;
    for (const auto& [key, minutes] : truth.series) {
      count += minutes.size();
    }
    return count;
  }

  // Exported gauges keyed like Truth; checks that every series carries the extra labels.
  std::map<std::string, Samples> ExportGauges(size_t expected) {
    const auto exported = vm_->ExportWhenCount(
        "{__name__=~\"iotawatt_(power_watts|voltage_volts|derived_power_watts)\"}", expected);
    std::map<std::string, Samples> gauges;
    for (const auto& [key, samples] : exported) {
      EXPECT_NE(key.find("instance=127.0.0.1:9980"), std::string::npos) << key;
      EXPECT_NE(key.find("job=iotawatt"), std::string::npos) << key;
      gauges[GaugeKey(key)] = samples;
    }
    return gauges;
  }

  static std::string Label(const std::string& key, const std::string& name) {
    const size_t start = key.find(name + "=");
    if (start == std::string::npos) {
      return "";
    }
    const size_t value = start + name.size() + 1;
    return key.substr(value, key.find(',', value) - value);
  }

  static std::string GaugeKey(const std::string& key) {
    const std::string metric = Label(key, "__name__");
    const std::string device = Label(key, "device");
    return metric + "|" + device + "|" +
           (device.empty() ? Label(key, "name") : Label(key, "channel"));
  }

  // Every truth minute has its sample with the truth's value. The one extra minute
  // allowed is the last one of an outage: the unit's log counts the record that ends the
  // outage towards it, so the unit reports a row the generator calls "off".
  static void ExpectMatches(const Truth& truth, const std::map<std::string, Samples>& gauges) {
    size_t compared = 0;
    for (const auto& [key, minutes] : truth.series) {
      const auto found = gauges.find(key);
      ASSERT_NE(found, gauges.end()) << key;
      std::map<int64_t, double> samples;
      for (const auto& [ms, value] : found->second) {
        ASSERT_TRUE(samples.emplace(ms / 1000, value).second) << key << ": twice at " << ms;
        ASSERT_EQ(ms % 60000, 0) << key;
        const int64_t minute = ms / 1000;
        EXPECT_TRUE(minutes.count(minute) || (minutes.count(minute + 60) && minute > 0))
            << key << ": unexpected sample at " << minute;
      }
      const bool volts = key.starts_with("iotawatt_voltage_volts");
      for (const auto& [minute, value] : minutes) {
        const auto sample = samples.find(minute);
        ASSERT_NE(sample, samples.end()) << key << ": no sample at " << minute;
        if (truth.partial.count(minute) != 0) {
          continue;
        }
        const double tolerance = volts ? 0.0051 : 1e-6 * std::max(1.0, std::abs(value));
        ASSERT_NEAR(sample->second, value, tolerance) << key << " at " << minute;
        ++compared;
      }
      EXPECT_LE(samples.size(), minutes.size() + 2) << key;
    }
    EXPECT_EQ(gauges.size(), truth.series.size());
    EXPECT_GT(compared, 0u);
  }

  // Every derived energy counter rises from one sample to the next by the derived power of
  // the first one's minute times 60 s (minutes without a sample add nothing), so it holds
  // a sample wherever the power does; `starts_at_zero`: and begins at 0 J.
  void ExpectDerivedEnergyFollowsPower(bool starts_at_zero) {
    const auto power = vm_->Export("iotawatt_derived_power_watts");
    size_t minutes = 0;
    std::map<std::string, std::map<int64_t, double>> watts;
    for (const auto& [key, samples] : power) {
      minutes += samples.size();
      watts[Label(key, "name")].insert(samples.begin(), samples.end());
    }
    const auto energy = vm_->ExportWhenCount("iotawatt_derived_energy_joules_total", minutes);
    ASSERT_EQ(energy.size(), power.size());
    for (const auto& [key, samples] : energy) {
      const auto& minute_watts = watts.at(Label(key, "name"));
      ASSERT_EQ(samples.size(), minute_watts.size()) << key;
      if (starts_at_zero) {
        EXPECT_EQ(samples.front().second, 0) << key;
      }
      for (size_t i = 0; i + 1 < samples.size(); ++i) {
        const double expected = minute_watts.at(samples[i].first) * 60;
        ASSERT_NEAR(samples[i + 1].second - samples[i].second, expected, 1e-4)
            << key << " at " << samples[i].first;
      }
    }
  }

  std::unique_ptr<sim::Simulator> simulator_;
  std::unique_ptr<VmProcess> vm_;
  config::Config config_;
  std::string config_text_;
  StopSignal stop_;
};

}  // namespace iwx::backfill::testing
