#include <cmath>

#include "simulator/civil_time.hpp"
#include "simulator/installation_detail.hpp"
#include "simulator/simulator.hpp"

namespace iwx::sim {

namespace {

InputSpec Voltage() {
  InputSpec input;
  input.name = "Voltage";
  input.kind = InputKind::kVoltage;
  input.profile = "voltage";
  input.nominal = 120;
  input.leg = 0;
  return input;
}

InputSpec Power(std::string name, std::string profile, double nominal, int leg,
                bool is_signed = false) {
  InputSpec input;
  input.name = std::move(name);
  input.profile = std::move(profile);
  input.nominal = nominal;
  input.leg = leg;
  input.is_signed = is_signed;
  return input;
}

OutputSpec Output(std::string name, std::string units, std::string script) {
  return OutputSpec{std::move(name), std::move(units), std::move(script)};
}

UnitSpec MainPanelUnit() {
  UnitSpec unit;
  unit.name = "iwatt5";
  unit.inputs = {
      Voltage(),
      Power("Mains_1", "mains", 180, 1),
      Power("Mains_2", "mains", 150, 2),
      Power("SolarA_1", "solar", 2600, 1, true),
      Power("SolarA_2", "solar", 2600, 2, true),
      Power("Fridge", "fridge", 150, 1),
      Power("Furnace", "furnace", 600, 2),
      Power("AC_1", "hvac", 1750, 1),
      Power("AC_2", "hvac", 1750, 2),
      Power("Water_Heater", "water_heater", 4500, 0),
      Power("Dryer", "laundry", 5000, 0),
      Power("Kitchen", "outlets", 400, 1),
      Power("Living_Room", "outlets", 250, 2),
      Power("Lighting", "lighting", 600, 1),
      Power("EV_Charger", "ev", 7200, 0),
  };
  unit.outputs = {
      Output("Total_Load", "Watts", "@1+@2"),
      Output("House_PF", "PF", "@1+@2"),
      Output("Solar_A", "Watts", "@3+@4"),
  };
  return unit;
}

UnitSpec SubPanelUnit() {
  UnitSpec unit;
  unit.name = "iwatt6";
  unit.inputs = {
      Voltage(),
      Power("SolarB_1", "solar", 1900, 1, true),
      Power("SolarB_2", "solar", 1900, 2, true),
      Power("Washer", "laundry", 500, 2),
      Power("Dishwasher", "dishwasher", 1200, 1),
      Power("Oven", "cooking", 3400, 0),
      Power("Microwave", "microwave", 1100, 2),
      Power("Bedrooms", "outlets", 200, 1),
      Power("Office", "office", 300, 2),
      Power("Garage", "outlets", 150, 1),
      Power("Pool_Pump", "pump", 1200, 0),
      Power("Basement", "base", 120, 2),
      Power("Sump_Pump", "sump", 800, 1),
      Power("Freezer", "freezer", 120, 2),
      Power("Bathrooms", "outlets", 300, 1),
  };
  unit.outputs = {
      Output("Solar_B", "Watts", "@1+@2"),
      Output("Kitchen_Appliances", "Watts", "@4+@5+@6"),
  };
  return unit;
}

}  // namespace

void LinkUnits(Installation& installation) {
  for (UnitSpec& unit : installation.units) {
    unit.other_loads.clear();
    for (const UnitSpec& other : installation.units) {
      if (&other == &unit) {
        continue;
      }
      for (const InputSpec& input : other.inputs) {
        if (input.kind == InputKind::kPower && input.profile != "mains") {
          unit.other_loads.push_back(input);
        }
      }
    }
  }
}

Installation DefaultInstallation(int64_t now_unix, int history_days) {
  Installation installation;
  installation.units = {MainPanelUnit(), SubPanelUnit()};

  const int64_t history_start = FloorTo(now_unix - int64_t{history_days} * 86400, 3600);
  // One long outage (a hole in the 5-s log) three days ago and a short one ten days ago.
  const int64_t long_outage = FloorTo(now_unix - 3 * 86400, 3600) + 1200;
  const int64_t short_outage = FloorTo(now_unix - 10 * 86400, 3600) + 305;
  for (UnitSpec& unit : installation.units) {
    unit.seed = 5;
    unit.timezone_minutes = -300;
    unit.history_start = history_start;
    unit.outages = {{short_outage, short_outage + 180}, {long_outage, long_outage + 2400}};
  }
  LinkUnits(installation);
  return installation;
}

}  // namespace iwx::sim
