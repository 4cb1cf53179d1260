// The exporter's configuration, read from a TOML file.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iwx::config {

/// Where a value came from: file, 1-based line and column (0 when unknown).
struct Location {
  std::string file;
  int line = 0;
  int column = 0;
};

/// "FILE:LINE:COL: KEY: MESSAGE", the form of every configuration problem, also of those
/// found later by derived::Resolve. ":LINE:COL" is left out when the line is unknown (0),
/// "KEY: " when the key is empty (TOML syntax errors, unreadable files).
inline std::string FormatProblem(const Location& where, std::string_view key,
                                 std::string_view message) {
  std::string text = where.file;
  if (where.line > 0) {
    text += ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
  }
  text += ": ";
  if (!key.empty()) {
    text += key;
    text += ": ";
  }
  text += message;
  return text;
}

/// A configuration problem. what() reads "FILE:LINE:COL: KEY: MESSAGE", where the
/// message quotes the bad value and says what was expected.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(Location location, std::string key, const std::string& message);

  const Location& where() const noexcept { return location_; }
  const std::string& key() const noexcept { return key_; }

 private:
  Location location_;
  std::string key_;
};

/// Ordered label pairs (name, value).
using Labels = std::vector<std::pair<std::string, std::string>>;

struct WebConfig {
  std::string listen_address = "127.0.0.1:9980";
  std::string telemetry_path = "/metrics";
};

struct PollConfig {
  /// How often each device is queried for new 5-second records (5s to 5m).
  std::chrono::milliseconds interval{std::chrono::seconds{10}};
  /// Timeout of one HTTP request to a device.
  std::chrono::milliseconds timeout{std::chrono::seconds{10}};
  /// How often /status is read (device health), at least the poll interval.
  std::chrono::milliseconds status_interval{std::chrono::minutes{1}};
};

/// Where the part of the energy counters that cannot be read back from a device lives.
struct StateConfig {
  /// Counter file (JSON, written atomically); empty: counters are kept in memory only.
  /// A relative path is relative to the configuration file.
  std::string file = "/var/lib/iotawatt_exporter/counters.json";
  /// How often the counter file is written while running (and always at shutdown).
  std::chrono::milliseconds save_interval{std::chrono::minutes{1}};
};

struct DeviceConfig {
  /// Value of the `device` label; unique; a letter followed by letters, digits or '_'.
  std::string name;
  /// Base URL such as "http://iwatt5.local" (http only; the device has no TLS), without a
  /// trailing '/'.
  std::string url;
  /// HTTP Digest user (normally "user", the device's read-only account); empty: none.
  std::string username;
  /// File holding the Digest password (first line, trailing newline stripped). A relative
  /// path in the file is resolved against the directory of the configuration file.
  std::string password_file;
  /// Allow-list of channel names; empty: every input and output the device reports.
  std::vector<std::string> channels;
  /// Extra labels on every series of this device.
  Labels labels;
  /// Where the [[device]] table starts.
  Location location;
  /// The device's key in error messages: "device[N]", N counting from 1 in file order.
  std::string key;
};

/// Extra labels for channels whose name matches a glob, in config order; later rules
/// override earlier ones for the same label name.
struct LabelRule {
  std::string match;
  Labels set;
  Location location;
};

/// One derived series: `name = "expression"` in the [derived] table.
struct DerivedSeries {
  std::string name;
  std::string expression;
  /// Location of the expression value; expression columns are relative to its text.
  Location location;
  /// File column of the expression's first character when every character of the text
  /// stands for itself in the file (no escapes, single line); 0 otherwise.
  int first_column = 0;

  /// Where column `expression_column` (1-based) of the expression is in the file; the
  /// value's own location when the text does not map one-to-one onto the file.
  Location At(int expression_column) const {
    Location where = location;
    if (first_column > 0 && expression_column > 0) {
      where.column = first_column + expression_column - 1;
    }
    return where;
  }
};

struct Config {
  /// The file name errors refer to ("<embedded>" for built-in configurations).
  std::string source;
  WebConfig web;
  PollConfig poll;
  StateConfig state;
  std::vector<DeviceConfig> devices;
  std::vector<LabelRule> label_rules;
  std::vector<DerivedSeries> derived;
};

/// Parses and validates a configuration text: unknown keys, types, durations and their
/// ranges, device names and URLs, label names, expression syntax, references to unknown
/// devices (`dev.channel`), and cycles between derived series. References to channels are
/// checked later against what the devices report (see derived::Resolve).
/// Defaults: see the member initializers; poll.status_interval defaults to the larger of
/// 1m and poll.interval.
/// \throw ConfigError for the first problem found.
Config ParseConfig(std::string_view text, const std::string& source_name);

/// Reads and parses a file. \throw ConfigError (also when the file cannot be read).
Config LoadConfigFile(const std::filesystem::path& path);

/// Labels a channel of a device gets: the device's labels, then every [[labels]] rule whose
/// glob matches the channel name, in order (a later rule overrides an earlier value).
Labels ChannelLabels(const Config& config, const std::string& device, const std::string& channel);

/// Reads a password file: its first line without the line break.
/// \throw ConfigError naming the file and the OS reason.
std::string ReadPasswordFile(const DeviceConfig& device);

}  // namespace iwx::config
