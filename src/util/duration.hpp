// Durations as users write them in the configuration and on the command line.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace iwx::util {

/// Parses a duration such as "500ms", "10s", "5m", "1h30m" or "2d".
/// \throw std::invalid_argument naming the text and the expected form.
std::chrono::milliseconds ParseDuration(std::string_view text);

/// Formats a duration in the shortest form ParseDuration() accepts ("1m30s", "250ms").
std::string FormatDuration(std::chrono::milliseconds duration);

}  // namespace iwx::util
