#include "cli/backfill_command.hpp"

#include <atomic>
#include <iostream>
#include <thread>

#include <unistd.h>

#include "backfill/follow.hpp"
#include "cli/commands.hpp"
#include "log/log.hpp"
#include "util/duration.hpp"
#include "util/exception.hpp"

namespace iwx::cli {

namespace {

const log::Logger kLog("backfill");

constexpr auto kSignalPoll = std::chrono::milliseconds{200};

const CommandSpec kBackfill{
    "backfill",
    "Copy the devices' 1-minute history into VictoriaMetrics as the exporter's series.\n"
    "Power, voltage, derived series and energy, one sample per minute, read gently.",
    {
        ConfigFileFlag(),
        {"from", "TIME", "",
         "Start (RFC 3339 UTC such as 2026-01-02T03:04:00Z, or Unix seconds); default: the "
         "start of each device's history log."},
        {"to", "TIME", "", "End (exclusive); default: the last complete minute."},
        {"device", "NAME", "", "Device to read; repeatable; default: all configured devices."},
        {"vm.url", "URL", "",
         "VictoriaMetrics URL; overrides [victoriametrics] url and query_url."},
        {"vm.retry-deadline", "DURATION", "5m",
         "Give up when VictoriaMetrics does not accept a batch for this long."},
        {"resume", "", "", "Continue after the newest minute VictoriaMetrics holds."},
        {"repair", "", "", "Write only the minutes of the range that VictoriaMetrics lacks."},
        {"follow", "INTERVAL", "",
         "Keep running: push new complete minutes every INTERVAL (implies --resume)."},
        {"plan", "", "", "Print what would be read and written, and write nothing."},
        {"output", "FILE", "", "Write to FILE (gzip when it ends in .gz) instead of posting."},
        {"format", "FORMAT", "vm", "Format of --output: vm (JSON lines) or openmetrics."},
        LogLevelFlag(),
    }};

std::chrono::milliseconds DurationFlag(const ParsedCommand& parsed, const std::string& name) {
  try {
    return util::ParseDuration(parsed.Get(name));
  } catch (const std::invalid_argument& error) {
    throw UsageError("--" + name + ": " + error.what());
  }
}

void ApplyVmConfig(const ParsedCommand& parsed, const config::Config& config,
                   backfill::Options& options) {
  const auto& vm = config.victoriametrics;
  options.vm.import_url = vm.url;
  options.vm.query_url = vm.query_url;
  if (parsed.Has("vm.url")) {
    const std::string flag = parsed.Get("vm.url");
    const auto url = config::NormalizeVictoriaMetricsUrl(flag);
    if (!url) {
      throw UsageError("--vm.url: \"" + flag + "\" is not a supported URL; " +
                       std::string(config::kVictoriaMetricsUrlForm));
    }
    options.vm.import_url = *url;
    options.vm.query_url = *url;
  }
  options.vm.username = vm.username;
  options.vm.password = config::ReadVictoriaMetricsPassword(vm, config.source);
  options.vm.timeout = vm.timeout;
  options.vm.gzip = vm.compress;
  options.extra_labels = vm.extra_labels;
  options.reader.device_share = vm.device_share;
  options.vm_retry.deadline = DurationFlag(parsed, "vm.retry-deadline");
}

// Stops the backfill when SIGINT or SIGTERM arrives; they are blocked in every thread, so
// this thread collects them with sigtimedwait until the run is over.
class SignalWatcher {
 public:
  SignalWatcher(const sigset_t& signals, backfill::StopSignal& stop)
      : thread_([this, signals, &stop] {
          const timespec poll{0, std::chrono::nanoseconds(kSignalPoll).count()};
          while (!done_) {
            const int received = sigtimedwait(&signals, nullptr, &poll);
            if (received == SIGINT || received == SIGTERM) {
              kLog.Info("stopping after the current batch",
                        {{"signal", received == SIGINT ? "SIGINT" : "SIGTERM"}});
              stop.Stop();
            }
          }
        }) {}

  ~SignalWatcher() {
    done_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace

const CommandSpec& BackfillCommandSpec() {
  return kBackfill;
}

backfill::Options BackfillOptionsFromFlags(const ParsedCommand& parsed,
                                           const config::Config& config) {
  backfill::Options options;
  if (!parsed.Get("from").empty()) {
    options.from = backfill::ParseTime(parsed.Get("from"), "--from");
  }
  if (!parsed.Get("to").empty()) {
    options.to = backfill::ParseTime(parsed.Get("to"), "--to");
  }
  options.devices = parsed.GetAll("device");
  options.resume = parsed.Has("resume") && parsed.Get("resume") != "false";
  options.repair = parsed.Has("repair") && parsed.Get("repair") != "false";
  options.plan = parsed.Has("plan") && parsed.Get("plan") != "false";
  if (options.plan) {
    // A plan is a quick look: a unit that does not answer is reported, not waited for.
    options.reader.retry_deadline = std::chrono::milliseconds{0};
  }
  options.output_file = parsed.Get("output");
  options.progress_bars = isatty(STDERR_FILENO) != 0;

  const std::string format = parsed.Get("format");
  if (format != "vm" && format != "openmetrics") {
    throw UsageError("--format: unknown format \"" + format + "\"; expected vm or openmetrics");
  }
  options.format =
      format == "vm" ? backfill::FileFormat::kVmJsonLines : backfill::FileFormat::kOpenMetrics;

  ApplyVmConfig(parsed, config, options);
  const bool to_vm = options.output_file.empty();
  if (!to_vm && (options.resume || options.repair || parsed.Has("follow"))) {
    throw UsageError(
        "--output cannot be combined with --resume, --repair or --follow, which "
        "ask VictoriaMetrics what it holds");
  }
  if (to_vm && !options.plan && options.vm.import_url.empty()) {
    throw UsageError("no VictoriaMetrics URL: set url in [victoriametrics] of " + config.source +
                     " or pass --vm.url (or write to a file with --output)");
  }
  return options;
}

int RunBackfill(const ParsedCommand& parsed, const sigset_t& signals) {
  const auto config = config::LoadConfigFile(parsed.Get("config.file"));
  const auto options = BackfillOptionsFromFlags(parsed, config);

  backfill::StopSignal stop;
  const SignalWatcher watcher(signals, stop);
  if (parsed.Has("follow")) {
    const auto interval = DurationFlag(parsed, "follow");
    if (interval < std::chrono::seconds{1}) {
      throw UsageError("--follow: \"" + parsed.Get("follow") +
                       "\" is too short; expected an interval of at least 1s");
    }
    backfill::Follow(config, options, interval, stop, std::cout);
    return kExitOk;
  }

  try {
    const auto summary = backfill::Run(config, options, stop, std::cout);
    if (!summary.complete) {
      std::cerr << "backfill stopped before the end of the range; run again with --resume "
                   "to continue\n";
      return kExitFailure;
    }
    return kExitOk;
  } catch (const backfill::Interrupted& error) {
    std::cerr << "backfill stopped: " << error.what() << "; run again with --resume to continue\n";
    return kExitFailure;
  }
}

}  // namespace iwx::cli
