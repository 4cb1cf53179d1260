// bench_energy: what the energy counters cost the exporter and the device, and what
// per-record integration is worth compared with integrating averages.
//
// Part 1, catch-up: one unit of the simulated installation is polled once, the exporter is
// stopped (saving its counter file), the device clock moves 24 h forward and a new exporter
// reads the missed day of 5-second records. Measured twice per device speed:
//   - instant loop: PollOnce() back to back on this thread against a device clock standing
//     still, timing every page (wall and this thread's CPU time, i.e. the exporter's side);
//     the pacing the poller would add is computed from those page times: after every page
//     that leaves a backlog it waits max(min_catch_up_pause, 2 x the page's query time);
//   - paced run: the exporter's own threads with the default poller options against a
//     device clock running at real speed, timed until the counters are published.
// Device requests come from the simulated unit's request counters.
//
// Part 2, averaging: grid import and export of the simulated two-unit installation over a
// week, from the generator's truth, integrated per 5-second record and from 1-minute and
// 1-hour averages of each channel, for the default installation and a net-metering variant.
//
// Prints markdown tables on stdout; logs go to stderr.
// Usage: bench_energy [--part=all|catchup|averaging] [--row-delay-us=1500]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include "app/exporter.hpp"
#include "config/config.hpp"
#include "log/log.hpp"
#include "poller/poller.hpp"
#include "simulator/simulator.hpp"

namespace iwx::bench {
namespace {

using WallClock = std::chrono::steady_clock;

// 2026-06-21 12:00 UTC (07:00 at the simulated units): the missed day spans a whole
// day and night of the generator.
constexpr int64_t kCatchUpStart = 1782043200;
// 2026-06-15 00:00 UTC: start of the week of part 2 (long days, much solar).
constexpr int64_t kWeekStart = 1781481600;
constexpr int64_t kWeekSeconds = 7 * 86400;
constexpr int64_t kRecord = 5;
constexpr double kJoulesPerKwh = 3.6e6;

struct Options {
  bool catch_up = true;
  bool averaging = true;
  int64_t row_delay_us = 1500;
};

[[noreturn]] void Usage(const std::string& problem) {
  std::cerr << "bench_energy: " << problem << "\n"
            << "usage: bench_energy [--part=all|catchup|averaging] [--row-delay-us=1500]\n"
               "  --part          which measurements to run\n"
               "  --row-delay-us  per-row response time of the slow device\n";
  std::exit(2);
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--part=all") {
      continue;
    }
    if (arg == "--part=catchup") {
      options.averaging = false;
    } else if (arg == "--part=averaging") {
      options.catch_up = false;
    } else if (arg.rfind("--row-delay-us=", 0) == 0) {
      char* end = nullptr;
      const std::string text = arg.substr(15);
      options.row_delay_us = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || options.row_delay_us < 0) {
        Usage("'" + arg + "': expected a non-negative integer");
      }
    } else {
      Usage("unexpected argument '" + arg + "'");
    }
  }
  return options;
}

double ThreadCpuSeconds() {
  timespec spec{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec);
  return static_cast<double>(spec.tv_sec) + static_cast<double>(spec.tv_nsec) * 1e-9;
}

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double SecondsSince(WallClock::time_point start) {
  return std::chrono::duration<double>(WallClock::now() - start).count();
}

sim::RequestStats Difference(const sim::RequestStats& after, const sim::RequestStats& before) {
  sim::RequestStats stats;
  stats.status = after.status - before.status;
  stats.query_select = after.query_select - before.query_select;
  stats.query_series = after.query_series - before.query_series;
  stats.unauthorized = after.unauthorized - before.unauthorized;
  stats.other = after.other - before.other;
  return stats;
}

// ---------------------------------------------------------------------------------------
// Part 1: catch-up

std::string ConfigText(const std::string& url, const std::string& state_file) {
  return "[web]\nlisten_address = \"127.0.0.1:0\"\n"
         "[poll]\ninterval = \"10s\"\ntimeout = \"10s\"\n"
         "[state]\nfile = \"" +
         state_file +
         "\"\n"
         "[[device]]\nname = \"iwatt5\"\nurl = \"" +
         url +
         "\"\n"
         "[derived]\n"
         "load = \"Mains_1 + Mains_2\"\n"
         "solar = \"max(0, SolarA_1 + SolarA_2)\"\n"
         "grid_import = \"max(0, load - solar)\"\n"
         "grid_export = \"max(0, solar - load)\"\n";
}

