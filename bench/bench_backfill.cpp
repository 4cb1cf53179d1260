// bench_backfill: what backfilling a year of 1-minute history costs the device, how fast the
// tool writes it into VictoriaMetrics, and how much memory it needs.
//
// The simulated unit is the default installation's iwatt5 without its device outputs and
// outages: one voltage input and 14 power inputs, 365 days of history before a fixed clock
// (2026-12-01T00:00:30Z). The units run in a child process forked before this process
// starts any thread, so that this process's peak resident memory is the backfill's own;
// their request counters come back over a pipe.
//
// Parts:
//   throughput: backfills of the last --short-days and of the whole history, each into a
//     fresh victoria-metrics on loopback, with a unit that answers as fast as it can and
//     device_share 1 (no pauses): device requests and rows (the run's summary and the
//     unit's counters), samples per second (summary samples / summary seconds), CPU time of
//     the backfill, the simulator and victoria-metrics, peak resident memory (VmHWM, reset
//     before each run), and a count query after the run that checks that VictoriaMetrics
//     holds every sample. Then the year once more into a gzip file, without
//     victoria-metrics;
//   per-channel: the same year read by the device client with the backfill's windows
//     and pages, all channels per request and then one channel per request;
//   duty: a unit that takes --row-delay-us per /query row, read over --duty-days with the
//     default device_share 0.5 behind a proxy that records when the unit was answering.
//
// victoria-metrics always listens on 127.0.0.1; --vm-host names it for the backfill, so
// that a name for 127.0.0.1 that the backfill does not take for loopback (the machine's
// own name in /etc/hosts) measures the compressed imports a remote VictoriaMetrics gets.
//
// Prints "name: value" lines on stdout; progress goes to stderr. Exits 1 when
// VictoriaMetrics does not hold what the backfill wrote.
// Usage: bench_backfill [--part=all|throughput|per-channel|duty] [--short-days=7]
//                       [--row-delay-us=1000] [--duty-days=3] [--vm-host=127.0.0.1]

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <httplib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backfill/backfill.hpp"
#include "backfill/planner.hpp"
#include "backfill/vm_client.hpp"
#include "config/config.hpp"
#include "iotawatt/client.hpp"
#include "log/log.hpp"
#include "simulator/simulator.hpp"
#include "vm_process.hpp"

namespace iwx::bench {
namespace {

using namespace std::chrono_literals;
using backfill::kDaySeconds;
using WallClock = std::chrono::steady_clock;

// The device clock: half a minute into 2026-12-01 UTC, so that the last complete minute
// closes the 365th day of history.
constexpr int64_t kNow = 1796083230;
constexpr int64_t kHistoryEnd = 1796083200;
constexpr int kHistoryDays = 365;
constexpr int64_t kHistoryBegin = kHistoryEnd - int64_t{kHistoryDays} * kDaySeconds;
constexpr const char* kInstantUnit = "instant";
constexpr const char* kSlowUnit = "slow";

struct Options {
  bool throughput = true;
  bool per_channel = true;
  bool duty = true;
  int short_days = 7;
  int64_t row_delay_us = 1000;
  int duty_days = 3;
  std::string vm_host = "127.0.0.1";
};

[[noreturn]] void Usage(const std::string& problem) {
  std::cerr << "bench_backfill: " << problem << "\n"
            << "usage: bench_backfill [--part=all|throughput|per-channel|duty] [--short-days=7]\n"
               "                      [--row-delay-us=1000] [--duty-days=3] [--vm-host=127.0.0.1]\n"
               "  --part          which measurements to run\n"
               "  --short-days    the backfill compared with the year's (memory)\n"
               "  --row-delay-us  per-row response time of the slow unit\n"
               "  --duty-days     days read from the slow unit\n"
               "  --vm-host       host name the backfill uses for victoria-metrics, which listens\n"
               "                  on 127.0.0.1; a name the backfill does not know as loopback\n"
               "                  (e.g. the machine's own, from /etc/hosts) makes it compress\n";
  std::exit(2);
}

int64_t ParseCount(const std::string& arg, size_t prefix, int64_t min, int64_t max) {
  const std::string text = arg.substr(prefix);
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < min || value > max) {
    Usage("'" + arg + "': expected an integer from " + std::to_string(min) + " to " +
          std::to_string(max));
  }
  return value;
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.starts_with("--part=")) {
      const std::string part = arg.substr(7);
      if (part != "all" && part != "throughput" && part != "per-channel" && part != "duty") {
        Usage("'" + arg + "': expected all, throughput, per-channel or duty");
      }
      options.throughput = part == "all" || part == "throughput";
      options.per_channel = part == "all" || part == "per-channel";
      options.duty = part == "all" || part == "duty";
    } else if (arg.starts_with("--short-days=")) {
      options.short_days = static_cast<int>(ParseCount(arg, 13, 1, kHistoryDays));
    } else if (arg.starts_with("--row-delay-us=")) {
      options.row_delay_us = ParseCount(arg, 15, 0, 1000000);
    } else if (arg.starts_with("--duty-days=")) {
      options.duty_days = static_cast<int>(ParseCount(arg, 12, 1, 30));
    } else if (arg.starts_with("--vm-host=") && arg.size() > 10) {
      options.vm_host = arg.substr(10);
    } else {
      Usage("unexpected argument '" + arg + "'");
    }
  }
  return options;
}

