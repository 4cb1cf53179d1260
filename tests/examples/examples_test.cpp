// The files in examples/ stay true: every example configuration passes the exporter's own
// validation, the names the dashboard, the rules and the systemd unit rely on are the ones
// the example configurations and the exporter's defaults use, the channels of the simulated
// installation get the `type` the dashboard and the rules expect, and backfilled history
// gets the labels vmagent.yml gives the live data.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "simulator/simulator.hpp"

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

Labels Sorted(Labels labels) {
  std::sort(labels.begin(), labels.end());
  return labels;
}

// What examples/vmagent.yml scrapes, read line by line as example_queries.py does: the
// job name, the targets, the metrics path and the `labels:` of the static configuration.
struct ScrapeJob {
  std::vector<std::string> jobs;
  std::vector<std::string> targets;
  std::string metrics_path = "/metrics";
  Labels static_labels;
};

std::string Unquote(std::string text) {
  if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') &&
      text.back() == text.front()) {
    return text.substr(1, text.size() - 2);
  }
  return text;
}

size_t Indent(const std::string& line) {
  return line.find_first_not_of(' ') == std::string::npos ? line.size()
                                                          : line.find_first_not_of(' ');
}

ScrapeJob ReadVmagentConfig() {
  std::vector<std::string> lines;
  std::istringstream text(ReadText(kExamples / "vmagent.yml"));
  for (std::string line; std::getline(text, line);) {
    lines.push_back(line);
  }
  const std::regex job_name(R"(^\s*-\s+job_name:\s*(\S+)\s*$)");
  const std::regex targets(R"(^\s*-?\s*targets:\s*\[(.*)\]\s*$)");
  const std::regex quoted(R"re("([^"]*)"|'([^']*)')re");
  const std::regex metrics_path(R"(^\s*metrics_path:\s*(\S+)\s*$)");
  const std::regex labels(R"(^\s*labels:\s*$)");
  const std::regex pair(R"(^\s*(\w+):\s*(.*?)\s*$)");
  ScrapeJob job;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch match;
    if (std::regex_match(lines[i], match, job_name)) {
      job.jobs.push_back(Unquote(match[1]));
    } else if (std::regex_match(lines[i], match, targets)) {
      const std::string list = match[1];
      for (auto it = std::sregex_iterator(list.begin(), list.end(), quoted);
           it != std::sregex_iterator(); ++it) {
        job.targets.push_back((*it)[1].matched ? (*it)[1].str() : (*it)[2].str());
      }
    } else if (std::regex_match(lines[i], match, metrics_path)) {
      job.metrics_path = Unquote(match[1]);
    } else if (std::regex_match(lines[i], labels)) {
      const size_t indent = Indent(lines[i]);
      for (size_t j = i + 1; j < lines.size(); ++j) {
        const std::string& inner = lines[j];
        if (Indent(inner) == inner.size() || inner[Indent(inner)] == '#') {
          continue;
        }
        if (Indent(inner) <= indent) {
          break;
        }
        std::smatch label;
        if (!std::regex_match(inner, label, pair)) {
          ADD_FAILURE() << "vmagent.yml: cannot read label line \"" << inner << "\"";
          continue;
        }
        job.static_labels.emplace_back(label[1], Unquote(label[2]));
      }
    }
  }
  return job;
}

// The labels vmagent adds to every series it scrapes with vmagent.yml: job, instance (the
// target) and the static labels. `backfill` must add the same as extra_labels.
Labels ScrapeLabels(const ScrapeJob& job) {
  Labels labels = job.static_labels;
  labels.emplace_back("job", job.jobs.empty() ? "" : job.jobs.front());
  labels.emplace_back("instance", job.targets.empty() ? "" : job.targets.front());
  return Sorted(labels);
}

// The `type` the dashboard and the rules expect for a channel of the simulated
// installation, or "" when the exporter does not export it.
std::string ExpectedType(const sim::InputSpec& input) {
  if (input.kind == sim::InputKind::kVoltage) {
    return "voltage";
  }
  if (input.profile == "mains" || input.profile == "solar") {
    return input.profile;
  }
  return "circuit";
}

