#include "metrics/exposition.hpp"

#include <array>
#include <map>
#include <sstream>

#include <prometheus/text_serializer.h>

#include "build_config.hpp"

namespace iwx::metrics {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

enum Metric : size_t {
  kPower,
  kVoltage,
  kDerivedPower,
  kEnergy,
  kDerivedEnergy,
  kUp,
  kPollDuration,
  kPolls,
  kPollErrors,
  kDeviceRequests,
  kNewestRecord,
  kDeviceInfo,
  kUptime,
  kFreeHeap,
  kWifiRssi,
  kLineFrequency,
  kRtcBatteryLow,
  kLogFirst,
  kLogLast,
  kBuildInfo,
  kMetricCount,
};

constexpr std::array<MetricSpec, kMetricCount> kMetrics = {{
    {"iotawatt_power_watts", MetricType::Gauge, "device, channel",
     "Average real power of a channel over the newest poll window."},
    {"iotawatt_voltage_volts", MetricType::Gauge, "device, channel",
     "Average voltage of a voltage input over the newest poll window."},
    {"iotawatt_derived_power_watts", MetricType::Gauge, "name",
     "Average of a derived series over the newest window, evaluated per 5-second record."},
    {"iotawatt_energy_joules_total", MetricType::Counter, "device, channel, direction",
     "Energy of a channel integrated per record, split by the sign of its power; positive "
     "minus negative is the device's net energy since its history log began."},
    {"iotawatt_derived_energy_joules_total", MetricType::Counter, "name, direction",
     "Energy of a derived series integrated per 5-second record, split by sign."},
    {"iotawatt_up", MetricType::Gauge, "device", "1 when the last poll of the device succeeded."},
    {"iotawatt_poll_duration_seconds", MetricType::Gauge, "device",
     "Duration of the last poll of the device."},
    {"iotawatt_polls_total", MetricType::Counter, "device", "Polls of the device."},
    {"iotawatt_poll_errors_total", MetricType::Counter, "device, reason",
     "Failed polls of the device by reason."},
    {"iotawatt_device_requests_total", MetricType::Counter, "device",
     "HTTP requests sent to the device."},
    {"iotawatt_last_record_timestamp_seconds", MetricType::Gauge, "device",
     "End of the newest record received from the device (UTC, Unix seconds)."},
    {"iotawatt_device_info", MetricType::Gauge, "device, version",
     "Constant 1 with the device's firmware version."},
    {"iotawatt_device_uptime_seconds", MetricType::Gauge, "device",
     "Time since the device started."},
    {"iotawatt_device_free_heap_bytes", MetricType::Gauge, "device",
     "Free heap memory of the device."},
    {"iotawatt_device_wifi_rssi_dbm", MetricType::Gauge, "device",
     "Wi-Fi signal strength at the device."},
    {"iotawatt_device_line_frequency_hertz", MetricType::Gauge, "device",
     "AC line frequency measured by the device."},
    {"iotawatt_device_rtc_battery_low", MetricType::Gauge, "device",
     "1 when the device reports its real-time-clock battery as low."},
    {"iotawatt_device_log_first_timestamp_seconds", MetricType::Gauge, "device, log",
     "Oldest record of a device log (UTC, Unix seconds)."},
    {"iotawatt_device_log_last_timestamp_seconds", MetricType::Gauge, "device, log",
     "Newest record of a device log (UTC, Unix seconds)."},
    {"iotawatt_exporter_build_info", MetricType::Gauge, "version, compiler",
     "Constant 1 with the exporter's version."},
}};

/// Collects the families in table order and adds samples to them.
class FamilyBuilder {
 public:
  FamilyBuilder() {
    for (const auto& spec : kMetrics) {
      MetricFamily family;
      family.name = spec.name;
      family.help = spec.help;
      family.type = spec.type;
      families_.push_back(std::move(family));
    }
  }

  void Add(Metric metric, std::vector<ClientMetric::Label> labels, double value) {
    ClientMetric sample;
    sample.label = std::move(labels);
    if (kMetrics[metric].type == MetricType::Counter) {
      sample.counter.value = value;
    } else {
      sample.gauge.value = value;
    }
    families_[metric].metric.push_back(std::move(sample));
  }

  std::vector<MetricFamily> Finish() && {
    std::erase_if(families_, [](const MetricFamily& family) { return family.metric.empty(); });
    return std::move(families_);
  }

