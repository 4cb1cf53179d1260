#include "simulator/simulator.hpp"

#include <stdexcept>
#include <thread>

namespace iwx::sim {

Simulator::Simulator(Installation installation, std::shared_ptr<Clock> clock)
    : clock_(std::move(clock)) {
  for (UnitSpec& spec : installation.units) {
    const std::string name = spec.name;
    auto model = std::make_shared<UnitModel>(std::move(spec), clock_);
    units_.emplace(name, std::make_unique<UnitServer>(std::move(model)));
  }
}

Simulator::~Simulator() {
  Stop();
}

void Simulator::Start(const std::string& host, uint16_t base_port) {
  // The accumulator checkpoints of every unit are computed in parallel before serving.
  std::vector<std::thread> warmers;
  for (auto& [name, server] : units_) {
    warmers.emplace_back([&model = server->model()] { model.Warm(); });
  }
  for (std::thread& warmer : warmers) {
    warmer.join();
  }
  uint16_t next_port = base_port;
  for (auto& [name, server] : units_) {
    server->Start(host, next_port);
    if (base_port != 0) {
      ++next_port;
    }
  }
}

void Simulator::Stop() {
  for (auto& [name, server] : units_) {
    server->Stop();
  }
}

std::vector<std::string> Simulator::unit_names() const {
  std::vector<std::string> names;
  for (const auto& [name, server] : units_) {
    names.push_back(name);
  }
  return names;
}

UnitServer& Simulator::unit(const std::string& name) {
  const auto found = units_.find(name);
  if (found == units_.end()) {
    throw std::out_of_range("no simulated unit named \"" + name + "\"");
  }
  return *found->second;
}

}  // namespace iwx::sim
