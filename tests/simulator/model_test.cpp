#include <cmath>

#include <gtest/gtest.h>

#include "simulator/signals.hpp"
#include "test_support.hpp"

namespace iwx::sim {
namespace {

using testing::kNow;

TEST(Clock, fixed_clock_moves_only_when_told) {
  auto clock = Clock::Fixed(1000);
  EXPECT_EQ(clock->NowMs(), 1000);
  clock->Advance(std::chrono::milliseconds(2500));
  EXPECT_EQ(clock->NowMs(), 3500);
  EXPECT_EQ(clock->NowSeconds(), 3);
  clock->Set(42000);
  EXPECT_EQ(clock->NowSeconds(), 42);
}

TEST(Clock, real_and_accelerated_clocks_can_be_set) {
  auto real = Clock::Real();
  real->Set(int64_t{1'000'000'000} * 1000);
  EXPECT_NEAR(static_cast<double>(real->NowSeconds()), 1e9, 5);
  auto fast = Clock::Accelerated(int64_t{1'000'000'000} * 1000, 1000);
  fast->Advance(std::chrono::hours(1));
  EXPECT_GE(fast->NowSeconds(), 1'000'003'600);
}

TEST(Signals, pattern_sums_to_zero_within_a_minute) {
  for (int64_t minute = 0; minute < 50; ++minute) {
    const auto values = Patterns(1234, minute * 60);
    double sum = 0;
    for (const double value : values) {
      EXPECT_LE(std::abs(value), 1.0);
      sum += value;
    }
    EXPECT_NEAR(sum, 0, 1e-12);
  }
}

TEST(Signals, unknown_profile_is_an_error_listing_the_names) {
  try {
    ParseProfile("toaster");
    FAIL();
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("unknown profile \"toaster\": expected one of "),
              std::string::npos);
  }
}

class DefaultInstallationTest : public ::testing::Test {
 protected:
  DefaultInstallationTest()
      : installation_(DefaultInstallation(kNow, 20)), clock_(Clock::Fixed(kNow * 1000)) {}

  Installation installation_;
  std::shared_ptr<Clock> clock_;
};

TEST_F(DefaultInstallationTest, has_two_units_and_twenty_named_circuits) {
  ASSERT_EQ(installation_.units.size(), 2u);
  EXPECT_EQ(installation_.units[0].name, "iwatt5");
  EXPECT_EQ(installation_.units[1].name, "iwatt6");
  int circuits = 0;
  for (const UnitSpec& unit : installation_.units) {
    EXPECT_LE(unit.inputs.size(), 15u);
    EXPECT_EQ(unit.inputs[0].name, "Voltage");
    for (const InputSpec& input : unit.inputs) {
      if (input.kind == InputKind::kPower && input.profile != "mains" && input.profile != "solar") {
        ++circuits;
      }
    }
  }
  EXPECT_GE(circuits, 20);
}

TEST_F(DefaultInstallationTest, unsigned_channels_never_read_negative) {
  for (const UnitSpec& spec : installation_.units) {
    UnitModel model(spec, clock_);
    for (size_t input = 0; input < spec.inputs.size(); ++input) {
      if (spec.inputs[input].is_signed) {
        continue;
      }
      for (int64_t t = kNow - 86400; t < kNow; t += 35) {
        const auto value = model.TruthValue(input, t - t % 5);
        if (value) {
          ASSERT_GE(*value, 0) << spec.inputs[input].name << " at " << t;
        }
      }
    }
  }
}

TEST_F(DefaultInstallationTest, solar_produces_by_day_and_draws_a_few_watts_at_night) {
  UnitModel model(installation_.units[0], clock_);
  const size_t solar = *model.FindInput("SolarA_1");
  double day_peak = 0;
  double night_low = 0;
  for (int64_t t = kNow - 86400; t < kNow; t += 300) {
    const double value = *model.TruthValue(solar, t - t % 5);
    day_peak = std::max(day_peak, value);
    night_low = std::min(night_low, value);
  }
  EXPECT_GT(day_peak, 300);
  EXPECT_LT(night_low, 0);
  EXPECT_GT(night_low, -10);
}

TEST_F(DefaultInstallationTest, mains_carry_at_least_every_circuit) {
  UnitModel main_panel(installation_.units[0], clock_);
  UnitModel sub_panel(installation_.units[1], clock_);
  for (int64_t t = kNow - 86400; t < kNow; t += 600) {
    const int64_t key = t - t % 5;
    double mains = *main_panel.TruthValue(1, key) + *main_panel.TruthValue(2, key);
    double circuits = 0;
    for (auto* model : {&main_panel, &sub_panel}) {
      const UnitSpec& spec = model->spec();
      for (size_t i = 0; i < spec.inputs.size(); ++i) {
        if (spec.inputs[i].kind == InputKind::kPower && spec.inputs[i].profile != "mains" &&
            spec.inputs[i].profile != "solar") {
          circuits += *model->TruthValue(i, key);
        }
      }
    }
    EXPECT_GE(mains, circuits - 1e-6) << "at " << key;
  }
}

TEST_F(DefaultInstallationTest, net_metering_mains_go_negative_while_exporting) {
  UnitSpec spec = installation_.units[0];
  spec.net_metering = true;
  spec.inputs[1].is_signed = true;
  UnitModel model(spec, clock_);
  double lowest = 0;
  int sign_flips_within_minutes = 0;
  for (int64_t t = kNow - 86400; t < kNow; t += 60) {
    const int64_t minute = t - t % 60;
    lowest = std::min(lowest, *model.TruthValue(1, minute));
    bool positive = false;
    bool negative = false;
    for (int i = 0; i < 12; ++i) {
      const double value = *model.TruthValue(3, minute + 5 * i);  // SolarA_1
      positive |= value > 0;
      negative |= value < 0;
    }
    sign_flips_within_minutes += positive && negative ? 1 : 0;
  }
  EXPECT_LT(lowest, -100);
  EXPECT_GT(sign_flips_within_minutes, 0);  // solar crosses zero within a minute at dawn/dusk
}

TEST(UnitModel, records_match_the_generator_sum) {
  auto clock = Clock::Fixed(kNow * 1000);
  UnitModel model(testing::SmallUnit(), clock);
  const int64_t start = kNow - 7200 - kNow % 60 + 35;  // not minute-aligned
  const int64_t end = start + 3 * 3600 / 2 + 10;
  const LogRecord from = model.RecordAt(start);
  const LogRecord to = model.RecordAt(end);
  for (size_t input = 0; input < 4; ++input) {
    double wh = 0;
    for (int64_t t = start; t < end; t += 5) {
      wh += *model.TruthValue(input, t) * 5 / 3600;
    }
    EXPECT_NEAR(to.accum1[input] - from.accum1[input], wh, 1e-6 * std::max(1.0, std::abs(wh)));
  }
  EXPECT_NEAR(to.log_hours - from.log_hours, static_cast<double>(end - start) / 3600, 1e-9);
}

TEST(UnitModel, outage_adds_no_log_hours_and_no_truth) {
  auto clock = Clock::Fixed(kNow * 1000);
  UnitSpec spec = testing::SmallUnit();
  spec.outages = {{kNow - 3600, kNow - 1800}};
  UnitModel model(spec, clock);
  EXPECT_FALSE(model.TruthValue(1, kNow - 3000));
  EXPECT_TRUE(model.TruthValue(1, kNow - 1800));
  const LogRecord before = model.RecordAt(kNow - 3600);
  const LogRecord after = model.RecordAt(kNow - 1800);
  EXPECT_NEAR(before.log_hours, after.log_hours, 1e-12);
  EXPECT_NEAR(before.accum1[1], after.accum1[1], 1e-9);
}

TEST(UnitModel, keys_follow_the_clock) {
  auto clock = Clock::Fixed(kNow * 1000 + 700);
  UnitSpec spec = testing::SmallUnit();
  spec.current_log_days = 2;
  UnitModel model(spec, clock);
  EXPECT_EQ(model.CurrentLastKey(), kNow - kNow % 5);
  EXPECT_EQ(model.HistoryLastKey(), kNow - kNow % 60);
  EXPECT_EQ(model.HistoryFirstKey(), spec.history_start);
  EXPECT_EQ(model.CurrentFirstKey(), model.CurrentLastKey() - 2 * 86400);
  clock->Advance(std::chrono::seconds(60));
  EXPECT_EQ(model.CurrentLastKey(), kNow + 60 - kNow % 5);
}

TEST(UnitModel, records_stop_at_the_last_key_and_are_zero_before_the_log) {
  auto clock = Clock::Fixed(kNow * 1000);
  UnitSpec spec = testing::SmallUnit();
  UnitModel model(spec, clock);
  EXPECT_EQ(model.RecordAt(spec.history_start - 600).log_hours, 0);
  EXPECT_EQ(model.RecordAt(kNow + 3600).log_hours, model.RecordAt(kNow).log_hours);
}

}  // namespace
}  // namespace iwx::sim