struct CatchUpFigures {
  sim::RequestStats requests;
  int64_t records = 0;  // 5-second records the counters advanced by
  int polls = 0;
  double wall_seconds = 0;
  double exporter_cpu_seconds = 0;  // this thread: client, decoding, store
  double process_cpu_seconds = 0;   // exporter and simulator together
  double slowest_poll_seconds = 0;
  double paced_seconds = 0;  // page times plus the pauses the poller would insert
};

int64_t NewestRecordEnd(app::Exporter& exporter) {
  for (const auto& device : exporter.store().TakeSnapshot().devices) {
    if (device.name == "iwatt5") {
      return device.newest_record_end;
    }
  }
  return 0;
}

bool CountersPublished(app::Exporter& exporter) {
  const auto snapshot = exporter.store().TakeSnapshot();
  return std::any_of(snapshot.channel_energy.begin(), snapshot.channel_energy.end(),
                     [](const state::EnergySample& sample) { return sample.device == "iwatt5"; });
}

/// A simulator whose iwatt5 answers with `row_delay` per /query row, on `clock`.
std::unique_ptr<sim::Simulator> StartSimulator(std::chrono::microseconds row_delay,
                                               std::shared_ptr<sim::Clock> clock) {
  auto installation = sim::DefaultInstallation(kCatchUpStart, 2);
  for (auto& unit : installation.units) {
    unit.row_delay = row_delay;
  }
  auto simulator = std::make_unique<sim::Simulator>(std::move(installation), std::move(clock));
  simulator->Start("127.0.0.1", 0);
  return simulator;
}

std::filesystem::path FreshStateFile(const std::string& name) {
  const auto folder = std::filesystem::temp_directory_path() /
                      ("iwx-bench-energy-" + std::to_string(static_cast<long>(getpid())));
  std::filesystem::create_directories(folder);
  const auto path = folder / (name + ".json");
  std::filesystem::remove(path);
  return path;
}

/// Device clock standing still, exporter stepped by hand: every page timed on this thread.
CatchUpFigures InstantCatchUp(std::chrono::microseconds row_delay) {
  auto simulator = StartSimulator(row_delay, sim::Clock::Fixed(kCatchUpStart * 1000));
  auto& unit = simulator->unit("iwatt5");
  const auto state_file = FreshStateFile("instant");
  const auto config = config::ParseConfig(ConfigText(unit.url(), state_file.string()), "bench");

  // The exporter's monotonic clock moves with the device clock, and only with it.
  auto steady_nanos = std::make_shared<std::atomic<int64_t>>(0);
  poller::PollerOptions options;
  options.now = [steady_nanos] {
    return WallClock::time_point(std::chrono::nanoseconds(steady_nanos->load()));
  };

  auto exporter = std::make_unique<app::Exporter>(config, options);
  exporter->pollers().front()->PollOnce();
  const int64_t resumed_from = NewestRecordEnd(*exporter);
  exporter->Stop();
  exporter->SaveCounters();
  exporter.reset();

  simulator->clock()->Advance(std::chrono::hours(24));
  *steady_nanos += std::chrono::nanoseconds(std::chrono::hours(24)).count();
  // The simulator's accumulators are computed ahead, so its answers cost only the
  // configured row delay.
  unit.model().Warm();

  CatchUpFigures figures;
  const auto before = unit.stats();
  exporter = std::make_unique<app::Exporter>(config, options);
  auto& poller = *exporter->pollers().front();
  const double process_cpu = ProcessCpuSeconds();
  const double thread_cpu = ThreadCpuSeconds();
  const auto started = WallClock::now();
  for (bool backlog = true; backlog; ++figures.polls) {
    if (figures.polls > 10000) {
      throw std::runtime_error("the exporter does not catch up");
    }
    const auto poll_started = WallClock::now();
    backlog = poller.PollOnce();
    const double poll_seconds = SecondsSince(poll_started);
    figures.slowest_poll_seconds = std::max(figures.slowest_poll_seconds, poll_seconds);
    // The poll's time stands for its query's time: the query is nearly all of it.
    figures.paced_seconds += poll_seconds;
    if (backlog) {
      figures.paced_seconds += std::max(1.0, 2 * poll_seconds);
    }
  }
  figures.wall_seconds = SecondsSince(started);
  figures.exporter_cpu_seconds = ThreadCpuSeconds() - thread_cpu;
  figures.process_cpu_seconds = ProcessCpuSeconds() - process_cpu;
  figures.requests = Difference(unit.stats(), before);
  figures.records = (NewestRecordEnd(*exporter) - resumed_from) / kRecord;
  if (!CountersPublished(*exporter)) {
    throw std::runtime_error("counters not published after the catch-up");
  }
  exporter->Stop();
  simulator->Stop();
  std::filesystem::remove_all(state_file.parent_path());
  return figures;
}

