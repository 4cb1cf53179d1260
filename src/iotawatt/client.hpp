// HTTP client for one IoTaWatt unit.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "iotawatt/types.hpp"

namespace iwx::iotawatt {

/// Why a request failed; also the `reason` label of the poll error counter.
enum class FailureReason { kConnect, kTimeout, kHttpStatus, kAuth, kDecode };

/// "connect", "timeout", "http_status", "auth", "decode".
const char* FailureReasonName(FailureReason reason) noexcept;

/// A failed request. what() names the device URL, the request and the cause.
class DeviceError : public std::runtime_error {
 public:
  DeviceError(FailureReason reason, const std::string& message, int http_status = 0)
      : std::runtime_error(message), reason_(reason), http_status_(http_status) {}

  FailureReason reason() const noexcept { return reason_; }
  int http_status() const noexcept { return http_status_; }

 private:
  FailureReason reason_;
  int http_status_;
};

struct Endpoint {
  /// "http://host[:port]" with an optional path prefix.
  std::string url;
  std::string username;
  std::string password;
  std::chrono::milliseconds timeout{std::chrono::seconds{10}};
};

/// Issues one request at a time (calls from several threads are serialised), with a
/// timeout on connecting and on each read and write (Endpoint::timeout), Digest authentication when
/// credentials are set (the nonce is reused with an increasing count and renewed when the device
/// answers 401 again).
class Client {
 public:
  /// Connects lazily: nothing is sent before the first request. A path prefix of the URL
  /// is put in front of every request target.
  /// \throw std::invalid_argument when the URL is not http[s]://host[:port][/prefix].
  explicit Client(Endpoint endpoint);
  ~Client();

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// GET /status with the named sections ("device", "stats", "inputs", "datalogs", ...).
  /// \throw DeviceError
  StatusReport FetchStatus(const std::vector<std::string>& sections);

  /// GET /query?show=series. \throw DeviceError
  std::vector<SeriesInfo> FetchSeries();

  /// One select page. \throw DeviceError; std::invalid_argument for a request that
  /// BuildQueryTarget rejects (times that are not 10-digit epochs, limit < 1).
  QueryPage Query(const QueryRequest& request);

  /// Aborts a request in progress from another thread and makes later requests fail at
  /// once with kConnect. Used at shutdown. Returns without waiting; a request caught while
  /// still connecting ends at its timeout instead.
  void Stop();

  /// Requests sent so far (including 401 round trips).
  uint64_t request_count() const noexcept { return request_count_.load(); }

  const std::string& url() const noexcept { return endpoint_.url; }

 private:
  struct Impl;

  std::string Get(const std::string& target);

  Endpoint endpoint_;
  std::mutex mutex_;
  std::atomic<uint64_t> request_count_{0};
  std::atomic<bool> stopped_{false};
  std::unique_ptr<Impl> impl_;
};

}  // namespace iwx::iotawatt
