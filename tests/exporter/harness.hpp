// An exporter polling an in-process simulated installation, with time under test control.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "app/exporter.hpp"
#include "metrics_text.hpp"
#include "simulator/simulator.hpp"

namespace iwx::testing {

class Harness {
 public:
  /// Starts the default installation with its clock fixed at `start` (UTC seconds) and
  /// an exporter (not started: tests poll explicitly) configured for it.
  /// `extra_config` is appended to the configuration text.
  explicit Harness(int64_t start, const std::string& extra_config = "",
                   sim::Installation installation = {});
  ~Harness();

  /// Moves the device clock and the exporter's steady clock forward together.
  void Advance(std::chrono::seconds step);
  void PollAll();
  std::vector<Sample> Scrape() const;

  /// Mean of the generator's truth for a channel over the records [begin, end).
  double TruthMean(const std::string& unit, const std::string& channel, int64_t begin,
                   int64_t end) const;
  /// The generator's truth for one record of a channel.
  double Truth(const std::string& unit, const std::string& channel, int64_t time) const;

  app::Exporter& exporter() { return *exporter_; }
  sim::Simulator& simulator() { return *simulator_; }
  int64_t now() const { return simulator_->clock()->NowSeconds(); }

  /// Configuration text used (URLs filled in).
  static std::string ConfigText(const std::string& iwatt5_url, const std::string& iwatt6_url,
                                const std::string& extra);

 private:
  std::unique_ptr<sim::Simulator> simulator_;
  std::atomic<int64_t> steady_nanos_{0};
  std::unique_ptr<app::Exporter> exporter_;
};

}  // namespace iwx::testing
