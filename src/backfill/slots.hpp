// The series a backfill writes ("slots"), each with what VictoriaMetrics already holds of
// it: shared by the run, which writes them, and VmHoldings, which reads what is held.
// Internal to the backfill.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace iwx::backfill::detail {

inline constexpr int64_t kNoCutoff = std::numeric_limits<int64_t>::max();

enum class SlotKind { kChannel, kEnergy, kDerived, kDerivedEnergy };

inline bool IsEnergy(SlotKind kind) {
  return kind == SlotKind::kEnergy || kind == SlotKind::kDerivedEnergy;
}

/// One series the backfill writes, and what VictoriaMetrics already holds of it.
struct Slot {
  SlotKind kind = SlotKind::kChannel;
  size_t device = 0;
  size_t channel = 0;
  size_t derived = 0;
  std::string metric;
  config::Labels labels;
  /// Resume: VictoriaMetrics holds this series up to here (ms; -1: nothing).
  int64_t written_until_ms = -1;
  /// Its newest sample was scraped from the live exporter (not minute-aligned).
  bool live = false;
  /// Gap mode: which minutes of the current window VictoriaMetrics holds.
  std::vector<bool> present;
  /// Energy: the first sample of the live exporter (ms); nothing is written from there on.
  /// (The live exporter's derived counters start at zero; VictoriaMetrics' increase() reads
  /// the step down to them as a counter reset and counts correctly across it.)
  int64_t cutoff_ms = kNoCutoff;
};

}  // namespace iwx::backfill::detail
