#include "poller/poller.hpp"

#include <algorithm>
#include <map>

#include "log/log.hpp"

namespace iwx::poller {

namespace {

const log::Logger kLog("poller");

// Decimals asked of the device: Wh to the nWh, the unit energy is summed in (exactly,
// as integers); volts are only shown.
constexpr const char* kEnergyMethod = ".wh.d9";
constexpr const char* kVoltageMethod = ".volts.d2";

constexpr int64_t kMinuteSeconds = 60;

int64_t FloorTo(int64_t seconds, int64_t step) {
  return seconds - ((seconds % step) + step) % step;
}

int64_t FloorToRecord(int64_t seconds) {
  return FloorTo(seconds, state::kRecordSeconds);
}

iotawatt::Endpoint MakeEndpoint(const config::DeviceConfig& device,
                                const config::PollConfig& poll) {
  iotawatt::Endpoint endpoint;
  endpoint.url = device.url;
  endpoint.username = device.username;
  endpoint.password = config::ReadDevicePassword(device);
  endpoint.timeout = poll.timeout;
  return endpoint;
}

std::optional<state::ChannelKind> KindOfUnit(const std::string& unit) {
  if (unit == "Watts") {
    return state::ChannelKind::kPower;
  }
  if (unit == "Volts") {
    return state::ChannelKind::kVoltage;
  }
  return std::nullopt;
}

}  // namespace

DevicePoller::DevicePoller(config::DeviceConfig device, PollerOptions options, state::Store& store)
    : device_(std::move(device)),
      options_(std::move(options)),
      store_(store),
      client_(std::make_unique<iotawatt::Client>(MakeEndpoint(device_, options_.poll))) {}

DevicePoller::~DevicePoller() {
  Stop();
}

void DevicePoller::Start() {
  thread_ = std::thread([this] { Run(); });
}

void DevicePoller::RequestStop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  client_->Stop();
}

bool DevicePoller::WaitStopped(std::chrono::steady_clock::time_point deadline) {
  if (!thread_.joinable()) {
    return true;
  }
  std::unique_lock lock(mutex_);
  if (!wake_.wait_until(lock, deadline, [this] { return finished_; })) {
    return false;
  }
  lock.unlock();
  thread_.join();
  return true;
}

void DevicePoller::Stop() {
  RequestStop();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void DevicePoller::Run() {
  auto next_poll = options_.now();
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    const bool backlog = PollOnce();
    lock.lock();

    const auto now = options_.now();
    if (backlog) {
      // Catching up: the next page after a pause that leaves the device time to measure.
      const auto pause = std::max<std::chrono::steady_clock::duration>(options_.min_catch_up_pause,
                                                                       2 * last_query_time_);
      next_poll = now + pause;
    } else {
      // Fixed rate rather than fixed delay, so a slow device does not stretch the interval.
      next_poll += options_.poll.interval;
      if (next_poll < now) {
        next_poll = now;
      }
    }
    wake_.wait_for(lock, next_poll - now, [this] { return stopping_; });
  }
  finished_ = true;
  wake_.notify_all();
}

bool DevicePoller::PollOnce() {
  const auto started = options_.now();
  std::optional<iotawatt::DeviceError> failure;
  bool backlog = false;
  try {
    if (need_discovery_) {
      Discover();
    } else if (!last_status_ || started - *last_status_ >= options_.poll.status_interval) {
      RefreshStatus();
    }
    ReadBaselines();
    backlog = ReadRecords();
    store_.SetCaughtUp(device_.name, !backlog);
  } catch (const iotawatt::DeviceError& error) {
    failure = error;
    need_discovery_ = true;
  }

  {
    // A request aborted by Stop() says nothing about the device.
    const std::lock_guard lock(mutex_);
    if (stopping_) {
      return false;
    }
  }
  const std::chrono::duration<double> elapsed = options_.now() - started;
  ReportOutcome(elapsed.count(), failure);
  return backlog;
}

