#include "metrics_text.hpp"

#include <sstream>
#include <stdexcept>

namespace iwx::testing {

namespace {

// Parses `a="x",b="y"` (values without escaped quotes, which these tests never produce).
std::map<std::string, std::string> ParseLabels(const std::string& text) {
  std::map<std::string, std::string> labels;
  size_t position = 0;
  while (position < text.size()) {
    const auto equals = text.find("=\"", position);
    const auto close = text.find('"', equals + 2);
    if (equals == std::string::npos || close == std::string::npos) {
      throw std::runtime_error("bad labels: " + text);
    }
    labels[text.substr(position, equals - position)] = text.substr(equals + 2, close - equals - 2);
    position = close + 1;
    if (position < text.size() && text[position] == ',') {
      ++position;
    }
  }
  return labels;
}

}  // namespace

std::vector<Sample> ParseExposition(const std::string& text) {
  std::vector<Sample> samples;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    Sample sample;
    const auto brace = line.find('{');
    const auto space = line.rfind(' ');
    if (brace != std::string::npos && brace < space) {
      const auto close = line.rfind('}');
      sample.name = line.substr(0, brace);
      sample.labels = ParseLabels(line.substr(brace + 1, close - brace - 1));
    } else {
      sample.name = line.substr(0, space);
    }
    sample.value = std::stod(line.substr(space + 1));
    samples.push_back(std::move(sample));
  }
  return samples;
}

std::optional<double> FindValue(const std::vector<Sample>& samples, const std::string& name,
                                const std::map<std::string, std::string>& labels) {
  std::optional<double> found;
  for (const auto& sample : samples) {
    if (sample.name != name) {
      continue;
    }
    bool matches = true;
    for (const auto& [key, value] : labels) {
      const auto label = sample.labels.find(key);
      matches = matches && label != sample.labels.end() && label->second == value;
    }
    if (matches) {
      if (found) {
        throw std::runtime_error("several samples of " + name + " match");
      }
      found = sample.value;
    }
  }
  return found;
}

size_t CountSamples(const std::vector<Sample>& samples, const std::string& name) {
  size_t count = 0;
  for (const auto& sample : samples) {
    count += sample.name == name ? 1 : 0;
  }
  return count;
}

}  // namespace iwx::testing
