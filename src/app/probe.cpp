#include "app/probe.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "iotawatt/client.hpp"
#include "log/log.hpp"
#include "metrics/exposition.hpp"
#include "state/store.hpp"
#include "util/duration.hpp"
#include "util/strings.hpp"

namespace iwx::app {

namespace {

using std::chrono::milliseconds;

const log::Logger kLog("probe");

constexpr int64_t kProbeSeconds = 30;
constexpr milliseconds kMinTimeout{100};
constexpr milliseconds kMaxTimeout{std::chrono::minutes{2}};
constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

web::ProbeResponse Error(int status, const std::string& message) {
  return web::ProbeResponse{status, message + "\n", "text/plain; charset=utf-8"};
}

std::string Quote(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-';
}

bool IsPort(std::string_view text) {
  unsigned port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  return !text.empty() && error == std::errc{} && end == text.data() + text.size() && port >= 1 &&
         port <= 65535;
}

// The host part of a normalised target.
std::string HostOf(std::string_view target) {
  std::string_view authority = target.substr(std::string_view("http://").size());
  if (authority.starts_with('[')) {
    return std::string(authority.substr(1, authority.find(']') - 1));
  }
  return std::string(authority.substr(0, authority.find(':')));
}

bool IsLabelSafeName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(),
                                      [](char c) { return IsHostChar(c) || c == '_' || c == ':'; });
}

// The time the device may take for each of the three requests, or an error text.
std::optional<milliseconds> ProbeTimeout(const web::ProbeRequest& request,
                                         const config::Config& config, std::string& error) {
  milliseconds budget = config.poll.timeout * 3;
  const auto param = request.params.find("timeout");
  if (param != request.params.end()) {
    const std::string& text = param->second;
    char* end = nullptr;
    const double seconds = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size()) {
      budget = milliseconds(static_cast<int64_t>(seconds * 1000));
    } else {
      try {
        budget = util::ParseDuration(text);
      } catch (const std::invalid_argument&) {
        error = "timeout " + Quote(text) + " is not a duration; expected seconds such as 5 or a " +
                "duration such as \"5s\"";
        return std::nullopt;
      }
    }
  } else if (request.scrape_timeout_seconds) {
    budget = milliseconds(static_cast<int64_t>(*request.scrape_timeout_seconds * 1000)) -
             kProbeTimeoutMargin;
  }
  // Three requests in sequence share the budget.
  return std::clamp(budget / 3, kMinTimeout, kMaxTimeout);
}

// One read of the device into `store`, as the poller would do it on its first poll,
// without the energy baselines.
void ReadDevice(iotawatt::Client& client, const config::DeviceConfig& device, state::Store& store) {
  const auto report = client.FetchStatus({"device", "stats", "datalogs", "wifi"});
  if (!report.stats) {
    throw iotawatt::DeviceError(iotawatt::FailureReason::kDecode,
                                "GET " + device.url + "/status: no \"stats\" section");
  }
  const auto series = client.FetchSeries();
  store.SetHealth(device.name, state::HealthFromStatus(report));

  std::vector<state::Channel> channels;
  iotawatt::QueryRequest request;
  for (const auto& entry : series) {
    if (entry.unit == "Watts") {
      channels.push_back(
          {entry.name, state::ChannelKind::kPower, store.LabelsFor(device.name, entry.name)});
      request.columns.push_back(entry.name + ".wh.d9");
    } else if (entry.unit == "Volts") {
      channels.push_back(
          {entry.name, state::ChannelKind::kVoltage, store.LabelsFor(device.name, entry.name)});
      request.columns.push_back(entry.name + ".volts.d2");
    }
  }
  state::RecordBatch batch;
  batch.device = device.name;
  for (const auto& channel : channels) {
    batch.channels.push_back(channel.name);
  }
  store.SetChannels(device.name, std::move(channels));
  if (request.columns.empty()) {
    return;
  }

  const int64_t now = report.stats->currenttime;
  request.end =
      now - ((now % state::kRecordSeconds) + state::kRecordSeconds) % state::kRecordSeconds;
  request.begin = request.end - kProbeSeconds;
  request.group = "5s";
  auto page = client.Query(request);
  // The newest records may not be written yet; they are not a gap in the measurement.
  while (!page.rows.empty() && page.rows.back().missing()) {
    page.rows.pop_back();
  }
  batch.rows = std::move(page.rows);
  store.AddRecords(batch);
}

}  // namespace

