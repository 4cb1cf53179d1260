// The exporter against the simulated installation: every value is compared with the
// simulator's generator, never with the exporter's own arithmetic.
#include <algorithm>
#include <cmath>
#include <mutex>

#include <gtest/gtest.h>
#include <httplib.h>

#include "harness.hpp"
#include "log/log.hpp"

namespace iwx::testing {
namespace {

using std::chrono::seconds;

// 2026-06-21 12:00:00 UTC: midsummer noon, both solar systems producing.
constexpr int64_t kNoon = 1782043200;

// Energy per record is read to the nWh: averages are far closer than this.
constexpr double kPowerTolerance = 1e-3;
constexpr double kVoltageTolerance = 0.006;

struct DerivedTruth {
  double load;
  double solar;
  double grid_import;
  double grid_export;
};

DerivedTruth DerivedAt(const Harness& harness, int64_t time) {
  DerivedTruth truth{};
  truth.load = harness.Truth("iwatt5", "Mains_1", time) + harness.Truth("iwatt5", "Mains_2", time);
  const double solar_a =
      harness.Truth("iwatt5", "SolarA_1", time) + harness.Truth("iwatt5", "SolarA_2", time);
  const double solar_b =
      harness.Truth("iwatt6", "SolarB_1", time) + harness.Truth("iwatt6", "SolarB_2", time);
  truth.solar = std::max(0.0, solar_a + solar_b);
  truth.grid_import = std::max(0.0, truth.load - truth.solar);
  truth.grid_export = std::max(0.0, truth.solar - truth.load);
  return truth;
}

TEST(Exporter, exposes_every_channel_with_the_window_average_of_the_device_data) {
  Harness harness(kNoon);
  harness.PollAll();
  harness.Advance(seconds{10});
  harness.PollAll();
  const auto samples = harness.Scrape();

  for (const std::string unit : {"iwatt5", "iwatt6"}) {
    const auto& spec = harness.simulator().unit(unit).model().spec();
    for (const auto& input : spec.inputs) {
      const bool voltage = input.kind == sim::InputKind::kVoltage;
      const auto value =
          FindValue(samples, voltage ? "iotawatt_voltage_volts" : "iotawatt_power_watts",
                    {{"device", unit}, {"channel", input.name}});
      ASSERT_TRUE(value.has_value()) << unit << "." << input.name;
      const double expected = harness.TruthMean(unit, input.name, kNoon, kNoon + 10);
      EXPECT_NEAR(*value, expected, voltage ? kVoltageTolerance : kPowerTolerance)
          << unit << "." << input.name;
    }
    EXPECT_EQ(FindValue(samples, "iotawatt_up", {{"device", unit}}), 1);
    EXPECT_EQ(FindValue(samples, "iotawatt_last_record_timestamp_seconds", {{"device", unit}}),
              kNoon + 10);
  }
}

TEST(Exporter, evaluates_derived_series_per_record) {
  Harness harness(kNoon);
  harness.PollAll();
  harness.Advance(seconds{10});
  harness.PollAll();
  const auto samples = harness.Scrape();

  DerivedTruth mean{};
  for (const int64_t time : {kNoon, kNoon + 5}) {
    const auto truth = DerivedAt(harness, time);
    mean.load += truth.load / 2;
    mean.solar += truth.solar / 2;
    mean.grid_import += truth.grid_import / 2;
    mean.grid_export += truth.grid_export / 2;
  }
  const auto derived = [&](const std::string& name) {
    const auto value = FindValue(samples, "iotawatt_derived_power_watts", {{"name", name}});
    EXPECT_TRUE(value.has_value()) << name;
    return value.value_or(std::nan(""));
  };
  EXPECT_NEAR(derived("load"), mean.load, 2 * kPowerTolerance);
  EXPECT_NEAR(derived("solar"), mean.solar, 4 * kPowerTolerance);
  EXPECT_NEAR(derived("grid_import"), mean.grid_import, 6 * kPowerTolerance);
  EXPECT_NEAR(derived("grid_export"), mean.grid_export, 6 * kPowerTolerance);
  EXPECT_GT(mean.solar, 0) << "the test time should have solar production";
  EXPECT_EQ(CountSamples(samples, "iotawatt_derived_power_watts"), 6u);
}

TEST(Exporter, applies_label_rules_and_device_health) {
  Harness harness(kNoon);
  harness.PollAll();
  const auto samples = harness.Scrape();

  EXPECT_TRUE(FindValue(samples, "iotawatt_power_watts",
                        {{"device", "iwatt5"}, {"channel", "Mains_1"}, {"type", "mains"}}));
  EXPECT_FALSE(FindValue(samples, "iotawatt_power_watts",
                         {{"device", "iwatt5"}, {"channel", "SolarA_1"}, {"type", "mains"}}));
  EXPECT_EQ(FindValue(samples, "iotawatt_device_info", {{"device", "iwatt5"}}), 1);
  EXPECT_TRUE(FindValue(samples, "iotawatt_device_log_first_timestamp_seconds",
                        {{"device", "iwatt6"}, {"log", "history"}}));
  EXPECT_EQ(FindValue(samples, "iotawatt_exporter_build_info", {}), 1);
}

TEST(Exporter, polls_units_behind_digest_authentication_reusing_the_nonce) {
  Harness harness(kNoon, {{}, "", "secret7"});
  harness.PollAll();
  for (int poll = 0; poll < 3; ++poll) {
    harness.Advance(seconds{10});
    harness.PollAll();
  }
  const auto samples = harness.Scrape();

  EXPECT_EQ(FindValue(samples, "iotawatt_up", {{"device", "iwatt5"}}), 1);
  const auto value =
      FindValue(samples, "iotawatt_power_watts", {{"device", "iwatt5"}, {"channel", "Mains_1"}});
  ASSERT_TRUE(value);
  EXPECT_NEAR(*value, harness.TruthMean("iwatt5", "Mains_1", kNoon + 20, kNoon + 30),
              kPowerTolerance);
  // One challenge for the whole session: the nonce is reused with an increasing count.
  EXPECT_EQ(harness.simulator().unit("iwatt5").stats().unauthorized, 1u);
}

TEST(Exporter, sends_one_query_per_device_per_poll) {
  Harness harness(kNoon);
  harness.PollAll();
  const auto before = harness.simulator().unit("iwatt5").stats();
  for (int poll = 0; poll < 5; ++poll) {
    harness.Advance(seconds{10});
    harness.PollAll();
  }
  const auto after = harness.simulator().unit("iwatt5").stats();

  EXPECT_EQ(after.query_select - before.query_select, 5u);
  EXPECT_EQ(after.query_series - before.query_series, 0u);
}

TEST(Exporter, reads_missed_records_after_a_pause_without_loss) {
  Harness harness(kNoon);
  harness.PollAll();
  harness.Advance(seconds{10});
  harness.PollAll();

  // Ten minutes without polls: the next poll reads all 120 records in one query.
  harness.Advance(seconds{600});
  harness.PollAll();
  const auto samples = harness.Scrape();

  EXPECT_EQ(FindValue(samples, "iotawatt_last_record_timestamp_seconds", {{"device", "iwatt5"}}),
            kNoon + 610);
  const auto value =
      FindValue(samples, "iotawatt_power_watts", {{"device", "iwatt6"}, {"channel", "SolarB_1"}});
  ASSERT_TRUE(value);
  EXPECT_NEAR(*value, harness.TruthMean("iwatt6", "SolarB_1", kNoon + 10, kNoon + 610),
              kPowerTolerance);
}

/// Collects log lines for the duration of a test.
class LogCapture {
 public:
  LogCapture() {
    log::SetSink([this](std::string_view line) {
      const std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() { log::SetSink({}); }

  size_t Count(const std::string& message, const std::string& device) const {
    const std::lock_guard lock(mutex_);
    return std::count_if(lines_.begin(), lines_.end(), [&](const std::string& line) {
      return line.find("msg=\"" + message + "\"") != std::string::npos &&
             line.find("device=" + device) != std::string::npos;
    });
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

struct FaultCase {
  sim::FaultKind kind;
  std::vector<std::string> reasons;
};

std::string FaultName(const ::testing::TestParamInfo<FaultCase>& param) {
  switch (param.param.kind) {
    case sim::FaultKind::kRefuse:
      return "refused";
    case sim::FaultKind::kHttp500:
      return "http_500";
    case sim::FaultKind::kGarbage:
      return "garbage";
    case sim::FaultKind::kTruncated:
      return "truncated";
    default:
      return "hang";
  }
}

class ExporterFault : public ::testing::TestWithParam<FaultCase> {};

TEST_P(ExporterFault, marks_only_the_faulty_device_down_logs_once_and_recovers) {
  LogCapture logs;
  Harness harness(kNoon);
  harness.PollAll();

  harness.simulator().unit("iwatt6").SetFault({GetParam().kind, std::chrono::milliseconds{0}});
  for (int poll = 0; poll < 2; ++poll) {
    harness.Advance(seconds{10});
    harness.PollAll();
  }
  auto samples = harness.Scrape();
  EXPECT_EQ(FindValue(samples, "iotawatt_up", {{"device", "iwatt6"}}), 0);
  EXPECT_EQ(FindValue(samples, "iotawatt_up", {{"device", "iwatt5"}}), 1);
  EXPECT_TRUE(
      FindValue(samples, "iotawatt_power_watts", {{"device", "iwatt5"}, {"channel", "Mains_1"}}));
  EXPECT_FALSE(
      FindValue(samples, "iotawatt_power_watts", {{"device", "iwatt6"}, {"channel", "SolarB_1"}}));
  EXPECT_FALSE(FindValue(samples, "iotawatt_derived_power_watts", {{"name", "solar"}}));
  EXPECT_TRUE(FindValue(samples, "iotawatt_derived_power_watts", {{"name", "load"}}));
  double errors = 0;
  for (const auto& reason : GetParam().reasons) {
    errors +=
        FindValue(samples, "iotawatt_poll_errors_total", {{"device", "iwatt6"}, {"reason", reason}})
            .value_or(0);
  }
  EXPECT_EQ(errors, 2);
  EXPECT_EQ(logs.Count("device down", "iwatt6"), 1u);
  EXPECT_EQ(logs.Count("device down", "iwatt5"), 0u);

  harness.simulator().unit("iwatt6").SetFault({});
  harness.Advance(seconds{10});
  harness.PollAll();
  samples = harness.Scrape();
  EXPECT_EQ(FindValue(samples, "iotawatt_up", {{"device", "iwatt6"}}), 1);
  EXPECT_EQ(logs.Count("device up", "iwatt6"), 2u);  // at the first poll and on recovery
  EXPECT_EQ(FindValue(samples, "iotawatt_last_record_timestamp_seconds", {{"device", "iwatt6"}}),
            kNoon + 30);
  EXPECT_TRUE(FindValue(samples, "iotawatt_derived_power_watts", {{"name", "solar"}}));
}

INSTANTIATE_TEST_SUITE_P(Faults, ExporterFault,
                         ::testing::Values(FaultCase{sim::FaultKind::kRefuse, {"connect"}},
                                           FaultCase{sim::FaultKind::kHttp500, {"http_status"}},
                                           FaultCase{sim::FaultKind::kGarbage, {"decode"}},
                                           FaultCase{sim::FaultKind::kTruncated,
                                                     {"decode", "connect"}},
                                           FaultCase{sim::FaultKind::kHang, {"timeout"}}),
                         FaultName);

TEST(ExporterServer, answers_scrapes_while_a_device_hangs_and_stops_promptly) {
  Harness harness(kNoon);
  harness.simulator().unit("iwatt6").SetFault({sim::FaultKind::kHang, {}});
  harness.exporter().Start();

  httplib::Client client("127.0.0.1", harness.exporter().port());
  client.set_read_timeout(1, 0);
  const auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics) << httplib::to_string(metrics.error());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("iotawatt_exporter_build_info"), std::string::npos);
  const auto healthy = client.Get("/-/healthy");
  ASSERT_TRUE(healthy);
  EXPECT_EQ(healthy->status, 200);

  harness.exporter().Stop();
}

}  // namespace
}  // namespace iwx::testing
