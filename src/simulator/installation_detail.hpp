// Pieces shared by the built-in installation and the TOML parser.
#pragma once

#include "simulator/simulator.hpp"

namespace iwx::sim {

/// Fills every unit's other_loads with the power inputs of the other units.
void LinkUnits(Installation& installation);

}  // namespace iwx::sim
