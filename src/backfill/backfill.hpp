// The backfill: reads devices' 1-minute history and writes it to VictoriaMetrics (or a
// file) as the series the live exporter produces, so that history and live data are one.
//
// Devices are read in lockstep windows of one device page (1000 minutes), so that derived
// series spanning several devices are joined minute by minute with bounded memory. A
// window is written as one batch; the next window is read while it is imported, and
// written only once the batch before it was accepted.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "backfill/device_reader.hpp"
#include "backfill/encoder.hpp"
#include "backfill/stop_signal.hpp"
#include "backfill/vm_client.hpp"
#include "config/config.hpp"

namespace iwx::backfill {

struct Options {
  /// Range, UTC seconds; defaults: each device's history start, its last complete minute.
  std::optional<int64_t> from;
  std::optional<int64_t> to;
  /// Devices to read (names from the config); empty: all.
  std::vector<std::string> devices;
  /// Continue after what VictoriaMetrics holds instead of starting at `from`.
  bool resume = false;
  /// Write only the minutes VictoriaMetrics lacks inside the range.
  bool repair = false;
  /// Print the plan to `out` and write nothing.
  bool plan = false;
  /// Write to this file instead of VictoriaMetrics.
  std::string output_file;
  FileFormat format = FileFormat::kVmJsonLines;

  VmEndpoint vm;
  config::Labels extra_labels;
  RetryOptions vm_retry;
  ReaderOptions reader;

  /// Length of the lockstep windows, one batch each; boundaries are multiples of it.
  int64_t window_seconds = kWindowSeconds;
  /// Stop after this many batches (0: no limit); simulates an interruption in tests.
  int max_batches = 0;
  /// Progress bars (true) or log lines.
  bool progress_bars = false;
  /// A round of --follow: no progress, and details only at debug level.
  bool quiet = false;
  /// Samples VictoriaMetrics accepted from this process (series → newest ms, as in
  /// Summary::newest_written_ms). A resume waits a moment for them to become visible
  /// rather than writing them twice.
  std::map<std::string, int64_t> acknowledged_ms;
};

struct Summary {
  uint64_t device_requests = 0;
  uint64_t rows = 0;
  uint64_t samples = 0;
  uint64_t batches = 0;
  uint64_t vm_requests = 0;
  uint64_t retries = 0;
  double seconds = 0;
  /// The newest sample written per series (keyed by its selector).
  std::map<std::string, int64_t> newest_written_ms;
  /// False when the run stopped early (max_batches or a stop request).
  bool complete = true;
};

/// Runs one backfill. Logs a summary line at the end.
/// \throw std::invalid_argument for bad options (unknown device, --from not before --to),
/// VmError, DeviceGaveUp, Interrupted (a stop while waiting), config::ConfigError
/// (unreadable password file), std::runtime_error for an unwritable output file.
Summary Run(const config::Config& config, const Options& options, const StopSignal& stop,
            std::ostream& out);

/// The retention VictoriaMetrics' -retentionPeriod value stands for ("100y", "1" months,
/// "30d", "12h", "2w"); nullopt when the text is not understood.
std::optional<std::chrono::seconds> ParseRetention(const std::string& text);

}  // namespace iwx::backfill
