// Command-line parsing: a subcommand and Prometheus-style dotted flags.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace iwx::cli {

/// A flag a subcommand accepts.
struct FlagSpec {
  std::string name;        // without the leading "--", e.g. "config.file"
  std::string value_name;  // empty for boolean flags
  std::string default_value;
  std::string help;
};

struct CommandSpec {
  std::string name;
  std::string summary;
  std::vector<FlagSpec> flags;
};

/// A usage problem; the program prints it with a hint and exits with status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ParsedCommand {
  const CommandSpec* command = nullptr;
  std::map<std::string, std::string> values;
  /// Every value of every flag given, in order (for flags that may be repeated).
  std::map<std::string, std::vector<std::string>> all_values;
  bool help = false;
  bool version = false;

  /// The flag's value, or its default.
  std::string Get(const std::string& name) const;
  bool Has(const std::string& name) const { return values.count(name) != 0; }
  /// Every value given for a repeatable flag; empty when it was not given.
  std::vector<std::string> GetAll(const std::string& name) const;
};

/// Flags several subcommands share: --config.file and --log.level.
const FlagSpec& ConfigFileFlag();
const FlagSpec& LogLevelFlag();

/// Parses argv. The first argument names the subcommand unless it is a flag, in which case
/// `default_command` is used. Accepts "--flag=value" and "--flag value". A repeated flag
/// keeps its last value in `values` and all of them in `all_values`.
/// \throw UsageError naming the unknown subcommand or flag, or the flag missing a value.
ParsedCommand ParseCommandLine(const std::vector<std::string>& args,
                               const std::vector<CommandSpec>& commands,
                               const std::string& default_command);

/// The --help text of a subcommand.
std::string Usage(const std::string& program, const CommandSpec& command,
                  const std::vector<CommandSpec>& commands);

}  // namespace iwx::cli
