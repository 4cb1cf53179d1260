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
  /// Name of an environment variable holding the Digest password instead; at most one of
  /// password_file and password_env is set, and one of them exactly when username is.
  std::string password_env;
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

/// Where `backfill` writes history: a VictoriaMetrics single node, or vminsert and vmselect
/// of a cluster (URLs with their tenant path).
struct VictoriaMetricsConfig {
  /// Base URL of imports, without a trailing '/': "http://127.0.0.1:8428" or
  /// "http://vminsert:8480/insert/0/prometheus"; imports go to URL + "/api/v1/import".
  /// Empty when the table is absent (then --vm.url must be given).
  std::string url;
  /// Base URL of queries (URL + "/api/v1/query"); defaults to url. For a cluster, the
  /// vmselect URL such as "http://vmselect:8481/select/0/prometheus".
  std::string query_url;
  /// Labels added to every backfilled series, e.g. job and instance as vmagent sets them,
  /// so that history and live samples are one series.
  Labels extra_labels;
  /// HTTP basic authentication: a user and its password from a file (first line; a relative
  /// path is relative to the configuration file) or an environment variable, as for a
  /// device; all empty: none.
  std::string username;
  std::string password_file;
  std::string password_env;
  /// Timeout of one HTTP request to VictoriaMetrics.
  std::chrono::milliseconds timeout{std::chrono::seconds{30}};
  /// Largest share of its time a device may spend answering backfill queries (0.01 to 1).
  double device_share = 0.5;
  /// Gzip imports; unset: unless url names a loopback address, where compressing only
  /// costs CPU time (set true for a tunnel to a remote VictoriaMetrics).
  std::optional<bool> compress;
};

/// The /probe endpoint (multi-target mode: the scraper names the device).
struct ProbeConfig {
  /// Globs (util::GlobMatch) a target URL "http://HOST[:PORT]" must match to be probed,
  /// such as "http://10.0.0.*"; empty: probing is disabled.
  std::vector<std::string> allowed_targets;
};

struct Config {
  /// The file name errors refer to ("<embedded>" for built-in configurations).
  std::string source;
  WebConfig web;
  PollConfig poll;
  StateConfig state;
  VictoriaMetricsConfig victoriametrics;
  ProbeConfig probe;
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

/// The device's Digest password: from its password_file (see ReadPasswordFile) or its
/// password_env variable; empty when the device has neither.
/// \throw ConfigError naming the file or the variable when it cannot be read, is unset or
/// is empty.
std::string ReadDevicePassword(const DeviceConfig& device);

/// What a VictoriaMetrics URL must look like, to complete error messages.
inline constexpr std::string_view kVictoriaMetricsUrlForm =
    "expected http[s]://HOST[:PORT][/PATH] such as \"http://127.0.0.1:8428\" or "
    "\"http://vminsert:8480/insert/0/prometheus\"";

/// `url` without trailing '/' when it has the form above; nullopt otherwise.
std::optional<std::string> NormalizeVictoriaMetricsUrl(std::string_view url);

/// The [victoriametrics] basic-authentication password, from its password_file or its
/// password_env variable; empty when neither is set. `source` is the configuration file.
/// \throw ConfigError as ReadDevicePassword
std::string ReadVictoriaMetricsPassword(const VictoriaMetricsConfig& victoriametrics,
                                        const std::string& source);

}  // namespace iwx::config
