// Multi-target mode: /probe?target=URL reads one device once, synchronously, and answers
// its metrics, for scrapers that list the devices themselves (as with the blackbox
// exporter).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "web/server.hpp"

namespace iwx::app {

/// Safety margin kept from the scraper's timeout (X-Prometheus-Scrape-Timeout-Seconds) so
/// that the answer arrives before the scraper gives up.
inline constexpr std::chrono::milliseconds kProbeTimeoutMargin{500};

/// The normalised target "http://HOST[:PORT]" ("http://" is added when no scheme is
/// given, a trailing '/' dropped), or nullopt when the text is not of that form (user
/// info, paths, queries and other schemes are refused: they could sneak past the
/// allow-list's globs).
std::optional<std::string> NormaliseProbeTarget(const std::string& target);

/// Answers one /probe request. Parameters: `target` (required), `device` (the device
/// label; default: the target's host), `timeout` (seconds or a duration such as "5s";
/// default: the scraper's timeout less kProbeTimeoutMargin, else [poll] timeout).
/// 400 for bad parameters, 403 when probing is disabled or the target is not allowed by
/// [probe] allowed_targets, else 200 with iotawatt_up, power, voltage and health families
/// of the device (iotawatt_up 0 when it cannot be read). Energy counters, derived series
/// and other counters are left out: they need continuous polling. [[labels]] rules of
/// `config` apply. Reads the device: /status, /query?show=series, one /query of the last
/// 30 seconds of 5-second records. Thread-safe (no shared state).
web::ProbeResponse Probe(const web::ProbeRequest& request, const config::Config& config);

}  // namespace iwx::app
