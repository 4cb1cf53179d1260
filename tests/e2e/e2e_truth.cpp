// e2e_truth: expected values of the end-to-end test, straight from the simulator's signal
// generator (UnitModel::TruthValue), without the device API, the exporter or VM.
//
// For the built-in installation with its clock standing at --now, prints the average over
// the 5-second records in [--begin, --end) of, one "name value" line each (W):
//   Mains_1      iwatt5's Mains_1
//   load         iwatt5.Mains_1 + iwatt5.Mains_2
//   solar        max(0, SolarA_1 + SolarA_2 + SolarB_1 + SolarB_2)
//   grid_import  max(0, load - solar)
//   grid_export  max(0, solar - load)
// Derived values are computed per record, then averaged, as the exporter does. The derived formulas
// are those of the e2e config, written out here on purpose rather than taken from the exporter's
// expression code.
//
// `e2e_truth energy --now=UNIX [--begin=UNIX] [--end=UNIX] [--history-days=N]` prints instead
// the energy of the same series over the records [--begin, --end), integrated per record
// (value x 5 s) and split by sign as the exporter's counters are: one
// "name positive_joules negative_joules" line each.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "simulator/simulator.hpp"

namespace iwx::e2e {
namespace {

struct Options {
  int64_t now = 0;
  int64_t begin = 0;
  int64_t end = 0;
  int history_days = 400;
};

[[noreturn]] void Usage(const std::string& problem) {
  std::cerr << "e2e_truth: " << problem << "\n"
            << "usage: e2e_truth [energy] --now=UNIX [--begin=UNIX] [--end=UNIX] "
               "[--history-days=N]\n"
               "  energy          print per-record energy integrals (J) instead of averages\n"
               "  --begin, --end  the records averaged, [begin, end); default: the one\n"
               "                  record that ends at --now\n";
  std::exit(2);
}

Options ParseOptions(int argc, char** argv) {
  std::map<std::string, int64_t> values;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
      Usage("unexpected argument '" + arg + "' (flags are --name=value)");
    }
    try {
      size_t used = 0;
      const std::string text = arg.substr(eq + 1);
      values[arg.substr(2, eq - 2)] = std::stoll(text, &used);
      if (used != text.size()) {
        throw std::invalid_argument(text);
      }
    } catch (const std::exception&) {
      Usage("'" + arg + "': expected an integer");
    }
  }
  Options options;
  for (const auto& [name, value] : values) {
    if (name == "now") {
      options.now = value;
    } else if (name == "begin") {
      options.begin = value;
    } else if (name == "end") {
      options.end = value;
    } else if (name == "history-days") {
      options.history_days = static_cast<int>(value);
    } else {
      Usage("unknown flag --" + name);
    }
  }
  if (options.now <= 0 || options.now % 5 != 0) {
    Usage("--now: expected a positive multiple of 5");
  }
  if (values.count("end") == 0) {
    options.end = options.now;
  }
  if (values.count("begin") == 0) {
    options.begin = options.end - 5;
  }
  if (options.begin % 5 != 0 || options.end % 5 != 0 || options.begin >= options.end) {
    Usage("--begin, --end: expected multiples of 5 with begin < end");
  }
  return options;
}

class Truth {
 public:
  Truth(const sim::Installation& installation, const std::shared_ptr<sim::Clock>& clock) {
    for (const auto& unit : installation.units) {
      units_[unit.name] = std::make_unique<sim::UnitModel>(unit, clock);
    }
  }

  // Value of UNIT's CHANNEL in the record starting at t; exits if it has none.
  double Value(const std::string& unit, const std::string& channel, int64_t t) const {
    const auto found = units_.find(unit);
    if (found == units_.end()) {
      Fail("no unit " + unit);
    }
    const auto input = found->second->FindInput(channel);
    if (!input) {
      Fail("unit " + unit + " has no input " + channel);
    }
    const auto value = found->second->TruthValue(*input, t);
    if (!value) {
      Fail(unit + " was off at " + std::to_string(t));
    }
    return *value;
  }

 private:
  [[noreturn]] static void Fail(const std::string& message) {
    std::cerr << "e2e_truth: " << message << "\n";
    std::exit(1);
  }

  std::map<std::string, std::unique_ptr<sim::UnitModel>> units_;
};

// The series printed, in order, and their values in the record starting at t.
const std::vector<std::string> kNames = {"Mains_1", "load", "solar", "grid_import", "grid_export"};

std::vector<double> RecordValues(const Truth& truth, int64_t t) {
  const double mains_1 = truth.Value("iwatt5", "Mains_1", t);
  const double load = mains_1 + truth.Value("iwatt5", "Mains_2", t);
  const double solar_a =
      truth.Value("iwatt5", "SolarA_1", t) + truth.Value("iwatt5", "SolarA_2", t);
  const double solar_b =
      truth.Value("iwatt6", "SolarB_1", t) + truth.Value("iwatt6", "SolarB_2", t);
  const double solar = std::max(0.0, solar_a + solar_b);
  return {mains_1, load, solar, std::max(0.0, load - solar), std::max(0.0, solar - load)};
}

int Main(int argc, char** argv) {
  const bool energy = argc > 1 && std::string(argv[1]) == "energy";
  // For the subcommand, its name takes the place of the program name in the flag parser.
  const Options options = energy ? ParseOptions(argc - 1, argv + 1) : ParseOptions(argc, argv);
  const auto clock = sim::Clock::Fixed(options.now * 1000);
  const Truth truth(sim::DefaultInstallation(options.now, options.history_days), clock);

  // Sums over the records, in the order printed; for energy, joules split by sign.
  std::vector<double> sums(kNames.size(), 0);
  std::vector<double> negative(kNames.size(), 0);
  int records = 0;
  for (int64_t t = options.begin; t < options.end; t += 5) {
    const std::vector<double> values = RecordValues(truth, t);
    for (size_t i = 0; i < kNames.size(); ++i) {
      if (!energy) {
        sums[i] += values[i];
      } else if (values[i] >= 0) {
        sums[i] += values[i] * 5;
      } else {
        negative[i] -= values[i] * 5;
      }
    }
    ++records;
  }
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (energy) {
      std::printf("%s %.17g %.17g\n", kNames[i].c_str(), sums[i], negative[i]);
    } else {
      std::printf("%s %.17g\n", kNames[i].c_str(), sums[i] / records);
    }
  }
  return 0;
}

}  // namespace
}  // namespace iwx::e2e

int main(int argc, char** argv) {
  return iwx::e2e::Main(argc, argv);
}
