#include "cli/discover_command.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "iotawatt/client.hpp"

namespace iwx::cli {

namespace {

const CommandSpec kDiscover{
    "discover",
    "Read one IoTaWatt's name and channels and print a starter configuration for it.\n"
    "Redirect the output to a file, review it, then run `check` on it.",
    {
        {"url", "URL", "", "The device, such as http://iwatt5.local (required)."},
        {"name", "NAME", "",
         "Device name in the configuration; default: the name the device reports, "
         "lowercased."},
        {"username", "USER", "", "Digest user, normally \"user\" (with --password-file)."},
        {"password-file", "FILE", "", "File holding the Digest password (first line)."},
        {"timeout", "DURATION", "10s", "Timeout of each request to the device."},
        LogLevelFlag(),
    }};

enum class ChannelType { kMains, kSolar, kCircuit };

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

ChannelType TypeOf(std::string_view channel) {
  if (StartsWithNoCase(channel, "mains")) {
    return ChannelType::kMains;
  }
  if (StartsWithNoCase(channel, "solar")) {
    return ChannelType::kSolar;
  }
  return ChannelType::kCircuit;
}

std::string Quote(std::string_view text) {
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
    }
    quoted += c;
  }
  return quoted + "\"";
}

// "a.X + a.Y" for the named channels of device `device`.
std::string Sum(const std::string& device, const std::vector<std::string>& channels) {
  std::string text;
  for (const auto& channel : channels) {
    text += (text.empty() ? "" : " + ") + device + "." + channel;
  }
  return text;
}

// A channel name usable in an expression and in a glob without quoting.
bool IsPlainName(std::string_view name) {
  return !name.empty() && !std::isdigit(static_cast<unsigned char>(name.front())) &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
         });
}

std::string ExactRule(const std::string& channel, const char* type) {
  return "[[labels]]\nmatch = " + Quote(channel) + "\nset = { type = \"" + type + "\" }\n\n";
}

void WriteLabelRules(std::string& text, const DiscoveredDevice& device) {
  std::vector<std::string> exact_rules;
  std::vector<std::string> output_rules;
  bool mains_glob = false;
  bool solar_glob = false;
  for (const auto& entry : device.series) {
    if (entry.unit != "Watts") {
      continue;
    }
    if (device.outputs.count(entry.name) != 0) {
      output_rules.push_back(ExactRule(entry.name, "output"));
      continue;
    }
    const ChannelType type = TypeOf(entry.name);
    if (type == ChannelType::kMains && entry.name.starts_with("Mains")) {
      mains_glob = true;
    } else if (type == ChannelType::kSolar && entry.name.starts_with("Solar")) {
      solar_glob = true;
    } else {
      const char* label = type == ChannelType::kMains   ? "mains"
                          : type == ChannelType::kSolar ? "solar"
                                                        : "circuit";
      exact_rules.push_back(ExactRule(entry.name, label));
    }
  }

  text += "# Labels guessed from the channel names; adjust them to what each circuit feeds.\n";
  if (mains_glob) {
    text += "[[labels]]\nmatch = \"Mains*\"\nset = { type = \"mains\" }\n\n";
  }
  if (solar_glob) {
    text += "[[labels]]\nmatch = \"Solar*\"\nset = { type = \"solar\" }\n\n";
  }
  for (const auto& rule : exact_rules) {
    text += rule;
  }
  if (!output_rules.empty()) {
    // Last, since a later rule wins: outputs add up other channels, and counting them as
    // circuits or solar would count their energy twice.
    text += "# The device's outputs, computed from the inputs.\n";
  }
  for (const auto& rule : output_rules) {
    text += rule;
  }
}

void WriteDerived(std::string& text, const DiscoveredDevice& device) {
  std::vector<std::string> mains;
  std::vector<std::string> solar;
  for (const auto& entry : device.series) {
    if (entry.unit != "Watts" || !IsPlainName(entry.name) || device.outputs.count(entry.name)) {
      continue;
    }
    const ChannelType type = TypeOf(entry.name);
    if (type == ChannelType::kMains) {
      mains.push_back(entry.name);
    } else if (type == ChannelType::kSolar) {
      solar.push_back(entry.name);
    }
  }

  text +=
      "# Derived series, computed from every 5-second record. Proposed from the channel\n"
      "# names; check the signs (a channel may read negative when power flows back) and\n"
      "# uncomment what fits.\n";
  if (mains.empty()) {
    text += "# No channel is named Mains*: nothing to propose; see the README for examples.\n";
    return;
  }
  text += "# [derived]\n";
  text += "# load = " + Quote(Sum(device.name, mains)) + "\n";
  if (solar.empty()) {
    return;
  }
  text += "# solar = " + Quote("max(0, " + Sum(device.name, solar) + ")") + "\n";
  text += "# grid_import = \"max(0, load - solar)\"\n";
  text += "# grid_export = \"max(0, solar - load)\"\n";
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  if (!file || (!std::getline(file, line) && !file.eof())) {
    throw UsageError("cannot read --password-file " + Quote(path) + ": " + std::strerror(errno) +
                     "; expected a readable file holding the password");
  }
  if (line.ends_with('\r')) {
    line.pop_back();
  }
  return line;
}

}  // namespace