std::string ExpectedType(const sim::OutputSpec& output) {
  // Outputs add up inputs that are exported too; only Watts and Volts are exported.
  return output.units == "Watts" || output.units == "Volts" ? "output" : "";
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
TEST(Examples, installation_labels_channels_by_type) {
  const Config config = LoadConfigFile(kExamples / "two-unit-installation.toml");
  EXPECT_EQ(LabelValue(ChannelLabels(config, "iwatt5", "Mains_1"), "type"), "mains");
  EXPECT_EQ(LabelValue(ChannelLabels(config, "iwatt5", "SolarA_2"), "type"), "solar");
  EXPECT_EQ(LabelValue(ChannelLabels(config, "iwatt6", "SolarB_1"), "type"), "solar");
  EXPECT_EQ(LabelValue(ChannelLabels(config, "iwatt5", "Fridge"), "type"), "circuit");
  EXPECT_EQ(LabelValue(ChannelLabels(config, "iwatt5", "Solar_A"), "type"), "output");
  EXPECT_EQ(LabelValue(ChannelLabels(config, "iwatt5", "Total_Load"), "type"), "output");
}

// Every channel of the simulated installation that an example configuration exports gets
// the `type` the dashboard and the rules select by: an output, which adds up other
// channels, must not count as a circuit, or circuit panels and sums by type count its
// inputs twice.
TEST(Examples, channels_of_the_simulated_installation_get_their_type) {
  const sim::Installation installation = sim::DefaultInstallation(1767225600, 1);
  for (const auto& file : ExampleConfigs()) {
    SCOPED_TRACE(file.string());
    const Config config = LoadConfigFile(file);
    int checked = 0;
    for (const auto& device : config.devices) {
      const auto unit = std::find_if(installation.units.begin(), installation.units.end(),
                                     [&](const sim::UnitSpec& u) { return u.name == device.name; });
      if (unit == installation.units.end()) {
        continue;
      }
      const auto exported = [&](const std::string& channel) {
        return device.channels.empty() || std::find(device.channels.begin(), device.channels.end(),
                                                    channel) != device.channels.end();
      };
      const auto check = [&](const std::string& channel, const std::string& want) {
        if (want.empty() || !exported(channel)) {
          return;
        }
        ++checked;
        EXPECT_EQ(LabelValue(ChannelLabels(config, device.name, channel), "type"), want)
            << device.name << "." << channel;
      };
      for (const auto& input : unit->inputs) {
        check(input.name, ExpectedType(input));
      }
      for (const auto& output : unit->outputs) {
        check(output.name, ExpectedType(output));
      }
    }
    EXPECT_GT(checked, 0) << "no device named like a unit of the simulated installation";
  }
}

// History written by `backfill` and the samples vmagent scrapes with vmagent.yml must form
// one series each: extra_labels holds exactly job, instance and the static labels vmagent
// adds, and vmagent scrapes the address and path the configurations serve on.
TEST(Examples, backfill_labels_are_the_labels_vmagent_adds) {
  const ScrapeJob job = ReadVmagentConfig();
  ASSERT_EQ(job.jobs.size(), 1u) << "vmagent.yml: expected one scrape job";
  ASSERT_EQ(job.targets.size(), 1u) << "vmagent.yml: expected one target";
  const Labels scraped = ScrapeLabels(job);
  int with_backfill = 0;
  for (const auto& file : ExampleConfigs()) {
    SCOPED_TRACE(file.string());
    const Config config = LoadConfigFile(file);
    EXPECT_EQ(config.web.listen_address, job.targets.front());
    EXPECT_EQ(config.web.telemetry_path, job.metrics_path);
    if (config.victoriametrics.url.empty()) {
      continue;
    }
    ++with_backfill;
    EXPECT_EQ(Sorted(config.victoriametrics.extra_labels), scraped);
  }
  EXPECT_GT(with_backfill, 0) << "no example configuration has [victoriametrics]";
}

// The extra_labels the README and the backfill guide show for vmagent.yml are those too.
TEST(Examples, documented_extra_labels_are_the_labels_vmagent_adds) {
  const Labels scraped = ScrapeLabels(ReadVmagentConfig());
  const fs::path root(IWX_SOURCE_ROOT);
  int found = 0;
  for (const fs::path& doc : {root / "README.md", root / "docs" / "backfill.md"}) {
    std::istringstream text(ReadText(doc));
    int number = 0;
    for (std::string line; std::getline(text, line);) {
      ++number;
      if (!line.starts_with("extra_labels = ")) {
        continue;
      }
      ++found;
      SCOPED_TRACE(doc.string() + ":" + std::to_string(number));
      try {
        const Config config =
            ParseConfig("[victoriametrics]\nurl = \"http://127.0.0.1:8428\"\n" + line +
                            "\n[[device]]\nname = \"iwatt5\"\nurl = \"http://iwatt5.local\"\n",
                        doc.string());
        EXPECT_EQ(Sorted(config.victoriametrics.extra_labels), scraped) << line;
      } catch (const ConfigError& error) {
        ADD_FAILURE() << error.what();
      }
    }
  }
  EXPECT_GT(found, 0) << "no extra_labels line in README.md or docs/backfill.md";
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
