// The subcommands of iotawatt_exporter.
#pragma once

#include <string>
#include <vector>

namespace iwx::cli {

/// Exit statuses: 0 success, 1 a runtime failure (device unreachable, cannot bind),
/// 2 a usage or configuration error.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

/// Runs the program with argv[1..]; returns the exit status.
int Main(const std::string& program, const std::vector<std::string>& args);

}  // namespace iwx::cli