void DevicePoller::Discover() {
  const auto series = client_->FetchSeries();
  RefreshStatus();

  std::vector<state::Channel> channels;
  std::vector<std::string> columns;
  for (const auto& entry : series) {
    const auto kind = KindOfUnit(entry.unit);
    const auto& allowed = device_.channels;
    if (!kind || (!allowed.empty() &&
                  std::find(allowed.begin(), allowed.end(), entry.name) == allowed.end())) {
      continue;
    }
    columns.push_back(entry.name +
                      (*kind == state::ChannelKind::kPower ? kEnergyMethod : kVoltageMethod));
    channels.push_back({entry.name, *kind, store_.LabelsFor(device_.name, entry.name)});
  }

  if (channels != channels_) {
    kLog.Info("channels discovered",
              {{"device", device_.name}, {"channels", channels.size()}, {"series", series.size()}});
    for (const auto& wanted : device_.channels) {
      const bool found = std::any_of(series.begin(), series.end(),
                                     [&](const auto& entry) { return entry.name == wanted; });
      if (!found) {
        kLog.Warning("configured channel not reported by device",
                     {{"device", device_.name}, {"channel", wanted}});
      }
    }
  }
  channels_ = channels;
  columns_ = std::move(columns);
  store_.SetChannels(device_.name, std::move(channels));
  need_discovery_ = false;
}

void DevicePoller::RefreshStatus() {
  const auto report = client_->FetchStatus({"device", "stats", "datalogs", "wifi"});
  const auto now = options_.now();
  if (!report.stats) {
    throw iotawatt::DeviceError(iotawatt::FailureReason::kDecode,
                                "GET " + device_.url + "/status: no \"stats\" section");
  }

  device_time_at_anchor_ = report.stats->currenttime;
  anchor_ = now;
  last_status_ = now;

  if (const auto* history = report.FindLog("History")) {
    history_first_ = history->firstkey;
  }
  if (const auto* current = report.FindLog("Current")) {
    current_first_ = current->firstkey;
  }
  store_.SetHealth(device_.name, state::HealthFromStatus(report));
}

int64_t DevicePoller::DeviceNow() const {
  const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(options_.now() - anchor_);
  return device_time_at_anchor_ + elapsed.count();
}

int64_t DevicePoller::StartPosition() const {
  const auto interval = std::chrono::duration_cast<std::chrono::seconds>(options_.poll.interval);
  const int64_t end = FloorToRecord(DeviceNow());
  return FloorToRecord(end - std::max<int64_t>(interval.count(), state::kRecordSeconds));
}

void DevicePoller::ReadBaselines() {
  const auto channels = store_.ChannelsWithoutBaseline(device_.name);
  if (channels.empty()) {
    return;
  }

  // The net energy since the history log began is the device's own: the difference of
  // its accumulators between the log's first record and the integration start.
  int64_t position = store_.IntegrationPosition(device_.name).value_or(StartPosition());
  // Before the 5-second log only minute boundaries can be read (the device answers other
  // boundaries there with truncated output); the total up to the next minute covers the
  // partial minute exactly.
  if (position < current_first_) {
    position = FloorTo(position + kMinuteSeconds - 1, kMinuteSeconds);
  }
  std::map<std::string, double> net_wh;
  for (const auto& channel : channels) {
    net_wh[channel] = 0;
  }
  if (position > history_first_) {
    iotawatt::QueryRequest request;
    for (const auto& channel : channels) {
      request.columns.push_back(channel + kEnergyMethod);
    }
    request.begin = history_first_;
    request.end = position;
    request.group = "all";
    const auto page = client_->Query(request);
    if (!page.rows.empty() && !page.rows.front().missing()) {
      for (size_t i = 0; i < channels.size(); ++i) {
        net_wh[channels[i]] = page.rows.front().values[i].value_or(0);
      }
    }
  }
  store_.SetBaseline(device_.name, position, net_wh);
  kLog.Debug("energy baseline read",
             {{"device", device_.name}, {"position", position}, {"channels", channels.size()}});
}

