#include <gtest/gtest.h>

#include "simulator/simulator.hpp"

namespace iwx::sim {
namespace {

constexpr const char* kToml = R"(seed = 9
timezone_minutes = 60
history_start = 2024-01-01T00:00:00Z

[[outage]]
begin = 1704100000
end = 1704103600

[[unit]]
name = "garage"
password = "secret"
row_delay = "2ms"

  [[unit.input]]
  name = "Voltage"
  type = "VT"
  nominal = 230

  [[unit.input]]
  name = "Main"
  profile = "mains"
  nominal = 300

  [[unit.input]]
  name = "Roof"
  profile = "solar"
  signed = true
  nominal = 4000

  [[unit.output]]
  name = "Net"
  script = "@1-@2"

[[unit]]
name = "shed"
net_metering = true

  [[unit.input]]
  name = "Voltage"
  type = "VT"

  [[unit.input]]
  name = "Freezer"
  profile = "freezer"
  leg = 1
)";

TEST(ParseInstallation, reads_units_inputs_outputs_and_outages) {
  const Installation installation = ParseInstallation(kToml, "site.toml");
  ASSERT_EQ(installation.units.size(), 2u);
  const UnitSpec& garage = installation.units[0];
  EXPECT_EQ(garage.name, "garage");
  EXPECT_EQ(garage.seed, 9u);
  EXPECT_EQ(garage.timezone_minutes, 60);
  EXPECT_EQ(garage.history_start, 1704067200);
  EXPECT_EQ(garage.user_password, "secret");
  EXPECT_EQ(garage.row_delay, std::chrono::milliseconds(2));
  ASSERT_EQ(garage.inputs.size(), 3u);
  EXPECT_EQ(garage.inputs[0].kind, InputKind::kVoltage);
  EXPECT_TRUE(garage.inputs[2].is_signed);
  EXPECT_EQ(garage.outputs[0].script, "@1-@2");
  ASSERT_EQ(garage.outages.size(), 1u);
  EXPECT_EQ(garage.outages[0].end, 1704103600);
  EXPECT_TRUE(installation.units[1].net_metering);
  // The garage mains also carry the shed's freezer.
  ASSERT_EQ(garage.other_loads.size(), 1u);
  EXPECT_EQ(garage.other_loads[0].name, "Freezer");
}

std::string ParseError(const std::string& text) {
  try {
    ParseInstallation(text, "site.toml");
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "no error";
}

TEST(ParseInstallation, unknown_keys_name_file_line_and_key) {
  EXPECT_EQ(ParseError("seed = 1\ncolour = \"red\"\n"),
            "site.toml:2: unknown key \"colour\" in the top level: expected one of seed, "
            "timezone_minutes, history_start, current_log_days, net_metering, outage, unit");
  const std::string nested = ParseError(
      "[[unit]]\nname = \"a\"\n[[unit.input]]\nname = \"V\"\ntype = \"VT\"\nvolts = 3\n");
  EXPECT_EQ(nested.rfind("site.toml:6: unknown key \"volts\" in [[unit.input]]", 0), 0u) << nested;
}

TEST(ParseInstallation, invalid_values_are_quoted) {
  EXPECT_EQ(ParseError("[[unit]]\nname = \"a\"\n[[unit.input]]\nname = \"V\"\ntype = \"XT\"\n"),
            "site.toml:5: input type \"XT\": expected VT or CT");
  EXPECT_NE(ParseError("[[unit]]\nname = \"a\"\n[[unit.input]]\nname = \"L\"\nprofile = "
                       "\"toaster\"\n")
                .find("unknown profile \"toaster\""),
            std::string::npos);
  EXPECT_NE(ParseError("seed = \n").find("site.toml:1:"), std::string::npos);
  EXPECT_EQ(ParseError("seed = 1\n"),
            "site.toml:1: no [[unit]] tables: expected at least one unit");
}

}  // namespace
}  // namespace iwx::sim
