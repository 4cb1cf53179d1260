#include "config/config.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <span>

#include <toml++/toml.h>

#include "derived/resolver.hpp"
#include "util/duration.hpp"
#include "util/strings.hpp"

namespace iwx::config {

namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

using KeyList = std::span<const std::string_view>;

constexpr std::array<std::string_view, 8> kTopKeys = {
    "web", "poll", "state", "victoriametrics", "probe", "device", "labels", "derived"};
constexpr std::array<std::string_view, 1> kProbeKeys = {"allowed_targets"};
constexpr std::array<std::string_view, 9> kVictoriaMetricsKeys = {
    "url",          "query_url", "extra_labels", "username", "password_file",
    "password_env", "timeout",   "device_share", "compress"};
constexpr std::array<std::string_view, 2> kStateKeys = {"file", "save_interval"};
constexpr std::array<std::string_view, 2> kWebKeys = {"listen_address", "telemetry_path"};
constexpr std::array<std::string_view, 3> kPollKeys = {"interval", "timeout", "status_interval"};
constexpr std::array<std::string_view, 7> kDeviceKeys = {
    "name", "url", "username", "password_file", "password_env", "channels", "labels"};
constexpr std::array<std::string_view, 2> kLabelRuleKeys = {"match", "set"};

struct DurationRange {
  milliseconds min;
  milliseconds max;
};

constexpr DurationRange kIntervalRange{5s, 5min};
constexpr DurationRange kTimeoutRange{1s, 2min};
constexpr DurationRange kSaveIntervalRange{1s, 1h};
constexpr DurationRange kVmTimeoutRange{1s, 10min};
constexpr double kMinDeviceShare = 0.01;
constexpr milliseconds kMaxStatusInterval = 10min;
constexpr milliseconds kDefaultStatusInterval = 1min;

// Label names the exporter or the scraper sets on every series; a config label of the
// same name would be overwritten or clash.
struct ReservedLabel {
  std::string_view name;
  std::string_view setter;
};
constexpr std::array<ReservedLabel, 6> kReservedLabels = {{
    {"device", "the exporter"},
    {"channel", "the exporter"},
    {"name", "the exporter"},
    {"direction", "the exporter"},
    {"job", "vmagent (or Prometheus)"},
    {"instance", "vmagent (or Prometheus)"},
}};

std::string Quote(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

std::string Join(KeyList items) {
  std::string text;
  for (const auto item : items) {
    text += (text.empty() ? "" : ", ") + std::string(item);
  }
  return text;
}

bool IsName(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  const auto name_start = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  const auto name_char = [&](char c) { return name_start(c) || (c >= '0' && c <= '9'); };
  return name_start(text.front()) && std::all_of(text.begin() + 1, text.end(), name_char);
}

bool IsHostName(std::string_view host) {
  const auto host_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-';
  };
  return !host.empty() && std::all_of(host.begin(), host.end(), host_char);
}

bool IsBracketedIpv6(std::string_view host) {
  const auto ipv6_char = [](char c) {
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' ||
           c == '.';
  };
  return host.size() > 2 && host.front() == '[' && host.back() == ']' &&
         std::all_of(host.begin() + 1, host.end() - 1, ipv6_char);
}

bool IsPort(std::string_view text, int min_port) {
  int port = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), port);
  return !text.empty() && result.ec == std::errc{} && result.ptr == text.data() + text.size() &&
         port >= min_port && port <= 65535;
}

// HOST[:PORT] with HOST a name, an IPv4 address or a bracketed IPv6 address.
bool IsAuthority(std::string_view authority, bool port_required, int min_port) {
  const size_t bracket = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  const bool has_port =
      colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  if (!has_port) {
    return !port_required && (IsHostName(authority) || IsBracketedIpv6(authority));
  }

  const std::string_view host = authority.substr(0, colon);
  return (IsHostName(host) || IsBracketedIpv6(host)) &&
         IsPort(authority.substr(colon + 1), min_port);
}

