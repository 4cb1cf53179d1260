// ParseInstallation: the TOML description of a simulated installation.
#include <algorithm>
#include <set>
#include <stdexcept>

#include <toml++/toml.h>

#include "simulator/civil_time.hpp"
#include "simulator/installation_detail.hpp"
#include "simulator/script.hpp"
#include "simulator/signals.hpp"
#include "simulator/simulator.hpp"
#include "util/duration.hpp"

namespace iwx::sim {

namespace {

constexpr size_t kMaxInputs = 15;
constexpr size_t kMaxOutputNameLength = 16;

class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}

  Installation Parse(const toml::table& root) {
    CheckKeys(root, "the top level",
              {"seed", "timezone_minutes", "history_start", "current_log_days", "net_metering",
               "outage", "unit"});
    UnitSpec defaults;
    ReadUnitSettings(root, defaults);
    std::vector<Outage> shared_outages = ReadOutages(root, "outage");

    const toml::array* units = ArrayOfTables(root, "unit");
    if (units == nullptr || units->empty()) {
      throw Error(root, "no [[unit]] tables: expected at least one unit");
    }
    Installation installation;
    std::set<std::string> names;
    for (const toml::node& node : *units) {
      UnitSpec unit = ReadUnit(*node.as_table(), defaults);
      if (!names.insert(unit.name).second) {
        throw Error(node, "unit name \"" + unit.name + "\" is used twice: expected unique names");
      }
      unit.outages.insert(unit.outages.begin(), shared_outages.begin(), shared_outages.end());
      installation.units.push_back(std::move(unit));
    }
    LinkUnits(installation);
    return installation;
  }

 private:
  std::runtime_error Error(const toml::node& node, const std::string& message) const {
    return std::runtime_error(source_ + ":" + std::to_string(node.source().begin.line) + ": " +
                              message);
  }

  void CheckKeys(const toml::table& table, const std::string& where,
                 std::initializer_list<const char*> allowed) const {
    for (const auto& [key, value] : table) {
      const bool known = std::any_of(allowed.begin(), allowed.end(),
                                     [&key](const char* name) { return key.str() == name; });
      if (known) {
        continue;
      }
      std::string expected;
      for (const char* name : allowed) {
        expected += (expected.empty() ? "" : ", ") + std::string(name);
      }
      const auto line =
          key.source().begin.line != 0 ? key.source().begin.line : value.source().begin.line;
      throw std::runtime_error(source_ + ":" + std::to_string(line) + ": unknown key \"" +
                               std::string(key.str()) + "\" in " + where + ": expected one of " +
                               expected);
    }
  }

