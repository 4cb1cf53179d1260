// Encoding of backfilled samples: VictoriaMetrics JSON lines (for /api/v1/import), gzip,
// and OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace iwx::backfill {

inline constexpr const char* kPowerMetric = "iotawatt_power_watts";
inline constexpr const char* kVoltageMetric = "iotawatt_voltage_volts";
inline constexpr const char* kDerivedMetric = "iotawatt_derived_power_watts";
inline constexpr const char* kEnergyMetric = "iotawatt_energy_joules_total";
inline constexpr const char* kDerivedEnergyMetric = "iotawatt_derived_energy_joules_total";

/// One series of a batch: samples in time order, timestamps in Unix milliseconds.
struct Series {
  std::string metric;
  /// Labels in output order, without __name__.
  config::Labels labels;
  std::vector<int64_t> timestamps_ms;
  std::vector<double> values;
};

/// The samples of one write.
struct Batch {
  std::vector<Series> series;

  size_t samples() const;
};

/// One JSON line per series that has samples:
/// {"metric":{"__name__":"m","l":"v"},"values":[1.5],"timestamps":[1767322800000]}.
/// Values are the shortest text that reads back to the same double.
std::string EncodeJsonLines(const Batch& batch);

/// A gzip member (RFC 1952) of `text`. \throw std::runtime_error when zlib fails.
std::string Gzip(std::string_view text);

/// Where batches go. Not thread-safe.
class Sink {
 public:
  virtual ~Sink() = default;
  /// Writes a batch; returns only once it is stored (or throws).
  virtual void Write(const Batch& batch) = 0;
  /// Completes the output (trailers, flush). Called once, after the last Write.
  virtual void Finish() {}
};

enum class FileFormat { kVmJsonLines, kOpenMetrics };

/// Writes to a file, gzip-compressed when the name ends in ".gz". OpenMetrics needs all
/// samples of a metric family together, so the families are collected in temporary files
/// and joined by Finish(), followed by "# EOF".
/// \throw std::runtime_error naming the file and the OS reason when it cannot be written.
class FileSink : public Sink {
 public:
  FileSink(std::string path, FileFormat format);
  ~FileSink() override;

  void Write(const Batch& batch) override;
  void Finish() override;

 private:
  void WriteOut(std::string_view text);

  std::string path_;
  FileFormat format_;
  void* gz_ = nullptr;         // gzFile when compressing
  std::FILE* file_ = nullptr;  // otherwise
  std::map<std::string, std::FILE*> families_;
};

}  // namespace iwx::backfill
