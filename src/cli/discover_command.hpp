// The `discover` subcommand: asks one IoTaWatt what it measures and prints a starter
// configuration for it.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cli/flags.hpp"
#include "iotawatt/types.hpp"

namespace iwx::cli {

/// The flags of `discover`.
const CommandSpec& DiscoverCommandSpec();

/// What the starter configuration is made of.
struct DiscoveredDevice {
  /// Value of the device's `name` key (already a valid device name).
  std::string name;
  std::string url;
  /// Both empty, or both set.
  std::string username;
  std::string password_file;
  /// As /query?show=series reports them.
  std::vector<iotawatt::SeriesInfo> series;
  /// Which of them are the device's outputs (computed from other channels).
  std::set<std::string> outputs;
};

/// A device name from free text (the name in the device's /status): lowercase, runs of
/// other characters than letters and digits become one '_', a leading digit gets an
/// "iotawatt_" prefix; "iotawatt" when nothing is left.
std::string SanitizeDeviceName(std::string_view text);

/// The starter configuration: [web], [poll], the [[device]] with a commented channel
/// allow-list, [[labels]] guessed from channel names (Mains* mains, Solar* solar, other
/// power channels circuit) and a commented [derived] section. It parses with
/// config::ParseConfig.
std::string StarterConfigText(const DiscoveredDevice& device);

/// Runs `discover`: prints the starter configuration on stdout. Returns 0, or 1 when the
/// device cannot be read (the reason on stderr).
/// \throw UsageError for missing or bad flags; config::ConfigError when the password file
/// cannot be read.
int RunDiscover(const ParsedCommand& parsed);

}  // namespace iwx::cli
