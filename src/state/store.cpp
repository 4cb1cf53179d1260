#include "state/store.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "log/log.hpp"
#include "util/strings.hpp"

namespace iwx::state {

namespace {

const log::Logger kLog("state");

// Records kept per device while waiting for the other devices of a derived series.
// One hour bounds memory when a device stays away; its records are then not joined.
constexpr size_t kMaxBufferedRecords = 720;

constexpr double kSecondsPerHour = 3600;

void SetLabel(config::Labels& labels, const std::string& name, const std::string& value) {
  for (auto& label : labels) {
    if (label.first == name) {
      label.second = value;
      return;
    }
  }
  labels.emplace_back(name, value);
}

// Converts a record's value into what expressions see: watts for power channels
// (the records carry Wh), volts for voltage channels.
double RecordValue(ChannelKind kind, double value) {
  return kind == ChannelKind::kPower ? value * kSecondsPerHour / kRecordSeconds : value;
}

}  // namespace

struct Store::DeviceState {
  std::string name;
  config::Labels labels;
  bool up = false;
  bool polled = false;
  std::optional<Health> health;
  double last_poll_seconds = 0;
  uint64_t polls = 0;
  std::map<std::string, uint64_t> errors_by_reason;
  uint64_t device_requests = 0;
  int64_t newest_record_end = 0;

  /// Set once the device reported its channels; derived series wait for it.
  bool discovered = false;
  std::vector<Channel> channels;
  /// Gauge value of each channel over the newest window that had data.
  std::map<std::string, double> window_values;

