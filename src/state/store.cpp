#include "state/store.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "iotawatt/energy.hpp"
#include "log/log.hpp"
#include "util/strings.hpp"

namespace iwx::state {

namespace {

const log::Logger kLog("state");

// Records kept per device while waiting for the other devices of a derived series: five
// catch-up pages, so that a device one page ahead of another loses nothing.
constexpr size_t kMaxBufferedRecords = 5000;

constexpr double kSecondsPerHour = 3600;
constexpr double kJoulesPerWh = 3600;
constexpr double kNanoWhPerWh = 1e9;

// Channel energy is summed as integers of nanowatt-hours, the resolution the poller asks
// the device for, so that sums are exact, less iotawatt::kRoundingAllowanceNwh per
// positive record.
using iotawatt::kRoundingAllowanceNwh;

int64_t ToNanoWh(double wh) {
  return std::llround(wh * kNanoWhPerWh);
}

double NanoWhToJoules(int64_t nwh) {
  return static_cast<double>(nwh) / kNanoWhPerWh * kJoulesPerWh;
}

// What expressions see of a record: watts for power channels (the records carry Wh),
// volts for voltage channels.
double RecordValue(ChannelKind kind, double value, int64_t record_seconds) {
  return kind == ChannelKind::kPower ? value * kSecondsPerHour / static_cast<double>(record_seconds)
                                     : value;
}

/// The state of a configured device; a name not in the configuration is a programming error.
template <typename Devices>
auto& FindDevice(Devices& devices, const std::string& name) {
  const auto found = devices.find(name);
  if (found == devices.end()) {
    throw std::invalid_argument("unknown device \"" + name + "\"");
  }
  return *found->second;
}

/// A record waiting for derived evaluation, with the channel names of its columns.
struct BufferedRecord {
  int64_t seconds = kRecordSeconds;
  std::shared_ptr<const std::vector<std::string>> channels;
  /// Values as expressions see them; nullopt for a record the device did not measure.
  std::optional<std::vector<double>> values;
};

}  // namespace

struct Store::DeviceState {
  /// What the metrics page shows of the device itself.
  DeviceSample sample;

  /// Set once the device reported its channels; derived series wait for it.
  bool discovered = false;
  std::vector<Channel> channels;
  /// Gauge value of each channel over the newest window that had data.
  std::map<std::string, double> window_values;

  /// Records by start time, kept until every derived series that needs them is done.
  std::map<int64_t, BufferedRecord> buffer;
  /// Start of the newest settled record (missing or not); series wait for it.
  int64_t newest_record_start = std::numeric_limits<int64_t>::min();

  // Energy integration of the channels.
  bool integrating = false;
  int64_t next_record = 0;
  std::optional<int64_t> restored_next_record;
  /// Positive and negative parts (nWh); positive minus negative is the device's net
  /// energy since its history log began. A channel has a negative part once it has been
  /// negative.
  std::map<std::string, int64_t> positive_nwh;
  std::map<std::string, int64_t> negative_nwh;
  bool caught_up = false;

