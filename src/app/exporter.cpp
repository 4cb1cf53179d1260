#include "app/exporter.hpp"

#include <algorithm>

#include "metrics/exposition.hpp"

namespace iwx::app {

Exporter::Exporter(config::Config config, poller::PollerOptions options)
    : config_(std::move(config)), store_(std::make_unique<state::Store>(config_)) {
  options.poll = config_.poll;
  for (const auto& device : config_.devices) {
    pollers_.push_back(std::make_unique<poller::DevicePoller>(device, options, *store_));
  }
}

Exporter::~Exporter() {
  Stop();
}

void Exporter::Start() {
  server_ = std::make_unique<web::Server>(
      config_.web, web::Handlers{[this] { return RenderMetrics(); }, [this] { return Ready(); }});
  server_->Start();
  for (auto& poller : pollers_) {
    poller->Start();
  }
}

void Exporter::Stop() {
  if (server_) {
    server_->Stop();
  }
  for (auto& poller : pollers_) {
    poller->Stop();
  }
}

std::string Exporter::RenderMetrics() const {
  return metrics::Render(metrics::BuildFamilies(store_->TakeSnapshot()));
}

bool Exporter::Ready() const {
  const auto snapshot = store_->TakeSnapshot();
  return std::all_of(snapshot.devices.begin(), snapshot.devices.end(),
                     [](const state::DeviceSample& device) { return device.polled; });
}

}  // namespace iwx::app
