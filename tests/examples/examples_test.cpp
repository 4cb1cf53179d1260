// The files in examples/ stay true: every example configuration passes the exporter's own
// validation, and the names the dashboard, the rules and the systemd unit rely on are the
// ones the example configurations and the exporter's defaults use.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/config.hpp"

namespace iwx::config {
namespace {

namespace fs = std::filesystem;

const fs::path kExamples = fs::path(IWX_SOURCE_ROOT) / "examples";

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<fs::path> ExampleConfigs() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kExamples)) {
    if (entry.is_regular_file() && entry.path().extension() == ".toml") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> DerivedNames(const Config& config) {
  std::vector<std::string> names;
  for (const auto& series : config.derived) {
    names.push_back(series.name);
  }
  return names;
}

std::string LabelValue(const Labels& labels, const std::string& name) {
  for (const auto& [key, value] : labels) {
    if (key == name) {
      return value;
    }
  }
  return "";
}

TEST(Examples, the_documented_configurations_exist) {
  for (const char* name : {"iotawatt_exporter.toml", "two-unit-installation.toml"}) {
    EXPECT_TRUE(fs::is_regular_file(kExamples / name)) << (kExamples / name);
  }
}

TEST(Examples, every_example_configuration_is_valid) {
  const auto files = ExampleConfigs();
  ASSERT_FALSE(files.empty()) << "no *.toml in " << kExamples;
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    try {
      const Config config = LoadConfigFile(file);
      EXPECT_FALSE(config.devices.empty());
    } catch (const ConfigError& error) {
      ADD_FAILURE() << error.what();
    }
  }
}

// The dashboard and the rules query derived series by these names.
TEST(Examples, configurations_define_the_derived_series_the_dashboard_uses) {
  for (const char* name : {"iotawatt_exporter.toml", "two-unit-installation.toml"}) {
    SCOPED_TRACE(name);
    const Config config = LoadConfigFile(kExamples / name);
    const auto names = DerivedNames(config);
    for (const char* wanted : {"load", "solar", "grid_import", "grid_export"}) {
      EXPECT_NE(std::find(names.begin(), names.end(), wanted), names.end()) << wanted;
    }
  }
}

// The dashboard and the reversed-channel alert tell circuits from mains and solar by the
// `type` label.
TEST(Examples, installation_labels_mains_and_solar_by_type) {
  const Config config = LoadConfigFile(kExamples / "two-unit-installation.toml");
  EXPECT_EQ(LabelValue(ChannelLabels(config, "iwatt5", "Mains_1"), "type"), "mains");
  EXPECT_EQ(LabelValue(ChannelLabels(config, "iwatt5", "SolarA_2"), "type"), "solar");
  EXPECT_EQ(LabelValue(ChannelLabels(config, "iwatt6", "SolarB_1"), "type"), "solar");
  EXPECT_EQ(LabelValue(ChannelLabels(config, "iwatt5", "Fridge"), "type"), "circuit");
}

// The unit's StateDirectory must hold the default counter file, and its ExecStart must
// name the configuration path the exporter uses by default.
TEST(Examples, systemd_unit_matches_the_default_paths) {
  const std::string unit = ReadText(kExamples / "iotawatt_exporter.service");
  const std::string state_file = StateConfig{}.file;
  EXPECT_EQ(state_file, "/var/lib/iotawatt_exporter/counters.json");
  EXPECT_NE(unit.find("\nStateDirectory=iotawatt_exporter\n"), std::string::npos);
  EXPECT_NE(unit.find("\nExecStart=/usr/local/bin/iotawatt_exporter serve "
                      "--config.file=/etc/iotawatt_exporter/config.toml\n"),
            std::string::npos);
  EXPECT_NE(unit.find("\nDynamicUser=yes\n"), std::string::npos);
}

}  // namespace
}  // namespace iwx::config