bool IsUrlPath(std::string_view path) {
  return std::none_of(path.begin(), path.end(), [](char c) {
    return c == '?' || c == '#' || c == ' ' || c == '\t' || c == '\\';
  });
}

// Text after "http://": HOST[:PORT][/PATH].
bool IsHttpRemainder(std::string_view rest) {
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  return IsAuthority(authority, false, 1) && IsUrlPath(path);
}

std::string DescribeValue(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "string " + Quote(node.as_string()->get());
    case toml::node_type::integer:
      return "integer " + std::to_string(node.as_integer()->get());
    case toml::node_type::floating_point:
      return "float " + util::FormatDouble(node.as_floating_point()->get());
    case toml::node_type::boolean:
      return std::string("boolean ") + (node.as_boolean()->get() ? "true" : "false");
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// Table entries in file order: toml++ keeps tables sorted by key, but the order of
// labels and derived series in the file is meaningful.
std::vector<std::pair<const toml::key*, const toml::node*>> InFileOrder(const toml::table& table) {
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (const auto& [key, node] : table) {
    entries.emplace_back(&key, &node);
  }
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto& pa = a.first->source().begin;
    const auto& pb = b.first->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  return entries;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (;;) {
    const size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.push_back(text.substr(start));
      return lines;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

// Walks the parsed TOML tree, converting and validating as it goes; every failure
// becomes a ConfigError at the offending key or value.
class Reader {
 public:
  Reader(std::string_view text, const std::string& source)
      : source_(source), lines_(SplitLines(text)) {}

  Config Read(const toml::table& root) {
    Config config;
    config.source = source_;

    CheckKeys(root, "", kTopKeys);
    if (const toml::table* web = Table(root, "web", "web")) {
      ReadWeb(*web, config.web);
    }
    if (const toml::table* poll = Table(root, "poll", "poll")) {
      ReadPoll(*poll, config.poll);
    }
    if (const toml::table* state = Table(root, "state", "state")) {
      ReadState(*state, config.state);
    }
    if (const toml::table* vm = Table(root, "victoriametrics", "victoriametrics")) {
      ReadVictoriaMetrics(*vm, config.victoriametrics);
    }
    if (const toml::table* probe = Table(root, "probe", "probe")) {
      ReadProbe(*probe, config.probe);
    }
    ReadDevices(root, config.devices);
    ReadLabelRules(root, config.label_rules);
    if (const toml::table* derived = Table(root, "derived", "derived")) {
      ReadDerived(*derived, config);
    }

    CheckExpressions(config);
    return config;
  }

 private:
  void ReadWeb(const toml::table& table, WebConfig& web) {
    CheckKeys(table, "web", kWebKeys);

    if (const auto* node = String(table, "listen_address", "web.listen_address")) {
      const std::string& address = node->get();
      if (!IsAuthority(address, true, 0)) {
        Fail(*node, "web.listen_address",
             Quote(address) +
                 " is not HOST:PORT; expected for example \"127.0.0.1:9980\", "
                 "\"0.0.0.0:9980\" or \"[::]:9980\"");
      }
      web.listen_address = address;
    }

    if (const auto* node = String(table, "telemetry_path", "web.telemetry_path")) {
      const std::string& path = node->get();
      if (path.empty() || path.front() != '/' || !IsUrlPath(path)) {
        Fail(*node, "web.telemetry_path",
             Quote(path) + " is not a path; expected a path such as \"/metrics\"");
      }
      if (path == "/") {
        Fail(*node, "web.telemetry_path",
             "\"/\" is the landing page; expected another path such as \"/metrics\"");
      }
      web.telemetry_path = path;
    }
  }

  void ReadPoll(const toml::table& table, PollConfig& poll) {
    CheckKeys(table, "poll", kPollKeys);

    ReadDuration(table, "interval", "poll.interval", kIntervalRange, poll.interval);
    ReadDuration(table, "timeout", "poll.timeout", kTimeoutRange, poll.timeout);

    // Reading /status more often than records are polled gains nothing, so the default
    // follows a long poll interval.
    poll.status_interval = std::max(kDefaultStatusInterval, poll.interval);
    ReadDuration(table, "status_interval", "poll.status_interval",
                 DurationRange{poll.interval, kMaxStatusInterval}, poll.status_interval);
  }

  void ReadState(const toml::table& table, StateConfig& state) {
    CheckKeys(table, "state", kStateKeys);

    if (const auto* node = String(table, "file", "state.file")) {
      state.file = node->get().empty() ? "" : RelativeToConfig(node->get());
    }
    ReadDuration(table, "save_interval", "state.save_interval", kSaveIntervalRange,
                 state.save_interval);
  }

  void ReadVictoriaMetrics(const toml::table& table, VictoriaMetricsConfig& vm) {
    CheckKeys(table, "victoriametrics", kVictoriaMetricsKeys);

    vm.url = ReadVmUrl(
        RequiredString(table, "url", "victoriametrics", "a URL such as \"http://127.0.0.1:8428\""),
        "victoriametrics.url");
    vm.query_url = vm.url;
    if (const auto* node = String(table, "query_url", "victoriametrics.query_url")) {
      vm.query_url = ReadVmUrl(*node, "victoriametrics.query_url");
    }
    if (const toml::table* labels = Table(table, "extra_labels", "victoriametrics.extra_labels")) {
      // job and instance are the point here: they make history and scraped samples one series.
      vm.extra_labels = ReadLabels(*labels, "victoriametrics.extra_labels", true);
    }
    ReadCredentials(table, "victoriametrics", "", {vm.username, vm.password_file, vm.password_env});
    ReadDuration(table, "timeout", "victoriametrics.timeout", kVmTimeoutRange, vm.timeout);
    ReadDeviceShare(table, vm);
    if (const toml::node* compress = table.get("compress")) {
      vm.compress = ExpectBool(*compress, "victoriametrics.compress");
    }
  }

  std::string ReadVmUrl(const toml::value<std::string>& node, const std::string& key) {
    std::optional<std::string> url = NormalizeVictoriaMetricsUrl(node.get());
    if (!url) {
      Fail(node, key,
           Quote(node.get()) + " is not a supported URL; " + std::string(kVictoriaMetricsUrlForm));
    }
    return *url;
  }

  void ReadDeviceShare(const toml::table& table, VictoriaMetricsConfig& vm) {
    const toml::node* node = table.get("device_share");
    if (node == nullptr) {
      return;
    }
    const auto share = node->value<double>();
    if (!share || !(*share >= kMinDeviceShare && *share <= 1)) {
      Fail(*node, "victoriametrics.device_share",
           DescribeValue(*node) +
               " is not a share; expected a number from 0.01 to 1 such as 0.5 (the device "
               "answers backfill queries at most half of the time)");
    }
    vm.device_share = *share;
  }

  void ReadProbe(const toml::table& table, ProbeConfig& probe) {
    CheckKeys(table, "probe", kProbeKeys);
    const toml::array* array = Array(table, "allowed_targets", "probe.allowed_targets");
    if (array == nullptr) {
      return;
    }
    for (size_t i = 0; i < array->size(); ++i) {
      const std::string key = "probe.allowed_targets[" + std::to_string(i + 1) + "]";
      const auto& glob = ElementString((*array)[i], key);
      if (!glob.get().starts_with("http://") || glob.get().size() == 7 ||
          glob.get().find_first_of("/@#", 7) != std::string::npos) {
        Fail(glob, key,
             Quote(glob.get()) +
                 " is not a target glob; expected http://HOST[:PORT] where HOST and PORT may "
                 "contain '*' and '?', such as \"http://10.0.0.*\" or \"http://iwatt*.local\"");
      }
      probe.allowed_targets.push_back(glob.get());
    }
  }

  void ReadDuration(const toml::table& table, std::string_view name, const std::string& key,
                    DurationRange range, milliseconds& out) {
    const auto* node = String(table, name, key);
    if (node == nullptr) {
      return;
    }

    milliseconds value{};
    try {
      value = util::ParseDuration(node->get());
    } catch (const std::invalid_argument& error) {
      Fail(*node, key, error.what());
    }
    if (value < range.min || value > range.max) {
      Fail(*node, key,
           Quote(node->get()) + " is out of range; expected " + util::FormatDuration(range.min) +
               " to " + util::FormatDuration(range.max));
    }
    out = value;
  }

  void ReadDevices(const toml::table& root, std::vector<DeviceConfig>& devices) {
    const toml::array* array = TableArray(root, "device", "device");
    if (array == nullptr || array->empty()) {
      Fail(Location{source_, 1, 1}, "device",
           "no device configured; expected at least one [[device]] table with name and url");
    }

    for (size_t i = 0; i < array->size(); ++i) {
      const std::string key = "device[" + std::to_string(i + 1) + "]";
      const toml::table& table = ElementTable((*array)[i], key);
      devices.push_back(ReadDevice(table, key));
      CheckUnique(devices, *table.get("name"));
    }
  }

  DeviceConfig ReadDevice(const toml::table& table, const std::string& key) {
    CheckKeys(table, key, kDeviceKeys);
    DeviceConfig device;
    device.key = key;
    device.location = At(table);

    const auto& name = RequiredString(table, "name", key, "a device name such as \"iwatt5\"");
    if (!IsName(name.get())) {
      Fail(name, key + ".name",
           Quote(name.get()) +
               " is not a valid device name; expected a letter or '_' "
               "followed by letters, digits or '_' (it is used in expressions)");
    }
    device.name = name.get();

    device.url = ReadUrl(RequiredString(table, "url", key, "a URL such as \"http://iwatt5.local\""),
                         key + ".url");
    ReadCredentials(table, key, " (normally \"user\")",
                    {device.username, device.password_file, device.password_env});
    ReadChannels(table, key, device.channels);
    if (const toml::table* labels = Table(table, "labels", key + ".labels")) {
      device.labels = ReadLabels(*labels, key + ".labels");
    }
    return device;
  }

  std::string ReadUrl(const toml::value<std::string>& node, const std::string& key) {
    std::string url = node.get();
    constexpr std::string_view kScheme = "http://";
    if (!url.starts_with(kScheme) || !IsHttpRemainder(std::string_view(url).substr(7))) {
      Fail(node, key,
           Quote(url) +
               " is not a supported URL; expected http://HOST[:PORT][/PATH] such as "
               "\"http://iwatt5.local\" (the device has no TLS)");
    }

    // Request paths are appended with their own '/'.
    while (url.ends_with('/')) {
      url.pop_back();
    }
    return url;
  }

  // The fields of one set of HTTP credentials: a user and its password's source.
  struct CredentialFields {
    std::string& username;
    std::string& password_file;
    std::string& password_env;
  };

  // username with password_file or password_env (one of them), or none of the three.
  // `usual_user` completes "needs username too" hints, e.g. " (normally \"user\")".
  void ReadCredentials(const toml::table& table, const std::string& key,
                       const std::string& usual_user, CredentialFields fields) {
    const auto* username = String(table, "username", key + ".username");
    const auto* password_file = String(table, "password_file", key + ".password_file");
    const auto* password_env = String(table, "password_env", key + ".password_env");
    CheckCredentialsComplete(key, usual_user, username, password_file, password_env);
    if (username == nullptr) {
      return;
    }

    if (username->get().empty()) {
      Fail(*username, key + ".username", "empty username; expected a user name");
    }
    fields.username = username->get();
    if (password_file != nullptr) {
      if (password_file->get().empty()) {
        Fail(*password_file, key + ".password_file", "empty path; expected a file name");
      }
      fields.password_file = RelativeToConfig(password_file->get());
      return;
    }
    const std::string& variable = password_env->get();
    if (!IsName(variable)) {
      Fail(*password_env, key + ".password_env",
           Quote(variable) +
               " is not an environment variable name; expected letters, digits or '_', not "
               "starting with a digit, such as \"IWX_PASSWORD\"");
    }
    fields.password_env = variable;
  }

  // A user needs exactly one password source and a password source needs a user.
  void CheckCredentialsComplete(const std::string& key, const std::string& usual_user,
                                const toml::value<std::string>* username,
                                const toml::value<std::string>* password_file,
                                const toml::value<std::string>* password_env) {
    if (password_file != nullptr && password_env != nullptr) {
      Fail(*password_env, key + ".password_env",
           "password_env " + Quote(password_env->get()) + " and password_file " +
               Quote(password_file->get()) + " are both set; expected only one of them");
    }
    if (username != nullptr && password_file == nullptr && password_env == nullptr) {
      Fail(*username, key + ".username",
           "username " + Quote(username->get()) +
               " needs password_file or password_env too; expected both or neither");
    }
    const auto* source = password_file != nullptr ? password_file : password_env;
    if (source != nullptr && username == nullptr) {
      const std::string name = password_file != nullptr ? "password_file" : "password_env";
      Fail(*source, key + "." + name,
           name + " " + Quote(source->get()) + " needs username too" + usual_user +
               "; expected both or neither");
    }
  }

  std::string RelativeToConfig(const std::string& path) const {
    const std::filesystem::path file(path);
    if (file.is_absolute()) {
      return path;
    }
    return (std::filesystem::path(source_).parent_path() / file).string();
  }

  void ReadChannels(const toml::table& table, const std::string& key,
                    std::vector<std::string>& channels) {
    const toml::array* array = Array(table, "channels", key + ".channels");
    if (array == nullptr) {
      return;
    }

    for (size_t i = 0; i < array->size(); ++i) {
      const std::string element_key = key + ".channels[" + std::to_string(i + 1) + "]";
      const auto& channel = ElementString((*array)[i], element_key);
      if (channel.get().empty()) {
        Fail(channel, element_key,
             "empty channel name; expected a channel name as the device "
             "reports it, such as \"Mains_1\"");
      }
      if (std::find(channels.begin(), channels.end(), channel.get()) != channels.end()) {
        Fail(channel, element_key, "channel " + Quote(channel.get()) + " is listed twice");
      }
      channels.push_back(channel.get());
    }
  }

  void ReadLabelRules(const toml::table& root, std::vector<LabelRule>& rules) {
    const toml::array* array = TableArray(root, "labels", "labels");
    if (array == nullptr) {
      return;
    }

    for (size_t i = 0; i < array->size(); ++i) {
      const std::string key = "labels[" + std::to_string(i + 1) + "]";
      const toml::table& table = ElementTable((*array)[i], key);
      CheckKeys(table, key, kLabelRuleKeys);

      LabelRule rule;
      rule.location = At(table);
      const auto& match =
          RequiredString(table, "match", key, "a channel name glob such as \"Mains_*\"");
      if (match.get().empty()) {
        Fail(match, key + ".match", "empty glob; expected a channel name glob such as \"Mains_*\"");
      }
      rule.match = match.get();

      const toml::table* set = Table(table, "set", key + ".set");
      if (set == nullptr || set->empty()) {
        Fail(set == nullptr ? At(table) : At(*set), key + ".set",
             "missing; expected labels to set, such as set = { type = \"trunk\" }");
      }
      rule.set = ReadLabels(*set, key + ".set");
      rules.push_back(std::move(rule));
    }
  }

  Labels ReadLabels(const toml::table& table, const std::string& key,
                    bool allow_scraper_labels = false) {
    Labels labels;
    for (const auto& [name, node] : InFileOrder(table)) {
      const std::string label_key = key + "." + std::string(name->str());
      CheckLabelName(*name, label_key, allow_scraper_labels);
      labels.emplace_back(name->str(), ExpectString(*node, label_key).get());
    }
    return labels;
  }

  void CheckLabelName(const toml::key& key, const std::string& path, bool allow_scraper_labels) {
    const std::string_view name = key.str();
    if (!IsName(name)) {
      Fail(At(key), path,
           Quote(name) +
               " is not a valid label name; expected a letter or '_' followed by "
               "letters, digits or '_'");
    }
    if (name.starts_with("__")) {
      Fail(At(key), path,
           Quote(name) + " starts with \"__\", which Prometheus reserves for internal use");
    }
    for (const ReservedLabel& reserved : kReservedLabels) {
      const bool scraper_label = std::string_view(reserved.setter).starts_with("vmagent");
      if (name == reserved.name && !(allow_scraper_labels && scraper_label)) {
        Fail(At(key), path,
             Quote(name) + " is reserved: " + std::string(reserved.setter) + " sets it");
      }
    }
  }

  void ReadDerived(const toml::table& table, Config& config) {
    for (const auto& [name, node] : InFileOrder(table)) {
      const std::string key = "derived." + std::string(name->str());
      if (!IsName(name->str())) {
        Fail(At(*name), key,
             Quote(name->str()) +
                 " is not a valid derived series name; expected a letter or "
                 "'_' followed by letters, digits or '_' (it is used in "
                 "expressions)");
      }
      for (const DeviceConfig& device : config.devices) {
        if (device.name == name->str()) {
          Fail(At(*name), key,
               Quote(name->str()) + " is also the name of " + device.key +
                   "; expected distinct names for devices and derived series");
        }
      }

      const auto& expression = ExpectString(*node, key);
      DerivedSeries series{std::string(name->str()), expression.get(), At(expression)};
      series.first_column = FirstColumn(expression);
      config.derived.push_back(std::move(series));
    }
  }

  // Syntax, references to devices and cycles: the resolver finds all of them; with no
  // device discovered yet, every reference to a channel is merely pending.
  void CheckExpressions(const Config& config) const {
    const auto set = derived::DerivedSet::Resolve(config, derived::Inventory{});
    for (const derived::Problem& problem : set.problems()) {
      if (!problem.pending && problem.depends_on.empty()) {
        throw ConfigError(problem.location, "derived." + problem.series, problem.reason);
      }
    }
  }

  // The file column of the first character of a string value when the quoted text in the
  // file is exactly the value (single-line, no escapes); 0 otherwise.
  int FirstColumn(const toml::value<std::string>& node) const {
    const auto begin = node.source().begin;
    if (begin.line == 0 || begin.line > lines_.size()) {
      return 0;
    }

    // toml++ counts columns in code points: step over whole UTF-8 sequences.
    const std::string_view line = lines_[begin.line - 1];
    const auto continuation = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; };
    size_t offset = 0;
    for (size_t column = 1; column < begin.column && offset < line.size(); ++column) {
      ++offset;
      while (offset < line.size() && continuation(line[offset])) {
        ++offset;
      }
    }

    const std::string& value = node.get();
    const std::string_view rest = line.substr(std::min(offset, line.size()));
    if (rest.size() < value.size() + 2 || (rest[0] != '"' && rest[0] != '\'') ||
        rest.substr(1, value.size()) != value || rest[value.size() + 1] != rest[0]) {
      return 0;
    }
    return static_cast<int>(begin.column) + 1;
  }

  void CheckUnique(const std::vector<DeviceConfig>& devices, const toml::node& name_node) {
    const DeviceConfig& added = devices.back();
    for (size_t i = 0; i + 1 < devices.size(); ++i) {
      if (devices[i].name == added.name) {
        Fail(name_node, added.key + ".name",
             "duplicate device name " + Quote(added.name) + "; " + devices[i].key + " at line " +
                 std::to_string(devices[i].location.line) +
                 " already has it; expected unique names");
      }
    }
  }

  void CheckKeys(const toml::table& table, const std::string& path, KeyList accepted) {
    for (const auto& [key, node] : table) {
      if (std::find(accepted.begin(), accepted.end(), key.str()) == accepted.end()) {
        const std::string full =
            path.empty() ? std::string(key.str()) : path + "." + std::string(key.str());
        Fail(At(key), full,
             "unknown key " + Quote(key.str()) + "; expected one of " + Join(accepted));
      }
    }
  }

  // Typed access. Each returns nullptr when the key is absent and fails on a wrong type.
  const toml::table* Table(const toml::table& parent, std::string_view name,
                           const std::string& key) {
    const toml::node* node = parent.get(name);
    if (node == nullptr) {
      return nullptr;
    }
    if (!node->is_table()) {
      Fail(*node, key, "expected a table, got " + DescribeValue(*node));
    }
    return node->as_table();
  }

  const toml::array* Array(const toml::table& parent, std::string_view name,
                           const std::string& key) {
    const toml::node* node = parent.get(name);
    if (node == nullptr) {
      return nullptr;
    }
    if (!node->is_array()) {
      Fail(*node, key, "expected an array, got " + DescribeValue(*node));
    }
    return node->as_array();
  }

  const toml::array* TableArray(const toml::table& parent, std::string_view name,
                                const std::string& key) {
    const toml::node* node = parent.get(name);
    if (node != nullptr && !node->is_array()) {
      Fail(*node, key,
           "expected an array of tables ([[" + std::string(name) + "]]), got " +
               DescribeValue(*node));
    }
    return node == nullptr ? nullptr : node->as_array();
  }

  bool ExpectBool(const toml::node& node, const std::string& key) {
    if (!node.is_boolean()) {
      Fail(node, key, DescribeValue(node) + " is not a boolean; expected true or false");
    }
    return node.as_boolean()->get();
  }

  const toml::value<std::string>* String(const toml::table& parent, std::string_view name,
                                         const std::string& key) {
    const toml::node* node = parent.get(name);
    return node == nullptr ? nullptr : &ExpectString(*node, key);
  }

  const toml::value<std::string>& RequiredString(const toml::table& parent, std::string_view name,
                                                 const std::string& parent_key,
                                                 std::string_view expected) {
    const std::string key = parent_key + "." + std::string(name);
    const auto* node = String(parent, name, key);
    if (node == nullptr) {
      Fail(At(parent), key, "missing; expected " + std::string(expected));
    }
    return *node;
  }

  const toml::value<std::string>& ExpectString(const toml::node& node, const std::string& key) {
    if (!node.is_string()) {
      Fail(node, key, "expected a string, got " + DescribeValue(node));
    }
    return *node.as_string();
  }

  const toml::value<std::string>& ElementString(const toml::node& node, const std::string& key) {
    return ExpectString(node, key);
  }

  const toml::table& ElementTable(const toml::node& node, const std::string& key) {
    if (!node.is_table()) {
      Fail(node, key, "expected a table, got " + DescribeValue(node));
    }
    return *node.as_table();
  }

  Location At(const toml::node& node) const { return At(node.source().begin); }
  Location At(const toml::key& key) const { return At(key.source().begin); }
  Location At(const toml::source_position& position) const {
    return Location{source_, static_cast<int>(position.line), static_cast<int>(position.column)};
  }

  [[noreturn]] void Fail(const toml::node& node, const std::string& key,
                         const std::string& message) const {
    Fail(At(node), key, message);
  }

  [[noreturn]] void Fail(Location location, const std::string& key,
                         const std::string& message) const {
    throw ConfigError(std::move(location), key, message);
  }

  std::string source_;
  std::vector<std::string_view> lines_;
};

std::string ErrnoText() {
  return std::strerror(errno);
}

// Reads a whole file, or throws ConfigError naming it and the OS reason.
std::string ReadFile(const std::string& path, const Location& where, const std::string& key,
                     std::string_view what) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (file == nullptr) {
    throw ConfigError(where, key,
                      "cannot read " + std::string(what) + " " + Quote(path) + ": " + ErrnoText());
  }

  std::string text;
  std::array<char, 4096> buffer;
  size_t count = 0;
  while ((count = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
    text.append(buffer.data(), count);
  }
  if (std::ferror(file.get())) {
    throw ConfigError(where, key,
                      "cannot read " + std::string(what) + " " + Quote(path) + ": " + ErrnoText());
  }
  return text;
}

}  // namespace

ConfigError::ConfigError(Location location, std::string key, const std::string& message)
    : std::runtime_error(FormatProblem(location, key, message)),
      location_(std::move(location)),
      key_(std::move(key)) {}

Config ParseConfig(std::string_view text, const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(source_name));
  } catch (const toml::parse_error& error) {
    const auto& begin = error.source().begin;
    throw ConfigError(
        Location{source_name, static_cast<int>(begin.line), static_cast<int>(begin.column)}, "",
        "invalid TOML: " + std::string(error.description()));
  }

  Reader reader(text, source_name);
  return reader.Read(root);
}

