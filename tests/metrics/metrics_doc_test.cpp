// docs/metrics.md is the metrics reference. These tests hold its tables to the code: the
// exporter's list of metrics (names, types, labels), the labels and label values the page
// really carries, the units the names imply and what `backfill` writes; and they check
// that every metric name the other documents mention exists.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backfill/backfill.hpp"
#include "config/config.hpp"
#include "iotawatt/client.hpp"
#include "metrics/exposition.hpp"
#include "simulator/simulator.hpp"

namespace iwx::metrics {
namespace {

const std::filesystem::path kSourceRoot = IWX_SOURCE_ROOT;
const std::filesystem::path kReference = kSourceRoot / "docs" / "metrics.md";

// The labels cell names the configured labels with these words (see docs/metrics.md).
constexpr const char* kDeviceLabels = "device labels";
constexpr const char* kChannelLabels = "channel labels";

// A row `| name | type | unit | labels | backfill | meaning |` of the table under
// "## Metrics".
struct DocumentedMetric {
  int line = 0;
  std::string type;
  std::string unit;
  std::set<std::string> labels;
  // kDeviceLabels, kChannelLabels or empty.
  std::string configured;
  std::string backfill;
  std::string meaning;
  // Whatever in the row could not be read; empty when the row is well formed.
  std::string problem;
};

std::string Trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" `");
  const auto end = text.find_last_not_of(" `");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  std::string part;
  while (std::getline(in, part, separator)) {
    parts.push_back(Trim(part));
  }
  return parts;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The lines of the section that starts with `heading`, up to the next "## " heading.
std::vector<std::string> Section(const std::filesystem::path& path, const std::string& heading) {
  std::istringstream in(ReadFile(path));
  std::vector<std::string> lines;
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.starts_with("## ")) {
      inside = line == heading;
    } else if (inside) {
      lines.push_back(line);
    }
  }
  return lines;
}

void ReadLabels(const std::string& cell, DocumentedMetric& metric) {
  static const std::regex kLabelName("[a-z_][a-z0-9_]*");
  for (const auto& token : Split(cell, ',')) {
    if (token == kDeviceLabels || token == kChannelLabels) {
      metric.configured = token;
    } else if (std::regex_match(token, kLabelName)) {
      metric.labels.insert(token);
    } else {
      metric.problem = "labels cell has \"" + token + "\", neither a label name nor \"" +
                       kDeviceLabels + "\" or \"" + kChannelLabels + "\"";
    }
  }
}

std::map<std::string, DocumentedMetric> ReadReference() {
  std::ifstream in(kReference);
  std::string line;
  int number = 0;
  bool inside = false;
  std::map<std::string, DocumentedMetric> table;
  while (std::getline(in, line)) {
    ++number;
    if (line.starts_with("## ")) {
      inside = line == "## Metrics";
      continue;
    }
    if (!inside || !line.starts_with("| `")) {
      continue;
    }
    const auto cells = Split(line.substr(1, line.rfind('|') - 1), '|');
    DocumentedMetric metric;
    metric.line = number;
    if (cells.size() != 6) {
      metric.problem = "expected 6 cells, found " + std::to_string(cells.size());
    } else {
      metric.type = cells[1];
      metric.unit = cells[2];
      ReadLabels(cells[3], metric);
      metric.backfill = cells[4];
      metric.meaning = cells[5];
    }
    const std::string name = cells.at(0);
    if (table.contains(name)) {
      metric.problem = "listed twice";
    }
    table[name] = metric;
  }
  return table;
}

std::string Where(const DocumentedMetric& metric) {
  return kReference.string() + ":" + std::to_string(metric.line);
}

std::string TypeName(prometheus::MetricType type) {
  return type == prometheus::MetricType::Counter ? "counter" : "gauge";
}

std::set<std::string> SpecLabels(const MetricSpec& spec) {
  const auto labels = Split(spec.labels, ',');
  return {labels.begin(), labels.end()};
}

std::string Join(const std::set<std::string>& names) {
  std::string text;
  for (const auto& name : names) {
    text += (text.empty() ? "" : ", ") + name;
  }
  return text.empty() ? "(none)" : text;
}

const MetricSpec* FindSpec(const std::string& name) {
  for (const auto& spec : AllMetrics()) {
    if (name == spec.name) {
      return &spec;
    }
  }
  return nullptr;
}