/// The exporter's own threads with the default options; the device clock runs in real time.
CatchUpFigures PacedCatchUp(std::chrono::microseconds row_delay) {
  auto simulator = StartSimulator(row_delay, sim::Clock::Accelerated(kCatchUpStart * 1000, 1.0));
  auto& unit = simulator->unit("iwatt5");
  const auto state_file = FreshStateFile("paced");
  const auto config = config::ParseConfig(ConfigText(unit.url(), state_file.string()), "bench");

  auto exporter = std::make_unique<app::Exporter>(config);
  exporter->pollers().front()->PollOnce();
  const int64_t resumed_from = NewestRecordEnd(*exporter);
  exporter->Stop();
  exporter->SaveCounters();
  exporter.reset();

  simulator->clock()->Advance(std::chrono::hours(24));
  unit.model().Warm();

  CatchUpFigures figures;
  const auto before = unit.stats();
  exporter = std::make_unique<app::Exporter>(config);
  const double process_cpu = ProcessCpuSeconds();
  const auto started = WallClock::now();
  exporter->Start();
  while (!CountersPublished(*exporter)) {
    if (SecondsSince(started) > 900) {
      throw std::runtime_error("the exporter did not catch up within 15 minutes");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  figures.wall_seconds = SecondsSince(started);
  figures.process_cpu_seconds = ProcessCpuSeconds() - process_cpu;
  figures.requests = Difference(unit.stats(), before);
  figures.records = (NewestRecordEnd(*exporter) - resumed_from) / kRecord;
  exporter->Stop();
  simulator->Stop();
  std::filesystem::remove_all(state_file.parent_path());
  return figures;
}

std::string Requests(const sim::RequestStats& stats) {
  return std::to_string(stats.total()) + " (" + std::to_string(stats.query_select) +
         " query select, " + std::to_string(stats.status) + " status, " +
         std::to_string(stats.query_series) + " query series)";
}

void RunCatchUp(const Options& options) {
  const std::chrono::microseconds slow{options.row_delay_us};
  std::cerr << "catch-up: instant device, stepped loop\n";
  const auto fast = InstantCatchUp(std::chrono::microseconds{0});
  std::cerr << "catch-up: slow device, stepped loop\n";
  const auto slow_loop = InstantCatchUp(slow);
  std::cerr << "catch-up: instant device, real threads\n";
  const auto fast_paced = PacedCatchUp(std::chrono::microseconds{0});
  std::cerr << "catch-up: slow device, real threads\n";
  const auto slow_paced = PacedCatchUp(slow);

  char slow_name[64];
  std::snprintf(slow_name, sizeof slow_name, "slow device (%.1f ms per row)",
                static_cast<double>(options.row_delay_us) / 1000);

  std::printf("### Catch-up of one missed day, one unit\n\n");
  std::printf("| measure | instant device | %s |\n| --- | --- | --- |\n", slow_name);
  const auto row = [](const char* name, const std::string& a, const std::string& b) {
    std::printf("| %s | %s | %s |\n", name, a.c_str(), b.c_str());
  };
  const auto number = [](const char* format, double value) {
    char text[64];
    std::snprintf(text, sizeof text, format, value);
    return std::string(text);
  };
  row("stepped loop: device requests", Requests(fast.requests), Requests(slow_loop.requests));
  row("stepped loop: polls", std::to_string(fast.polls), std::to_string(slow_loop.polls));
  row("stepped loop: 5-s records read", std::to_string(fast.records),
      std::to_string(slow_loop.records));
  row("stepped loop: wall time, no pauses", number("%.3f s", fast.wall_seconds),
      number("%.3f s", slow_loop.wall_seconds));
  row("stepped loop: slowest poll", number("%.3f s", fast.slowest_poll_seconds),
      number("%.3f s", slow_loop.slowest_poll_seconds));
  row("stepped loop: exporter CPU (polling thread)", number("%.3f s", fast.exporter_cpu_seconds),
      number("%.3f s", slow_loop.exporter_cpu_seconds));
  row("stepped loop: process CPU (exporter + simulator)",
      number("%.3f s", fast.process_cpu_seconds), number("%.3f s", slow_loop.process_cpu_seconds));
  row("computed wall time with the poller's pauses", number("%.1f s", fast.paced_seconds),
      number("%.1f s", slow_loop.paced_seconds));
  row("real threads: wall time until counters published", number("%.1f s", fast_paced.wall_seconds),
      number("%.1f s", slow_paced.wall_seconds));
  row("real threads: device requests", Requests(fast_paced.requests),
      Requests(slow_paced.requests));
  row("real threads: 5-s records read", std::to_string(fast_paced.records),
      std::to_string(slow_paced.records));
  row("real threads: process CPU (exporter + simulator)",
      number("%.3f s", fast_paced.process_cpu_seconds),
      number("%.3f s", slow_paced.process_cpu_seconds));
  std::printf("\n");
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------
// Part 2: averaging error

/// The six channels of the grid formulas, per record.
struct Channels {
  double mains_1 = 0, mains_2 = 0, solar_a_1 = 0, solar_a_2 = 0, solar_b_1 = 0, solar_b_2 = 0;

  void Add(const Channels& other) {
    mains_1 += other.mains_1;
    mains_2 += other.mains_2;
    solar_a_1 += other.solar_a_1;
    solar_a_2 += other.solar_a_2;
    solar_b_1 += other.solar_b_1;
    solar_b_2 += other.solar_b_2;
  }
  Channels Scaled(double factor) const {
    return {mains_1 * factor,   mains_2 * factor,   solar_a_1 * factor,
            solar_a_2 * factor, solar_b_1 * factor, solar_b_2 * factor};
  }
};

struct Grid {
  double import_watts = 0;
  double export_watts = 0;
};

/// Default installation: the mains see the house load, solar is on the grid side.
Grid GridOfLoadAndSolar(const Channels& c) {
  const double load = c.mains_1 + c.mains_2;
  const double solar = std::max(0.0, c.solar_a_1 + c.solar_a_2 + c.solar_b_1 + c.solar_b_2);
  return {std::max(0.0, load - solar), std::max(0.0, solar - load)};
}

/// Net metering: the mains carry load minus solar (load - solar in the formula above),
/// signed, so import and export are their positive and negative parts.
Grid GridOfNetMains(const Channels& c) {
  const double net = c.mains_1 + c.mains_2;
  return {std::max(0.0, net), std::max(0.0, -net)};
}

struct Integrals {
  // Joules: per record, from 1-minute averages, from 1-hour averages.
  Grid per_record, per_minute, per_hour;
};

class Sampler {
 public:
  explicit Sampler(const sim::Installation& installation) {
    const auto clock = sim::Clock::Fixed((kWeekStart + kWeekSeconds) * 1000);
    for (const auto& unit : installation.units) {
      models_.push_back(std::make_unique<sim::UnitModel>(unit, clock));
    }
    iwatt5_ = Find("iwatt5");
    iwatt6_ = Find("iwatt6");
    mains_1_ = Input(*iwatt5_, "Mains_1");
    mains_2_ = Input(*iwatt5_, "Mains_2");
    solar_a_1_ = Input(*iwatt5_, "SolarA_1");
    solar_a_2_ = Input(*iwatt5_, "SolarA_2");
    solar_b_1_ = Input(*iwatt6_, "SolarB_1");
    solar_b_2_ = Input(*iwatt6_, "SolarB_2");
  }

  Channels At(int64_t t) const {
    return {Value(*iwatt5_, mains_1_, t),   Value(*iwatt5_, mains_2_, t),
            Value(*iwatt5_, solar_a_1_, t), Value(*iwatt5_, solar_a_2_, t),
            Value(*iwatt6_, solar_b_1_, t), Value(*iwatt6_, solar_b_2_, t)};
  }

 private:
  const sim::UnitModel* Find(const std::string& name) const {
    for (const auto& model : models_) {
      if (model->spec().name == name) {
        return model.get();
      }
    }
    throw std::runtime_error("no unit " + name);
  }
  static size_t Input(const sim::UnitModel& model, const std::string& name) {
    const auto input = model.FindInput(name);
    if (!input) {
      throw std::runtime_error("no input " + name + " on " + model.spec().name);
    }
    return *input;
  }
  static double Value(const sim::UnitModel& model, size_t input, int64_t t) {
    const auto value = model.TruthValue(input, t);
    if (!value) {
      throw std::runtime_error(model.spec().name + " was off at " + std::to_string(t));
    }
    return *value;
  }

  std::vector<std::unique_ptr<sim::UnitModel>> models_;
  const sim::UnitModel* iwatt5_ = nullptr;
  const sim::UnitModel* iwatt6_ = nullptr;
  size_t mains_1_ = 0, mains_2_ = 0, solar_a_1_ = 0, solar_a_2_ = 0, solar_b_1_ = 0, solar_b_2_ = 0;
};

void AddGrid(Grid& total, const Grid& power, double seconds) {
  total.import_watts += power.import_watts * seconds;
  total.export_watts += power.export_watts * seconds;
}

Integrals Integrate(const sim::Installation& installation, Grid (*formula)(const Channels&)) {
  const Sampler sampler(installation);
  Integrals integrals;
  Channels minute_sum, hour_sum;
  constexpr int kPerMinute = 60 / kRecord;
  constexpr int kPerHour = 3600 / kRecord;
  int in_minute = 0, in_hour = 0;
  for (int64_t t = kWeekStart; t < kWeekStart + kWeekSeconds; t += kRecord) {
    const Channels record = sampler.At(t);
    AddGrid(integrals.per_record, formula(record), kRecord);
    minute_sum.Add(record);
    hour_sum.Add(record);
    if (++in_minute == kPerMinute) {
      AddGrid(integrals.per_minute, formula(minute_sum.Scaled(1.0 / kPerMinute)), 60);
      minute_sum = {};
      in_minute = 0;
    }
    if (++in_hour == kPerHour) {
      AddGrid(integrals.per_hour, formula(hour_sum.Scaled(1.0 / kPerHour)), 3600);
      hour_sum = {};
      in_hour = 0;
    }
  }
  return integrals;
}

sim::Installation WeekInstallation(bool net_metering) {
  auto installation = sim::DefaultInstallation(kWeekStart + kWeekSeconds, 8);
  for (auto& unit : installation.units) {
    // Outages would leave holes in the truth; this measures averaging only.
    unit.outages.clear();
    unit.net_metering = net_metering;
    if (net_metering) {
      for (auto& input : unit.inputs) {
        if (input.profile == "mains") {
          input.is_signed = true;
        }
      }
    }
  }
  return installation;
}

void PrintAveragingRows(const char* installation, const Integrals& integrals) {
  const auto print = [&](const char* series, double truth, double minute, double hour) {
    const auto error = [&](double value) {
      char text[96];
      std::snprintf(text, sizeof text, "%.2f kWh (%+.3f kWh, %+.3f %%)", value / kJoulesPerKwh,
                    (value - truth) / kJoulesPerKwh, 100 * (value - truth) / truth);
      return std::string(text);
    };
    std::printf("| %s | %s | %.2f kWh | %s | %s |\n", installation, series, truth / kJoulesPerKwh,
                error(minute).c_str(), error(hour).c_str());
  };
  print("grid import", integrals.per_record.import_watts, integrals.per_minute.import_watts,
        integrals.per_hour.import_watts);
  print("grid export", integrals.per_record.export_watts, integrals.per_minute.export_watts,
        integrals.per_hour.export_watts);
}

void RunAveraging() {
  std::cerr << "averaging: default installation\n";
  const auto started = WallClock::now();
  const auto plain = Integrate(WeekInstallation(false), &GridOfLoadAndSolar);
  std::cerr << "averaging: net metering (" << SecondsSince(started) << " s so far)\n";
  const auto net = Integrate(WeekInstallation(true), &GridOfNetMains);
  std::cerr << "averaging: done in " << SecondsSince(started) << " s\n";

  std::printf("### Grid energy over a week: per record versus averages\n\n");
  std::printf(
      "| installation | series | per 5-s record | from 1-min averages (error) | "
      "from 1-h averages (error) |\n| --- | --- | --- | --- | --- |\n");
  PrintAveragingRows("default (solar on the grid side)", plain);
  PrintAveragingRows("net metering (signed mains)", net);
  std::printf("\n");
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  const Options options = ParseOptions(argc, argv);
  log::SetLevel(log::Level::kWarning);
  try {
    if (options.catch_up) {
      RunCatchUp(options);
    }
    if (options.averaging) {
      RunAveraging();
    }
  } catch (const std::exception& error) {
    std::cerr << "bench_energy: " << error.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace iwx::bench

int main(int argc, char** argv) {
  return iwx::bench::Main(argc, argv);
}
