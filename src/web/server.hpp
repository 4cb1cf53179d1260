// The exporter's HTTP surface: the metrics page, a landing page and health endpoints.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "config/config.hpp"

namespace iwx::web {

struct Handlers {
  /// Renders the metrics page; called for every scrape, must not block on devices.
  std::function<std::string()> metrics;
  /// Whether every device has been polled at least once (for /-/ready).
  std::function<bool()> ready;
};

/// Serves on a background thread pool. Thread-safe Start/Stop.
class Server {
 public:
  Server(config::WebConfig web, Handlers handlers);
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds the listen address and starts serving.
  /// \throw std::runtime_error naming the address and the reason when it cannot bind.
  void Start();
  /// Stops accepting and waits for the serving thread. Idempotent.
  void Stop();

  /// The bound port (useful with port 0).
  uint16_t port() const noexcept { return port_; }

 private:
  struct Impl;

  config::WebConfig web_;
  Handlers handlers_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  uint16_t port_ = 0;
};

/// Splits "host:port", "[v6]:port" or ":port" (all interfaces).
/// \throw std::invalid_argument naming the value and the expected form.
std::pair<std::string, uint16_t> SplitListenAddress(const std::string& address);

}  // namespace iwx::web