std::optional<std::string> NormaliseProbeTarget(const std::string& target) {
  std::string url = target;
  if (url.find("://") == std::string::npos) {
    url = "http://" + url;
  }
  while (url.ends_with('/')) {
    url.pop_back();
  }
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    return std::nullopt;
  }
  const std::string_view authority = std::string_view(url).substr(kScheme.size());
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) {
      return std::nullopt;
    }
    const std::string_view inside = authority.substr(1, close - 1);
    if (!std::all_of(inside.begin(), inside.end(), [](char c) {
          return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                 c == ':' || c == '.';
        })) {
      return std::nullopt;
    }
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && (!rest.starts_with(':') || !IsPort(rest.substr(1)))) {
      return std::nullopt;
    }
    return url;
  }
  const size_t colon = authority.find(':');
  if (colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (!IsPort(port)) {
      return std::nullopt;
    }
  }
  if (host.empty() || !std::all_of(host.begin(), host.end(), IsHostChar)) {
    return std::nullopt;
  }
  return url;
}

web::ProbeResponse Probe(const web::ProbeRequest& request, const config::Config& config) {
  if (config.probe.allowed_targets.empty()) {
    return Error(403,
                 "probing is disabled: [probe] allowed_targets is empty; expected it to list "
                 "globs of the devices that may be probed, such as \"http://10.0.0.*\"");
  }
  const auto target_param = request.params.find("target");
  if (target_param == request.params.end() || target_param->second.empty()) {
    return Error(400, "missing parameter \"target\"; expected /probe?target=http://HOST[:PORT]");
  }
  const auto target = NormaliseProbeTarget(target_param->second);
  if (!target) {
    return Error(400, "target " + Quote(target_param->second) +
                          " is not a device URL; expected http://HOST[:PORT] without user, "
                          "path or query");
  }
  const bool allowed =
      std::any_of(config.probe.allowed_targets.begin(), config.probe.allowed_targets.end(),
                  [&](const std::string& glob) { return util::GlobMatch(glob, *target); });
  if (!allowed) {
    // The allow-list itself is not shown: it would map the network for anyone asking.
    return Error(403, "target " + Quote(*target) +
                          " is not allowed; expected a target matching a glob of [probe] "
                          "allowed_targets");
  }

  std::string error;
  const auto timeout = ProbeTimeout(request, config, error);
  if (!timeout) {
    return Error(400, error);
  }

  config::DeviceConfig device;
  device.url = *target;
  device.name = HostOf(*target);
  const auto device_param = request.params.find("device");
  if (device_param != request.params.end()) {
    if (!IsLabelSafeName(device_param->second)) {
      return Error(400, "device " + Quote(device_param->second) +
                            " is not a device name; expected letters, digits, '_', '-', '.' "
                            "or ':'");
    }
    device.name = device_param->second;
  }

  // A one-device configuration: the [[labels]] rules apply, derived series do not.
  config::Config probe_config;
  probe_config.source = config.source;
  probe_config.poll = config.poll;
  probe_config.label_rules = config.label_rules;
  probe_config.devices.push_back(device);
  state::Store store(probe_config);

  iotawatt::Client client(iotawatt::Endpoint{device.url, "", "", *timeout});
  const auto started = std::chrono::steady_clock::now();
  std::string failure;
  try {
    ReadDevice(client, device, store);
  } catch (const iotawatt::DeviceError& device_error) {
    failure = iotawatt::FailureReasonName(device_error.reason());
    kLog.Info("probe failed",
              {{"target", *target}, {"reason", failure}, {"error", device_error.what()}});
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
  store.RecordPoll(device.name, elapsed.count(), failure, client.request_count());

  auto families = metrics::BuildFamilies(store.TakeSnapshot());
  // Counters of a single read would restart at every probe: they are left out.
  std::erase_if(families, [](const prometheus::MetricFamily& family) {
    return family.type == prometheus::MetricType::Counter ||
           family.name.starts_with("iotawatt_derived_");
  });
  return web::ProbeResponse{200, metrics::Render(families), kMetricsContentType};
}

}  // namespace iwx::app
