// GET /status of one unit.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "simulator/simulator.hpp"

namespace iwx::sim {

/// Facts about the running server that /status reports.
struct StatusContext {
  int64_t start_time = 0;  // UTC seconds of the (simulated) boot
  std::string ip = "127.0.0.1";
};

/// The /status body: one section per argument name for which has_arg() is true, in the
/// firmware's fixed order, numbers formatted like ArduinoJson 5.
std::string RenderStatus(const UnitModel& model, const StatusContext& context,
                         const std::function<bool(const std::string&)>& has_arg);

}  // namespace iwx::sim
