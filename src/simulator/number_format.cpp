#include "simulator/number_format.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace iwx::sim {

namespace {

void StripTrailingZeros(std::string& text) {
  if (text.find('.') == std::string::npos) {
    return;
  }
  while (!text.empty() && text.back() == '0') {
    text.pop_back();
  }
  if (!text.empty() && text.back() == '.') {
    text.pop_back();
  }
}

}  // namespace

std::string FormatQueryValue(double value, int decimals) {
  if (!std::isfinite(value)) {
    value = 0;
  }
  char text[400];
  std::snprintf(text, sizeof text, "%#.*f", decimals, value);
  std::string result = text;
  StripTrailingZeros(result);
  return result;
}

std::string FormatStatusFloat(double value) {
  const auto single = static_cast<float>(value);
  if (!std::isfinite(single)) {
    return "0";
  }
  const double magnitude = std::fabs(static_cast<double>(single));
  if (magnitude == 0) {
    return "0";
  }
  char text[64];
  if (magnitude >= 1e7 || magnitude < 1e-5) {
    std::snprintf(text, sizeof text, "%.6e", static_cast<double>(single));
    const std::string scientific = text;
    const size_t e = scientific.find('e');
    std::string mantissa = scientific.substr(0, e);
    StripTrailingZeros(mantissa);
    const int exponent = std::atoi(scientific.c_str() + e + 1);
    return mantissa + "e" + std::to_string(exponent);
  }
  const int integer_digits = static_cast<int>(std::floor(std::log10(magnitude))) + 1;
  const int decimals = std::max(0, 7 - std::max(integer_digits, 0));
  std::snprintf(text, sizeof text, "%.*f", decimals, static_cast<double>(single));
  std::string result = text;
  StripTrailingZeros(result);
  return result;
}

std::string FormatStatusWatts(double watts) {
  if (watts > -2 && watts < 2) {
    return " 0";
  }
  char text[32];
  std::snprintf(text, sizeof text, "%2.0f", watts);
  return text;
}

}  // namespace iwx::sim
