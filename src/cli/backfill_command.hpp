// The `backfill` subcommand: moves the devices' 1-minute history into VictoriaMetrics.
#pragma once

#include <signal.h>

#include "backfill/backfill.hpp"
#include "cli/flags.hpp"
#include "config/config.hpp"

namespace iwx::cli {

/// The flags of `backfill`.
const CommandSpec& BackfillCommandSpec();

/// Turns the flags and the configuration into backfill options.
/// \throw UsageError naming the flag and quoting the bad value; std::invalid_argument for
/// times that cannot be parsed.
backfill::Options BackfillOptionsFromFlags(const ParsedCommand& parsed,
                                           const config::Config& config);

/// Runs `backfill`; SIGINT/SIGTERM (blocked in `signals`) stop it after the current batch.
/// Returns the exit status: 0 done, 1 a runtime failure (VictoriaMetrics or a device
/// unavailable past its deadline, stopped before the end).
/// \throw UsageError, config::ConfigError, std::invalid_argument for bad input.
int RunBackfill(const ParsedCommand& parsed, const sigset_t& signals);

}  // namespace iwx::cli
