// The /metrics page: Prometheus text built from a state snapshot at scrape time.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>

#include "state/store.hpp"

namespace iwx::metrics {

/// One metric the exporter can expose. The table of these is the single description of
/// every name, type, label set and help text (the README's metrics table follows it).
struct MetricSpec {
  const char* name;
  prometheus::MetricType type;
  /// Label names beyond the per-device and per-channel labels from the configuration.
  const char* labels;
  const char* help;
};

/// Every metric, in exposition order.
std::span<const MetricSpec> AllMetrics();

/// Builds the metric families of a snapshot. Families without samples are left out.
std::vector<prometheus::MetricFamily> BuildFamilies(const state::Snapshot& snapshot);

/// Text exposition format 0.0.4, without timestamps.
std::string Render(const std::vector<prometheus::MetricFamily>& families);

}  // namespace iwx::metrics
