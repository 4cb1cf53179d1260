// The backfill against the simulated installation and a real VictoriaMetrics.
#include "backfill/backfill.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "cli/backfill_command.hpp"
#include "derived/resolver.hpp"
#include "simulator/simulator.hpp"
#include "vm_process.hpp"

namespace iwx::backfill {
namespace {

using namespace std::chrono_literals;
using testing::Samples;
using testing::VmProcess;

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

void Replace(std::string& text, const std::string& placeholder, const std::string& value) {
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
  }

  Options MakeOptions(int64_t from, int64_t to) const {
    Options options;
    options.from = from;
    options.to = to;
    options.vm = {vm_->url(), vm_->url(), "", "", 30s};
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

  std::unique_ptr<sim::Simulator> simulator_;
  std::unique_ptr<VmProcess> vm_;
  config::Config config_;
  StopSignal stop_;
};

TEST_F(BackfillTest, writes_every_logged_minute_of_every_series_as_the_simulator_truth) {
  StartVm(true);
  constexpr int kDays = 30;
  const int64_t from = kLastMinute + 60 - kDays * kDaySeconds;
  const int64_t to = kLastMinute + 60;

  const Summary summary = RunBackfill(MakeOptions(from, to));
  const Truth truth = ComputeTruth(from, to);
  const auto gauges = ExportGauges(CountSamples(truth));

  ExpectMatches(truth, gauges);
  EXPECT_TRUE(summary.complete);
  // One request per 1000-row page of each daily window, plus the energy baseline.
  EXPECT_LE(simulator_->unit("iwatt5").stats().query_select, uint64_t(2 * (kDays + 1) + 1));

  // The outages 3 and 10 days ago are absent, not zero.
  const auto& mains = truth.series.at("iotawatt_power_watts|iwatt5|Mains_1");
  EXPECT_LT(mains.size(), static_cast<size_t>(kDays * 1440 - 40));
}

TEST_F(BackfillTest, energy_counts_up_from_the_history_start_and_skips_signed_channels) {
  StartVm(true);
  const int64_t from = kLastMinute + 60 - kDaySeconds;
  RunBackfill(MakeOptions(from, from + 3600));

  const auto energy = vm_->ExportWhenCount("iotawatt_energy_joules_total", 1);
  const auto power = vm_->Export("iotawatt_power_watts{device=\"iwatt6\",channel=\"Freezer\"}");
  const Samples* freezer = nullptr;
  for (const auto& [key, samples] : energy) {
    EXPECT_EQ(key.find("channel=Solar"), std::string::npos) << "signed channel " << key;
    if (key.find("channel=Freezer") != std::string::npos) {
      freezer = &samples;
      EXPECT_NE(key.find("direction=positive"), std::string::npos);
    }
  }
  ASSERT_NE(freezer, nullptr);
  ASSERT_EQ(power.size(), 1u);
  const Samples& watts = power.begin()->second;
  ASSERT_EQ(freezer->size(), 60u);
  EXPECT_GT(freezer->front().second, 0);
  for (size_t i = 0; i + 1 < freezer->size(); ++i) {
    // Joules between minute starts = average watts x 60 s.
    EXPECT_NEAR((*freezer)[i + 1].second - (*freezer)[i].second, watts[i].second * 60, 1e-3);
  }
}

TEST_F(BackfillTest, resumes_after_an_interruption_with_no_minute_missing_or_twice) {
  for (const bool dedup : {false, true}) {
    StartVm(dedup);
    const int64_t from = kLastMinute + 60 - 4 * kDaySeconds;
    const int64_t to = kLastMinute + 60;
    Options options = MakeOptions(from, to);
    options.max_batches = 2;
    EXPECT_FALSE(RunBackfill(options).complete);

    options.max_batches = 0;
    options.resume = true;
    // 204 is not visible at once: wait until the first run's batches can be seen.
    vm_->ExportWhenCount("iotawatt_power_watts{channel=\"Mains_1\",device=\"iwatt5\"}", 1000);
    std::this_thread::sleep_for(2s);
    EXPECT_TRUE(RunBackfill(options).complete);

    const Truth truth = ComputeTruth(from, to);
    ExpectMatches(truth, ExportGauges(CountSamples(truth)));

    // Nothing left to do: a third run writes nothing.
    std::this_thread::sleep_for(2s);
    EXPECT_EQ(RunBackfill(options).samples, 0u) << "dedup " << dedup;
  }
}

TEST_F(BackfillTest, waits_for_victoriametrics_to_come_back) {
  StartVm(true);
  vm_->Stop();
  const int64_t from = kLastMinute + 60 - 2 * kDaySeconds;
  const int64_t to = kLastMinute + 60;

  std::thread restart([this] {
    std::this_thread::sleep_for(2s);
    vm_->Start();
  });
  const Summary summary = RunBackfill(MakeOptions(from, to));
  restart.join();

  EXPECT_TRUE(summary.complete);
  EXPECT_GT(summary.retries, 0u);
  const Truth truth = ComputeTruth(from, to);
  ExpectMatches(truth, ExportGauges(CountSamples(truth)));
}

TEST_F(BackfillTest, gives_up_when_victoriametrics_stays_down_and_a_rerun_completes) {
  StartVm(true);
  vm_->Stop();
  const int64_t from = kLastMinute + 60 - kDaySeconds;
  Options options = MakeOptions(from, kLastMinute + 60);
  options.vm_retry.deadline = 1s;

  try {
    RunBackfill(options);
    ADD_FAILURE() << "no error";
  } catch (const VmError& error) {
    EXPECT_NE(std::string(error.what()).find("did not accept the request within 1 s"),
              std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("re-run with --resume"), std::string::npos);
  }

  vm_->Start();
  options.resume = true;
  EXPECT_TRUE(RunBackfill(options).complete);
  const Truth truth = ComputeTruth(from, kLastMinute + 60);
  ExpectMatches(truth, ExportGauges(CountSamples(truth)));
}

// TODO: --repair skips a missing day between two backfilled days on some machines; disabled
// until the gap search is fixed.
TEST_F(BackfillTest, DISABLED_repair_reads_only_the_missing_day_from_the_devices) {
  StartVm(false);
  const int64_t day = 86400;
  const int64_t from = (kLastMinute / day - 6) * day;  // three whole days without outages
  RunBackfill(MakeOptions(from, from + day));
  RunBackfill(MakeOptions(from + 2 * day, from + 3 * day));
  vm_->ExportWhenCount("iotawatt_power_watts{channel=\"Mains_1\",device=\"iwatt5\"}", 2 * 1440);
  std::this_thread::sleep_for(2s);

  const auto before = simulator_->unit("iwatt5").stats().query_select;
  Options options = MakeOptions(from, from + 3 * day);
  options.repair = true;
  EXPECT_TRUE(RunBackfill(options).complete);

  // 1440 rows in pages of 1000, and the energy baseline.
  EXPECT_EQ(simulator_->unit("iwatt5").stats().query_select - before, 3u);
  const Truth truth = ComputeTruth(from, from + 3 * day);
  ExpectMatches(truth, ExportGauges(CountSamples(truth)));
}

TEST_F(BackfillTest, retries_device_errors_and_hangs_without_skipping_minutes) {
  StartVm(true);
  const int64_t from = kLastMinute + 60 - 2 * kDaySeconds;
  const int64_t to = kLastMinute + 60;
  auto& unit = simulator_->unit("iwatt6");

  unit.SetFault({sim::FaultKind::kHttp500, 0ms});
  std::thread faults([&unit] {
    std::this_thread::sleep_for(1s);
    unit.SetFault({sim::FaultKind::kHang, 0ms});
    std::this_thread::sleep_for(3s);
    unit.SetFault({sim::FaultKind::kGarbage, 0ms});
    std::this_thread::sleep_for(1s);
    unit.SetFault({});
  });
  const Summary summary = RunBackfill(MakeOptions(from, to));
  faults.join();

  EXPECT_GT(summary.retries, 0u);
  const Truth truth = ComputeTruth(from, to);
  ExpectMatches(truth, ExportGauges(CountSamples(truth)));
}

TEST_F(BackfillTest, rejects_bad_arguments_with_clear_messages) {
  StartVm(true);
  Options options = MakeOptions(kLastMinute, kLastMinute - 3600);
  try {
    RunBackfill(options);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(),
                 "--from 2026-01-01T11:59:00Z is not before --to 2026-01-01T10:59:00Z; expected "
                 "a range of at least one minute");
  }

