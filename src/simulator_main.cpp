// iotawatt_simulator: serves a simulated IoTaWatt installation on loopback until SIGTERM
// or SIGINT, optionally with a control API for scripts (faults, clock, request counts).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include "log/log.hpp"
#include "simulator/simulator.hpp"
#include "util/duration.hpp"
#include "util/exception.hpp"

namespace {

constexpr const char* kUsage =
    "usage: iotawatt_simulator [--installation FILE] [--host 127.0.0.1] [--base-port N]\n"
    "                          [--clock real|fixed:UNIX|accelerated:FACTOR]\n"
    "                          [--history-days N] [--control-port N]\n"
    "\n"
    "Serves a simulated IoTaWatt installation (default: units iwatt5 and iwatt6) and prints\n"
    "one line per unit, `unit=NAME url=http://HOST:PORT`, then runs until SIGTERM/SIGINT.\n"
    "\n"
    "  --installation FILE  TOML description of the units (see docs/simulator.md)\n"
    "  --host ADDRESS       address to listen on (default 127.0.0.1)\n"
    "  --base-port N        unit i listens on N+i (default: free ports)\n"
    "  --clock SPEC         real (default), fixed:UNIX_SECONDS or accelerated:FACTOR\n"
    "  --history-days N     days of history before now (default 400)\n"
    "  --control-port N     serve the control API on 127.0.0.1:N:\n"
    "                         POST /fault?unit=NAME&kind=none|refuse|hang|500|truncated|\n"
    "                              garbage|slow[&delay=2s]\n"
    "                         POST /clock?set=UNIX_SECONDS or ?advance=SECONDS\n"
    "                         GET  /stats   request counts per unit (JSON)\n";

struct Options {
  std::optional<std::string> installation_file;
  std::string host = "127.0.0.1";
  uint16_t base_port = 0;
  std::string clock = "real";
  int history_days = 400;
  std::optional<uint16_t> control_port;
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

int64_t ParseInteger(const std::string& flag, const std::string& text, int64_t low, int64_t high) {
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < low || value > high) {
    throw UsageError(flag + ": \"" + text + "\" is not an integer in " + std::to_string(low) +
                     ".." + std::to_string(high));
  }
  return value;
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (i + 1 >= argc) {
      throw UsageError("unknown flag or missing value: \"" + flag + "\"");
    }
    const std::string value = argv[++i];
    if (flag == "--installation") {
      options.installation_file = value;
    } else if (flag == "--host") {
      options.host = value;
    } else if (flag == "--base-port") {
      options.base_port = static_cast<uint16_t>(ParseInteger(flag, value, 0, 65535));
    } else if (flag == "--clock") {
      options.clock = value;
    } else if (flag == "--history-days") {
      options.history_days = static_cast<int>(ParseInteger(flag, value, 1, 3650));
    } else if (flag == "--control-port") {
      options.control_port = static_cast<uint16_t>(ParseInteger(flag, value, 1, 65535));
    } else {
      throw UsageError("unknown flag \"" + flag + "\"");
    }
  }
  return options;
}

std::shared_ptr<iwx::sim::Clock> MakeClock(const std::string& spec) {
  const int64_t now_ms = iwx::sim::Clock::Real()->NowMs();
  if (spec == "real") {
    return iwx::sim::Clock::Real();
  }
  if (spec.rfind("fixed:", 0) == 0) {
    return iwx::sim::Clock::Fixed(
        ParseInteger("--clock fixed", spec.substr(6), 946684800, 4102444800) * 1000);
  }
  if (spec.rfind("accelerated:", 0) == 0) {
    char* end = nullptr;
    const double factor = std::strtod(spec.c_str() + 12, &end);
    if (*end != '\0' || !(factor > 0)) {
      throw UsageError("--clock: \"" + spec + "\" needs a positive factor, e.g. accelerated:60");
    }
    return iwx::sim::Clock::Accelerated(now_ms, factor);
  }
  throw UsageError("--clock: \"" + spec + "\" is not real, fixed:UNIX or accelerated:FACTOR");
}

iwx::sim::Installation LoadInstallation(const Options& options, int64_t now) {
  if (!options.installation_file) {
    return iwx::sim::DefaultInstallation(now, options.history_days);
  }
  std::ifstream file(*options.installation_file);
  if (!file) {
    throw std::runtime_error("cannot read installation file \"" + *options.installation_file +
                             "\"");
  }
  std::stringstream text;
  text << file.rdbuf();
  iwx::sim::Installation installation =
      iwx::sim::ParseInstallation(text.str(), *options.installation_file);
  // Units without a history start begin their logs --history-days before now.
  const int64_t default_start = (now - int64_t{options.history_days} * 86400) / 3600 * 3600;
  for (iwx::sim::UnitSpec& unit : installation.units) {
    if (unit.history_start == 0) {
      unit.history_start = default_start;
    }
  }
  return installation;
}