TEST(MetricsReference, table_rows_are_well_formed) {
  const auto documented = ReadReference();
  ASSERT_FALSE(documented.empty()) << "no table under \"## Metrics\" in " << kReference;
  for (const auto& [name, row] : documented) {
    EXPECT_EQ(row.problem, "") << Where(row) << ": " << name;
    EXPECT_TRUE(row.backfill == "yes" || row.backfill == "no")
        << Where(row) << ": " << name << ": backfill is \"" << row.backfill
        << "\"; expected yes or no";
    EXPECT_FALSE(row.meaning.empty()) << Where(row) << ": " << name << " has no meaning";
  }
}

TEST(MetricsReference, documents_every_metric_with_its_type_and_labels) {
  const auto documented = ReadReference();
  for (const auto& spec : AllMetrics()) {
    const auto row = documented.find(spec.name);
    if (row == documented.end()) {
      ADD_FAILURE() << spec.name << " is exposed but missing from " << kReference;
      continue;
    }
    EXPECT_EQ(row->second.type, TypeName(spec.type)) << Where(row->second) << ": " << spec.name;
    EXPECT_EQ(Join(row->second.labels), Join(SpecLabels(spec)))
        << Where(row->second) << ": labels of " << spec.name;
  }
}

TEST(MetricsReference, documents_no_metric_the_code_lacks) {
  for (const auto& [name, row] : ReadReference()) {
    EXPECT_NE(FindSpec(name), nullptr)
        << Where(row) << ": " << name << " is documented but not exposed";
  }
}

// A snapshot in which every metric has a sample, with a device label (site) on the unit
// and a rule label (type) on its channels, as the store fills them from the configuration.
state::Snapshot EverythingSnapshot() {
  const config::Labels device_labels{{"site", "home"}};
  const config::Labels channel_labels{{"site", "home"}, {"type", "mains"}};
  state::Snapshot snapshot;

  state::DeviceSample device;
  device.name = "iwatt5";
  device.labels = device_labels;
  device.up = true;
  device.polled = true;
  device.last_poll_seconds = 0.2;
  device.polls = 10;
  device.errors_by_reason["connect"] = 1;
  device.device_requests = 12;
  device.newest_record_end = 1767268800;
  state::Health health;
  health.firmware_version = "02_08_04";
  health.uptime_seconds = 3600;
  health.free_heap_bytes = 20000;
  health.wifi_rssi_dbm = -60;
  health.line_frequency_hz = 60;
  health.logs = {{"Current", 1767000000, 1767268800, 0, 5},
                 {"History", 1700000000, 1767268800, 0, 60}};
  device.health = health;
  snapshot.devices.push_back(device);

  snapshot.channels.push_back(
      {"iwatt5", {"Mains_1", state::ChannelKind::kPower, channel_labels}, 1200});
  snapshot.channels.push_back(
      {"iwatt5", {"Voltage", state::ChannelKind::kVoltage, channel_labels}, 121});
  snapshot.derived.push_back({"load", 2400});
  snapshot.channel_energy.push_back({"iwatt5", "Mains_1", channel_labels, 3.6e6, 3600.0});
  snapshot.derived_energy.push_back({"", "load", {}, 7.2e6, 36.0});
  return snapshot;
}

TEST(MetricsReference, documents_the_configured_labels_the_page_carries) {
  const auto documented = ReadReference();
  const auto families = BuildFamilies(EverythingSnapshot());
  for (const auto& spec : AllMetrics()) {
    const bool built = std::any_of(families.begin(), families.end(),
                                   [&](const auto& family) { return family.name == spec.name; });
    ASSERT_TRUE(built) << spec.name << " has no sample: extend EverythingSnapshot()";
  }

  for (const auto& family : families) {
    const MetricSpec* spec = FindSpec(family.name);
    ASSERT_NE(spec, nullptr) << family.name;
    std::set<std::string> extra;
    for (const auto& sample : family.metric) {
      for (const auto& label : sample.label) {
        if (!SpecLabels(*spec).contains(label.name)) {
          extra.insert(label.name);
        }
      }
    }
    std::string expected;
    if (extra == std::set<std::string>{"site"}) {
      expected = kDeviceLabels;
    } else if (extra == std::set<std::string>{"site", "type"}) {
      expected = kChannelLabels;
    } else {
      ASSERT_TRUE(extra.empty()) << family.name << " carries unexpected labels " << Join(extra);
    }
    const auto row = documented.find(family.name);
    if (row != documented.end()) {
      EXPECT_EQ(row->second.configured, expected)
          << Where(row->second) << ": configured labels of " << family.name;
    }
  }
}

