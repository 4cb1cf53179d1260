// The exporter's in-memory state: what every device reported, combined.
//
// Pollers feed 5-second records and device health in; the metrics page reads a
// consistent snapshot out. Derived series are evaluated here, per record, once every
// device they depend on has delivered that record.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "derived/resolver.hpp"
#include "iotawatt/types.hpp"
#include "state/counter_file.hpp"

namespace iwx::state {

/// Length of one device record in seconds (the current log's interval).
inline constexpr int64_t kRecordSeconds = 5;

enum class ChannelKind { kPower, kVoltage };

/// A channel the exporter publishes, as discovered on the device.
struct Channel {
  std::string name;
  ChannelKind kind = ChannelKind::kPower;
  /// Labels from the device config and the [[labels]] rules, in order.
  config::Labels labels;

  bool operator==(const Channel&) const = default;
};

/// Records of one device, in time order. For power channels each value is the energy of
/// the record in Wh (so that sums are exact); for voltage channels the average volts.
/// Every row is settled: a missing row is a span the device did not measure.
struct RecordBatch {
  std::string device;
  /// Channel names, one per value column.
  std::vector<std::string> channels;
  std::vector<iotawatt::QueryRow> rows;
  /// Length of each row: 5 s records, or 60 s from the history log.
  int64_t record_seconds = kRecordSeconds;
};

/// Device health from /status.
struct Health {
  std::string firmware_version;
  double uptime_seconds = 0;
  double free_heap_bytes = 0;
  std::optional<double> wifi_rssi_dbm;
  double line_frequency_hz = 0;
  bool rtc_battery_low = false;
  std::vector<iotawatt::DatalogInfo> logs;
};

/// The health part of a /status answer that has a "stats" section.
Health HealthFromStatus(const iotawatt::StatusReport& report);

struct ChannelSample {
  std::string device;
  Channel channel;
  double value = 0;
};

struct DerivedSample {
  std::string name;
  double value = 0;
};

/// Energy counters of a channel or derived series, in joules. `negative` is set once the
/// series has had a negative record.
struct EnergySample {
  std::string device;  // empty for derived series
  std::string name;    // channel or derived series
  config::Labels labels;
  double positive_joules = 0;
  std::optional<double> negative_joules;
};

struct DeviceSample {
  std::string name;
  config::Labels labels;
  bool up = false;
  bool polled = false;
  std::optional<Health> health;
  double last_poll_seconds = 0;
  uint64_t polls = 0;
  std::map<std::string, uint64_t> errors_by_reason;
  uint64_t device_requests = 0;
  /// End (UTC seconds) of the newest record received, 0 before the first.
  int64_t newest_record_end = 0;
};

/// Everything the metrics page shows, copied out under the lock.
struct Snapshot {
  std::vector<DeviceSample> devices;
  std::vector<ChannelSample> channels;
  std::vector<DerivedSample> derived;
  std::vector<EnergySample> channel_energy;
  std::vector<EnergySample> derived_energy;
};

/// Thread-safe; every method may be called from any poller thread.
class Store {
 public:
  explicit Store(const config::Config& config);
  ~Store();

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// Labels a channel of a device gets from the device config and the [[labels]] rules.
  config::Labels LabelsFor(const std::string& device, const std::string& channel) const;

  /// Replaces the channel list of a device (after discovery) and binds derived series
  /// again. Logs derived series that cannot be bound, once per change.
  void SetChannels(const std::string& device, std::vector<Channel> channels);

  /// Adds records: updates the device's window averages and evaluates derived series.
  void AddRecords(const RecordBatch& batch);

  /// Outcome of one poll. `failure` is the reason name, empty on success.
  void RecordPoll(const std::string& device, double seconds, const std::string& failure,
                  uint64_t device_requests);

  void SetHealth(const std::string& device, Health health);

  Snapshot TakeSnapshot() const;

  /// Changes whenever anything a snapshot shows may have changed (every mutating call).
  uint64_t version() const;

  /// Names of the derived series currently bound, and the problems of the others.
  std::vector<std::string> BoundDerivedNames() const;
  std::vector<derived::Problem> DerivedProblems() const;

  // Energy counters. A channel's net energy is the device's own (a difference of its
  // accumulators since the history log began): the poller reads it once as a baseline at
  // the position where integration starts, then every record adds to it. Only the split
  // by sign is the exporter's own knowledge, persisted through Export/ImportCounters.

  /// Adopts persisted counters; call before polling starts.
  void ImportCounters(const Counters& counters);
  /// The counters to persist.
  Counters ExportCounters() const;

  /// Where channel integration of a device continues: the position reached, else the
  /// persisted one, else nullopt (the poller then starts at the present).
  std::optional<int64_t> IntegrationPosition(const std::string& device) const;
  /// The earliest record any counter of the device still needs (channels or derived).
  std::optional<int64_t> FirstRecordNeeded(const std::string& device) const;
  /// Power channels of a device that have no baseline yet.
  std::vector<std::string> ChannelsWithoutBaseline(const std::string& device) const;
  /// Sets channels' net energy (Wh since the history log began) at `position`, the start of
  /// the next record to integrate, and starts integration there if it had not started.
  void SetBaseline(const std::string& device, int64_t position,
                   const std::map<std::string, double>& net_wh);
  /// Whether the device's backlog has been read; counters are shown only once it has.
  void SetCaughtUp(const std::string& device, bool caught_up);

 private:
  struct DeviceState;
  struct DerivedState;

  /// Counters of a derived series, kept by name across rebinding.
  struct DerivedCounter {
    /// Start of the first record not yet evaluated.
    int64_t next_record = 0;
    double positive_joules = 0;
    double negative_joules = 0;
    /// Gauge: average over the newest window.
    std::optional<double> value;
  };

  DeviceState& Device(const std::string& name);
  const DeviceState& Device(const std::string& name) const;
  void RebindDerived();
  void UpdateWindow(DeviceState& device, const RecordBatch& batch);
  void IntegrateChannels(DeviceState& device, const RecordBatch& batch);
  void BufferRecords(DeviceState& device, const RecordBatch& batch);
  void EvaluateDerived();
  void TrimDerivedBuffers();
  void AddEnergySamples(Snapshot& snapshot) const;

  const config::Config config_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<DeviceState>> devices_;
  derived::DerivedSet derived_set_;
  std::vector<DerivedState> derived_states_;
  std::map<std::string, DerivedCounter> derived_counters_;
  std::string last_problem_report_;
  uint64_t version_ = 0;
};

}  // namespace iwx::state
