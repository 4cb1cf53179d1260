#include "derived/resolver.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace iwx::derived {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Series i sits on line i + 1 with its text starting at column 11, so a problem at
// expression column c is reported at file column 10 + c.
std::vector<config::DerivedSeries> Series(
    const std::vector<std::pair<std::string, std::string>>& definitions) {
  std::vector<config::DerivedSeries> series;
  for (const auto& [name, expression] : definitions) {
    const int line = static_cast<int>(series.size()) + 1;
    series.push_back({name, expression, config::Location{"c.toml", line, 10}, 11});
  }
  return series;
}

config::Config ConfigWith(const std::vector<std::string>& devices,
                          std::vector<config::DerivedSeries> series) {
  config::Config config;
  for (const auto& name : devices) {
    config::DeviceConfig device;
    device.name = name;
    config.devices.push_back(device);
  }
  config.derived = std::move(series);
  return config;
}

const Inventory kInventory = {
    {"iwatt5", {"Mains_1", "Mains_2", "Voltage", "SolarA_1", "SolarA_2"}},
    {"iwatt6", {"Voltage", "SolarB_1", "Heat_pump", "A", "B", "C", "D", "E", "F", "G", "H"}},
};

std::vector<std::string> Messages(const DerivedSet& set) {
  std::vector<std::string> messages;
  for (const auto& problem : set.problems()) {
    messages.push_back(problem.message);
  }
  return messages;
}

TEST(Resolve, binds_bare_names_to_the_only_device_reporting_them) {
  const auto set = DerivedSet::Resolve(Series({{"heat", "Heat_pump * 2"}}), kInventory);

  EXPECT_TRUE(set.problems().empty());
  EXPECT_EQ(set.names(), std::vector<std::string>{"heat"});
  EXPECT_EQ(set.inputs(), (std::vector<ChannelKey>{{"iwatt6", "Heat_pump"}}));
  EXPECT_EQ(set.InputsOf(0), std::vector<size_t>{0});

  std::vector<double> out(1);
  set.Evaluate(std::vector<double>{21}, out);
  EXPECT_DOUBLE_EQ(out[0], 42);
}

TEST(Resolve, prefers_derived_series_to_channels_of_the_same_name) {
  const auto set = DerivedSet::Resolve(
      Series({{"Heat_pump", "iwatt6.Heat_pump - 1"}, {"twice", "Heat_pump * 2"}}), kInventory);

  EXPECT_TRUE(set.problems().empty());
  std::vector<double> out(2);
  set.Evaluate(std::vector<double>{11}, out);
  EXPECT_DOUBLE_EQ(out[0], 10);
  EXPECT_DOUBLE_EQ(out[1], 20);
}

TEST(Resolve, binds_device_qualified_names) {
  const auto set =
      DerivedSet::Resolve(Series({{"volts", "(iwatt5.Voltage + iwatt6.Voltage) / 2"}}), kInventory);

  EXPECT_TRUE(set.problems().empty());
  EXPECT_EQ(set.inputs(), (std::vector<ChannelKey>{{"iwatt5", "Voltage"}, {"iwatt6", "Voltage"}}));
  std::vector<double> out(1);
  set.Evaluate(std::vector<double>{230, 240}, out);
  EXPECT_DOUBLE_EQ(out[0], 235);
}

