// An exporter polling an in-process simulated installation, with time under test control.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/exporter.hpp"
#include "metrics_text.hpp"
#include "simulator/simulator.hpp"

namespace iwx::testing {

struct HarnessOptions {
  /// Empty: the default installation with two days of history.
  sim::Installation installation;
  /// Counter file; empty: counters in memory only.
  std::string state_file;
  /// Digest password of the units' `user` account (set on the installation too); empty:
  /// no authentication.
  std::string password;
};

/// Energy of one series over a span, split by sign, in joules.
struct EnergyTruth {
  double positive = 0;
  double negative = 0;
};

class Harness {
 public:
  /// Starts the installation with its clock fixed at `start` (UTC seconds) and an exporter
  /// (not started: tests poll explicitly) configured for it.
  explicit Harness(int64_t start, HarnessOptions options = {});
  ~Harness();

  /// Stops the exporter as SIGTERM would (saving its counters), and drops it.
  void StopExporter();
  /// Creates a new exporter with the same configuration (reading the counter file).
  void StartExporter();

  /// Moves the device clock and the exporter's steady clock forward together.
  void Advance(std::chrono::seconds step);
  /// Polls every device once; returns true when a device still has a backlog.
  bool PollAll();
  /// Polls until no device has a backlog.
  void CatchUp();
  std::vector<Sample> Scrape() const;

  /// Mean of the generator's truth for a channel over the records [begin, end).
  double TruthMean(const std::string& unit, const std::string& channel, int64_t begin,
                   int64_t end) const;
  /// The generator's truth for one record of a channel.
  double Truth(const std::string& unit, const std::string& channel, int64_t time) const;
  /// The generator's truth, or nullopt while the unit was off.
  std::optional<double> MaybeTruth(const std::string& unit, const std::string& channel,
                                   int64_t time) const;
  /// Per-record energy of a channel over the records [begin, end).
  EnergyTruth ChannelEnergy(const std::string& unit, const std::string& channel, int64_t begin,
                            int64_t end) const;

  app::Exporter& exporter() { return *exporter_; }
  sim::Simulator& simulator() { return *simulator_; }
  int64_t now() const { return simulator_->clock()->NowSeconds(); }

  /// Configuration text used (URLs filled in).
  static std::string ConfigText(const std::string& iwatt5_url, const std::string& iwatt6_url,
                                const std::string& state_file, bool authenticate);

 private:
  std::unique_ptr<sim::Simulator> simulator_;
  std::atomic<int64_t> steady_nanos_{0};
  std::string config_text_;
  std::unique_ptr<app::Exporter> exporter_;
};

}  // namespace iwx::testing
