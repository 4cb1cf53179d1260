// Follow mode: the periodic sync some users run instead of scraping. Each round is a
// resuming backfill that pushes the complete minutes VictoriaMetrics does not hold yet.
#pragma once

#include <chrono>
#include <ostream>

#include "backfill/backfill.hpp"

namespace iwx::backfill {

/// Runs a resuming backfill now and then every `interval` until `stop`. Since every round
/// asks VictoriaMetrics where to continue, a restart picks up where the last run ended. A
/// failed round (a device or VictoriaMetrics down past its deadline) is logged and tried
/// again at the next interval; the first round logs in full, later ones only at debug
/// level, apart from failures and recoveries.
/// \throw std::invalid_argument and config::ConfigError as Run(), on the first round.
void Follow(const config::Config& config, Options options, std::chrono::milliseconds interval,
            const StopSignal& stop, std::ostream& out);

}  // namespace iwx::backfill
