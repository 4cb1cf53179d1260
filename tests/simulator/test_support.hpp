// Shared fixtures of the simulator tests: a small unit and a fixed moment.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "simulator/query.hpp"
#include "simulator/simulator.hpp"

namespace iwx::sim::testing {

/// 2024-11-10T20:11:20Z: a hh:mm:20 moment, as in the captured 5-minute query.
inline constexpr int64_t kNow = 1731269480;

/// A single-unit installation with one VT, a load and a solar channel, fixed clock.
inline UnitSpec SmallUnit(int64_t now = kNow) {
  UnitSpec unit;
  unit.name = "small";
  unit.inputs = {
      InputSpec{"Voltage", InputKind::kVoltage, false, "voltage", 120, 0, false},
      InputSpec{"Load", InputKind::kPower, false, "fridge", 150, 1, false},
      InputSpec{"Solar", InputKind::kPower, true, "solar", 3000, 1, false},
      InputSpec{"Mains", InputKind::kPower, false, "mains", 200, 1, false},
  };
  unit.outputs = {{"Total", "Watts", "@1+@3"}, {"TotalPF", "PF", "@1+@3"}};
  unit.history_start = now - 30 * 86400 - now % 3600;
  unit.timezone_minutes = -300;
  return unit;
}

inline std::string Query(const UnitModel& model, QueryArgs args) {
  return RunQuery(model, args).body;
}

}  // namespace iwx::sim::testing
