// Reading values back out of a Prometheus text exposition, for tests.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace iwx::testing {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

/// Parses the sample lines of a text exposition (comments skipped).
std::vector<Sample> ParseExposition(const std::string& text);

/// The value of the only sample of `name` whose labels include `labels`, or nullopt.
std::optional<double> FindValue(const std::vector<Sample>& samples, const std::string& name,
                                const std::map<std::string, std::string>& labels);

/// How many samples of `name` exist.
size_t CountSamples(const std::vector<Sample>& samples, const std::string& name);

}  // namespace iwx::testing