double Seconds(WallClock::duration duration) {
  return std::chrono::duration<double>(duration).count();
}

std::string Format(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

// ---------------------------------------------------------------------------------------
// CPU time and memory

double OwnCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

/// utime + stime of another process, all its threads.
double CpuSecondsOf(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(file, text);
  // Fields after the command name, which may hold spaces: state is field 3, utime 14.
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int number = 3; number <= 15 && fields >> field; ++number) {
    if (number >= 14) {
      ticks += std::stod(field);
    }
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// VmHWM of this process in MiB.
double PeakRssMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) {
      return std::stod(line.substr(6)) / 1024;
    }
  }
  throw std::runtime_error("no VmHWM in /proc/self/status");
}

/// Makes VmHWM start again from the current resident size (Linux 4.0 and later).
void ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  if (!clear) {
    throw std::runtime_error("cannot reset the peak resident size via /proc/self/clear_refs");
  }
}

// ---------------------------------------------------------------------------------------
// The simulated units, in a child process

void WriteAll(int fd, const void* data, size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t written = write(fd, bytes, size);
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      throw std::runtime_error(std::string("pipe to the simulator: ") + std::strerror(errno));
    }
    bytes += written;
    size -= static_cast<size_t>(written);
  }
}

/// False on end of file before the first byte.
bool ReadAll(int fd, void* data, size_t size) {
  char* bytes = static_cast<char*>(data);
  size_t done = 0;
  while (done < size) {
    const ssize_t got = read(fd, bytes + done, size - done);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      if (done == 0 && got == 0) {
        return false;
      }
      throw std::runtime_error("pipe from the simulator broke off");
    }
    done += static_cast<size_t>(got);
  }
  return true;
}

constexpr size_t kStatsFields = 5;

