// What VictoriaMetrics already holds of the series a backfill writes, read into their
// slots: the newest samples (to resume), where live energy counters begin, which minutes
// of a window are present (to fill gaps), and where derived energy counters continue.
// Internal to the backfill.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backfill/backfill.hpp"
#include "backfill/planner.hpp"
#include "backfill/slots.hpp"
#include "backfill/stop_signal.hpp"
#include "backfill/vm_client.hpp"
#include "config/config.hpp"

namespace iwx::backfill::detail {

/// Identifies a series in Summary::newest_written_ms and Options::acknowledged_ms.
std::string SeriesKey(const std::string& metric, const config::Labels& labels);

/// Where a derived energy counter continues.
struct DerivedAnchor {
  /// Its value (J) at the first minute read; 0 when VictoriaMetrics holds nothing earlier.
  double joules = 0;
  /// An earlier run saw a negative minute: the counter is not continued.
  bool negative = false;
};

/// Queries VictoriaMetrics one request at a time; not thread-safe. The client, options
/// and slots must outlive it, and the slots must not be added to meanwhile.
class VmHoldings {
 public:
  /// Only series that carry `options.extra_labels` count, as the slots' labels do.
  VmHoldings(VmClient& vm, const Options& options, std::vector<Slot>& slots);

  /// Checks that VictoriaMetrics answers. \throw VmError, Interrupted
  void Ping();

  /// Warns about flags that lose or duplicate data when writing samples from `oldest`
  /// (UTC seconds) on: a retention too short for them, no deduplication.
  /// \throw VmError, Interrupted
  void CheckFlags(int64_t oldest);

  /// Sets every slot's written_until_ms and live from its newest sample, waiting a moment
  /// for samples this process wrote (Options::acknowledged_ms) to become visible. Returns
  /// whether some newest sample is live. \throw VmError, Interrupted
  bool LoadWrittenUntil(const StopSignal& stop);

  /// Sets the energy slots' cutoff_ms from the first live sample inside `range`.
  /// \throw VmError, Interrupted
  void LoadEnergyCutoffs(Span range);

  /// Where each derived energy counter (energy_slots[k], its power in power_slots[k])
  /// continues when the first minute read starts at `first_read` (UTC seconds).
  /// \throw VmError, Interrupted
  std::vector<DerivedAnchor> LoadDerivedAnchors(const std::vector<size_t>& power_slots,
                                                const std::vector<size_t>& energy_slots,
                                                int64_t first_read);

  /// Sets every slot's `present` to the minutes of `window` VictoriaMetrics holds, and
  /// lowers the energy slots' cutoff_ms to live samples found there.
  /// \throw VmError, Interrupted
  void LoadPresence(Span window);

 private:
  struct Sample {
    int64_t ms = 0;
    double value = 0;
  };

  bool LoadNewestSamples();
  std::map<size_t, Sample> NewestSamples(const char* metric, double time);
  std::string AllSeriesSelector() const;
  Slot* FindSlot(const nlohmann::json& metric);
  size_t IndexOf(const Slot& slot) const;

  VmClient& vm_;
  const Options& options_;
  std::vector<Slot>& slots_;
  std::map<std::string, size_t> slot_by_key_;
  bool live_found_ = false;
};

}  // namespace iwx::backfill::detail
