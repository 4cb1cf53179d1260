#include "cli/flags.hpp"

#include <algorithm>
#include <sstream>

namespace iwx::cli {

namespace {

const CommandSpec* FindCommand(const std::vector<CommandSpec>& commands, const std::string& name) {
  for (const auto& command : commands) {
    if (command.name == name) {
      return &command;
    }
  }
  return nullptr;
}

const FlagSpec* FindFlag(const CommandSpec& command, const std::string& name) {
  for (const auto& flag : command.flags) {
    if (flag.name == name) {
      return &flag;
    }
  }
  return nullptr;
}

std::string CommandNames(const std::vector<CommandSpec>& commands) {
  std::string names;
  for (const auto& command : commands) {
    names += (names.empty() ? "" : ", ") + command.name;
  }
  return names;
}

}  // namespace

const FlagSpec& ConfigFileFlag() {
  static const FlagSpec flag{"config.file", "FILE", "/etc/iotawatt_exporter/config.toml",
                             "Configuration file (TOML)."};
  return flag;
}

const FlagSpec& LogLevelFlag() {
  static const FlagSpec flag{"log.level", "LEVEL", "info",
                             "Lowest level logged: debug, info, warn or error."};
  return flag;
}

std::string ParsedCommand::Get(const std::string& name) const {
  const auto found = values.find(name);
  if (found != values.end()) {
    return found->second;
  }
  const FlagSpec* flag = FindFlag(*command, name);
  return flag != nullptr ? flag->default_value : "";
}

std::vector<std::string> ParsedCommand::GetAll(const std::string& name) const {
  const auto found = all_values.find(name);
  return found != all_values.end() ? found->second : std::vector<std::string>{};
}

ParsedCommand ParseCommandLine(const std::vector<std::string>& args,
                               const std::vector<CommandSpec>& commands,
                               const std::string& default_command) {
  ParsedCommand parsed;
  size_t next = 0;
  if (!args.empty() && !args[0].starts_with("-")) {
    parsed.command = FindCommand(commands, args[0]);
    if (parsed.command == nullptr) {
      throw UsageError("unknown command \"" + args[0] + "\": expected one of " +
                       CommandNames(commands));
    }
    next = 1;
  } else {
    parsed.command = FindCommand(commands, default_command);
  }

  for (; next < args.size(); ++next) {
    const std::string& arg = args[next];
    if (arg == "-h" || arg == "--help") {
      parsed.help = true;
      continue;
    }
    if (arg == "--version") {
      parsed.version = true;
      continue;
    }
    if (!arg.starts_with("--")) {
      throw UsageError("unexpected argument \"" + arg + "\": " + parsed.command->name +
                       " takes only flags (see --help)");
    }

    const auto equals = arg.find('=');
    const std::string name = arg.substr(2, equals == std::string::npos ? arg.npos : equals - 2);
    const FlagSpec* flag = FindFlag(*parsed.command, name);
    if (flag == nullptr) {
      throw UsageError("unknown flag \"--" + name + "\" for " + parsed.command->name + " (see " +
                       parsed.command->name + " --help)");
    }
    if (flag->value_name.empty()) {
      parsed.values[name] = equals == std::string::npos ? "true" : arg.substr(equals + 1);
      continue;
    }
    if (equals != std::string::npos) {
      parsed.values[name] = arg.substr(equals + 1);
    } else if (next + 1 < args.size()) {
      parsed.values[name] = args[++next];
    } else {
      throw UsageError("flag \"--" + name + "\" needs a value: --" + name + "=" + flag->value_name);
    }
    parsed.all_values[name].push_back(parsed.values[name]);
  }
  return parsed;
}

std::string Usage(const std::string& program, const CommandSpec& command,
                  const std::vector<CommandSpec>& commands) {
  std::ostringstream out;
  out << "usage: " << program << " " << command.name << " [flags]\n\n" << command.summary << "\n";

  out << "\nFlags:\n";
  size_t width = 0;
  for (const auto& flag : command.flags) {
    width = std::max(width, flag.name.size() + flag.value_name.size() + 3);
  }
  for (const auto& flag : command.flags) {
    std::string left = "--" + flag.name + (flag.value_name.empty() ? "" : "=" + flag.value_name);
    left.resize(width + 2, ' ');
    out << "  " << left << flag.help;
    if (!flag.default_value.empty()) {
      out << " (default: " << flag.default_value << ")";
    }
    out << "\n";
  }
  out << "  -h, --help" << std::string(width - 8, ' ') << "Show this help.\n";
  out << "  --version" << std::string(width - 7, ' ') << "Show the version.\n";

  out << "\nCommands:\n";
  for (const auto& other : commands) {
    std::string name = other.name;
    name.resize(10, ' ');
    out << "  " << name << other.summary.substr(0, other.summary.find('\n')) << "\n";
  }
  return out.str();
}

}  // namespace iwx::cli