std::optional<iwx::sim::FaultKind> ParseFaultKind(const std::string& text) {
  using iwx::sim::FaultKind;
  static const std::pair<const char*, FaultKind> kKinds[] = {{"none", FaultKind::kNone},
                                                             {"refuse", FaultKind::kRefuse},
                                                             {"hang", FaultKind::kHang},
                                                             {"500", FaultKind::kHttp500},
                                                             {"truncated", FaultKind::kTruncated},
                                                             {"garbage", FaultKind::kGarbage},
                                                             {"slow", FaultKind::kSlow}};
  for (const auto& [name, kind] : kKinds) {
    if (text == name) {
      return kind;
    }
  }
  return std::nullopt;
}

void BadRequest(httplib::Response& response, const std::string& message) {
  response.status = 400;
  response.set_content(message + "\n", "text/plain");
}

void HandleFault(iwx::sim::Simulator& simulator, const httplib::Request& request,
                 httplib::Response& response) {
  const std::string unit = request.get_param_value("unit");
  const std::string kind_text = request.get_param_value("kind");
  const std::optional<iwx::sim::FaultKind> kind = ParseFaultKind(kind_text);
  if (!kind) {
    return BadRequest(response, "kind \"" + kind_text +
                                    "\": expected none, refuse, hang, 500, truncated, garbage "
                                    "or slow");
  }
  iwx::sim::Fault fault{*kind, std::chrono::milliseconds(0)};
  try {
    if (request.has_param("delay")) {
      fault.delay = iwx::util::ParseDuration(request.get_param_value("delay"));
    }
    simulator.unit(unit).SetFault(fault);
  } catch (const std::exception& error) {
    return BadRequest(response, error.what());
  }
  response.set_content("ok\n", "text/plain");
}

void HandleClock(iwx::sim::Simulator& simulator, const httplib::Request& request,
                 httplib::Response& response) {
  try {
    if (request.has_param("set")) {
      const std::string text = request.get_param_value("set");
      simulator.clock()->Set(std::stoll(text) * 1000);
    } else if (request.has_param("advance")) {
      const std::string text = request.get_param_value("advance");
      simulator.clock()->Advance(std::chrono::milliseconds(std::stoll(text) * 1000));
    } else {
      return BadRequest(response, "expected ?set=UNIX_SECONDS or ?advance=SECONDS");
    }
  } catch (const std::exception&) {
    return BadRequest(response, "clock value is not an integer number of seconds");
  }
  response.set_content(std::to_string(simulator.clock()->NowSeconds()) + "\n", "text/plain");
}

void HandleStats(iwx::sim::Simulator& simulator, httplib::Response& response) {
  nlohmann::json body = nlohmann::json::object();
  for (const std::string& name : simulator.unit_names()) {
    const iwx::sim::RequestStats stats = simulator.unit(name).stats();
    body[name] = {{"status", stats.status},
                  {"query_select", stats.query_select},
                  {"query_series", stats.query_series},
                  {"unauthorized", stats.unauthorized},
                  {"other", stats.other},
                  {"total", stats.total()}};
  }
  response.set_content(body.dump(), "application/json");
}

void ServeControl(httplib::Server& server, iwx::sim::Simulator& simulator) {
  server.Post("/fault", [&](const httplib::Request& request, httplib::Response& response) {
    HandleFault(simulator, request, response);
  });
  server.Post("/clock", [&](const httplib::Request& request, httplib::Response& response) {
    HandleClock(simulator, request, response);
  });
  server.Get("/stats", [&](const httplib::Request&, httplib::Response& response) {
    HandleStats(simulator, response);
  });
}

int Run(int argc, char** argv) {
  const Options options = ParseOptions(argc, argv);
  const std::shared_ptr<iwx::sim::Clock> clock = MakeClock(options.clock);

  // Signals are taken synchronously by sigwait below; every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  iwx::sim::Simulator simulator(LoadInstallation(options, clock->NowSeconds()), clock);
  simulator.Start(options.host, options.base_port);

  httplib::Server control;
  std::thread control_thread;
  if (options.control_port) {
    ServeControl(control, simulator);
    if (!control.bind_to_port("127.0.0.1", *options.control_port)) {
      throw std::runtime_error(
          "cannot listen on 127.0.0.1:" + std::to_string(*options.control_port) +
          " for --control-port: expected a free port");
    }
    control_thread = std::thread([&control] { control.listen_after_bind(); });
  }

  for (const std::string& name : simulator.unit_names()) {
    std::cout << "unit=" << name << " url=" << simulator.unit(name).url() << "\n";
  }
  std::cout.flush();

  int received = 0;
  sigwait(&signals, &received);
  if (control_thread.joinable()) {
    control.stop();
    control_thread.join();
  }
  simulator.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const UsageError& error) {
    std::cerr << "iotawatt_simulator: " << error.what() << "\n\n" << kUsage;
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "iotawatt_simulator: " << iwx::util::FullMessage(error) << "\n";
    return 1;
  }
}
