#include "harness.hpp"

#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "config/config.hpp"

namespace iwx::testing {

std::string Harness::ConfigText(const std::string& iwatt5_url, const std::string& iwatt6_url,
                                const std::string& state_file, bool authenticate) {
  const std::string credentials =
      authenticate ? "username = \"user\"\npassword_env = \"IWX_TEST_DEVICE_PASSWORD\"\n" : "";
  return "[web]\nlisten_address = \"127.0.0.1:0\"\n"
         "[poll]\ninterval = \"10s\"\ntimeout = \"2s\"\n"
         "[state]\nfile = \"" +
         state_file +
         "\"\n"
         "[[device]]\nname = \"iwatt5\"\nurl = \"" +
         iwatt5_url + "\"\n" + credentials + "[[device]]\nname = \"iwatt6\"\nurl = \"" +
         iwatt6_url + "\"\n" + credentials +
         "[[labels]]\nmatch = \"Mains_*\"\nset = { type = \"mains\" }\n"
         "[derived]\n"
         "load = \"iwatt5.Mains_1 + iwatt5.Mains_2\"\n"
         "solar_a = \"SolarA_1 + SolarA_2\"\n"
         "solar_b = \"SolarB_1 + SolarB_2\"\n"
         "solar = \"max(0, solar_a + solar_b)\"\n"
         "grid_import = \"max(0, load - solar)\"\n"
         "grid_export = \"max(0, solar - load)\"\n";
}

Harness::Harness(int64_t start, HarnessOptions options) {
  auto installation = std::move(options.installation);
  if (installation.units.empty()) {
    installation = sim::DefaultInstallation(start, 2);
  }
  if (!options.password.empty()) {
    for (auto& unit : installation.units) {
      unit.user_password = options.password;
    }
    ::setenv("IWX_TEST_DEVICE_PASSWORD", options.password.c_str(), 1);
  }
  simulator_ =
      std::make_unique<sim::Simulator>(std::move(installation), sim::Clock::Fixed(start * 1000));
  simulator_->Start("127.0.0.1", 0);

  config_text_ = ConfigText(simulator_->unit("iwatt5").url(), simulator_->unit("iwatt6").url(),
                            options.state_file, !options.password.empty());
  StartExporter();
}

Harness::~Harness() {
  if (exporter_) {
    exporter_->Stop();
  }
  simulator_->Stop();
}

void Harness::StartExporter() {
  poller::PollerOptions options;
  options.now = [this] {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(steady_nanos_.load()));
  };
  exporter_ =
      std::make_unique<app::Exporter>(config::ParseConfig(config_text_, "harness.toml"), options);
}

void Harness::StopExporter() {
  exporter_->Stop();
  exporter_->SaveCounters();
  exporter_.reset();
}

void Harness::Advance(std::chrono::seconds step) {
  simulator_->clock()->Advance(step);
  steady_nanos_ += std::chrono::nanoseconds(step).count();
}

bool Harness::PollAll() {
  bool backlog = false;
  for (auto& poller : exporter_->pollers()) {
    backlog |= poller->PollOnce();
  }
  return backlog;
}

void Harness::CatchUp() {
  for (int page = 0; PollAll(); ++page) {
    if (page > 1000) {
      throw std::runtime_error("the exporter does not catch up");
    }
  }
}

std::vector<Sample> Harness::Scrape() const {
  return ParseExposition(exporter_->RenderMetrics());
}

std::optional<double> Harness::MaybeTruth(const std::string& unit, const std::string& channel,
                                          int64_t time) const {
  auto& model = simulator_->unit(unit).model();
  const auto input = model.FindInput(channel);
  if (!input) {
    throw std::invalid_argument("no channel " + channel + " on " + unit);
  }
  return model.TruthValue(*input, time);
}

EnergyTruth Harness::ChannelEnergy(const std::string& unit, const std::string& channel,
                                   int64_t begin, int64_t end) const {
  EnergyTruth energy;
  for (int64_t time = begin; time < end; time += 5) {
    const auto watts = MaybeTruth(unit, channel, time);
    if (watts) {
      (*watts >= 0 ? energy.positive : energy.negative) += std::abs(*watts) * 5;
    }
  }
  return energy;
}

double Harness::Truth(const std::string& unit, const std::string& channel, int64_t time) const {
  const auto value = MaybeTruth(unit, channel, time);
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
