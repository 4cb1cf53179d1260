// HTTP client for VictoriaMetrics: JSON-lines imports with retries, instant queries,
// exports and /flags. Works with a single node and with a cluster (vminsert and vmselect
// URLs that carry the tenant path).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "backfill/stop_signal.hpp"

namespace iwx::backfill {

/// VictoriaMetrics refused a request for good (400, 4xx other than 429), or stayed
/// unreachable past the retry deadline. what() names the URL and quotes the answer.
class VmError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct VmEndpoint {
  /// Imports go to import_url + "/api/v1/import", e.g. "http://127.0.0.1:8428" or
  /// "http://vminsert:8480/insert/0/prometheus".
  std::string import_url;
  /// Queries go to query_url + "/api/v1/query"; /flags is read at its origin.
  std::string query_url;
  std::string username;
  std::string password;
  std::chrono::milliseconds timeout{std::chrono::seconds{30}};
  /// Compress imports; unset: unless the import host is a loopback name or address.
  std::optional<bool> gzip;
};

/// Retries on connection errors, 5xx and 429: delays from `initial` doubling up to `max`,
/// until `deadline` has passed since the first failure of the request.
struct RetryOptions {
  std::chrono::milliseconds initial{std::chrono::milliseconds{500}};
  std::chrono::milliseconds max{std::chrono::seconds{30}};
  std::chrono::milliseconds deadline{std::chrono::minutes{5}};
};

/// The outcome of one attempt, for the retry policy.
enum class VmAnswer { kAccepted, kRetry, kRefused };

/// 2xx accepted; no answer (status 0), 5xx and 429 retried; everything else refused.
VmAnswer ClassifyVmStatus(int status);

/// One request at a time (calls are serialised); safe to share between threads. The
/// destructor waits for a background import and logs its failure.
class VmClient {
 public:
  /// \throw std::invalid_argument for URLs that are not http[s]://HOST[:PORT][/PATH] (https
  /// only when the HTTP library was built with TLS).
  VmClient(VmEndpoint endpoint, RetryOptions retry, const StopSignal& stop);
  ~VmClient();

  VmClient(const VmClient&) = delete;
  VmClient& operator=(const VmClient&) = delete;

  /// POSTs a JSON-lines body on another thread, so that the caller can prepare the next
  /// one meanwhile; at most one import is in flight: waits for the one before first. The
  /// body is gzip-compressed (on the caller's thread) as VmEndpoint::gzip says; by default
  /// not to a loopback name or address (localhost, 127.0.0.0/8, [::1]), where compression
  /// costs both processes CPU time on the same machine and saves nothing.
  /// \throw what the import before threw: VmError (400 with the response text; deadline
  /// passed), Interrupted on stop; std::runtime_error when compression fails
  void ImportInBackground(std::string json_lines);

  /// Returns once the import in flight, if any, was accepted. \throw as ImportInBackground
  void WaitForImport();

  /// GET /api/v1/query with nocache=1 (no latency offset, no cache) at `time` (Unix
  /// seconds); returns data.result. \throw VmError, Interrupted
  nlohmann::json Query(const std::string& query, double time);

  /// GET /api/v1/export for one selector between start and end (Unix seconds, both
  /// inclusive); calls `line` for every series line. \throw VmError, Interrupted
  void Export(const std::string& selector, double start, double end,
              const std::function<void(const nlohmann::json&)>& line);

  /// The effective command-line flags ("-retentionPeriod" → "100y"), from /flags at the
  /// query URL's origin. Empty when /flags cannot be read (e.g. hidden by a proxy).
  std::map<std::string, std::string> Flags();

  /// Requests repeated after a retryable failure, since construction.
  uint64_t retries() const noexcept { return retries_.load(); }
  uint64_t requests() const noexcept { return requests_.load(); }

 private:
  struct Impl;

  std::string Get(const std::string& what, const std::string& target, bool import_side);
  // Sends a prepared (possibly compressed) body, with retries.
  void Post(const std::string& body);

  std::unique_ptr<Impl> impl_;
  bool gzip_ = true;
  RetryOptions retry_;
  const StopSignal& stop_;
  // Atomic: a background import counts while the caller may read them.
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> requests_{0};
  std::future<void> background_;
};

}  // namespace iwx::backfill
