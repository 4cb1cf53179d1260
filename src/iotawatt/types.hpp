// Decoded IoTaWatt responses, independent of how they were fetched.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace iwx::iotawatt {

/// One entry of `/query?show=series`: inputs first (channel order), then outputs.
struct SeriesInfo {
  std::string name;
  /// "Volts" or "Watts" for inputs; the configured unit for outputs ("Watts", "PF", ...).
  std::string unit;
};

struct DeviceSection {
  std::string name;
  /// Local offset from UTC in minutes, excluding DST.
  int64_t timediff_minutes = 0;
  bool allow_dst = false;
  std::string update;
};

struct StatsSection {
  double cyclerate = 0;
  double chanrate = 0;
  int64_t starttime = 0;
  int64_t currenttime = 0;
  int64_t runseconds = 0;
  /// Free heap in bytes (the firmware calls it "stack").
  int64_t free_heap_bytes = 0;
  std::string version;
  double frequency_hz = 0;
  bool low_battery = false;
};

struct InputStatus {
  int channel = 0;
  /// Set for voltage inputs.
  std::optional<double> vrms;
  std::optional<double> hz;
  /// Set for current inputs; decoded from the padded string the firmware sends.
  std::optional<double> watts;
  std::optional<double> pf;
  bool reversed = false;
};

struct OutputStatus {
  std::string name;
  std::string units;
  double value = 0;
};

struct DatalogInfo {
  std::string id;
  int64_t firstkey = 0;
  int64_t lastkey = 0;
  int64_t size = 0;
  int64_t interval = 0;
};

struct WifiSection {
  int64_t connecttime = 0;
  std::optional<double> rssi;
  std::string ssid;
  std::string ip;
  std::string mac;
};

/// `/status` with whichever sections were present in the answer.
struct StatusReport {
  std::optional<DeviceSection> device;
  std::optional<StatsSection> stats;
  std::optional<std::vector<InputStatus>> inputs;
  std::optional<std::vector<OutputStatus>> outputs;
  std::optional<std::vector<DatalogInfo>> datalogs;
  std::optional<WifiSection> wifi;

  /// The datalog with this id ("Current", "History"), if reported.
  const DatalogInfo* FindLog(const std::string& id) const;
};

/// Parameters of one `/query?select=...` page. The request always carries
/// time.utc.unix as the first column and header=yes.
struct QueryRequest {
  /// Columns after the time column, e.g. "Mains_1.wh.d6".
  std::vector<std::string> columns;
  /// Absolute UTC epoch seconds.
  int64_t begin = 0;
  int64_t end = 0;
  /// "5s", "1m", ...
  std::string group = "5s";
  /// Maximum rows per page (the device's default is 1000).
  int limit = 1000;
};

struct QueryRow {
  /// UTC epoch seconds of the group start.
  int64_t time = 0;
  /// One per requested column; empty when the device reported the row as missing
  /// (null), i.e. it logged no time in that group.
  std::vector<std::optional<double>> values;

  bool missing() const;
};

struct QueryPage {
  int64_t range_begin = 0;
  int64_t range_end = 0;
  std::vector<std::string> labels;
  std::vector<QueryRow> rows;
  /// Start of the first row not sent when the device stopped at its row limit.
  std::optional<int64_t> continuation;
};

}  // namespace iwx::iotawatt
