// The backfill against the simulated installation and a real VictoriaMetrics.
#include "backfill/backfill.hpp"

#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "fixture.hpp"

namespace iwx::backfill {
namespace {

using namespace std::chrono_literals;
using testing::BackfillTest;
using testing::kLastMinute;
using testing::Samples;
using testing::Truth;

TEST_F(BackfillTest, writes_every_logged_minute_of_every_series_as_the_simulator_truth) {
  StartVm(true);
  constexpr int kDays = 30;
  const int64_t from = kLastMinute + 60 - kDays * kDaySeconds;
  const int64_t to = kLastMinute + 60;
  Options options = MakeOptions(from, to);
  options.vm.gzip = true;  // as to a VictoriaMetrics on another machine

  const Summary summary = RunBackfill(options);
  const Truth truth = ComputeTruth(from, to);
  const auto gauges = ExportGauges(CountSamples(truth));

  ExpectMatches(truth, gauges);
  ExpectDerivedEnergyFollowsPower(true);
  EXPECT_TRUE(summary.complete);
  // One request per window of 1000 minutes, plus the energy baseline.
  const auto windows = SplitIntoWindows({from, to}, kWindowSeconds).size();
  EXPECT_EQ(windows, static_cast<size_t>(kDays * 1440 / 1000 + 1));
  EXPECT_EQ(simulator_->unit("iwatt5").stats().query_select, windows + 1);

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
    ExpectDerivedEnergyFollowsPower(true);

    // Nothing left to do: a third run writes nothing.
    std::this_thread::sleep_for(2s);
    EXPECT_EQ(RunBackfill(options).samples, 0u) << "dedup " << dedup;
  }
}

TEST_F(BackfillTest, waits_for_victoriametrics_to_come_back) {
  StartVm(true);
  const int64_t from = kLastMinute + 60 - 4 * kDaySeconds;
  const int64_t to = kLastMinute + 60;
  // A slow device keeps the run going while victoriametrics is away.
  auto& unit = simulator_->unit("iwatt5");
  unit.SetFault({sim::FaultKind::kSlow, 200ms});
  const uint64_t before = unit.stats().query_select;

  std::thread outage([&] {
    while (unit.stats().query_select < before + 2) {
      std::this_thread::sleep_for(1ms);
    }
    vm_->Stop();
    std::this_thread::sleep_for(2s);
    vm_->Start();
  });
  const Summary summary = RunBackfill(MakeOptions(from, to));
  outage.join();
  unit.SetFault({});

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

TEST_F(BackfillTest, repair_reads_only_the_missing_day_from_the_devices) {
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

  // The day lies in two windows of 1000 minutes, a request each, and the energy baseline.
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

TEST_F(BackfillTest, reads_a_device_with_digest_credentials_from_the_environment) {
  auto installation = sim::DefaultInstallation(testing::kNow, testing::kHistoryDays);
  for (auto& unit : installation.units) {
    unit.user_password = unit.name == "iwatt5" ? "s3cret" : "";
  }
  simulator_ = std::make_unique<sim::Simulator>(std::move(installation),
                                                sim::Clock::Fixed(testing::kNow * 1000));
  simulator_->Start("127.0.0.1", 0);
  StartVm(true);
  std::string text = config_text_;
  testing::Replace(
      text, "name = \"iwatt5\"\n",
      "name = \"iwatt5\"\nusername = \"user\"\npassword_env = \"IWX_TEST_PASSWORD\"\n");
  config_ = config::ParseConfig(text, "test.toml");
  const std::string path = ::testing::TempDir() + "/backfill-digest.jsonl";
  Options options = MakeOptions(kLastMinute - 600, kLastMinute);
  options.output_file = path;

  ::unsetenv("IWX_TEST_PASSWORD");
  EXPECT_THROW(RunBackfill(options), config::ConfigError);

  // A rejected password stops the run at once rather than retrying for half an hour.
  ::setenv("IWX_TEST_PASSWORD", "wrong", 1);
  EXPECT_THROW(RunBackfill(options), DeviceGaveUp);

  ::setenv("IWX_TEST_PASSWORD", "s3cret", 1);
  const Summary summary = RunBackfill(options);
  ::unsetenv("IWX_TEST_PASSWORD");
  EXPECT_TRUE(summary.complete);
  EXPECT_EQ(summary.retries, 0u);
  std::ifstream file(path);
  const std::string lines((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_NE(lines.find("\"device\":\"iwatt5\""), std::string::npos);
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