  const toml::array* ArrayOfTables(const toml::table& table, const char* key) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return nullptr;
    }
    const toml::array* array = node->as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      throw Error(*node, "\"" + std::string(key) + "\" must be an array of tables ([[" +
                             std::string(key) + "]])");
    }
    return array;
  }

  std::string String(const toml::table& table, const char* key, std::string fallback) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return fallback;
    }
    if (!node->is_string()) {
      throw Error(*node, "\"" + std::string(key) + "\" must be a string");
    }
    return node->as_string()->get();
  }

  int64_t Integer(const toml::table& table, const char* key, int64_t fallback, int64_t low,
                  int64_t high) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return fallback;
    }
    const std::optional<int64_t> value = node->value_exact<int64_t>();
    if (!value || *value < low || *value > high) {
      throw Error(*node, "\"" + std::string(key) + "\" must be an integer in " +
                             std::to_string(low) + ".." + std::to_string(high));
    }
    return *value;
  }

  double Number(const toml::table& table, const char* key, double fallback) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return fallback;
    }
    const std::optional<double> value = node->value<double>();
    if (!value || !(*value >= 0)) {
      throw Error(*node, "\"" + std::string(key) + "\" must be a non-negative number");
    }
    return *value;
  }

  bool Boolean(const toml::table& table, const char* key, bool fallback) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return fallback;
    }
    if (!node->is_boolean()) {
      throw Error(*node, "\"" + std::string(key) + "\" must be true or false");
    }
    return node->as_boolean()->get();
  }

  // A time as UTC seconds or an offset date-time such as 2024-01-01T00:00:00Z.
  int64_t Time(const toml::table& table, const char* key, int64_t fallback) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return fallback;
    }
    if (const toml::date_time* when =
            node->as_date_time() ? &node->as_date_time()->get() : nullptr) {
      if (when->offset) {
        return DateTimeSeconds(*when);
      }
    }
    if (const std::optional<int64_t> seconds = node->value_exact<int64_t>()) {
      return *seconds;
    }
    throw Error(*node, "\"" + std::string(key) +
                           "\" must be UTC seconds or a date-time with offset, e.g. "
                           "2024-01-01T00:00:00Z");
  }

  static int64_t DateTimeSeconds(const toml::date_time& when) {
    const int64_t days = DaysFromCivil(when.date.year, when.date.month, when.date.day);
    return days * 86400 + when.time.hour * 3600 + when.time.minute * 60 + when.time.second -
           int64_t{when.offset->minutes} * 60;
  }

  void ReadUnitSettings(const toml::table& table, UnitSpec& unit) const {
    unit.seed = static_cast<uint64_t>(
        Integer(table, "seed", static_cast<int64_t>(unit.seed), 0, INT64_MAX));
    unit.timezone_minutes =
        static_cast<int>(Integer(table, "timezone_minutes", unit.timezone_minutes, -720, 840));
    unit.history_start = Time(table, "history_start", unit.history_start);
    if (unit.history_start % 60 != 0) {
      throw Error(*table.get("history_start"), "\"history_start\" " +
                                                   std::to_string(unit.history_start) +
                                                   " must be a multiple of 60 seconds");
    }
    unit.current_log_days =
        static_cast<int>(Integer(table, "current_log_days", unit.current_log_days, 1, 3652));
    unit.net_metering = Boolean(table, "net_metering", unit.net_metering);
  }

  std::vector<Outage> ReadOutages(const toml::table& table, const char* key) const {
    std::vector<Outage> outages;
    const toml::array* array = ArrayOfTables(table, key);
    if (array == nullptr) {
      return outages;
    }
    for (const toml::node& node : *array) {
      const toml::table& outage_table = *node.as_table();
      CheckKeys(outage_table, "[[" + std::string(key) + "]]", {"begin", "end"});
      if (!outage_table.contains("begin") || !outage_table.contains("end")) {
        throw Error(node, "an outage needs both \"begin\" and \"end\"");
      }
      Outage outage{Time(outage_table, "begin", 0), Time(outage_table, "end", 0)};
      if (outage.end <= outage.begin) {
        throw Error(node, "outage end " + std::to_string(outage.end) + " must be after its begin " +
                              std::to_string(outage.begin));
      }
      outages.push_back(outage);
    }
    return outages;
  }

  static bool ValidName(const std::string& name) {
    return !name.empty() && std::isalpha(static_cast<unsigned char>(name[0])) &&
           std::all_of(name.begin(), name.end(), [](char c) {
             return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
           });
  }

  InputSpec ReadInput(const toml::table& table, size_t channel) const {
    CheckKeys(table, "[[unit.input]]",
              {"channel", "name", "type", "profile", "nominal", "signed", "leg", "reversed"});
    if (Integer(table, "channel", static_cast<int64_t>(channel), 0, 14) !=
        static_cast<int64_t>(channel)) {
      throw Error(*table.get("channel"),
                  "\"channel\" must equal the input's position (" + std::to_string(channel) + ")");
    }
    InputSpec input;
    input.name = String(table, "name", "");
    if (!ValidName(input.name)) {
      throw Error(table, "input name \"" + input.name +
                             "\" must be a letter followed by letters, digits or '_'");
    }
    const std::string type = String(table, "type", "CT");
    if (type != "VT" && type != "CT") {
      throw Error(*table.get("type"), "input type \"" + type + "\": expected VT or CT");
    }
    input.kind = type == "VT" ? InputKind::kVoltage : InputKind::kPower;
    input.profile = String(table, "profile", type == "VT" ? "voltage" : "base");
    try {
      ParseProfile(input.profile);
    } catch (const std::runtime_error& error) {
      throw Error(table, "input \"" + input.name + "\": " + error.what());
    }
    input.nominal = Number(table, "nominal", type == "VT" ? 120 : 100);
    input.is_signed = Boolean(table, "signed", false);
    input.leg = static_cast<int>(Integer(table, "leg", 1, 0, 2));
    input.reversed = Boolean(table, "reversed", false);
    return input;
  }

  OutputSpec ReadOutput(const toml::table& table, size_t inputs) const {
    CheckKeys(table, "[[unit.output]]", {"name", "units", "script"});
    OutputSpec output{String(table, "name", ""), String(table, "units", "Watts"),
                      String(table, "script", "")};
    if (!ValidName(output.name) || output.name.size() > kMaxOutputNameLength) {
      throw Error(table, "output name \"" + output.name +
                             "\" must be a letter followed by letters, digits or '_', at most "
                             "16 characters");
    }
    static const char* kUnits[] = {"Watts", "Volts", "Amps", "VA",  "VAh", "Hz",
                                   "Wh",    "kWh",   "PF",   "VAR", "VARh"};
    if (std::none_of(std::begin(kUnits), std::end(kUnits),
                     [&output](const char* unit) { return output.units == unit; })) {
      throw Error(table, "output \"" + output.name + "\" units \"" + output.units +
                             "\": expected Watts, Volts, Amps, VA, VAh, Hz, Wh, kWh, PF, VAR "
                             "or VARh");
    }
    try {
      for (const int input : Script::Parse(output.script).Inputs()) {
        if (static_cast<size_t>(input) >= inputs) {
          throw std::runtime_error("script \"" + output.script + "\" reads @" +
                                   std::to_string(input) + " but the unit has " +
                                   std::to_string(inputs) + " inputs");
        }
      }
    } catch (const std::runtime_error& error) {
      throw Error(table, "output \"" + output.name + "\": " + error.what());
    }
    return output;
  }

  UnitSpec ReadUnit(const toml::table& table, const UnitSpec& defaults) const {
    CheckKeys(table, "[[unit]]",
              {"name", "firmware", "password", "row_delay", "seed", "timezone_minutes",
               "history_start", "current_log_days", "net_metering", "input", "output", "outage"});
    UnitSpec unit = defaults;
    unit.name = String(table, "name", "");
    if (!ValidName(unit.name)) {
      throw Error(table, "unit name \"" + unit.name +
                             "\" must be a letter followed by letters, digits or '_'");
    }
    unit.firmware = String(table, "firmware", unit.firmware);
    unit.user_password = String(table, "password", "");
    if (const toml::node* delay = table.get("row_delay")) {
      try {
        unit.row_delay = util::ParseDuration(String(table, "row_delay", ""));
      } catch (const std::exception& error) {
        throw Error(*delay, error.what());
      }
    }
    ReadUnitSettings(table, unit);
    unit.outages = ReadOutages(table, "outage");

    const toml::array* inputs = ArrayOfTables(table, "input");
    if (inputs == nullptr || inputs->size() > kMaxInputs) {
      throw Error(table, "unit \"" + unit.name + "\" needs 1 to 15 [[unit.input]] tables");
    }
    for (const toml::node& node : *inputs) {
      unit.inputs.push_back(ReadInput(*node.as_table(), unit.inputs.size()));
    }
    if (const toml::array* outputs = ArrayOfTables(table, "output")) {
      for (const toml::node& node : *outputs) {
        unit.outputs.push_back(ReadOutput(*node.as_table(), unit.inputs.size()));
      }
    }
    return unit;
  }

  std::string source_;
};

}  // namespace

Installation ParseInstallation(const std::string& toml_text, const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& error) {
    throw std::runtime_error(source_name + ":" + std::to_string(error.source().begin.line) + ": " +
                             std::string(error.description()));
  }
  return Parser(source_name).Parse(root);
}

}  // namespace iwx::sim
