#include "cli/commands.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>

#include <signal.h>

#include "app/exporter.hpp"
#include "build_config.hpp"
#include "cli/backfill_command.hpp"
#include "cli/demo.hpp"
#include "cli/discover_command.hpp"
#include "cli/flags.hpp"
#include "config/config.hpp"
#include "derived/resolver.hpp"
#include "iotawatt/client.hpp"
#include "log/log.hpp"
#include "simulator/simulator.hpp"
#include "util/exception.hpp"
#include "web/web_config.hpp"

namespace iwx::cli {

namespace {

const log::Logger kLog("main");

// SIGTERM and SIGINT end the program within a second.
constexpr std::chrono::milliseconds kShutdownGrace{800};

const FlagSpec kListenFlag{"web.listen-address", "HOST:PORT", "",
                           "Address to serve on; overrides [web] listen_address "
                           "(127.0.0.1:9980 unless configured)."};
const FlagSpec kTelemetryFlag{"web.telemetry-path", "PATH", "",
                              "Path of the metrics page; overrides [web] telemetry_path "
                              "(/metrics unless configured)."};
const FlagSpec kWebConfigFlag{"web.config.file", "FILE", "",
                              "TLS and basic authentication of the web server (YAML, the "
                              "format of the Prometheus exporter toolkit)."};

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> commands = {
      {"serve",
       "Poll every configured IoTaWatt in the background and serve the metrics page.",
       {ConfigFileFlag(), kListenFlag, kTelemetryFlag, kWebConfigFlag, LogLevelFlag()}},
      {"check",
       "Validate the configuration, contact every device and report what it found.\n"
       "Exits 0 only if the configuration is valid and every device answers.",
       {ConfigFileFlag(), LogLevelFlag()}},
      {"demo",
       "Serve a built-in simulated installation of two units (no device needed).",
       {kListenFlag, kTelemetryFlag, kWebConfigFlag, LogLevelFlag()}},
      BackfillCommandSpec(),
      DiscoverCommandSpec(),
  };
  return commands;
}

// Blocks SIGINT and SIGTERM in every thread started afterwards, so that the main thread
// alone receives them through sigwait().
sigset_t BlockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int WaitForTerminationSignal(const sigset_t& signals) {
  int received = 0;
  sigwait(&signals, &received);
  return received;
}

void ApplyWebFlags(const ParsedCommand& parsed, config::Config& config) {
  if (parsed.Has("web.listen-address")) {
    config.web.listen_address = parsed.Get("web.listen-address");
  }
  if (parsed.Has("web.telemetry-path")) {
    config.web.telemetry_path = parsed.Get("web.telemetry-path");
  }
}

web::WebSecurity LoadWebSecurity(const ParsedCommand& parsed) {
  if (!parsed.Has("web.config.file") || parsed.Get("web.config.file").empty()) {
    return {};
  }
  return web::LoadWebConfigFile(parsed.Get("web.config.file"));
}

int Serve(config::Config config, web::WebSecurity security, const sigset_t& signals) {
  kLog.Info("starting", {{"version", IWX_VERSION},
                         {"config", config.source},
                         {"devices", config.devices.size()},
                         {"derived", config.derived.size()}});
  app::Exporter exporter(std::move(config), {}, std::move(security));
  exporter.Start();

  const int signal = WaitForTerminationSignal(signals);
  kLog.Info("stopping", {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"}});
  if (!exporter.StopWithin(kShutdownGrace)) {
    // A device that drops connection attempts keeps its poller in connect() until the
    // request timeout; the counters are saved, so nothing is lost by not waiting.
    kLog.Warning("exiting without waiting for a pending device connection");
    std::_Exit(kExitOk);
  }
  return kExitOk;
}

int RunServe(const ParsedCommand& parsed, const sigset_t& signals) {
  auto config = config::LoadConfigFile(parsed.Get("config.file"));
  ApplyWebFlags(parsed, config);
  return Serve(std::move(config), LoadWebSecurity(parsed), signals);
}

int RunDemo(const ParsedCommand& parsed, const sigset_t& signals) {
  // Read before the simulator starts, so that a bad file fails without side effects.
  auto security = LoadWebSecurity(parsed);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto now_seconds = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  sim::Simulator simulator(sim::DefaultInstallation(now_seconds), sim::Clock::Real());
  simulator.Start("127.0.0.1", 0);

  const std::string iwatt5 = simulator.unit("iwatt5").url();
  const std::string iwatt6 = simulator.unit("iwatt6").url();
  kLog.Info("simulated installation started", {{"iwatt5", iwatt5}, {"iwatt6", iwatt6}});

  auto config = config::ParseConfig(DemoConfigText(iwatt5, iwatt6), "<demo>");
  ApplyWebFlags(parsed, config);
  std::cout << "Demo: two simulated IoTaWatt units at " << iwatt5 << " and " << iwatt6
            << ".\nMetrics: " << (security.tls ? "https://" : "http://")
            << config.web.listen_address << config.web.telemetry_path << "  (Ctrl-C stops)"
            << std::endl;
  const int status = Serve(std::move(config), std::move(security), signals);
  simulator.Stop();
  return status;
}

// Contacts one device and prints what it reports; returns its channel names, or
// nullopt when it cannot be reached.
std::optional<std::vector<std::string>> CheckDevice(const config::DeviceConfig& device,
                                                    const config::PollConfig& poll) {
  const iotawatt::Endpoint endpoint{device.url, device.username, config::ReadDevicePassword(device),
                                    poll.timeout};
  iotawatt::Client client(endpoint);
  std::cout << "device " << device.name << " (" << device.url << ")\n";
  try {
    const auto status = client.FetchStatus({"stats"});
    const auto series = client.FetchSeries();
    std::vector<std::string> names;
    for (const auto& entry : series) {
      names.push_back(entry.name);
    }
    std::cout << "  reachable: yes\n  firmware: "
              << (status.stats ? status.stats->version : "unknown") << "\n  channels ("
              << names.size() << "):";
    for (const auto& entry : series) {
      std::cout << " " << entry.name << " [" << entry.unit << "]";
    }
    std::cout << "\n";
    return names;
  } catch (const iotawatt::DeviceError& error) {
    std::cout << "  reachable: no (" << error.what() << ")\n";
    return std::nullopt;
  }
}

int RunCheck(const ParsedCommand& parsed) {
  const auto config = config::LoadConfigFile(parsed.Get("config.file"));
  std::cout << "configuration " << config.source << ": valid (" << config.devices.size()
            << " devices, " << config.derived.size() << " derived series)\n";

  bool reachable = true;
  bool complete = true;
  derived::Inventory inventory;
  for (const auto& device : config.devices) {
    const auto channels = CheckDevice(device, config.poll);
    if (!channels) {
      reachable = false;
      continue;
    }
    for (const auto& wanted : device.channels) {
      if (std::find(channels->begin(), channels->end(), wanted) == channels->end()) {
        std::cout << "  missing: configured channel \"" << wanted << "\" is not on the device\n";
        complete = false;
      }
    }
    inventory[device.name] = *channels;
  }

  const auto derived_set = derived::DerivedSet::Resolve(config, inventory);
  for (const auto& problem : derived_set.problems()) {
    std::cout << problem.message << "\n";
  }
  if (!derived_set.problems().empty() && reachable) {
    return kExitUsage;
  }
  return reachable && complete ? kExitOk : kExitFailure;
}

}  // namespace

int Main(const std::string& program, const std::vector<std::string>& args) {
  const auto signals = BlockTerminationSignals();
  try {
    const auto parsed = ParseCommandLine(args, Commands(), "serve");
    if (parsed.version) {
      std::cout << "iotawatt_exporter " IWX_VERSION " (" IWX_COMPILER ", " IWX_BUILD_TYPE ")\n";
      return kExitOk;
    }
    if (parsed.help) {
      std::cout << Usage(program, *parsed.command, Commands());
      return kExitOk;
    }
    log::SetLevel(log::ParseLevel(parsed.Get("log.level")));

    const std::string& name = parsed.command->name;
    if (name == "check") {
      return RunCheck(parsed);
    }
    if (name == "demo") {
      return RunDemo(parsed, signals);
    }
    if (name == "backfill") {
      return RunBackfill(parsed, signals);
    }
    if (name == "discover") {
      return RunDiscover(parsed);
    }
    return RunServe(parsed, signals);
  } catch (const UsageError& error) {
    std::cerr << program << ": " << error.what() << "\n";
    return kExitUsage;
  } catch (const config::ConfigError& error) {
    std::cerr << program << ": " << util::FullMessage(error) << "\n";
    return kExitUsage;
  } catch (const web::WebConfigError& error) {
    std::cerr << program << ": " << util::FullMessage(error) << "\n";
    return kExitUsage;
  } catch (const std::invalid_argument& error) {
    std::cerr << program << ": " << util::FullMessage(error) << "\n";
    return kExitUsage;
  } catch (const std::exception& error) {
    std::cerr << program << ": " << util::FullMessage(error) << "\n";
    return kExitFailure;
  }
}

}  // namespace iwx::cli