  const Channel* FindChannel(const std::string& channel) const {
    for (const auto& candidate : channels) {
      if (candidate.name == channel) {
        return &candidate;
      }
    }
    return nullptr;
  }
};

struct Store::DerivedState {
  std::string name;
  std::vector<std::string> devices;
};

Health HealthFromStatus(const iotawatt::StatusReport& report) {
  Health health;
  if (report.stats) {
    health.firmware_version = report.stats->version;
    health.uptime_seconds = static_cast<double>(report.stats->runseconds);
    health.free_heap_bytes = static_cast<double>(report.stats->free_heap_bytes);
    health.line_frequency_hz = report.stats->frequency_hz;
    health.rtc_battery_low = report.stats->low_battery;
  }
  if (report.wifi) {
    health.wifi_rssi_dbm = report.wifi->rssi;
  }
  if (report.datalogs) {
    health.logs = *report.datalogs;
  }
  return health;
}

Store::Store(const config::Config& config) : config_(config) {
  for (const auto& device : config_.devices) {
    auto state = std::make_unique<DeviceState>();
    state->sample.name = device.name;
    state->sample.labels = device.labels;
    devices_.emplace(device.name, std::move(state));
  }
  const std::lock_guard lock(mutex_);
  RebindDerived();
}

Store::~Store() = default;

Store::DeviceState& Store::Device(const std::string& name) {
  return FindDevice(devices_, name);
}

const Store::DeviceState& Store::Device(const std::string& name) const {
  return FindDevice(devices_, name);
}

config::Labels Store::LabelsFor(const std::string& device, const std::string& channel) const {
  return config::ChannelLabels(config_, device, channel);
}

void Store::SetChannels(const std::string& device, std::vector<Channel> channels) {
  const std::lock_guard lock(mutex_);
  ++version_;
  auto& state = Device(device);
  if (state.discovered && state.channels == channels) {
    return;  // rediscovery after an error found nothing new
  }
  state.channels = std::move(channels);
  state.discovered = true;

  std::erase_if(state.window_values,
                [&](const auto& entry) { return state.FindChannel(entry.first) == nullptr; });
  RebindDerived();
}

void Store::RebindDerived() {
  derived::Inventory inventory;
  for (const auto& [name, device] : devices_) {
    if (!device->discovered) {
      continue;
    }
    auto& names = inventory[name];
    for (const auto& channel : device->channels) {
      names.push_back(channel.name);
    }
  }
  derived_set_ = derived::DerivedSet::Resolve(config_, inventory);

  derived_states_.clear();
  for (size_t i = 0; i < derived_set_.names().size(); ++i) {
    DerivedState series;
    series.name = derived_set_.names()[i];
    std::set<std::string> devices;
    for (const size_t input : derived_set_.InputsOf(i)) {
      devices.insert(derived_set_.inputs()[input].device);
    }
    series.devices.assign(devices.begin(), devices.end());
    derived_states_.push_back(std::move(series));
  }

  std::string report;
  for (const auto& problem : derived_set_.problems()) {
    report += problem.message + "\n";
  }
  if (report == last_problem_report_) {
    return;
  }
  last_problem_report_ = report;
  for (const auto& problem : derived_set_.problems()) {
    if (problem.pending) {
      kLog.Debug("derived series waits for device discovery",
                 {{"series", problem.series}, {"reason", problem.message}});
    } else {
      kLog.Error("derived series cannot be computed",
                 {{"series", problem.series}, {"reason", problem.message}});
    }
  }
}

void Store::AddRecords(const RecordBatch& batch) {
  const std::lock_guard lock(mutex_);
  ++version_;
  auto& device = Device(batch.device);

  UpdateWindow(device, batch);
  IntegrateChannels(device, batch);
  for (const auto& row : batch.rows) {
    device.newest_record_start = std::max(device.newest_record_start, row.time);
    if (!row.missing()) {
      auto& newest = device.sample.newest_record_end;
      newest = std::max(newest, row.time + batch.record_seconds);
    }
  }

  BufferRecords(device, batch);
  EvaluateDerived();
  TrimDerivedBuffers();
}

void Store::UpdateWindow(DeviceState& device, const RecordBatch& batch) {
  for (size_t column = 0; column < batch.channels.size(); ++column) {
    const Channel* channel = device.FindChannel(batch.channels[column]);
    if (channel == nullptr) {
      continue;
    }
    double sum = 0;
    size_t count = 0;
    for (const auto& row : batch.rows) {
      if (column < row.values.size() && row.values[column].has_value()) {
        sum += *row.values[column];
        ++count;
      }
    }
    if (count == 0) {
      continue;
    }
    // Averages over measured time only, as the device computes them.
    const double measured_seconds = static_cast<double>(count * batch.record_seconds);
    device.window_values[channel->name] = channel->kind == ChannelKind::kPower
                                              ? sum * kSecondsPerHour / measured_seconds
                                              : sum / static_cast<double>(count);
  }
}

void Store::IntegrateChannels(DeviceState& device, const RecordBatch& batch) {
  if (!device.integrating) {
    return;
  }

  for (const auto& row : batch.rows) {
    if (row.time < device.next_record) {
      continue;  // already counted before a restart or by an earlier page
    }
    device.next_record = row.time + batch.record_seconds;
    for (size_t column = 0; column < batch.channels.size(); ++column) {
      const auto positive = device.positive_nwh.find(batch.channels[column]);
      if (positive == device.positive_nwh.end() || !row.values[column].has_value()) {
        continue;
      }
      const int64_t energy = ToNanoWh(*row.values[column]);
      if (energy > 0) {
        positive->second += std::max<int64_t>(0, energy - kRoundingAllowanceNwh);
      } else if (energy < 0) {
        device.negative_nwh[positive->first] -= energy;
      }
    }
  }
}

void Store::BufferRecords(DeviceState& device, const RecordBatch& batch) {
  auto channels = std::make_shared<std::vector<std::string>>(batch.channels);
  std::vector<ChannelKind> kinds;
  for (const auto& name : batch.channels) {
    const Channel* channel = device.FindChannel(name);
    kinds.push_back(channel != nullptr ? channel->kind : ChannelKind::kPower);
  }

  for (const auto& row : batch.rows) {
    BufferedRecord record{batch.record_seconds, channels, std::nullopt};
    if (!row.missing()) {
      std::vector<double> values;
      values.reserve(row.values.size());
      for (size_t i = 0; i < row.values.size(); ++i) {
        values.push_back(row.values[i] ? RecordValue(kinds[i], *row.values[i], batch.record_seconds)
                                       : std::nan(""));
      }
      record.values = std::move(values);
    }
    device.buffer[row.time] = std::move(record);
  }
}

void Store::EvaluateDerived() {
  if (derived_states_.empty()) {
    return;
  }

  std::set<int64_t> times;
  for (const auto& [name, device] : devices_) {
    for (const auto& entry : device->buffer) {
      times.insert(entry.first);
    }
  }

  const auto& inputs = derived_set_.inputs();
  std::vector<double> input_values(inputs.size());
  std::vector<double> outputs(derived_states_.size());
  std::vector<double> sums(derived_states_.size(), 0);
  std::vector<size_t> counts(derived_states_.size(), 0);
  for (const int64_t time : times) {
    std::fill(input_values.begin(), input_values.end(), std::nan(""));
    int64_t seconds = kRecordSeconds;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto& buffer = Device(inputs[i].device).buffer;
      const auto found = buffer.find(time);
      if (found == buffer.end() || !found->second.values) {
        continue;
      }
      const auto& record = found->second;
      const auto column =
          std::find(record.channels->begin(), record.channels->end(), inputs[i].channel);
      if (column != record.channels->end()) {
        input_values[i] = (*record.values)[column - record.channels->begin()];
        seconds = record.seconds;
      }
    }
    derived_set_.Evaluate(input_values, outputs);

    for (size_t i = 0; i < derived_states_.size(); ++i) {
      const auto& series = derived_states_[i];
      auto& counter = derived_counters_[series.name];
      // A record is final for a series once every device it needs has reported it (or a
      // later one); before that, a device's record may still be on its way.
      const bool complete =
          !series.devices.empty() &&
          std::all_of(series.devices.begin(), series.devices.end(), [&](const std::string& name) {
            return Device(name).newest_record_start >= time;
          });
      if (time < counter.next_record || !complete) {
        continue;
      }
      counter.next_record = time + seconds;
      if (std::isnan(outputs[i])) {
        continue;  // a device did not measure this record
      }
      const double joules = outputs[i] * static_cast<double>(seconds);
      (joules >= 0 ? counter.positive_joules : counter.negative_joules) += std::abs(joules);
      sums[i] += outputs[i];
      ++counts[i];
    }
  }

