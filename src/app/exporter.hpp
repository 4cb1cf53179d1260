// The exporter assembled: shared state, one poller per device, the web server.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "poller/poller.hpp"
#include "state/store.hpp"
#include "web/server.hpp"

namespace iwx::app {

class Exporter {
 public:
  /// Builds pollers for every configured device. `options.poll` is replaced by the
  /// configuration's [poll] table; the other options (tests) are kept.
  /// \throw config::ConfigError when a device's password file cannot be read.
  explicit Exporter(config::Config config, poller::PollerOptions options = {});
  ~Exporter();

  /// Starts the pollers and the web server. \throw std::runtime_error when it cannot bind.
  void Start();
  /// Stops the web server and the pollers. Idempotent.
  void Stop();

  /// The metrics page as a scrape would see it.
  std::string RenderMetrics() const;
  /// Every device polled at least once.
  bool Ready() const;

  uint16_t port() const noexcept { return server_ ? server_->port() : 0; }
  state::Store& store() noexcept { return *store_; }
  const config::Config& config() const noexcept { return config_; }
  std::vector<std::unique_ptr<poller::DevicePoller>>& pollers() noexcept { return pollers_; }

 private:
  config::Config config_;
  std::unique_ptr<state::Store> store_;
  std::vector<std::unique_ptr<poller::DevicePoller>> pollers_;
  std::unique_ptr<web::Server> server_;
};

}  // namespace iwx::app