  options = MakeOptions(kLastMinute - 3600, kLastMinute);
  options.devices = {"iwatt9"};
  try {
    RunBackfill(options);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(),
                 "--device: unknown device \"iwatt9\" in test.toml; expected one of iwatt5, "
                 "iwatt6");
  }

  options = MakeOptions(kLastMinute - 3600, kLastMinute);
  vm_->Stop();
  options.vm_retry.deadline = 500ms;
  try {
    RunBackfill(options);
    ADD_FAILURE() << "no error";
  } catch (const VmError& error) {
    EXPECT_NE(std::string(error.what()).find(vm_->url()), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("Connection"), std::string::npos) << error.what();
  }
}

TEST_F(BackfillTest, writes_openmetrics_files_and_plans_without_writing) {
  StartVm(true);
  const std::string path = ::testing::TempDir() + "/backfill.om";
  Options options = MakeOptions(kLastMinute - 600, kLastMinute);
  options.output_file = path;
  options.format = FileFormat::kOpenMetrics;
  RunBackfill(options);

  std::ifstream file(path);
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("# TYPE iotawatt_power_watts gauge\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE iotawatt_energy_joules counter\n"), std::string::npos);
  EXPECT_NE(text.find("iotawatt_power_watts{device=\"iwatt5\",channel=\"Mains_1\",type=\"mains\","
                      "job=\"iotawatt\",instance=\"127.0.0.1:9980\"} "),
            std::string::npos);
  EXPECT_TRUE(text.ends_with("# EOF\n"));

  options = MakeOptions(kLastMinute - 2 * kDaySeconds, kLastMinute);
  options.plan = true;
  std::ostringstream out;
  const auto before = simulator_->unit("iwatt5").stats().query_select;
  backfill::Run(config_, options, stop_, out);
  EXPECT_EQ(simulator_->unit("iwatt5").stats().query_select, before);
  EXPECT_NE(out.str().find("device iwatt5: 2025-12-30T11:59:00Z to 2026-01-01T11:59:00Z"),
            std::string::npos)
      << out.str();
}

}  // namespace
}  // namespace iwx::backfill
