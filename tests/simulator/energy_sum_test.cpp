// Every /query value is a difference of two log records, so the energy rows of any grouping
// add up to the group=all energy of the same span. The only slack is the printing: each row
// and the total are rounded to the printed decimals, half a unit of the last one at most.
// Standby loads have a constant power, so their minute energies repeat (17.5 W gives
// 0.291666666667 Wh every minute) and that rounding adds up in one direction; the bound
// below is the worst case of it, not a statistical allowance.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace iwx::sim {
namespace {

using testing::kNow;

constexpr double kHalfLastDecimal = 0.5e-9;  // printing error of one .d9 value

struct Window {
  std::string group;
  int64_t begin = 0;
  int64_t end = 0;
  bool has_missing_rows = false;  // covers an outage
};

std::string EnergySelect(const UnitSpec& spec) {
  std::string select = "[time.utc.unix";
  for (const InputSpec& input : spec.inputs) {
    select += "," + input.name + ".wh.d9";
  }
  return select + "]";
}

nlohmann::json Select(const UnitModel& model, const Window& window, const std::string& group) {
  const QueryResponse response = RunQuery(model, {{"select", EnergySelect(model.spec())},
                                                  {"begin", std::to_string(window.begin)},
                                                  {"end", std::to_string(window.end)},
                                                  {"group", group},
                                                  {"limit", "none"}});
  EXPECT_EQ(response.status, 200) << response.body;
  return nlohmann::json::parse(response.body);
}

// Missing rows (null) carry no energy. Summed in long double so that adding thousands of
// rows does not itself use up the printing allowance.
double SumColumn(const nlohmann::json& rows, size_t column) {
  long double sum = 0;
  for (const nlohmann::json& row : rows) {
    if (!row[column].is_null()) {
      sum += row[column].get<double>();
    }
  }
  return static_cast<double>(sum);
}

void ExpectRowsAddUpToTotal(const UnitModel& model, const Window& window) {
  SCOPED_TRACE(model.spec().name + " group=" + window.group +
               " begin=" + std::to_string(window.begin) + " end=" + std::to_string(window.end));
  const nlohmann::json rows = Select(model, window, window.group);
  // group=all is one group of end - begin seconds from the first boundary read; when that
  // read rounds begin down to the minute (history log), a short second group follows.
  const nlohmann::json all = Select(model, window, "all");
  ASSERT_GE(all.size(), 1u);
  ASSERT_LE(all.size(), 2u);
  ASSERT_GT(rows.size(), 10u);
  size_t missing = 0;
  for (const nlohmann::json& row : rows) {
    missing += row[1].is_null() ? 1 : 0;
  }
  EXPECT_EQ(missing > 0, window.has_missing_rows);
  const double bound = kHalfLastDecimal * static_cast<double>(rows.size() + all.size()) + 1e-10;
  for (size_t input = 0; input < model.spec().inputs.size(); ++input) {
    EXPECT_NEAR(SumColumn(rows, input + 1), SumColumn(all, input + 1), bound)
        << model.spec().inputs[input].name << " over " << rows.size() << " rows";
  }
}

class EnergySumTest : public ::testing::Test {
 protected:
  EnergySumTest()
      : installation_(DefaultInstallation(kNow, 30)), clock_(Clock::Fixed(kNow * 1000)) {}

  // The default installation's outages: three minutes starting 5 s into a minute ten days
  // ago, and 40 minutes (a hole in the 5-s log) three days ago.
  static const Outage& ShortOutage(const UnitSpec& spec) { return spec.outages.at(0); }
  static const Outage& LongOutage(const UnitSpec& spec) { return spec.outages.at(1); }

  Installation installation_;
  std::shared_ptr<Clock> clock_;
};

// Four days to the present (kNow is hh:mm:20): a 5-s first group and a 20-s last group read
// from the current log, minute boundaries from the history log, the long outage inside.
TEST_F(EnergySumTest, minute_and_coarser_rows_add_up_to_the_group_all_energy) {
  for (const UnitSpec& spec : installation_.units) {
    const UnitModel model(spec, clock_);
    const int64_t days_begin = kNow - 4 * 86400 - 25;
    const Outage& short_outage = ShortOutage(spec);
    for (const Window& window :
         {Window{"1m", days_begin, kNow, true}, Window{"7m", days_begin, kNow, true},
          Window{"1h", days_begin, kNow, false},
          Window{"1m", short_outage.begin - 3600, short_outage.end + 3600, true},
          Window{"1m", kNow - 86400, kNow, false}}) {
      ExpectRowsAddUpToTotal(model, window);
    }
  }
}

// With two days of 5-s log, the older half of the span exists only in the history log,
// where a begin that is not minute-aligned is read at the earlier minute.
TEST_F(EnergySumTest, minute_rows_add_up_across_the_start_of_the_current_log) {
  for (UnitSpec spec : installation_.units) {
    spec.current_log_days = 2;
    const UnitModel model(spec, clock_);
    ASSERT_GT(model.CurrentFirstKey(), kNow - 4 * 86400);
    ExpectRowsAddUpToTotal(model, {"1m", kNow - 4 * 86400 - 25, kNow, true});
  }
}

// 5-s rows read the current log between minutes and the history log on them; around both
// outages (a partly measured minute, a hole) and up to the last key.
TEST_F(EnergySumTest, five_second_rows_add_up_to_the_group_all_energy) {
  for (const UnitSpec& spec : installation_.units) {
    const UnitModel model(spec, clock_);
    const Outage& short_outage = ShortOutage(spec);
    const Outage& hole = LongOutage(spec);
    ASSERT_NE(short_outage.begin % 60, 0);
    for (const Window& window :
         {Window{"5s", short_outage.begin - 1800, short_outage.end + 1800, true},
          Window{"5s", hole.begin - 900, hole.end + 900, true},
          Window{"5s", kNow - 3600, kNow, false},
          Window{"auto", hole.begin - 1800, hole.end + 1800, true},
          Window{"auto", kNow - 3600, kNow, false}}) {
      ExpectRowsAddUpToTotal(model, window);
    }
  }
}

}  // namespace
}  // namespace iwx::sim