  for (size_t i = 0; i < derived_states_.size(); ++i) {
    if (counts[i] > 0) {
      derived_counters_[derived_states_[i].name].value = sums[i] / static_cast<double>(counts[i]);
    }
  }
}

void Store::TrimDerivedBuffers() {
  // Series still waiting for discovery may need anything buffered.
  const bool pending = std::any_of(derived_set_.problems().begin(), derived_set_.problems().end(),
                                   [](const derived::Problem& problem) { return problem.pending; });
  for (auto& [name, device] : devices_) {
    auto& buffer = device->buffer;
    if (!pending) {
      int64_t done = std::numeric_limits<int64_t>::max();
      for (const auto& series : derived_states_) {
        if (std::find(series.devices.begin(), series.devices.end(), name) != series.devices.end()) {
          done = std::min(done, derived_counters_[series.name].next_record);
        }
      }
      buffer.erase(buffer.begin(), buffer.lower_bound(done));
    }
    while (buffer.size() > kMaxBufferedRecords) {
      buffer.erase(buffer.begin());
    }
  }
}

void Store::RecordPoll(const std::string& device, double seconds, const std::string& failure,
                       uint64_t device_requests) {
  const std::lock_guard lock(mutex_);
  ++version_;
  auto& sample = Device(device).sample;
  sample.polled = true;
  sample.up = failure.empty();
  sample.last_poll_seconds = seconds;
  ++sample.polls;
  sample.device_requests = device_requests;
  if (!failure.empty()) {
    ++sample.errors_by_reason[failure];
  }
}