// Rows `| `label` | on | values |` of the table under "## Labels": label → values cell.
std::map<std::string, std::string> ReadLabelTable() {
  std::map<std::string, std::string> table;
  for (const auto& line : Section(kReference, "## Labels")) {
    if (line.starts_with("| `")) {
      // The values cell keeps its backticks: values are quoted in it.
      const std::string row = line.substr(1, line.rfind('|') - 1);
      const auto cells = Split(row, '|');
      table[cells.at(0)] = cells.size() == 3 ? row.substr(row.rfind('|') + 1) : "";
    }
  }
  return table;
}

TEST(MetricsReference, label_table_lists_every_label_of_the_code) {
  const auto documented = ReadLabelTable();
  ASSERT_FALSE(documented.empty()) << "no table under \"## Labels\" in " << kReference;
  std::set<std::string> used;
  for (const auto& spec : AllMetrics()) {
    const auto labels = SpecLabels(spec);
    used.insert(labels.begin(), labels.end());
  }
  std::set<std::string> listed;
  for (const auto& [label, values] : documented) {
    listed.insert(label);
  }
  EXPECT_EQ(Join(listed), Join(used)) << "labels of the \"## Labels\" table";
}

TEST(MetricsReference, label_table_quotes_the_values_the_page_uses) {
  auto documented = ReadLabelTable();
  auto snapshot = EverythingSnapshot();
  // Every reason a poll can fail for, up to the first number the client does not name.
  for (int i = 0; i < 64; ++i) {
    const std::string reason = iotawatt::FailureReasonName(static_cast<iotawatt::FailureReason>(i));
    if (reason == "unknown") {
      break;
    }
    snapshot.devices.front().errors_by_reason[reason] = 1;
  }
  for (const auto& family : BuildFamilies(snapshot)) {
    for (const auto& sample : family.metric) {
      for (const auto& label : sample.label) {
        if (label.name == "direction" || label.name == "log" || label.name == "reason") {
          EXPECT_NE(documented[label.name].find("`" + label.value + "`"), std::string::npos)
              << kReference << ": the \"## Labels\" row of " << label.name << " lacks `"
              << label.value << "` (" << family.name << ")";
        }
      }
    }
  }
}

// The unit a metric's name implies, as the table writes it.
std::string UnitOfName(const std::string& name) {
  static const std::vector<std::pair<std::string, std::string>> kSuffixes = {
      {"_watts", "W"},     {"_volts", "V"}, {"_joules_total", "J"}, {"_seconds", "s"},
      {"_bytes", "bytes"}, {"_dbm", "dBm"}, {"_hertz", "Hz"},
  };
  for (const auto& [suffix, unit] : kSuffixes) {
    if (name.ends_with(suffix)) {
      return unit;
    }
  }
  return "-";
}

TEST(MetricsReference, unit_column_follows_the_name) {
  for (const auto& [name, row] : ReadReference()) {
    EXPECT_EQ(row.unit, UnitOfName(name)) << Where(row) << ": unit of " << name;
  }
}

// What the backfill writes, from a run against the simulator into an OpenMetrics file:
// sample name → type of its family.
std::map<std::string, std::string> BackfilledMetrics() {
  // 2026-01-01T18:00:30Z, early afternoon at the simulated site: every kind of series.
  constexpr int64_t kNow = 1767290430;
  constexpr int64_t kHour = 3600;
  sim::Simulator simulator(sim::DefaultInstallation(kNow, 1), sim::Clock::Fixed(kNow * 1000));
  simulator.Start("127.0.0.1", 0);
  const auto config = config::ParseConfig(
      "[[device]]\nname = \"iwatt5\"\nurl = \"" + simulator.unit("iwatt5").url() +
          "\"\n\n[[device]]\nname = \"iwatt6\"\nurl = \"" + simulator.unit("iwatt6").url() +
          "\"\n\n[derived]\nload = \"iwatt5.Mains_1 + iwatt5.Mains_2\"\n",
      "metrics_doc_test.toml");

  const auto file = std::filesystem::path(::testing::TempDir()) / "metrics_doc_test.om";
  backfill::Options options;
  options.from = kNow / 60 * 60 - kHour;
  options.to = kNow / 60 * 60;
  options.output_file = file.string();
  options.format = backfill::FileFormat::kOpenMetrics;
  options.reader.device_share = 1;
  backfill::StopSignal stop;
  std::ostringstream out;
  backfill::Run(config, options, stop, out);

  std::map<std::string, std::string> family_types;
  std::set<std::string> samples;
  std::istringstream lines(ReadFile(file));
  std::filesystem::remove(file);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string first, family, type;
    words >> first;
    if (first == "#") {
      std::string keyword;
      words >> keyword >> family >> type;
      if (keyword == "TYPE") {
        family_types[family] = type;
      }
    } else if (!first.empty()) {
      samples.insert(first.substr(0, first.find('{')));
    }
  }

  std::map<std::string, std::string> written;
  for (const auto& name : samples) {
    const std::string counter_family = name.substr(0, name.rfind("_total"));
    if (family_types.contains(name)) {
      written[name] = family_types[name];
    } else if (name.ends_with("_total") && family_types[counter_family] == "counter") {
      written[name] = "counter";
    } else {
      written[name] = "(no TYPE line)";
    }
  }
  return written;
}