const CommandSpec& DiscoverCommandSpec() {
  return kDiscover;
}

std::string SanitizeDeviceName(std::string_view text) {
  std::string name;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 && byte < 0x80) {
      name += static_cast<char>(std::tolower(byte));
    } else if (!name.empty() && name.back() != '_') {
      name += '_';
    }
  }
  while (!name.empty() && name.back() == '_') {
    name.pop_back();
  }
  if (name.empty()) {
    return "iotawatt";
  }
  if (std::isdigit(static_cast<unsigned char>(name.front())) != 0) {
    name = "iotawatt_" + name;
  }
  return name;
}

std::string StarterConfigText(const DiscoveredDevice& device) {
  std::string text = "# Starter configuration for the IoTaWatt at " + device.url +
                     ", written by `iotawatt_exporter discover`.\n"
                     "# Review it, then run: iotawatt_exporter check --config.file=FILE\n\n"
                     "[web]\n"
                     "listen_address = \"127.0.0.1:9980\"\n"
                     "telemetry_path = \"/metrics\"\n\n"
                     "[poll]\n"
                     "interval = \"10s\"\n"
                     "timeout = \"10s\"\n\n"
                     "[[device]]\n"
                     "name = " +
                     Quote(device.name) + "\nurl = " + Quote(device.url) + "\n";
  if (!device.username.empty()) {
    text += "username = " + Quote(device.username) + "\n";
    text += "password_file = " + Quote(device.password_file) + "\n";
  } else {
    text +=
        "# With a password on the device: username = \"user\" and password_file = \"FILE\"\n"
        "# (or password_env = \"VARIABLE\").\n";
  }

  text +=
      "# Without an allow-list every channel in Watts or Volts is published. To publish\n"
      "# fewer, uncomment and shorten the list.\n"
      "# channels = [\n";
  for (const auto& entry : device.series) {
    const bool published = entry.unit == "Watts" || entry.unit == "Volts";
    text += "#   " + Quote(entry.name) + ",  # " + entry.unit +
            (published ? "" : " (not published: only Watts and Volts are)") + "\n";
  }
  text += "# ]\n\n";

  WriteLabelRules(text, device);
  WriteDerived(text, device);
  return text;
}

int RunDiscover(const ParsedCommand& parsed) {
  const std::string url = parsed.Get("url");
  if (url.empty()) {
    throw UsageError("discover needs --url, such as --url=http://iwatt5.local");
  }
  const bool has_user = !parsed.Get("username").empty();
  const bool has_file = !parsed.Get("password-file").empty();
  if (has_user != has_file) {
    throw UsageError(std::string(has_user ? "--username" : "--password-file") + " needs " +
                     (has_user ? "--password-file" : "--username") +
                     " too; expected both or neither");
  }

  const std::string name = parsed.Get("name");
  if (parsed.Has("name") && !IsPlainName(name)) {
    throw UsageError("--name " + Quote(name) +
                     " is not a valid device name; expected a letter or '_' followed by "
                     "letters, digits or '_'");
  }

  // The URL and the timeout are checked as the configuration checks them.
  const std::string check_text = "[poll]\ntimeout = " + Quote(parsed.Get("timeout")) +
                                 "\n[[device]]\nname = \"d\"\nurl = " + Quote(url) + "\n";
  const auto checked = config::ParseConfig(check_text, "command line");

  iotawatt::Endpoint endpoint{checked.devices[0].url, parsed.Get("username"), "",
                              checked.poll.timeout};
  if (has_file) {
    endpoint.password = ReadFirstLine(parsed.Get("password-file"));
  }

  DiscoveredDevice discovered;
  discovered.url = endpoint.url;
  discovered.username = endpoint.username;
  discovered.password_file = parsed.Get("password-file");
  try {
    iotawatt::Client client(endpoint);
    const auto status = client.FetchStatus({"device", "outputs"});
    discovered.series = client.FetchSeries();
    for (const auto& output : status.outputs.value_or(std::vector<iotawatt::OutputStatus>{})) {
      discovered.outputs.insert(output.name);
    }
    const std::string reported = status.device ? status.device->name : "";
    discovered.name = parsed.Has("name") ? name : SanitizeDeviceName(reported);
  } catch (const iotawatt::DeviceError& error) {
    std::cerr << "discover: cannot read the device: " << error.what() << "\n";
    return kExitFailure;
  }

  std::cout << StarterConfigText(discovered);
  return kExitOk;
}

}  // namespace iwx::cli
