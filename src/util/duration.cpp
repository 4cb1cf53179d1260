#include "util/duration.hpp"

#include <array>
#include <cctype>
#include <stdexcept>

namespace iwx::util {

namespace {

struct UnitSpec {
  std::string_view suffix;
  std::chrono::milliseconds length;
};

// Longer suffixes first, so that "ms" is not read as "m" followed by garbage.
constexpr std::array kUnits = {
    UnitSpec{"ms", std::chrono::milliseconds{1}}, UnitSpec{"s", std::chrono::seconds{1}},
    UnitSpec{"m", std::chrono::minutes{1}},       UnitSpec{"h", std::chrono::hours{1}},
    UnitSpec{"d", std::chrono::hours{24}},        UnitSpec{"w", std::chrono::hours{24 * 7}},
};

std::invalid_argument BadDuration(std::string_view text) {
  return std::invalid_argument("invalid duration \"" + std::string(text) +
                               "\": expected a number followed by a unit (ms, s, m, h, d, w), "
                               "for example \"10s\" or \"1h30m\"");
}

}  // namespace

std::chrono::milliseconds ParseDuration(std::string_view text) {
  if (text.empty()) {
    throw BadDuration(text);
  }

  std::chrono::milliseconds total{0};
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t digits = 0;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
      ++digits;
    }
    if (digits == 0 || digits > 12) {
      throw BadDuration(text);
    }
    const long long count = std::stoll(std::string(rest.substr(0, digits)));
    rest.remove_prefix(digits);

    const UnitSpec* unit = nullptr;
    for (const auto& candidate : kUnits) {
      if (rest.starts_with(candidate.suffix)) {
        unit = &candidate;
        break;
      }
    }
    if (unit == nullptr) {
      throw BadDuration(text);
    }
    rest.remove_prefix(unit->suffix.size());
    total += count * unit->length;
  }
  return total;
}

std::string FormatDuration(std::chrono::milliseconds duration) {
  if (duration.count() == 0) {
    return "0s";
  }

  std::string out;
  if (duration.count() < 0) {
    out = "-";
    duration = -duration;
  }
  constexpr std::array kParts = {
      UnitSpec{"d", std::chrono::hours{24}},        UnitSpec{"h", std::chrono::hours{1}},
      UnitSpec{"m", std::chrono::minutes{1}},       UnitSpec{"s", std::chrono::seconds{1}},
      UnitSpec{"ms", std::chrono::milliseconds{1}},
  };
  for (const auto& part : kParts) {
    const auto count = duration / part.length;
    if (count > 0) {
      out += std::to_string(count);
      out += part.suffix;
      duration -= count * part.length;
    }
  }
  return out;
}

}  // namespace iwx::util