void Store::SetHealth(const std::string& device, Health health) {
  const std::lock_guard lock(mutex_);
  ++version_;
  Device(device).sample.health = std::move(health);
}

void Store::ImportCounters(const Counters& counters) {
  const std::lock_guard lock(mutex_);
  ++version_;
  for (const auto& [name, saved] : counters.devices) {
    const auto device = devices_.find(name);
    if (device == devices_.end()) {
      continue;  // no longer configured
    }
    device->second->restored_next_record = saved.next_record;
    device->second->negative_nwh = saved.negative_nwh;
  }
  for (const auto& [name, saved] : counters.derived) {
    auto& counter = derived_counters_[name];
    counter.next_record = saved.next_record;
    counter.positive_joules = saved.positive_joules;
    counter.negative_joules = saved.negative_joules;
  }
}

Counters Store::ExportCounters() const {
  const std::lock_guard lock(mutex_);
  Counters counters;
  for (const auto& [name, device] : devices_) {
    const auto position =
        device->integrating ? std::optional(device->next_record) : device->restored_next_record;
    if (position) {
      counters.devices[name] = {*position, device->negative_nwh};
    }
  }
  for (const auto& [name, counter] : derived_counters_) {
    if (counter.next_record > 0) {
      counters.derived[name] = {counter.next_record, counter.positive_joules,
                                counter.negative_joules};
    }
  }
  return counters;
}

std::optional<int64_t> Store::IntegrationPosition(const std::string& device) const {
  const std::lock_guard lock(mutex_);
  const auto& state = Device(device);
  return state.integrating ? std::optional(state.next_record) : state.restored_next_record;
}

std::optional<int64_t> Store::FirstRecordNeeded(const std::string& device) const {
  const std::lock_guard lock(mutex_);
  const auto& state = Device(device);
  std::optional<int64_t> first =
      state.integrating ? std::optional(state.next_record) : state.restored_next_record;
  // Derived series restored from the state file continue where they stopped; which
  // devices they need is known only once every device is discovered, so ask each.
  for (const auto& [name, counter] : derived_counters_) {
    if (counter.next_record > 0) {
      first = std::min(first.value_or(counter.next_record), counter.next_record);
    }
  }
  return first;
}

std::vector<std::string> Store::ChannelsWithoutBaseline(const std::string& device) const {
  const std::lock_guard lock(mutex_);
  const auto& state = Device(device);
  std::vector<std::string> missing;
  for (const auto& channel : state.channels) {
    if (channel.kind == ChannelKind::kPower && state.positive_nwh.count(channel.name) == 0) {
      missing.push_back(channel.name);
    }
  }
  return missing;
}

