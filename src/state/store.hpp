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
struct RecordBatch {
  std::string device;
  /// Channel names, one per value column.
  std::vector<std::string> channels;
  std::vector<iotawatt::QueryRow> rows;
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

struct ChannelSample {
  std::string device;
  Channel channel;
  double value = 0;
};

struct DerivedSample {
  std::string name;
  double value = 0;
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

  /// Names of the derived series currently bound, and the problems of the others.
  std::vector<std::string> BoundDerivedNames() const;
  std::vector<derived::Problem> DerivedProblems() const;

 private:
  struct DeviceState;
  struct DerivedState;

  DeviceState& Device(const std::string& name);
  void RebindDerived();
  void BufferDerivedInputs(DeviceState& device, const RecordBatch& batch);
  void EvaluateDerived();
  void TrimDerivedBuffers();

  const config::Config config_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<DeviceState>> devices_;
  derived::DerivedSet derived_set_;
  std::vector<DerivedState> derived_states_;
  std::string last_problem_report_;
};

}  // namespace iwx::state
