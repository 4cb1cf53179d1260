// The exporter assembled: shared state, one poller per device, the web server.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "poller/poller.hpp"
#include "state/store.hpp"
#include "web/server.hpp"

namespace iwx::app {

class Exporter {
 public:
  /// Builds pollers for every configured device and loads the persisted energy counters
  /// (a missing or unreadable counter file is logged; those counters start from zero).
  /// `options.poll` is replaced by the configuration's [poll] table; the other options
  /// (tests) are kept. `security` (from --web.config.file) sets TLS and basic
  /// authentication of the web server.
  /// \throw config::ConfigError when a device's password cannot be read.
  explicit Exporter(config::Config config, poller::PollerOptions options = {},
                    web::WebSecurity security = {});
  ~Exporter();

  /// Starts the pollers and the web server. \throw std::runtime_error when it cannot bind.
  void Start();
  /// Stops the web server and the pollers and saves the counters. Idempotent.
  void Stop();

  /// Stops within `grace`: the web server, the counter file (saved), then waits for the
  /// pollers until the deadline. Returns false when a poller is still inside a connection
  /// attempt; the caller should then exit without destroying the exporter.
  bool StopWithin(std::chrono::milliseconds grace);

  /// Writes the energy counters to the counter file now (no-op without one). Errors are
  /// logged once per change of outcome, never thrown: counting goes on in memory.
  void SaveCounters();

  /// The metrics page as a scrape would see it.
  std::string RenderMetrics() const;
  /// Every device polled at least once.
  bool Ready() const;

  uint16_t port() const noexcept { return server_ ? server_->port() : 0; }
  state::Store& store() noexcept { return *store_; }
  const config::Config& config() const noexcept { return config_; }
  std::vector<std::unique_ptr<poller::DevicePoller>>& pollers() noexcept { return pollers_; }

 private:
  void LoadCounters();
  void RunCounterSaver();
  void StopCounterSaver();

  config::Config config_;
  web::WebSecurity security_;
  std::unique_ptr<state::Store> store_;
  std::vector<std::unique_ptr<poller::DevicePoller>> pollers_;
  std::unique_ptr<web::Server> server_;

  // The page is rebuilt only when the store changed: scrapes far outnumber polls.
  mutable std::mutex page_mutex_;
  mutable uint64_t page_version_ = 0;
  mutable std::string page_;

  std::mutex saver_mutex_;
  std::condition_variable saver_wake_;
  bool stopping_ = false;
  std::thread saver_;
  std::optional<bool> last_save_ok_;
};

}  // namespace iwx::app