TEST(Resolve, evaluates_in_dependency_order_with_transitive_inputs) {
  const auto set = DerivedSet::Resolve(Series({
                                           {"grid", "max(0, load - solar)"},
                                           {"solar", "SolarA_1 + SolarA_2 + SolarB_1"},
                                           {"load", "Mains_1 + Mains_2"},
                                       }),
                                       kInventory);

  ASSERT_TRUE(set.problems().empty());
  EXPECT_EQ(set.names(), (std::vector<std::string>{"grid", "solar", "load"}));
  const std::vector<ChannelKey> inputs = {{"iwatt5", "Mains_1"},
                                          {"iwatt5", "Mains_2"},
                                          {"iwatt5", "SolarA_1"},
                                          {"iwatt5", "SolarA_2"},
                                          {"iwatt6", "SolarB_1"}};
  EXPECT_EQ(set.inputs(), inputs);
  EXPECT_EQ(set.InputsOf(0), (std::vector<size_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(set.InputsOf(1), (std::vector<size_t>{2, 3, 4}));
  EXPECT_EQ(set.InputsOf(2), (std::vector<size_t>{0, 1}));

  std::vector<double> out(3);
  set.Evaluate(std::vector<double>{1000, 500, 300, 200, 100}, out);
  EXPECT_DOUBLE_EQ(out[0], 900);
  EXPECT_DOUBLE_EQ(out[1], 600);
  EXPECT_DOUBLE_EQ(out[2], 1500);

  set.Evaluate(std::vector<double>{1000, 500, kNaN, 200, 100}, out);
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_TRUE(std::isnan(out[1]));
  EXPECT_DOUBLE_EQ(out[2], 1500);
}

TEST(Resolve, reports_ambiguous_bare_names) {
  const auto set = DerivedSet::Resolve(Series({{"v", "2 * Voltage"}}), kInventory);

  EXPECT_TRUE(set.names().empty());
  ASSERT_EQ(set.problems().size(), 1u);
  EXPECT_EQ(set.problems()[0].message,
            "c.toml:1:15: derived.v: channel \"Voltage\" is ambiguous: reported by iwatt5 and "
            "iwatt6; write DEVICE.Voltage");
  EXPECT_FALSE(set.problems()[0].pending);
}

TEST(Resolve, reports_unknown_channels_with_similar_names) {
  const auto set = DerivedSet::Resolve(Series({
                                           {"a", "mains_1 + 1"},
                                           {"b", "Mains + 1"},
                                           {"c", "Nothing_like_it"},
                                           {"d", "iwatt5.mains1"},
                                           {"e", "iwatt6.Mains_1"},
                                           {"f", "iwatt5.Zzz"},
                                       }),
                                       kInventory);

  EXPECT_TRUE(set.names().empty());
  EXPECT_EQ(Messages(set),
            (std::vector<std::string>{
                "c.toml:1:11: derived.a: unknown channel \"mains_1\": no device reports it; did "
                "you mean \"Mains_1\"?",
                "c.toml:2:11: derived.b: unknown channel \"Mains\": no device reports it; did "
                "you mean \"Mains_1\" or \"Mains_2\"?",
                "c.toml:3:11: derived.c: unknown channel \"Nothing_like_it\": no device reports "
                "it",
                "c.toml:4:11: derived.d: unknown channel \"mains1\" on iwatt5; did you mean "
                "\"Mains_1\"?",
                "c.toml:5:11: derived.e: unknown channel \"Mains_1\" on iwatt6; it reports "
                "Voltage, SolarB_1, Heat_pump, A, B, C, D, E and 3 more",
                "c.toml:6:11: derived.f: unknown channel \"Zzz\" on iwatt5; it reports Mains_1, "
                "Mains_2, Voltage, SolarA_1, SolarA_2",
            }));
  for (const auto& problem : set.problems()) {
    EXPECT_FALSE(problem.pending) << problem.message;
  }
}

TEST(Resolve, reports_channels_of_undiscovered_devices_as_pending) {
  const auto config = ConfigWith({"iwatt5", "iwatt6", "iwatt7"},
                                 Series({{"grid", "Grid_1"}, {"x", "iwatt7.Grid_1 + Mains_1"}}));

  const auto set = DerivedSet::Resolve(config, kInventory);

  EXPECT_TRUE(set.names().empty());
  EXPECT_EQ(Messages(set),
            (std::vector<std::string>{
                "c.toml:1:11: derived.grid: channel \"Grid_1\" is not reported by any device "
                "yet; waiting for iwatt7 to report their channels",
                "c.toml:2:11: derived.x: \"iwatt7.Grid_1\": device iwatt7 has not reported its "
                "channels yet",
            }));
  EXPECT_TRUE(set.problems()[0].pending);
  EXPECT_TRUE(set.problems()[1].pending);
}

TEST(Resolve, treats_qualified_devices_missing_from_the_inventory_as_pending) {
  const auto set =
      DerivedSet::Resolve(Series({{"x", "iwatt7.Grid_1"}, {"y", "Grid_2"}}), kInventory);

  EXPECT_EQ(Messages(set),
            (std::vector<std::string>{
                "c.toml:1:11: derived.x: \"iwatt7.Grid_1\": device iwatt7 has not reported its "
                "channels yet",
                "c.toml:2:11: derived.y: channel \"Grid_2\" is not reported by any device yet; "
                "waiting for iwatt7 to report their channels",
            }));
}

TEST(Resolve, prefers_errors_to_pending_problems) {
  const auto config =
      ConfigWith({"iwatt5", "iwatt7"}, Series({{"x", "iwatt7.Grid_1 + iwatt5.Nope"}}));

  const auto set = DerivedSet::Resolve(config, Inventory{{"iwatt5", {"Mains_1"}}});

  ASSERT_EQ(set.problems().size(), 1u);
  EXPECT_EQ(set.problems()[0].message,
            "c.toml:1:27: derived.x: unknown channel \"Nope\" on iwatt5; it reports Mains_1");
  EXPECT_FALSE(set.problems()[0].pending);
}

TEST(Resolve, leaves_series_unbound_when_a_dependency_is) {
  const auto config = ConfigWith({"iwatt5", "iwatt6", "iwatt7"}, Series({
                                                                     {"total", "base + waiting"},
                                                                     {"base", "iwatt5.Nope"},
                                                                     {"waiting", "iwatt7.Grid"},
                                                                     {"more", "waiting * 2"},
                                                                     {"fine", "Mains_1"},
                                                                 }));

  const auto set = DerivedSet::Resolve(config, kInventory);

  EXPECT_EQ(set.names(), std::vector<std::string>{"fine"});
  EXPECT_EQ(Messages(set),
            (std::vector<std::string>{
                "c.toml:1:11: derived.total: depends on derived series \"base\", which cannot be "
                "evaluated (see derived.base)",
                "c.toml:2:11: derived.base: unknown channel \"Nope\" on iwatt5; it reports "
                "Mains_1, Mains_2, Voltage, SolarA_1, SolarA_2",
                "c.toml:3:11: derived.waiting: \"iwatt7.Grid\": device iwatt7 has not reported "
                "its channels yet",
                "c.toml:4:11: derived.more: depends on derived series \"waiting\", which cannot "
                "be evaluated yet (see derived.waiting)",
            }));
  EXPECT_EQ(set.problems()[0].depends_on, "base");
  EXPECT_FALSE(set.problems()[0].pending);
  EXPECT_EQ(set.problems()[3].depends_on, "waiting");
  EXPECT_TRUE(set.problems()[3].pending);
  EXPECT_EQ(set.problems()[1].depends_on, "");
}

TEST(Resolve, names_cycles_from_each_member) {
  const auto set = DerivedSet::Resolve(
      Series({{"a", "b + Mains_1"}, {"b", "c * 2"}, {"c", "a"}, {"d", "c + 1"}}), kInventory);

  EXPECT_TRUE(set.names().empty());
  EXPECT_EQ(Messages(set),
            (std::vector<std::string>{
                "c.toml:1:11: derived.a: cycle between derived series: a -> b -> c -> a",
                "c.toml:2:11: derived.b: cycle between derived series: b -> c -> a -> b",
                "c.toml:3:11: derived.c: cycle between derived series: c -> a -> b -> c",
                "c.toml:4:11: derived.d: depends on derived series \"c\", which cannot be "
                "evaluated (see derived.c)",
            }));
}

TEST(Resolve, reports_syntax_errors_and_non_devices) {
  const auto set =
      DerivedSet::Resolve(Series({{"a", "1 +"}, {"b", "a.x"}, {"c", "Mains_1"}}), kInventory);

  EXPECT_EQ(set.names(), std::vector<std::string>{"c"});
  EXPECT_EQ(Messages(set),
            (std::vector<std::string>{
                "c.toml:1:14: derived.a: expected a number, a name or '(' but found the end of "
                "the expression at column 4 of \"1 +\"",
                "c.toml:2:11: derived.b: \"a.x\": a is a derived series, not a device, and has no "
                "channels; write a",
            }));
}

TEST(Resolve, reports_locations_of_the_value_when_columns_do_not_map) {
  auto series = Series({{"v", "Voltage"}});
  series[0].first_column = 0;

  const auto set = DerivedSet::Resolve(series, kInventory);

  ASSERT_EQ(set.problems().size(), 1u);
  EXPECT_EQ(set.problems()[0].location.column, 10);
  EXPECT_EQ(set.problems()[0].series, "v");
}

TEST(Resolve, evaluates_nothing_without_series) {
  const auto set = DerivedSet::Resolve(std::vector<config::DerivedSeries>{}, kInventory);

  EXPECT_TRUE(set.names().empty());
  EXPECT_TRUE(set.inputs().empty());
  std::vector<double> out;
  set.Evaluate({}, out);
  DerivedSet empty;
  empty.Evaluate({}, out);
}

}  // namespace
}  // namespace iwx::derived
