// A real victoria-metrics for tests and benchmarks: a free loopback port, a temp data
// folder, stopped by its PID.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

namespace iwx::backfill::testing {

/// (timestamp ms, value) pairs of one series.
using Samples = std::vector<std::pair<int64_t, double>>;

class VmProcess {
 public:
  /// Full path of victoria-metrics on PATH, or "" when absent.
  static std::string FindBinary();

  /// Starts it; `dedup` adds -dedup.minScrapeInterval=1ms. Waits until /health answers.
  explicit VmProcess(bool dedup);
  ~VmProcess();

  /// SIGTERM and wait; Start() again reuses the port and the data folder.
  void Stop();
  void Start();

  std::string url() const;
  uint16_t port() const { return port_; }
  /// -1 while stopped.
  pid_t pid() const { return pid_; }

  /// force_flush, then polls /api/v1/export until `expected` samples match `selector`
  /// (up to 30 s); returns the series by their label key.
  std::map<std::string, Samples> ExportWhenCount(const std::string& selector, size_t expected);
  /// Every series matching `selector`, now.
  std::map<std::string, Samples> Export(const std::string& selector);
  void Post(const std::string& path, const std::string& body);

 private:
  bool dedup_;
  uint16_t port_ = 0;
  std::string data_dir_;
  pid_t pid_ = -1;
};

/// "name=value,..." of an export line's metric (labels sorted, __name__ first).
std::string LineKey(const std::map<std::string, std::string>& labels);

}  // namespace iwx::backfill::testing
