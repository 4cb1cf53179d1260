// Reads 1-minute history from one IoTaWatt, gently: one request at a time, a pause after
// every request that keeps the device's busy share at most `device_share`, and retries of
// the same page with exponential backoff when the device fails or hangs.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backfill/planner.hpp"
#include "backfill/stop_signal.hpp"
#include "config/config.hpp"
#include "iotawatt/client.hpp"

namespace iwx::backfill {

enum class ChannelKind { kPower, kVoltage };

/// A channel the backfill writes: the live exporter's selection (units "Watts" and
/// "Volts", the device's allow-list) and labels.
struct DeviceChannel {
  std::string name;
  ChannelKind kind = ChannelKind::kPower;
  config::Labels labels;
};

struct DeviceInfo {
  std::vector<DeviceChannel> channels;
  /// First record of the history (1-minute) log, UTC seconds.
  int64_t history_first = 0;
  /// The device's clock when /status was read, UTC seconds.
  int64_t now = 0;
};

/// A device that kept failing past the retry deadline. what() names device and cause.
class DeviceGaveUp : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ReaderOptions {
  double device_share = 0.5;
  /// Rows per /query page.
  int rows_per_page = kRowsPerPage;
  std::chrono::milliseconds backoff_initial{std::chrono::seconds{1}};
  std::chrono::milliseconds backoff_max{std::chrono::minutes{1}};
  /// Give up when a request has failed for this long; zero: at the first failure.
  std::chrono::milliseconds retry_deadline{std::chrono::minutes{30}};
};

struct ReaderStats {
  uint64_t requests = 0;
  uint64_t rows = 0;
  uint64_t retries = 0;
  std::chrono::nanoseconds busy{0};
  std::chrono::nanoseconds paused{0};
};

/// One minute the device logged: per channel, Wh of the minute (power) or average volts.
struct MinuteRow {
  int64_t time = 0;
  std::vector<double> values;
};

/// Not thread-safe; one reader per device, used by one thread at a time.
class DeviceReader {
 public:
  /// \throw config::ConfigError when the password file cannot be read.
  DeviceReader(const config::Config& config, const config::DeviceConfig& device,
               ReaderOptions options, const StopSignal& stop);
  ~DeviceReader();

  /// Reads /status and /query?show=series. \throw DeviceGaveUp, Interrupted
  DeviceInfo Discover();

  /// The minutes of `span` the device logged, paged and paced; minutes it did not log are
  /// left out. Values follow Discover()'s channel order. \throw DeviceGaveUp, Interrupted
  std::vector<MinuteRow> ReadMinutes(Span span);

  /// Wh per channel (Discover() order; 0 for voltage channels) from the history log's
  /// start to `until`, in one group=all request. \throw DeviceGaveUp, Interrupted
  std::vector<double> ReadEnergyBaseline(int64_t until);

  const ReaderStats& stats() const noexcept { return stats_; }
  const std::string& name() const noexcept { return device_.name; }

 private:
  template <typename Request>
  auto Send(const std::string& what, Request request);
  iotawatt::QueryRequest MakeRequest(int64_t begin, int64_t end, const std::string& group) const;

  const config::Config& config_;
  const config::DeviceConfig& device_;
  ReaderOptions options_;
  const StopSignal& stop_;
  std::unique_ptr<iotawatt::Client> client_;
  std::vector<std::string> columns_;
  std::vector<ChannelKind> kinds_;
  int64_t history_first_ = 0;
  std::optional<std::chrono::steady_clock::time_point> next_request_;
  bool failing_ = false;
  ReaderStats stats_;
};

}  // namespace iwx::backfill