Config LoadConfigFile(const std::filesystem::path& path) {
  const std::string name = path.string();
  const std::string text = ReadFile(name, Location{name, 0, 0}, "", "configuration file");
  return ParseConfig(text, name);
}

Labels ChannelLabels(const Config& config, const std::string& device, const std::string& channel) {
  Labels labels;
  for (const auto& configured : config.devices) {
    if (configured.name == device) {
      labels = configured.labels;
    }
  }

  const auto set = [&labels](const std::string& name, const std::string& value) {
    for (auto& label : labels) {
      if (label.first == name) {
        label.second = value;
        return;
      }
    }
    labels.emplace_back(name, value);
  };
  for (const auto& rule : config.label_rules) {
    if (util::GlobMatch(rule.match, channel)) {
      for (const auto& [name, value] : rule.set) {
        set(name, value);
      }
    }
  }
  return labels;
}

namespace {

std::string FirstLine(const std::string& text) {
  std::string first_line = text.substr(0, text.find('\n'));
  if (first_line.ends_with('\r')) {
    first_line.pop_back();
  }
  return first_line;
}

// The password of a set of credentials whose settings sit at `where` under `key`.
std::string ReadPassword(const std::string& password_file, const std::string& password_env,
                         const Location& where, const std::string& key, const std::string& whose) {
  if (!password_file.empty()) {
    return FirstLine(ReadFile(password_file, where, key + ".password_file", "password file"));
  }
  if (password_env.empty()) {
    return "";
  }
  const char* value = std::getenv(password_env.c_str());
  if (value == nullptr || *value == '\0') {
    throw ConfigError(where, key + ".password_env",
                      "environment variable " + Quote(password_env) + " is " +
                          (value == nullptr ? "not set" : "empty") + "; expected it to hold " +
                          whose + " password");
  }
  return value;
}

}  // namespace

std::string ReadPasswordFile(const DeviceConfig& device) {
  return ReadPassword(device.password_file, "", device.location, device.key, "the device's");
}

std::string ReadDevicePassword(const DeviceConfig& device) {
  return ReadPassword(device.password_file, device.password_env, device.location, device.key,
                      "the device's");
}

std::optional<std::string> NormalizeVictoriaMetricsUrl(std::string_view url) {
  const bool http = url.starts_with("http://") && IsHttpRemainder(url.substr(7));
  const bool https = url.starts_with("https://") && IsHttpRemainder(url.substr(8));
  if (!http && !https) {
    return std::nullopt;
  }
  while (url.ends_with('/')) {
    url.remove_suffix(1);
  }
  return std::string(url);
}

std::string ReadVictoriaMetricsPassword(const VictoriaMetricsConfig& victoriametrics,
                                        const std::string& source) {
  return ReadPassword(victoriametrics.password_file, victoriametrics.password_env,
                      Location{source, 0, 0}, "victoriametrics", "VictoriaMetrics'");
}

}  // namespace iwx::config