void Store::SetBaseline(const std::string& device, int64_t position,
                        const std::map<std::string, double>& net_wh) {
  const std::lock_guard lock(mutex_);
  ++version_;
  auto& state = Device(device);
  if (!state.integrating) {
    state.integrating = true;
    state.next_record = position;
  }
  for (const auto& [channel, net] : net_wh) {
    const int64_t net_nwh = ToNanoWh(net);
    // A channel whose history is net negative has been negative: its negative part is at
    // least that net, so that the positive part does not start below zero.
    if (net_nwh < 0) {
      auto& negative = state.negative_nwh[channel];
      negative = std::max(negative, -net_nwh);
    }
    const auto negative = state.negative_nwh.find(channel);
    state.positive_nwh[channel] =
        net_nwh + (negative != state.negative_nwh.end() ? negative->second : 0);
  }
}

void Store::SetCaughtUp(const std::string& device, bool caught_up) {
  const std::lock_guard lock(mutex_);
  ++version_;
  Device(device).caught_up = caught_up;
}

void Store::AddEnergySamples(Snapshot& snapshot) const {
  for (const auto& [name, device] : devices_) {
    if (!device->integrating || !device->caught_up) {
      continue;
    }
    for (const auto& channel : device->channels) {
      const auto positive = device->positive_nwh.find(channel.name);
      if (positive == device->positive_nwh.end()) {
        continue;
      }
      EnergySample sample{name, channel.name, channel.labels, NanoWhToJoules(positive->second),
                          std::nullopt};
      const auto negative = device->negative_nwh.find(channel.name);
      if (negative != device->negative_nwh.end()) {
        sample.negative_joules = NanoWhToJoules(negative->second);
      }
      snapshot.channel_energy.push_back(std::move(sample));
    }
  }

  for (const auto& series : derived_states_) {
    const bool current =
        std::all_of(series.devices.begin(), series.devices.end(),
                    [&](const std::string& name) { return devices_.at(name)->caught_up; });
    const auto counter = derived_counters_.find(series.name);
    if (!current || counter == derived_counters_.end() || counter->second.next_record == 0) {
      continue;
    }
    EnergySample sample{"", series.name, {}, counter->second.positive_joules, std::nullopt};
    if (counter->second.negative_joules > 0) {
      sample.negative_joules = counter->second.negative_joules;
    }
    snapshot.derived_energy.push_back(std::move(sample));
  }
}

Snapshot Store::TakeSnapshot() const {
  const std::lock_guard lock(mutex_);
  Snapshot snapshot;

  for (const auto& [name, device] : devices_) {
    snapshot.devices.push_back(device->sample);

    // Gauges of a device that does not answer are left out rather than shown stale.
    if (!device->sample.up) {
      continue;
    }
    for (const auto& channel : device->channels) {
      const auto value = device->window_values.find(channel.name);
      if (value != device->window_values.end()) {
        snapshot.channels.push_back({name, channel, value->second});
      }
    }
  }

  for (const auto& series : derived_states_) {
    const bool devices_up =
        std::all_of(series.devices.begin(), series.devices.end(),
                    [&](const std::string& name) { return devices_.at(name)->sample.up; });
    const auto counter = derived_counters_.find(series.name);
    if (devices_up && counter != derived_counters_.end() && counter->second.value) {
      snapshot.derived.push_back({series.name, *counter->second.value});
    }
  }

  AddEnergySamples(snapshot);
  return snapshot;
}

uint64_t Store::version() const {
  const std::lock_guard lock(mutex_);
  return version_;
}

std::vector<std::string> Store::BoundDerivedNames() const {
  const std::lock_guard lock(mutex_);
  return derived_set_.names();
}

std::vector<derived::Problem> Store::DerivedProblems() const {
  const std::lock_guard lock(mutex_);
  return derived_set_.problems();
}

}  // namespace iwx::state
