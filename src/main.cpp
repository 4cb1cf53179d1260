// iotawatt_exporter: IoTaWatt energy monitors to Prometheus and VictoriaMetrics.
#include <string>
#include <vector>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  const std::string program = argc > 0 ? "iotawatt_exporter" : "";
  return iwx::cli::Main(program, std::vector<std::string>(argv + 1, argv + argc));
}
