// The exporter's HTTP surface: the metrics page, a landing page and health endpoints.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "web/web_config.hpp"

namespace iwx::web {

/// A /probe request: its query parameters and the scraper's timeout, if it sent one
/// (X-Prometheus-Scrape-Timeout-Seconds).
struct ProbeRequest {
  std::map<std::string, std::string> params;
  std::optional<double> scrape_timeout_seconds;
};

struct ProbeResponse {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
};

struct Handlers {
  /// Renders the metrics page; called for every scrape, must not block on devices.
  std::function<std::string()> metrics;
  /// Whether every device has been polled at least once (for /-/ready).
  std::function<bool()> ready;
  /// Answers /probe; empty: /probe is not served (404).
  std::function<ProbeResponse(const ProbeRequest&)> probe;
};

/// Serves on a background thread pool. Thread-safe Start/Stop. With `security.tls` it
/// serves HTTPS only; with basic_auth_users every path answers 401 without valid
/// credentials (health endpoints included, as in the Prometheus exporter toolkit).
class Server {
 public:
  Server(config::WebConfig web, Handlers handlers, WebSecurity security = {});
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds the listen address and starts serving.
  /// \throw std::runtime_error naming the address and the reason when it cannot bind, or
  /// naming the files when the TLS certificate or key cannot be loaded.
  void Start();
  /// Stops accepting and waits for the serving thread. Idempotent.
  void Stop();

  /// The bound port (useful with port 0).
  uint16_t port() const noexcept { return port_; }

 private:
  struct Impl;

  void AddRoutes();

  config::WebConfig web_;
  Handlers handlers_;
  WebSecurity security_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  uint16_t port_ = 0;
};

/// Splits "host:port", "[v6]:port" or ":port" (all interfaces).
/// \throw std::invalid_argument naming the value and the expected form.
std::pair<std::string, uint16_t> SplitListenAddress(const std::string& address);

}  // namespace iwx::web