/// Units served by a forked child. Construct it before this process starts any thread:
/// the child must not inherit locks held by threads it does not have.
class SimulatorProcess {
 public:
  explicit SimulatorProcess(sim::Installation installation) {
    for (const auto& unit : installation.units) {
      names_.push_back(unit.name);
    }
    int commands[2];
    int answers[2];
    // Close-on-exec keeps victoria-metrics, started later, from holding the pipes open.
    if (pipe2(commands, O_CLOEXEC) != 0 || pipe2(answers, O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    pid_ = fork();
    if (pid_ < 0) {
      throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid_ == 0) {
      close(commands[1]);
      close(answers[0]);
      _exit(Serve(std::move(installation), commands[0], answers[1]));
    }
    close(commands[0]);
    close(answers[1]);
    commands_ = commands[1];
    answers_ = answers[0];
    for (size_t i = 0; i < names_.size(); ++i) {
      uint16_t port = 0;
      if (!ReadAll(answers_, &port, sizeof port)) {
        throw std::runtime_error("the simulator exited at start-up");
      }
      ports_.push_back(port);
    }
  }

  ~SimulatorProcess() {
    // End of file on its command pipe stops the child.
    close(commands_);
    close(answers_);
    int status = 0;
    waitpid(pid_, &status, 0);
  }

  SimulatorProcess(const SimulatorProcess&) = delete;
  SimulatorProcess& operator=(const SimulatorProcess&) = delete;

  pid_t pid() const { return pid_; }
  uint16_t port(const std::string& unit) const { return ports_.at(Index(unit)); }
  std::string url(const std::string& unit) const {
    return "http://127.0.0.1:" + std::to_string(port(unit));
  }

  sim::RequestStats Stats(const std::string& unit) {
    const char command = 's';
    WriteAll(commands_, &command, 1);
    std::vector<uint64_t> fields(names_.size() * kStatsFields);
    if (!ReadAll(answers_, fields.data(), fields.size() * sizeof(uint64_t))) {
      throw std::runtime_error("the simulator exited");
    }
    const uint64_t* one = &fields[Index(unit) * kStatsFields];
    return {one[0], one[1], one[2], one[3], one[4]};
  }

 private:
  size_t Index(const std::string& unit) const {
    const auto found = std::find(names_.begin(), names_.end(), unit);
    if (found == names_.end()) {
      throw std::out_of_range("no simulated unit " + unit);
    }
    return static_cast<size_t>(found - names_.begin());
  }

  // The child: serves until its command pipe closes; answers every command byte with the
  // request counters of all units.
  static int Serve(sim::Installation installation, int commands, int answers) {
    try {
      std::vector<std::string> names;
      for (const auto& unit : installation.units) {
        names.push_back(unit.name);
      }
      sim::Simulator simulator(std::move(installation), sim::Clock::Fixed(kNow * 1000));
      simulator.Start("127.0.0.1", 0);
      for (const auto& name : names) {
        const uint16_t port = simulator.unit(name).port();
        WriteAll(answers, &port, sizeof port);
      }
      char command = 0;
      while (ReadAll(commands, &command, 1)) {
        std::vector<uint64_t> fields;
        for (const auto& name : names) {
          const auto stats = simulator.unit(name).stats();
          fields.insert(fields.end(), {stats.status, stats.query_select, stats.query_series,
                                       stats.unauthorized, stats.other});
        }
        WriteAll(answers, fields.data(), fields.size() * sizeof(uint64_t));
      }
      simulator.Stop();
      return 0;
    } catch (const std::exception& error) {
      std::cerr << "bench_backfill: simulator: " << error.what() << "\n";
      return 1;
    }
  }

  std::vector<std::string> names_;
  std::vector<uint16_t> ports_;
  pid_t pid_ = -1;
  int commands_ = -1;
  int answers_ = -1;
};

sim::RequestStats Difference(const sim::RequestStats& after, const sim::RequestStats& before) {
  return {after.status - before.status, after.query_select - before.query_select,
          after.query_series - before.query_series, after.unauthorized - before.unauthorized,
          after.other - before.other};
}

std::string Requests(const sim::RequestStats& stats) {
  return std::to_string(stats.total()) + " (" + std::to_string(stats.status) + " status, " +
         std::to_string(stats.query_series) + " query series, " +
         std::to_string(stats.query_select) + " query select)";
}

/// The default installation's iwatt5 (a voltage input, 14 power inputs) under two names:
/// one answering as fast as it can, one taking `row_delay` per /query row. Device outputs
/// are left out so that exactly the inputs are backfilled, outages so that every minute
/// of the history exists.
sim::Installation BenchInstallation(std::chrono::microseconds row_delay, int duty_days) {
  const auto defaults = sim::DefaultInstallation(kNow, kHistoryDays);
  sim::UnitSpec instant = defaults.units.front();
  if (instant.name != "iwatt5") {
    throw std::runtime_error("the default installation no longer starts with iwatt5");
  }
  instant.name = kInstantUnit;
  instant.outputs.clear();
  instant.outages.clear();
  instant.history_start = kHistoryBegin;

  sim::UnitSpec slow = instant;
  slow.name = kSlowUnit;
  slow.row_delay = row_delay;
  // A short log keeps the child's start-up (accumulator checkpoints) quick.
  slow.history_start = kHistoryEnd - int64_t{duty_days + 1} * kDaySeconds;
  return {{instant, slow}};
}

// ---------------------------------------------------------------------------------------
// Backfill runs

std::string ConfigText(const std::string& vm_url, const std::string& device,
                       const std::string& url) {
  return "[victoriametrics]\nurl = \"" + vm_url +
         "\"\n"
         "extra_labels = { job = \"iotawatt\", instance = \"127.0.0.1:9980\" }\n"
         "[[device]]\nname = \"" +
         device + "\"\nurl = \"" + url + "\"\n";
}

backfill::Options RunOptions(const config::Config& config, int64_t from, int64_t to,
                             double device_share) {
  backfill::Options options;
  options.from = from;
  options.to = to;
  options.vm = {config.victoriametrics.url, config.victoriametrics.url, "", "", 30s, std::nullopt};
  options.extra_labels = config.victoriametrics.extra_labels;
  options.reader.device_share = device_share;
  return options;
}

/// Samples VictoriaMetrics holds in [begin, end) in the backfill's series, and the number
/// of those series. Flushes, then asks until `expected` samples are visible (up to 60 s).
std::pair<uint64_t, size_t> CountInVm(const std::string& url, int64_t begin, int64_t end,
                                      uint64_t expected) {
  httplib::Client http(url);
  backfill::StopSignal stop;
  backfill::VmClient vm({url, url, "", "", 120s, std::nullopt}, {}, stop);
  const std::string query =
      "count_over_time({__name__=~\"iotawatt_.+\"}[" + std::to_string(end - begin) + "s])";
  uint64_t count = 0;
  size_t series = 0;
  const auto deadline = WallClock::now() + 60s;
  while (WallClock::now() < deadline) {
    http.Get("/internal/force_flush");
    count = 0;
    series = 0;
    // The window (t - d, t] ends just before `end`.
    for (const auto& entry : vm.Query(query, static_cast<double>(end) - 0.001)) {
      count += std::stoull(entry.at("value").at(1).get<std::string>());
      ++series;
    }
    if (count >= expected) {
      break;
    }
    std::this_thread::sleep_for(1s);
  }
  return {count, series};
}

struct RunFigures {
  backfill::Summary summary;
  sim::RequestStats requests;
  double start_rss_mib = 0;
  double peak_rss_mib = 0;
  double own_cpu_seconds = 0;  // this process: the backfill only
  double simulator_cpu_seconds = 0;
  double vm_cpu_seconds = 0;
  uint64_t in_vm = 0;
  size_t series = 0;
};

RunFigures RunIntoFreshVm(SimulatorProcess& simulator, const std::string& unit, int64_t from,
                          int64_t to, double device_share, const std::string& device_url,
                          const std::string& vm_host) {
  backfill::testing::VmProcess vm(true);
  const std::string vm_url = "http://" + vm_host + ":" + std::to_string(vm.port());
  const auto config = config::ParseConfig(ConfigText(vm_url, unit, device_url), "bench");
  const auto options = RunOptions(config, from, to, device_share);
  backfill::StopSignal stop;
  std::ostringstream out;

  RunFigures figures;
  const auto before = simulator.Stats(unit);
  ResetPeakRss();
  figures.start_rss_mib = PeakRssMiB();
  const double own_cpu = OwnCpuSeconds();
  const double simulator_cpu = CpuSecondsOf(simulator.pid());
  const double vm_cpu = CpuSecondsOf(vm.pid());
  figures.summary = backfill::Run(config, options, stop, out);
  figures.own_cpu_seconds = OwnCpuSeconds() - own_cpu;
  figures.simulator_cpu_seconds = CpuSecondsOf(simulator.pid()) - simulator_cpu;
  figures.vm_cpu_seconds = CpuSecondsOf(vm.pid()) - vm_cpu;
  figures.peak_rss_mib = PeakRssMiB();
  figures.requests = Difference(simulator.Stats(unit), before);
  std::tie(figures.in_vm, figures.series) = CountInVm(vm.url(), from, to, figures.summary.samples);
  return figures;
}

/// False when VictoriaMetrics does not hold what the run wrote.
bool PrintRun(const std::string& name, int days, const RunFigures& run) {
  const auto& s = run.summary;
  const auto line = [&](const std::string& what, const std::string& value) {
    std::printf("%s %d d: %s: %s\n", name.c_str(), days, what.c_str(), value.c_str());
  };
  const double seconds = std::max(s.seconds, 1e-9);
  line("device requests (summary)", std::to_string(s.device_requests));
  line("device requests (unit's counters)", Requests(run.requests));
  line("rows", std::to_string(s.rows));
  line("samples", std::to_string(s.samples));
  line("batches", std::to_string(s.batches) + ", vm requests " + std::to_string(s.vm_requests) +
                      ", retries " + std::to_string(s.retries));
  line("duration", Format("%.2f s", s.seconds));
  line("throughput", Format("%.0f samples/s", static_cast<double>(s.samples) / seconds));
  line("cpu time", Format("backfill %.2f s", run.own_cpu_seconds) +
                       Format(", simulator %.2f s", run.simulator_cpu_seconds) +
                       Format(", victoria-metrics %.2f s", run.vm_cpu_seconds));
  line("peak resident memory", Format("%.1f MiB", run.peak_rss_mib) +
                                   Format(" (%.1f MiB when the run started)", run.start_rss_mib));
  const bool all = run.in_vm == s.samples;
  line("samples in victoriametrics", std::to_string(run.in_vm) + " in " +
                                         std::to_string(run.series) + " series" +
                                         (all ? " (all)" : " (MISMATCH)"));
  std::fflush(stdout);
  return all;
}

/// The year into a gzip file instead, without victoria-metrics.
void RunIntoFile(SimulatorProcess& simulator) {
  char folder_template[] = "/tmp/iwx-bench-backfill.XXXXXX";
  if (mkdtemp(folder_template) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  }
  const std::string folder = folder_template;
  const std::string path = folder + "/year.json.gz";
  // The URL is never contacted: output goes to the file.
  const auto config = config::ParseConfig(
      ConfigText("http://127.0.0.1:9", kInstantUnit, simulator.url(kInstantUnit)), "bench");
  auto options = RunOptions(config, kHistoryBegin, kHistoryEnd, 1.0);
  options.output_file = path;
  backfill::StopSignal stop;
  std::ostringstream out;

  ResetPeakRss();
  const double own_cpu = OwnCpuSeconds();
  const auto summary = backfill::Run(config, options, stop, out);
  const double cpu_seconds = OwnCpuSeconds() - own_cpu;
  const double peak = PeakRssMiB();
  const double size = static_cast<double>(std::filesystem::file_size(path));
  std::filesystem::remove_all(folder);

  const std::string name = "instant unit " + std::to_string(kHistoryDays) + " d into a gzip file";
  std::printf("%s: samples: %llu\n", name.c_str(),
              static_cast<unsigned long long>(summary.samples));
  std::printf("%s: duration: %.2f s\n", name.c_str(), summary.seconds);
  std::printf("%s: throughput: %.0f samples/s\n", name.c_str(),
              static_cast<double>(summary.samples) / std::max(summary.seconds, 1e-9));
  std::printf("%s: cpu time: backfill %.2f s\n", name.c_str(), cpu_seconds);
  std::printf("%s: written: %.1f MiB\n", name.c_str(), size / 1048576);
  std::printf("%s: peak resident memory: %.1f MiB\n", name.c_str(), peak);
  std::fflush(stdout);
}

bool RunThroughput(SimulatorProcess& simulator, const Options& options) {
  const std::string url = simulator.url(kInstantUnit);
  std::cerr << "throughput: " << options.short_days << " days\n";
  const auto short_run = RunIntoFreshVm(simulator, kInstantUnit,
                                        kHistoryEnd - int64_t{options.short_days} * kDaySeconds,
                                        kHistoryEnd, 1.0, url, options.vm_host);
  bool all = PrintRun("instant unit", options.short_days, short_run);

  std::cerr << "throughput: " << kHistoryDays << " days\n";
  const auto year = RunIntoFreshVm(simulator, kInstantUnit, kHistoryBegin, kHistoryEnd, 1.0, url,
                                   options.vm_host);
  all = PrintRun("instant unit", kHistoryDays, year) && all;

  std::cerr << "throughput: " << kHistoryDays << " days into a file\n";
  RunIntoFile(simulator);
  return all;
}

// ---------------------------------------------------------------------------------------
// One channel per request

struct ReadFigures {
  uint64_t requests = 0;
  uint64_t rows = 0;
  uint64_t values = 0;
  double seconds = 0;
};

/// Reads `range` in the backfill's windows and pages of 1000 rows, each request
/// asking for the columns of one group.
ReadFigures ReadInGroups(const std::string& url,
                         const std::vector<std::vector<std::string>>& groups,
                         backfill::Span range) {
  iotawatt::Client client({url, "", "", 60s});
  ReadFigures figures;
  const auto started = WallClock::now();
  for (const auto& columns : groups) {
    for (const auto& window : backfill::SplitIntoWindows(range, backfill::kWindowSeconds)) {
      iotawatt::QueryRequest request;
      request.columns = columns;
      request.group = "1m";
      request.begin = window.begin;
      request.end = window.end;
      request.limit = backfill::kRowsPerPage;
      for (;;) {
        const auto page = client.Query(request);
        ++figures.requests;
        figures.rows += page.rows.size();
        figures.values += page.rows.size() * columns.size();
        if (!page.continuation || *page.continuation <= request.begin) {
          break;
        }
        request.begin = *page.continuation;
      }
    }
  }
  figures.seconds = Seconds(WallClock::now() - started);
  return figures;
}

void RunPerChannel(SimulatorProcess& simulator) {
  const std::string url = simulator.url(kInstantUnit);
  iotawatt::Client client({url, "", "", 60s});
  // The backfill's columns: energy of power channels, volts of voltage channels.
  std::vector<std::string> all;
  for (const auto& series : client.FetchSeries()) {
    if (series.unit == "Watts") {
      all.push_back(series.name + ".wh.d9");
    } else if (series.unit == "Volts") {
      all.push_back(series.name + ".volts.d2");
    }
  }
  std::vector<std::vector<std::string>> one_each;
  for (const auto& column : all) {
    one_each.push_back({column});
  }

  const backfill::Span year{kHistoryBegin, kHistoryEnd};
  std::cerr << "per-channel: all channels per request\n";
  const auto before = simulator.Stats(kInstantUnit);
  const auto together = ReadInGroups(url, {all}, year);
  const auto middle = simulator.Stats(kInstantUnit);
  std::cerr << "per-channel: one channel per request\n";
  const auto apart = ReadInGroups(url, one_each, year);
  const auto after = simulator.Stats(kInstantUnit);

  const auto print = [&](const char* name, const ReadFigures& read, const sim::RequestStats& unit) {
    std::printf(
        "%s, %d d: %llu requests (unit's counters: %llu query select), %llu rows, %llu values, "
        "%.1f s\n",
        name, kHistoryDays, static_cast<unsigned long long>(read.requests),
        static_cast<unsigned long long>(unit.query_select),
        static_cast<unsigned long long>(read.rows), static_cast<unsigned long long>(read.values),
        read.seconds);
  };
  std::printf("channels: %zu (", all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    std::printf("%s%s", i == 0 ? "" : ", ", all[i].c_str());
  }
  std::printf(")\n");
  print("all channels per request", together, Difference(middle, before));
  print("one channel per request", apart, Difference(after, middle));
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------
// Duty cycle of a slow unit

using Interval = std::pair<WallClock::time_point, WallClock::time_point>;

/// Forwards GET requests to one unit and records when the unit was answering: from the
/// request's arrival to the end of the unit's response.
class TimingProxy {
 public:
  explicit TimingProxy(uint16_t upstream_port) : upstream_port_(upstream_port) {
    server_.Get(".*", [this](const httplib::Request& request, httplib::Response& response) {
      Forward(request, response);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) {
      throw std::runtime_error("timing proxy: cannot bind a loopback port");
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }

  ~TimingProxy() {
    server_.stop();
    thread_.join();
  }

  TimingProxy(const TimingProxy&) = delete;
  TimingProxy& operator=(const TimingProxy&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<Interval> busy() const {
    const std::lock_guard lock(mutex_);
    return busy_;
  }

 private:
  void Forward(const httplib::Request& request, httplib::Response& response) {
    const auto started = WallClock::now();
    httplib::Client upstream("127.0.0.1", upstream_port_);
    upstream.set_read_timeout(120s);
    // The target goes on as the client sent it.
    upstream.set_url_encode(false);
    const auto result = upstream.Get(request.target);
    const auto ended = WallClock::now();
    {
      const std::lock_guard lock(mutex_);
      busy_.emplace_back(started, ended);
    }
    if (!result) {
      response.status = 502;
      return;
    }
    response.status = result->status;
    response.set_content(result->body, result->get_header_value("Content-Type").c_str());
  }

  uint16_t upstream_port_;
  int port_ = 0;
  httplib::Server server_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Interval> busy_;
};

bool RunDuty(SimulatorProcess& simulator, const Options& options) {
  std::cerr << "duty: slow unit, " << options.duty_days << " days\n";
  TimingProxy proxy(simulator.port(kSlowUnit));
  const auto run =
      RunIntoFreshVm(simulator, kSlowUnit, kHistoryEnd - int64_t{options.duty_days} * kDaySeconds,
                     kHistoryEnd, 0.5, proxy.url(), options.vm_host);
  const auto busy = proxy.busy();
  if (busy.empty()) {
    throw std::runtime_error("the slow unit saw no request");
  }

  // The share of each request and the pause after it (up to the next request); the last
  // request ends the run, without a pause.
  double busy_seconds = 0;
  double longest = 0;
  double highest_share = 0;
  for (size_t i = 0; i < busy.size(); ++i) {
    const double seconds = Seconds(busy[i].second - busy[i].first);
    busy_seconds += seconds;
    longest = std::max(longest, seconds);
    if (i + 1 < busy.size()) {
      highest_share = std::max(highest_share, seconds / Seconds(busy[i + 1].first - busy[i].first));
    }
  }
  const double span = Seconds(busy.back().second - busy.front().first);

  const std::string name = "slow unit " + std::to_string(options.duty_days) + " d";
  const auto& s = run.summary;
  std::printf("%s: row delay %.3f ms, device_share 0.5\n", name.c_str(),
              static_cast<double>(options.row_delay_us) / 1000);
  std::printf("%s: device requests: %zu seen by the proxy, %s\n", name.c_str(), busy.size(),
              Requests(run.requests).c_str());
  std::printf("%s: rows %llu, samples %llu, in victoriametrics %llu\n", name.c_str(),
              static_cast<unsigned long long>(s.rows), static_cast<unsigned long long>(s.samples),
              static_cast<unsigned long long>(run.in_vm));
  std::printf("%s: unit busy %.2f s in total, longest request %.3f s\n", name.c_str(), busy_seconds,
              longest);
  std::printf("%s: first request to last answer %.2f s: busy share %.3f\n", name.c_str(), span,
              busy_seconds / span);
  std::printf("%s: whole run %.2f s: busy share %.3f\n", name.c_str(), s.seconds,
              busy_seconds / std::max(s.seconds, 1e-9));
  std::printf("%s: one request and the pause after it: busy share at most %.3f\n", name.c_str(),
              highest_share);
  std::fflush(stdout);
  return run.in_vm == s.samples;
}

int Main(int argc, char** argv) {
  const Options options = ParseOptions(argc, argv);
  log::SetLevel(log::Level::kWarning);
  try {
    if (backfill::testing::VmProcess::FindBinary().empty()) {
      throw std::runtime_error("victoria-metrics is not on PATH");
    }
    const auto started = WallClock::now();
    std::cerr << "starting the simulated units\n";
    SimulatorProcess simulator(
        BenchInstallation(std::chrono::microseconds{options.row_delay_us}, options.duty_days));
    std::cerr << "simulator ready after " << Seconds(WallClock::now() - started) << " s\n";
    bool all = true;
    if (options.throughput) {
      all = RunThroughput(simulator, options) && all;
    }
    if (options.per_channel) {
      RunPerChannel(simulator);
    }
    if (options.duty) {
      all = RunDuty(simulator, options) && all;
    }
    if (!all) {
      std::cerr << "bench_backfill: victoriametrics does not hold every sample written\n";
      return 1;
    }
  } catch (const std::exception& error) {
    std::cerr << "bench_backfill: " << error.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace iwx::bench

int main(int argc, char** argv) {
  return iwx::bench::Main(argc, argv);
}