 private:
  std::vector<MetricFamily> families_;
};

using Labels = std::vector<ClientMetric::Label>;

Labels DeviceLabels(const std::string& device, const config::Labels& extra) {
  Labels labels{{"device", device}};
  for (const auto& [name, value] : extra) {
    labels.push_back({name, value});
  }
  return labels;
}

Labels ChannelLabels(const state::ChannelSample& sample) {
  Labels labels{{"device", sample.device}, {"channel", sample.channel.name}};
  for (const auto& [name, value] : sample.channel.labels) {
    labels.push_back({name, value});
  }
  return labels;
}

Labels With(Labels labels, std::string name, std::string value) {
  labels.push_back({std::move(name), std::move(value)});
  return labels;
}

void AddEnergy(FamilyBuilder& out, Metric metric, const Labels& labels,
               const state::EnergySample& energy) {
  out.Add(metric, With(labels, "direction", "positive"), energy.positive_joules);
  if (energy.negative_joules) {
    out.Add(metric, With(labels, "direction", "negative"), *energy.negative_joules);
  }
}

void AddHealth(FamilyBuilder& out, const Labels& labels, const state::Health& health) {
  out.Add(kDeviceInfo, With(labels, "version", health.firmware_version), 1);
  out.Add(kUptime, labels, health.uptime_seconds);
  out.Add(kFreeHeap, labels, health.free_heap_bytes);
  if (health.wifi_rssi_dbm) {
    out.Add(kWifiRssi, labels, *health.wifi_rssi_dbm);
  }
  out.Add(kLineFrequency, labels, health.line_frequency_hz);
  out.Add(kRtcBatteryLow, labels, health.rtc_battery_low ? 1 : 0);
  for (const auto& log : health.logs) {
    // Integration logs carry the integrator's name; only the two main logs matter here.
    if (log.id != "Current" && log.id != "History") {
      continue;
    }
    const std::string name = log.id == "Current" ? "current" : "history";
    out.Add(kLogFirst, With(labels, "log", name), static_cast<double>(log.firstkey));
    out.Add(kLogLast, With(labels, "log", name), static_cast<double>(log.lastkey));
  }
}

void AddDevice(FamilyBuilder& out, const state::DeviceSample& device) {
  const Labels labels = DeviceLabels(device.name, device.labels);
  out.Add(kUp, labels, device.up ? 1 : 0);
  out.Add(kPolls, labels, static_cast<double>(device.polls));
  out.Add(kDeviceRequests, labels, static_cast<double>(device.device_requests));
  if (device.polled) {
    out.Add(kPollDuration, labels, device.last_poll_seconds);
  }
  for (const auto& [reason, count] : device.errors_by_reason) {
    out.Add(kPollErrors, With(labels, "reason", reason), static_cast<double>(count));
  }
  if (device.newest_record_end > 0) {
    out.Add(kNewestRecord, labels, static_cast<double>(device.newest_record_end));
  }
  if (device.health) {
    AddHealth(out, labels, *device.health);
  }
}

}  // namespace

std::span<const MetricSpec> AllMetrics() {
  return kMetrics;
}

std::vector<MetricFamily> BuildFamilies(const state::Snapshot& snapshot) {
  FamilyBuilder out;
  for (const auto& channel : snapshot.channels) {
    const Metric metric = channel.channel.kind == state::ChannelKind::kPower ? kPower : kVoltage;
    out.Add(metric, ChannelLabels(channel), channel.value);
  }
  for (const auto& series : snapshot.derived) {
    out.Add(kDerivedPower, {{"name", series.name}}, series.value);
  }
  for (const auto& energy : snapshot.channel_energy) {
    Labels labels{{"device", energy.device}, {"channel", energy.name}};
    for (const auto& [name, value] : energy.labels) {
      labels.push_back({name, value});
    }
    AddEnergy(out, kEnergy, labels, energy);
  }
  for (const auto& energy : snapshot.derived_energy) {
    AddEnergy(out, kDerivedEnergy, {{"name", energy.name}}, energy);
  }
  for (const auto& device : snapshot.devices) {
    AddDevice(out, device);
  }
  out.Add(kBuildInfo, {{"version", IWX_VERSION}, {"compiler", IWX_COMPILER}}, 1);
  return std::move(out).Finish();
}

std::string Render(const std::vector<MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace iwx::metrics
