#include <iostream>
#include <sstream>

#include <gtest/gtest.h>

#include "cli/commands.hpp"
#include "cli/discover_command.hpp"
#include "config/config.hpp"
#include "simulator/simulator.hpp"

namespace iwx::cli {
namespace {

DiscoveredDevice ExampleDevice() {
  DiscoveredDevice device;
  device.name = "iwatt5";
  device.url = "http://10.0.0.5";
  device.series = {{"Voltage", "Volts"},  {"Mains_1", "Watts"}, {"Mains_2", "Watts"},
                   {"SolarA_1", "Watts"}, {"Fridge", "Watts"},  {"mains_aux", "Watts"},
                   {"House_PF", "PF"},    {"Solar_A", "Watts"}};
  device.outputs = {"House_PF", "Solar_A"};
  return device;
}

// The text with the commented [derived] section and channel list switched on.
std::string Uncommented(const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  std::string result;
  bool in_derived = false;
  while (std::getline(lines, line)) {
    if (line == "# [derived]") {
      in_derived = true;
    }
    if (in_derived && line.starts_with("# ")) {
      line = line.substr(2);
    }
    result += line + "\n";
  }
  return result;
}

TEST(Discover, sanitises_the_device_name) {
  EXPECT_EQ(SanitizeDeviceName("IotaWatt"), "iotawatt");
  EXPECT_EQ(SanitizeDeviceName("Main Panel (garage)"), "main_panel_garage");
  EXPECT_EQ(SanitizeDeviceName("2nd-floor"), "iotawatt_2nd_floor");
  EXPECT_EQ(SanitizeDeviceName("---"), "iotawatt");
  EXPECT_EQ(SanitizeDeviceName(""), "iotawatt");
}

TEST(Discover, writes_a_configuration_that_parses) {
  const std::string text = StarterConfigText(ExampleDevice());
  const auto config = config::ParseConfig(text, "starter.toml");
  ASSERT_EQ(config.devices.size(), 1u);
  EXPECT_EQ(config.devices[0].name, "iwatt5");
  EXPECT_EQ(config.devices[0].url, "http://10.0.0.5");
  EXPECT_TRUE(config.devices[0].channels.empty());
  EXPECT_TRUE(config.derived.empty());

  EXPECT_NE(text.find("#   \"Voltage\",  # Volts\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#   \"House_PF\",  # PF (not published: only Watts and Volts are)\n"),
            std::string::npos)
      << text;

  EXPECT_EQ(config::ChannelLabels(config, "iwatt5", "Mains_1"),
            (config::Labels{{"type", "mains"}}));
  EXPECT_EQ(config::ChannelLabels(config, "iwatt5", "mains_aux"),
            (config::Labels{{"type", "mains"}}));
  EXPECT_EQ(config::ChannelLabels(config, "iwatt5", "SolarA_1"),
            (config::Labels{{"type", "solar"}}));
  EXPECT_EQ(config::ChannelLabels(config, "iwatt5", "Fridge"),
            (config::Labels{{"type", "circuit"}}));
  EXPECT_EQ(config::ChannelLabels(config, "iwatt5", "Solar_A"),
            (config::Labels{{"type", "output"}}));
  EXPECT_TRUE(config::ChannelLabels(config, "iwatt5", "Voltage").empty());
}

TEST(Discover, proposes_derived_series_that_parse_once_uncommented) {
  const auto config =
      config::ParseConfig(Uncommented(StarterConfigText(ExampleDevice())), "starter.toml");
  ASSERT_EQ(config.derived.size(), 4u);
  EXPECT_EQ(config.derived[0].name, "load");
  EXPECT_EQ(config.derived[0].expression, "iwatt5.Mains_1 + iwatt5.Mains_2 + iwatt5.mains_aux");
  EXPECT_EQ(config.derived[1].name, "solar");
  EXPECT_EQ(config.derived[1].expression, "max(0, iwatt5.SolarA_1)");
  EXPECT_EQ(config.derived[2].name, "grid_import");
  EXPECT_EQ(config.derived[3].name, "grid_export");
}

TEST(Discover, leaves_derived_series_out_without_mains_channels) {
  DiscoveredDevice device = ExampleDevice();
  device.series = {{"Fridge", "Watts"}};
  const auto config = config::ParseConfig(Uncommented(StarterConfigText(device)), "starter.toml");
  EXPECT_TRUE(config.derived.empty());
}

TEST(Discover, reads_a_simulated_device_and_prints_a_configuration_for_it) {
  sim::Simulator simulator(sim::DefaultInstallation(1782043200, 1),
                           sim::Clock::Fixed(1782043200000));
  simulator.Start("127.0.0.1", 0);
  const std::string url = simulator.unit("iwatt6").url();

  std::ostringstream captured;
  auto* previous = std::cout.rdbuf(captured.rdbuf());
  const int status = Main("iotawatt_exporter", {"discover", "--url", url});
  std::cout.rdbuf(previous);
  simulator.Stop();

  ASSERT_EQ(status, kExitOk);
  const auto config = config::ParseConfig(captured.str(), "discovered.toml");
  ASSERT_EQ(config.devices.size(), 1u);
  EXPECT_EQ(config.devices[0].name, "iwatt6");
  EXPECT_EQ(config.devices[0].url, url);
  EXPECT_NE(captured.str().find("\"SolarB_1\",  # Watts"), std::string::npos);
  EXPECT_EQ(config::ChannelLabels(config, "iwatt6", "Kitchen_Appliances"),
            (config::Labels{{"type", "output"}}));
}

TEST(Discover, refuses_an_invalid_name) {
  std::ostringstream captured;
  auto* previous = std::cerr.rdbuf(captured.rdbuf());
  const int status =
      Main("iotawatt_exporter", {"discover", "--url", "http://127.0.0.1:1", "--name", "1x"});
  std::cerr.rdbuf(previous);
  EXPECT_EQ(status, kExitUsage);
  EXPECT_EQ(captured.str(),
            "iotawatt_exporter: --name \"1x\" is not a valid device name; expected a letter or "
            "'_' followed by letters, digits or '_'\n");
}

}  // namespace
}  // namespace iwx::cli
