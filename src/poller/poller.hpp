// One background poller per device: discovery, health and 5-second records.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "iotawatt/client.hpp"
#include "state/store.hpp"

namespace iwx::poller {

/// Monotonic time source; replaceable so tests can step time together with a simulated
/// device clock.
using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

struct PollerOptions {
  config::PollConfig poll;
  /// Records newer than this (by the device's clock) that the device reports as missing
  /// are asked for again on the next poll: the device may simply not have written them.
  std::chrono::seconds settle_time{30};
  /// Rows per /query page; a larger backlog is read page by page.
  int max_rows = 1000;
  /// Pause between catch-up pages, at least; it grows with the time the device took to
  /// answer, so that the device spends at most about a third of its time on us.
  std::chrono::milliseconds min_catch_up_pause{1000};
  SteadyClock now = [] { return std::chrono::steady_clock::now(); };
};

/// Polls one device. Each poll sends one /query for all channels covering the records
/// since the previous poll; /status at most every status_interval; /query?show=series at
/// start and after errors. Errors are results: counted, logged once per state change.
class DevicePoller {
 public:
  DevicePoller(config::DeviceConfig device, PollerOptions options, state::Store& store);
  ~DevicePoller();

  DevicePoller(const DevicePoller&) = delete;
  DevicePoller& operator=(const DevicePoller&) = delete;

  /// Starts the background thread, which polls at once and then every interval.
  void Start();
  /// Stops the thread, aborting a request in progress. Idempotent.
  void Stop();

  /// Asks the thread to stop without waiting; aborts a request waiting for an answer (a
  /// connection attempt in progress runs into its timeout instead).
  void RequestStop();
  /// After RequestStop(): waits until the thread has ended, at most until `deadline`.
  /// Returns false when it is still running (then Stop() would block).
  bool WaitStopped(std::chrono::steady_clock::time_point deadline);

  /// One poll, synchronously (the background thread calls this; tests may too).
  /// Returns true when a backlog of records remains to be read.
  bool PollOnce();

  const std::string& name() const noexcept { return device_.name; }

 private:
  void Run();
  void Discover();
  void RefreshStatus();
  void ReadBaselines();
  bool ReadRecords();
  bool ReadHistoryMinutes(int64_t begin, int64_t end);
  /// One page of records of every channel; measures how long the device took.
  iotawatt::QueryPage QueryRecords(int64_t begin, int64_t end, const std::string& group);
  void AddPage(iotawatt::QueryPage page, int64_t record_seconds);
  int64_t DeviceNow() const;
  int64_t StartPosition() const;
  void ReportOutcome(double seconds, const std::optional<iotawatt::DeviceError>& error);

  config::DeviceConfig device_;
  PollerOptions options_;
  state::Store& store_;
  std::unique_ptr<iotawatt::Client> client_;

  std::vector<state::Channel> channels_;
  std::vector<std::string> columns_;
  bool need_discovery_ = true;
  std::optional<std::chrono::steady_clock::time_point> last_status_;
  /// Device clock anchor: its UTC seconds at a steady time point.
  int64_t device_time_at_anchor_ = 0;
  std::chrono::steady_clock::time_point anchor_;
  /// Start of the next record to ask for; nullopt before the first records.
  std::optional<int64_t> next_record_;
  /// Oldest records of the device's logs, from the newest /status.
  int64_t history_first_ = 0;
  int64_t current_first_ = 0;
  std::optional<bool> was_up_;
  /// Within a span read from the 1-minute history (logged once per span).
  bool reading_history_ = false;
  std::chrono::steady_clock::duration last_query_time_{};

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool finished_ = false;
  std::thread thread_;
};

}  // namespace iwx::poller
