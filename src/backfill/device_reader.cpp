#include "backfill/device_reader.hpp"

#include <algorithm>

#include "log/log.hpp"

namespace iwx::backfill {

namespace {

const log::Logger kLog("backfill");

// The live exporter's columns: Wh to the nWh (summed exactly as integers), volts as shown.
constexpr const char* kEnergyMethod = ".wh.d9";
constexpr const char* kVoltageMethod = ".volts.d2";

iotawatt::Endpoint MakeEndpoint(const config::Config& config, const config::DeviceConfig& device) {
  return {device.url, device.username, config::ReadDevicePassword(device), config.poll.timeout};
}

std::optional<ChannelKind> KindOfUnit(const std::string& unit) {
  if (unit == "Watts") {
    return ChannelKind::kPower;
  }
  if (unit == "Volts") {
    return ChannelKind::kVoltage;
  }
  return std::nullopt;
}

bool Allowed(const config::DeviceConfig& device, const std::string& channel) {
  const auto& allowed = device.channels;
  return allowed.empty() || std::find(allowed.begin(), allowed.end(), channel) != allowed.end();
}

}  // namespace

DeviceReader::DeviceReader(const config::Config& config, const config::DeviceConfig& device,
                           ReaderOptions options, const StopSignal& stop)
    : config_(config),
      device_(device),
      options_(options),
      stop_(stop),
      client_(std::make_unique<iotawatt::Client>(MakeEndpoint(config, device))) {}

DeviceReader::~DeviceReader() = default;

template <typename Request>
auto DeviceReader::Send(const std::string& what, Request request) {
  Backoff backoff(options_.backoff_initial, options_.backoff_max);
  std::optional<std::chrono::steady_clock::time_point> first_failure;
  for (;;) {
    // Pacing: the pause after the previous request, whatever its outcome.
    if (next_request_) {
      const auto now = std::chrono::steady_clock::now();
      if (*next_request_ > now) {
        stats_.paused += *next_request_ - now;
        if (!stop_.SleepFor(std::chrono::ceil<std::chrono::milliseconds>(*next_request_ - now))) {
          throw Interrupted("stopped before reading " + what + " from " + device_.name);
        }
      }
    }

    const auto started = std::chrono::steady_clock::now();
    ++stats_.requests;
    try {
      auto result = request();
      const auto busy = std::chrono::steady_clock::now() - started;
      stats_.busy += busy;
      next_request_ =
          std::chrono::steady_clock::now() +
          PauseAfter(std::chrono::ceil<std::chrono::milliseconds>(busy), options_.device_share);
      if (failing_) {
        kLog.Info("device answering again", {{"device", device_.name}});
        failing_ = false;
      }
      return result;
    } catch (const iotawatt::DeviceError& error) {
      const auto now = std::chrono::steady_clock::now();
      stats_.busy += now - started;
      first_failure = first_failure.value_or(now);
      // Credentials do not mend themselves: asking again only adds to the device's work.
      if (error.reason() == iotawatt::FailureReason::kAuth ||
          options_.retry_deadline.count() <= 0) {
        throw DeviceGaveUp("device " + device_.name + ": " + what + ": " + error.what());
      }
      if (now - *first_failure >= options_.retry_deadline) {
        throw DeviceGaveUp("device " + device_.name + ": " + what + " failed for " +
                           std::to_string(options_.retry_deadline.count() / 1000) +
                           " s; last error: " + error.what());
      }
      if (!failing_) {
        kLog.Warning("device request failed, retrying",
                     {{"device", device_.name},
                      {"request", what},
                      {"reason", iotawatt::FailureReasonName(error.reason())},
                      {"error", error.what()}});
        failing_ = true;
      }
      ++stats_.retries;
      next_request_ = now + backoff.Next();
    }
  }
}

DeviceInfo DeviceReader::Discover() {
  const auto status = Send("/status", [this] {
    return client_->FetchStatus({"stats", "datalogs"});
  });
  const auto series = Send("/query?show=series", [this] { return client_->FetchSeries(); });

  DeviceInfo info;
  info.now = status.stats ? status.stats->currenttime : 0;
  if (const auto* history = status.FindLog("History")) {
    info.history_first = history->firstkey;
  }
  if (info.now == 0 || info.history_first == 0) {
    throw DeviceGaveUp("device " + device_.name + " (" + device_.url +
                       "): /status lacks the clock or the History log; expected stats and "
                       "datalogs sections");
  }

  columns_.clear();
  kinds_.clear();
  for (const auto& entry : series) {
    const auto kind = KindOfUnit(entry.unit);
    if (!kind || !Allowed(device_, entry.name)) {
      continue;
    }
    info.channels.push_back(
        {entry.name, *kind, config::ChannelLabels(config_, device_.name, entry.name)});
    columns_.push_back(entry.name +
                       (*kind == ChannelKind::kPower ? kEnergyMethod : kVoltageMethod));
    kinds_.push_back(*kind);
  }
  history_first_ = info.history_first;
  return info;
}

iotawatt::QueryRequest DeviceReader::MakeRequest(int64_t begin, int64_t end,
                                                 const std::string& group) const {
  iotawatt::QueryRequest request;
  request.columns = columns_;
  request.begin = begin;
  request.end = end;
  request.group = group;
  request.limit = options_.rows_per_page;
  return request;
}

std::vector<MinuteRow> DeviceReader::ReadMinutes(Span span) {
  std::vector<MinuteRow> minutes;
  if (columns_.empty()) {
    return minutes;
  }

  int64_t begin = span.begin;
  while (begin < span.end) {
    const auto request = MakeRequest(begin, span.end, "1m");
    const auto page = Send("/query " + FormatTime(begin), [&] { return client_->Query(request); });
    stats_.rows += page.rows.size();
    for (const auto& row : page.rows) {
      if (row.missing() || row.time < begin || row.time >= span.end) {
        continue;
      }
      MinuteRow minute{row.time, {}};
      minute.values.reserve(row.values.size());
      for (const auto& value : row.values) {
        minute.values.push_back(value.value_or(0));
      }
      minutes.push_back(std::move(minute));
    }

    // The device states where it stopped; without a marker the span is complete.
    if (!page.continuation || *page.continuation <= begin) {
      break;
    }
    begin = *page.continuation;
  }
  return minutes;
}

std::vector<double> DeviceReader::ReadEnergyBaseline(int64_t until) {
  std::vector<double> wh(columns_.size(), 0);
  if (columns_.empty() || until <= history_first_) {
    return wh;
  }

  const auto request = MakeRequest(history_first_, until, "all");
  const auto page = Send("/query energy baseline", [&] { return client_->Query(request); });
  if (page.rows.empty() || page.rows.front().missing()) {
    return wh;
  }
  for (size_t i = 0; i < wh.size(); ++i) {
    if (kinds_[i] == ChannelKind::kPower) {
      wh[i] = page.rows.front().values[i].value_or(0);
    }
  }
  return wh;
}

}  // namespace iwx::backfill
