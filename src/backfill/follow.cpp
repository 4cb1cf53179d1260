#include "backfill/follow.hpp"

#include "config/config.hpp"
#include "log/log.hpp"
#include "util/duration.hpp"
#include "util/exception.hpp"

namespace iwx::backfill {

namespace {

const log::Logger kLog("backfill");

}  // namespace

void Follow(const config::Config& config, Options options, std::chrono::milliseconds interval,
            const StopSignal& stop, std::ostream& out) {
  options.resume = true;
  options.to.reset();
  kLog.Info("following", {{"interval", util::FormatDuration(interval)}});

  bool failing = false;
  while (!stop.stopped()) {
    try {
      const Summary summary = Run(config, options, stop, out);
      if (failing) {
        kLog.Info("backfill rounds succeed again", {{"samples", summary.samples}});
      }
      failing = false;
      options.quiet = true;
      options.acknowledged_ms = summary.newest_written_ms;
    } catch (const Interrupted&) {
      break;
    } catch (const std::invalid_argument&) {
      throw;  // the same arguments would fail every round
    } catch (const config::ConfigError&) {
      throw;
    } catch (const std::runtime_error& error) {
      // A device or VictoriaMetrics outage longer than its deadline: try again later.
      if (!failing) {
        kLog.Error("backfill round failed; retrying every interval",
                   {{"error", util::FullMessage(error)}});
      }
      failing = true;
    }
    if (!stop.SleepFor(interval)) {
      break;
    }
  }
  kLog.Info("stopped following");
}

}  // namespace iwx::backfill
