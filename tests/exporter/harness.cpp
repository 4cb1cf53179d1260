#include "harness.hpp"

#include <stdexcept>

#include "config/config.hpp"

namespace iwx::testing {

std::string Harness::ConfigText(const std::string& iwatt5_url, const std::string& iwatt6_url,
                                const std::string& extra) {
  return "[web]\nlisten_address = \"127.0.0.1:0\"\n"
         "[poll]\ninterval = \"10s\"\ntimeout = \"2s\"\n"
         "[state]\nfile = \"\"\n"
         "[[device]]\nname = \"iwatt5\"\nurl = \"" +
         iwatt5_url +
         "\"\n"
         "[[device]]\nname = \"iwatt6\"\nurl = \"" +
         iwatt6_url +
         "\"\n"
         "[[labels]]\nmatch = \"Mains_*\"\nset = { type = \"mains\" }\n"
         "[derived]\n"
         "load = \"iwatt5.Mains_1 + iwatt5.Mains_2\"\n"
         "solar_a = \"SolarA_1 + SolarA_2\"\n"
         "solar_b = \"SolarB_1 + SolarB_2\"\n"
         "solar = \"max(0, solar_a + solar_b)\"\n"
         "grid_import = \"max(0, load - solar)\"\n"
         "grid_export = \"max(0, solar - load)\"\n" +
         extra;
}

Harness::Harness(int64_t start, const std::string& extra_config, sim::Installation installation) {
  if (installation.units.empty()) {
    installation = sim::DefaultInstallation(start, 2);
  }
  simulator_ =
      std::make_unique<sim::Simulator>(std::move(installation), sim::Clock::Fixed(start * 1000));
  simulator_->Start("127.0.0.1", 0);

  const auto config = config::ParseConfig(
      ConfigText(simulator_->unit("iwatt5").url(), simulator_->unit("iwatt6").url(), extra_config),
      "harness.toml");
  poller::PollerOptions options;
  options.now = [this] {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(steady_nanos_.load()));
  };
  exporter_ = std::make_unique<app::Exporter>(config, options);
}

Harness::~Harness() {
  exporter_->Stop();
  simulator_->Stop();
}

void Harness::Advance(std::chrono::seconds step) {
  simulator_->clock()->Advance(step);
  steady_nanos_ += std::chrono::nanoseconds(step).count();
}

void Harness::PollAll() {
  for (auto& poller : exporter_->pollers()) {
    poller->PollOnce();
  }
}

std::vector<Sample> Harness::Scrape() const {
  return ParseExposition(exporter_->RenderMetrics());
}

double Harness::Truth(const std::string& unit, const std::string& channel, int64_t time) const {
  auto& model = simulator_->unit(unit).model();
  const auto input = model.FindInput(channel);
  if (!input) {
    throw std::invalid_argument("no channel " + channel + " on " + unit);
  }
  const auto value = model.TruthValue(*input, time);
  if (!value) {
    throw std::invalid_argument("unit " + unit + " was off at " + std::to_string(time));
  }
  return *value;
}

double Harness::TruthMean(const std::string& unit, const std::string& channel, int64_t begin,
                          int64_t end) const {
  double sum = 0;
  int count = 0;
  for (int64_t time = begin; time < end; time += 5) {
    sum += Truth(unit, channel, time);
    ++count;
  }
  return sum / count;
}

}  // namespace iwx::testing