  /// Indexes into derived_set_.inputs() of this device's channels.
  std::vector<size_t> derived_inputs;
  /// Start of a record -> values for derived_inputs, or nullopt for a missing record.
  std::map<int64_t, std::optional<std::vector<double>>> derived_buffer;
  /// Start of the newest record seen (missing or not); series wait for it.
  int64_t newest_record_start = std::numeric_limits<int64_t>::min();

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
  int64_t evaluated_through = std::numeric_limits<int64_t>::min();
  std::optional<double> value;
};

Store::Store(const config::Config& config) : config_(config) {
  for (const auto& device : config_.devices) {
    auto state = std::make_unique<DeviceState>();
    state->name = device.name;
    state->labels = device.labels;
    devices_.emplace(device.name, std::move(state));
  }
  const std::lock_guard lock(mutex_);
  RebindDerived();
}

Store::~Store() = default;

Store::DeviceState& Store::Device(const std::string& name) {
  const auto found = devices_.find(name);
  if (found == devices_.end()) {
    throw std::invalid_argument("unknown device \"" + name + "\"");
  }
  return *found->second;
}

config::Labels Store::LabelsFor(const std::string& device, const std::string& channel) const {
  config::Labels labels;
  for (const auto& configured : config_.devices) {
    if (configured.name == device) {
      labels = configured.labels;
    }
  }
  for (const auto& rule : config_.label_rules) {
    if (!util::GlobMatch(rule.match, channel)) {
      continue;
    }
    for (const auto& [name, value] : rule.set) {
      SetLabel(labels, name, value);
    }
  }
  return labels;
}

void Store::SetChannels(const std::string& device, std::vector<Channel> channels) {
  const std::lock_guard lock(mutex_);
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
  derived_set_ = derived::DerivedSet::Resolve(config_.derived, inventory);

  // Start every series afresh: the input layout changed, so buffered records no longer fit.
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
  for (auto& [name, device] : devices_) {
    device->derived_buffer.clear();
    device->derived_inputs.clear();
    for (size_t i = 0; i < derived_set_.inputs().size(); ++i) {
      if (derived_set_.inputs()[i].device == name) {
        device->derived_inputs.push_back(i);
      }
    }
  }

  std::string report;
  for (const auto& problem : derived_set_.problems()) {
    report += problem.message + "\n";
  }
  if (report != last_problem_report_) {
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
}

void Store::AddRecords(const RecordBatch& batch) {
  const std::lock_guard lock(mutex_);
  auto& device = Device(batch.device);

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
    device.window_values[channel->name] =
        channel->kind == ChannelKind::kPower
            ? sum * kSecondsPerHour / (static_cast<double>(count) * kRecordSeconds)
            : sum / static_cast<double>(count);
  }

  for (const auto& row : batch.rows) {
    device.newest_record_start = std::max(device.newest_record_start, row.time);
    if (!row.missing()) {
      device.newest_record_end = std::max(device.newest_record_end, row.time + kRecordSeconds);
    }
  }

  BufferDerivedInputs(device, batch);
  EvaluateDerived();
  TrimDerivedBuffers();
}

void Store::BufferDerivedInputs(DeviceState& device, const RecordBatch& batch) {
  if (device.derived_inputs.empty()) {
    return;
  }

  // Where each derived input of this device sits among the batch's columns.
  std::vector<std::optional<size_t>> columns;
  std::vector<ChannelKind> kinds;
  for (const size_t input : device.derived_inputs) {
    const auto& wanted = derived_set_.inputs()[input].channel;
    const auto found = std::find(batch.channels.begin(), batch.channels.end(), wanted);
    columns.push_back(found == batch.channels.end()
                          ? std::nullopt
                          : std::optional<size_t>(found - batch.channels.begin()));
    const Channel* channel = device.FindChannel(wanted);
    kinds.push_back(channel != nullptr ? channel->kind : ChannelKind::kPower);
  }

  for (const auto& row : batch.rows) {
    if (row.missing()) {
      device.derived_buffer[row.time] = std::nullopt;
      continue;
    }
    std::vector<double> values;
    values.reserve(columns.size());
    for (size_t i = 0; i < columns.size(); ++i) {
      const auto& cell = columns[i] ? row.values[*columns[i]] : std::nullopt;
      values.push_back(cell ? RecordValue(kinds[i], *cell) : std::nan(""));
    }
    device.derived_buffer[row.time] = std::move(values);
  }
}

void Store::EvaluateDerived() {
  if (derived_states_.empty()) {
    return;
  }

  std::set<int64_t> times;
  for (const auto& [name, device] : devices_) {
    for (const auto& entry : device->derived_buffer) {
      times.insert(entry.first);
    }
  }

  std::vector<double> inputs(derived_set_.inputs().size());
  std::vector<double> outputs(derived_states_.size());
  std::vector<double> sums(derived_states_.size(), 0);
  std::vector<size_t> counts(derived_states_.size(), 0);
  for (const int64_t time : times) {
    std::fill(inputs.begin(), inputs.end(), std::nan(""));
    for (const auto& [name, device] : devices_) {
      const auto found = device->derived_buffer.find(time);
      if (found == device->derived_buffer.end() || !found->second.has_value()) {
        continue;
      }
      for (size_t i = 0; i < device->derived_inputs.size(); ++i) {
        inputs[device->derived_inputs[i]] = (*found->second)[i];
      }
    }
    derived_set_.Evaluate(inputs, outputs);

    for (size_t i = 0; i < derived_states_.size(); ++i) {
      auto& series = derived_states_[i];
      if (time <= series.evaluated_through) {
        continue;
      }
      // A record is final for a series once every device it needs has reported it (or a
      // later one); before that, a device's record may still be on its way.
      const bool complete = std::all_of(
          series.devices.begin(), series.devices.end(),
          [&](const std::string& name) { return Device(name).newest_record_start >= time; });
      if (!complete || series.devices.empty()) {
        continue;
      }
      series.evaluated_through = time;
      if (!std::isnan(outputs[i])) {
        sums[i] += outputs[i];
        ++counts[i];
      }
    }
  }

  for (size_t i = 0; i < derived_states_.size(); ++i) {
    if (counts[i] > 0) {
      derived_states_[i].value = sums[i] / static_cast<double>(counts[i]);
    }
  }
}

void Store::TrimDerivedBuffers() {
  for (auto& [name, device] : devices_) {
    int64_t done = std::numeric_limits<int64_t>::max();
    for (const auto& series : derived_states_) {
      if (std::find(series.devices.begin(), series.devices.end(), name) != series.devices.end()) {
        done = std::min(done, series.evaluated_through);
      }
    }
    auto& buffer = device->derived_buffer;
    buffer.erase(buffer.begin(), buffer.upper_bound(done));
    while (buffer.size() > kMaxBufferedRecords) {
      buffer.erase(buffer.begin());
    }
  }
}

void Store::RecordPoll(const std::string& device, double seconds, const std::string& failure,
                       uint64_t device_requests) {
  const std::lock_guard lock(mutex_);
  auto& state = Device(device);
  state.polled = true;
  state.up = failure.empty();
  state.last_poll_seconds = seconds;
  ++state.polls;
  state.device_requests = device_requests;
  if (!failure.empty()) {
    ++state.errors_by_reason[failure];
  }
}

void Store::SetHealth(const std::string& device, Health health) {
  const std::lock_guard lock(mutex_);
  Device(device).health = std::move(health);
}

Snapshot Store::TakeSnapshot() const {
  const std::lock_guard lock(mutex_);
  Snapshot snapshot;

  for (const auto& [name, device] : devices_) {
    DeviceSample sample;
    sample.name = name;
    sample.labels = device->labels;
    sample.up = device->up;
    sample.polled = device->polled;
    sample.health = device->health;
    sample.last_poll_seconds = device->last_poll_seconds;
    sample.polls = device->polls;
    sample.errors_by_reason = device->errors_by_reason;
    sample.device_requests = device->device_requests;
    sample.newest_record_end = device->newest_record_end;
    snapshot.devices.push_back(std::move(sample));

    // Gauges of a device that does not answer are left out rather than shown stale.
    if (!device->up) {
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
                    [&](const std::string& name) { return devices_.at(name)->up; });
    if (series.value && devices_up) {
      snapshot.derived.push_back({series.name, *series.value});
    }
  }
  return snapshot;
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
