// The README's metrics table and the metrics the code can expose must agree.
#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "metrics/exposition.hpp"

namespace iwx::metrics {
namespace {

struct DocumentedMetric {
  std::string type;
  std::string labels;
};

std::string Trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" `");
  const auto end = text.find_last_not_of(" `");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

// Rows `| `name` | type | labels | meaning |` of the table under "## Metrics".
std::map<std::string, DocumentedMetric> ReadReadmeTable() {
  std::ifstream in(IWX_README);
  std::string line;
  bool in_section = false;
  std::map<std::string, DocumentedMetric> table;
  while (std::getline(in, line)) {
    if (line.starts_with("## ")) {
      in_section = line == "## Metrics";
      continue;
    }
    if (!in_section || !line.starts_with("| `")) {
      continue;
    }
    std::vector<std::string> cells;
    std::istringstream row(line.substr(1));
    std::string cell;
    while (std::getline(row, cell, '|')) {
      cells.push_back(Trim(cell));
    }
    table[cells.at(0)] = {cells.at(1), cells.at(2)};
  }
  return table;
}

std::string TypeName(prometheus::MetricType type) {
  return type == prometheus::MetricType::Counter ? "counter" : "gauge";
}

TEST(MetricsReference, readme_lists_every_metric_with_its_type_and_labels) {
  const auto documented = ReadReadmeTable();
  ASSERT_FALSE(documented.empty()) << "no metrics table in " << IWX_README;

  for (const auto& spec : AllMetrics()) {
    const auto row = documented.find(spec.name);
    ASSERT_NE(row, documented.end()) << spec.name << " is missing from the README";
    EXPECT_EQ(row->second.type, TypeName(spec.type)) << spec.name;

    std::istringstream labels(spec.labels);
    std::string label;
    while (std::getline(labels, label, ',')) {
      EXPECT_NE(row->second.labels.find(Trim(label)), std::string::npos)
          << spec.name << ": label " << Trim(label) << " is not documented";
    }
  }
}

TEST(MetricsReference, readme_lists_no_metric_the_code_lacks) {
  const auto specs = AllMetrics();
  for (const auto& [name, row] : ReadReadmeTable()) {
    const bool known = std::any_of(specs.begin(), specs.end(),
                                   [&](const MetricSpec& spec) { return name == spec.name; });
    EXPECT_TRUE(known) << name << " is documented but not exposed";
  }
}

}  // namespace
}  // namespace iwx::metrics
