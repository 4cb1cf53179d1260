// The energy integrals that cannot be read back from a device, kept across restarts.
//
// Net energy per channel is always recomputed from the device's own accumulators; what
// only the exporter knows is how the energy split by sign, record by record: the
// negative part of each channel, and both parts of each derived series.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>

namespace iwx::state {

struct DeviceCounters {
  /// Start of the first record not yet integrated (UTC seconds).
  int64_t next_record = 0;
  /// Energy of the records with negative power so far, in nanowatt-hours (exact integer
  /// sums of the device's per-record values), for channels that have been negative.
  std::map<std::string, int64_t> negative_nwh;
};

struct DerivedCounters {
  /// Start of the first record not yet integrated (UTC seconds).
  int64_t next_record = 0;
  double positive_joules = 0;
  double negative_joules = 0;
};

struct Counters {
  std::map<std::string, DeviceCounters> devices;
  std::map<std::string, DerivedCounters> derived;
};

/// A state file that is missing, unreadable or not what this program writes.
class CounterFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// \throw CounterFileError naming the file and what is wrong with it.
Counters LoadCounters(const std::filesystem::path& path);

/// Writes atomically: a temporary file in the same folder, fsync, rename, fsync of the
/// folder. A crash leaves either the old or the new file. \throw CounterFileError.
void SaveCounters(const std::filesystem::path& path, const Counters& counters);

}  // namespace iwx::state