bool DevicePoller::ReadRecords() {
  if (columns_.empty()) {
    return false;
  }

  const int64_t end = FloorToRecord(DeviceNow());
  if (!next_record_) {
    next_record_ =
        std::max(store_.FirstRecordNeeded(device_.name).value_or(StartPosition()), history_first_);
  }
  const int64_t begin = *next_record_;
  if (end <= begin) {
    return false;
  }
  // Records older than the 5-second log exist only as 1-minute history.
  if (begin < current_first_) {
    return ReadHistoryMinutes(begin, std::min(end, current_first_));
  }

  reading_history_ = false;
  auto page = QueryRecords(begin, end, "5s");

  // Without a continuation, what remains are unsettled records, asked for next time.
  const bool more = page.continuation.has_value();
  AddPage(std::move(page), state::kRecordSeconds);
  return more;
}

bool DevicePoller::ReadHistoryMinutes(int64_t begin, int64_t end) {
  // A partial first minute cannot be read at 1-minute resolution; it is skipped.
  const int64_t first_minute = FloorTo(begin + kMinuteSeconds - 1, kMinuteSeconds);
  const int64_t last_minute = FloorTo(end + kMinuteSeconds - 1, kMinuteSeconds);
  if (!reading_history_) {
    reading_history_ = true;
    kLog.Warning("span approximated at 1-minute resolution",
                 {{"device", device_.name},
                  {"begin", first_minute},
                  {"end", last_minute},
                  {"reason", "older than the device's 5-second log"}});
  }

  auto page = QueryRecords(first_minute, last_minute, "1m");

  next_record_ = first_minute;
  AddPage(std::move(page), kMinuteSeconds);
  return true;
}

iotawatt::QueryPage DevicePoller::QueryRecords(int64_t begin, int64_t end,
                                               const std::string& group) {
  iotawatt::QueryRequest request;
  request.columns = columns_;
  request.begin = begin;
  request.end = end;
  request.group = group;
  request.limit = options_.max_rows;

  const auto started = options_.now();
  auto page = client_->Query(request);
  last_query_time_ = options_.now() - started;
  return page;
}

void DevicePoller::AddPage(iotawatt::QueryPage page, int64_t record_seconds) {
  // Recent records the device reports as missing may not be written yet: ask again.
  auto& rows = page.rows;
  const int64_t settled = DeviceNow() - options_.settle_time.count();
  size_t keep = rows.size();
  while (keep > 0 && rows[keep - 1].missing() && rows[keep - 1].time + record_seconds > settled) {
    --keep;
  }
  int64_t next = page.range_end;
  if (keep < rows.size()) {
    next = rows[keep].time;
  } else if (page.continuation) {
    next = *page.continuation;
  }
  rows.resize(keep);

  state::RecordBatch batch;
  batch.device = device_.name;
  batch.record_seconds = record_seconds;
  for (const auto& channel : channels_) {
    batch.channels.push_back(channel.name);
  }
  batch.rows = std::move(rows);
  store_.AddRecords(batch);
  next_record_ = std::max(next, *next_record_);
}

void DevicePoller::ReportOutcome(double seconds,
                                 const std::optional<iotawatt::DeviceError>& failure) {
  const std::string reason = failure ? iotawatt::FailureReasonName(failure->reason()) : "";
  store_.RecordPoll(device_.name, seconds, reason, client_->request_count());

  const bool up = !failure.has_value();
  if (was_up_ == up) {
    if (failure) {
      kLog.Debug("poll failed",
                 {{"device", device_.name}, {"reason", reason}, {"error", failure->what()}});
    }
    return;
  }
  was_up_ = up;
  if (up) {
    kLog.Info("device up", {{"device", device_.name}, {"url", device_.url}});
  } else {
    kLog.Warning("device down",
                 {{"device", device_.name}, {"reason", reason}, {"error", failure->what()}});
  }
}

}  // namespace iwx::poller
