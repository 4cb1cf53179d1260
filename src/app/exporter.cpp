#include "app/exporter.hpp"

#include <algorithm>
#include <filesystem>

#include "app/probe.hpp"
#include "log/log.hpp"
#include "metrics/exposition.hpp"
#include "state/counter_file.hpp"

namespace iwx::app {

namespace {

const log::Logger kLog("counters");

}  // namespace

Exporter::Exporter(config::Config config, poller::PollerOptions options, web::WebSecurity security)
    : config_(std::move(config)),
      security_(std::move(security)),
      store_(std::make_unique<state::Store>(config_)) {
  options.poll = config_.poll;
  LoadCounters();
  for (const auto& device : config_.devices) {
    pollers_.push_back(std::make_unique<poller::DevicePoller>(device, options, *store_));
  }
}

Exporter::~Exporter() {
  Stop();
}

void Exporter::LoadCounters() {
  const std::string& path = config_.state.file;
  if (path.empty()) {
    return;
  }
  if (!std::filesystem::exists(path)) {
    kLog.Info("no counter file yet: counters start from the devices' totals", {{"file", path}});
    return;
  }
  try {
    store_->ImportCounters(state::LoadCounters(path));
    kLog.Info("counters restored", {{"file", path}});
  } catch (const state::CounterFileError& error) {
    // Never refuse to start: the device's own totals come back exactly; only the split by
    // sign restarts from zero, which increase() sees as a counter reset.
    kLog.Error("counter file unusable: sign-split counters start again from zero",
               {{"file", path}, {"error", error.what()}});
  }
}

void Exporter::SaveCounters() {
  const std::string& path = config_.state.file;
  if (path.empty()) {
    return;
  }
  try {
    state::SaveCounters(path, store_->ExportCounters());
    if (last_save_ok_ != true) {
      kLog.Info("counters saved", {{"file", path}});
    }
    last_save_ok_ = true;
  } catch (const state::CounterFileError& error) {
    if (last_save_ok_ != false) {
      kLog.Error("cannot save counters", {{"file", path}, {"error", error.what()}});
    }
    last_save_ok_ = false;
  }
}

void Exporter::RunCounterSaver() {
  std::unique_lock lock(saver_mutex_);
  while (!saver_wake_.wait_for(lock, config_.state.save_interval, [this] { return stopping_; })) {
    lock.unlock();
    SaveCounters();
    lock.lock();
  }
}

void Exporter::Start() {
  server_ = std::make_unique<web::Server>(
      config_.web,
      web::Handlers{[this] { return RenderMetrics(); }, [this] { return Ready(); },
                    [this](const web::ProbeRequest& request) { return Probe(request, config_); }},
      security_);
  server_->Start();
  for (auto& poller : pollers_) {
    poller->Start();
  }
  saver_ = std::thread([this] { RunCounterSaver(); });
}

void Exporter::Stop() {
  if (server_) {
    server_->Stop();
  }
  for (auto& poller : pollers_) {
    poller->Stop();
  }
  StopCounterSaver();
}

bool Exporter::StopWithin(std::chrono::milliseconds grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  if (server_) {
    server_->Stop();
  }
  for (auto& poller : pollers_) {
    poller->RequestStop();
  }
  // The store is consistent at any moment, so the counters can be saved while a poller
  // is still winding down; records it adds later are read again after the restart.
  StopCounterSaver();

  bool stopped = true;
  for (auto& poller : pollers_) {
    stopped = poller->WaitStopped(deadline) && stopped;
  }
  return stopped;
}

void Exporter::StopCounterSaver() {
  {
    const std::lock_guard lock(saver_mutex_);
    stopping_ = true;
  }
  saver_wake_.notify_all();
  if (saver_.joinable()) {
    saver_.join();
    SaveCounters();
  }
}

std::string Exporter::RenderMetrics() const {
  // The version is read before the snapshot: a change in between only makes the next
  // scrape render again.
  const std::lock_guard lock(page_mutex_);
  const uint64_t version = store_->version();
  if (page_.empty() || version != page_version_) {
    page_ = metrics::Render(metrics::BuildFamilies(store_->TakeSnapshot()));
    page_version_ = version;
  }
  return page_;
}

bool Exporter::Ready() const {
  const auto snapshot = store_->TakeSnapshot();
  return std::all_of(snapshot.devices.begin(), snapshot.devices.end(),
                     [](const state::DeviceSample& device) { return device.polled; });
}

}  // namespace iwx::app