TEST(MetricsReference, backfill_column_matches_what_backfill_writes) {
  const auto written = BackfilledMetrics();
  ASSERT_FALSE(written.empty()) << "the backfill wrote nothing";
  const auto documented = ReadReference();
  for (const auto& [name, type] : written) {
    const auto row = documented.find(name);
    if (row == documented.end()) {
      ADD_FAILURE() << "backfill writes " << name << ", which " << kReference << " lacks";
      continue;
    }
    EXPECT_EQ(row->second.backfill, "yes") << Where(row->second) << ": backfill writes " << name;
    EXPECT_EQ(row->second.type, type)
        << Where(row->second) << ": type of " << name << " as backfill writes it";
  }
  for (const auto& [name, row] : documented) {
    if (row.backfill == "yes") {
      EXPECT_TRUE(written.contains(name))
          << Where(row) << ": " << name << " is documented as backfilled but was not written";
    }
  }
}

// Every document that names metrics: the README, examples/README.md and docs/*.md.
std::vector<std::filesystem::path> Documents() {
  std::vector<std::filesystem::path> files = {kSourceRoot / "README.md",
                                              kSourceRoot / "examples" / "README.md"};
  for (const auto& entry : std::filesystem::directory_iterator(kSourceRoot / "docs")) {
    if (entry.path().extension() == ".md") {
      files.push_back(entry.path());
    }
  }
  return files;
}

// Whether a name in a document stands for metrics: a metric, the OpenMetrics family of a
// counter (the name without "_total"), or a prefix written as "iotawatt_device_*".
bool NamesMetrics(const std::string& name) {
  if (name.ends_with("_*")) {
    const std::string prefix = name.substr(0, name.size() - 1);
    const auto specs = AllMetrics();
    return std::any_of(specs.begin(), specs.end(), [&](const MetricSpec& spec) {
      return std::string(spec.name).starts_with(prefix);
    });
  }
  const MetricSpec* counter = FindSpec(name + "_total");
  return FindSpec(name) != nullptr ||
         (counter != nullptr && counter->type == prometheus::MetricType::Counter);
}

TEST(MetricsReference, documents_name_only_metrics_that_exist) {
  // The programs share the prefix.
  const std::set<std::string> kPrograms = {"iotawatt_exporter", "iotawatt_simulator"};
  const std::regex kName(R"(iotawatt_[a-z0-9_]*[a-z0-9](_\*)?)");
  for (const auto& file : Documents()) {
    std::istringstream lines(ReadFile(file));
    std::string line;
    int number = 0;
    while (std::getline(lines, line)) {
      ++number;
      for (std::sregex_iterator it(line.begin(), line.end(), kName), end; it != end; ++it) {
        const std::string name = it->str();
        EXPECT_TRUE(kPrograms.contains(name) || NamesMetrics(name))
            << file.string() << ":" << number << ": " << name << " is not a metric";
      }
    }
  }
}

TEST(MetricsReference, readme_points_to_the_reference) {
  const auto lines = Section(kSourceRoot / "README.md", "## Metrics");
  ASSERT_FALSE(lines.empty()) << "README.md has no \"## Metrics\" section";
  const bool linked = std::any_of(lines.begin(), lines.end(), [](const std::string& line) {
    return line.find("docs/metrics.md") != std::string::npos;
  });
  EXPECT_TRUE(linked) << "README.md's \"## Metrics\" does not name docs/metrics.md";
}

}  // namespace
}  // namespace iwx::metrics
