// Continuing where VictoriaMetrics' data ends: --follow rounds and restarts, a resume
// around samples scraped from the live exporter, and a resume after SIGKILL of the
// real binary.
#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backfill/follow.hpp"
#include "fixture.hpp"
#include "log/log.hpp"

namespace iwx::backfill {
namespace {

using namespace std::chrono_literals;
using testing::BackfillTest;
using testing::kLastMinute;
using testing::Samples;
using testing::Truth;

constexpr const char* kMains = "iotawatt_power_watts{channel=\"Mains_1\",device=\"iwatt5\"}";
constexpr const char* kMainsKey = "iotawatt_power_watts|iwatt5|Mains_1";
constexpr const char* kMainsLabels =
    R"("device":"iwatt5","channel":"Mains_1","type":"mains","job":"iotawatt",)"
    R"("instance":"127.0.0.1:9980")";

bool Aligned(const std::pair<int64_t, double>& sample) {
  return sample.first % 60000 == 0;
}

// Runs Follow on its own thread until Stop().
class FollowRun {
 public:
  FollowRun(const config::Config& config, const Options& options)
      : thread_([this, &config, options] { Follow(config, options, 200ms, stop_, out_); }) {}

  void Stop() {
    stop_.Stop();
    thread_.join();
  }

 private:
  StopSignal stop_;
  std::ostringstream out_;
  std::thread thread_;
};

TEST_F(BackfillTest, follow_pushes_each_new_minute_and_resumes_after_a_restart) {
  StartVm(false);  // without deduplication, a minute written twice stays visible
  const int64_t from = kLastMinute + 60 - 3600;
  Options options = MakeOptions(from, 0);
  options.to.reset();
  auto& clock = *simulator_->clock();
  std::atomic<int> discoveries = 0;
  log::SetSink([&](std::string_view line) {
    discoveries += line.find("msg=\"device discovered\"") != std::string_view::npos ? 1 : 0;
  });

  FollowRun first(config_, options);
  vm_->ExportWhenCount(kMains, 60);
  clock.Advance(120s);
  const auto pushed = vm_->ExportWhenCount(kMains, 62);
  first.Stop();
  ASSERT_EQ(pushed.begin()->second.size(), 62u);

  // Minutes the device logs while nothing follows it are caught up by the next run.
  clock.Advance(180s);
  FollowRun second(config_, options);
  vm_->ExportWhenCount(kMains, 65);
  clock.Advance(60s);
  vm_->ExportWhenCount(kMains, 66);
  second.Stop();
  log::SetSink({});
  // Each run says once what it found; its later rounds only log at debug level.
  EXPECT_EQ(discoveries, 4);

  std::this_thread::sleep_for(2s);
  const Truth truth = ComputeTruth(from, kLastMinute + 60 + 360);
  ExpectMatches(truth, ExportGauges(CountSamples(truth)));
  ExpectDerivedEnergyFollowsPower(true);
}

// What vmagent stores from the live exporter: a sample every 10 s, off the minute, in the
// series the backfill writes; `hole` is where vmagent was down.
std::string LiveLines(const std::map<int64_t, double>& watts, Span live, Span hole) {
  std::string values;
  std::string timestamps;
  std::string energy;
  double joules = 1e9;
  for (int64_t t = live.begin; t < live.end; t += 10) {
    const int64_t minute = t - t % 60;
    if ((t >= hole.begin && t < hole.end) || watts.count(minute) == 0) {
      continue;
    }
    const std::string sep = values.empty() ? "" : ",";
    joules += watts.at(minute) * 10;
    values += sep + std::to_string(watts.at(minute));
    energy += sep + std::to_string(joules);
    timestamps += sep + std::to_string((t + 7) * 1000);
  }
  return std::string(R"({"metric":{"__name__":"iotawatt_power_watts",)") + kMainsLabels +
         R"(},"values":[)" + values + R"(],"timestamps":[)" + timestamps + "]}\n" +
         R"({"metric":{"__name__":"iotawatt_energy_joules_total",)" + kMainsLabels +
         R"(,"direction":"positive"},"values":[)" + energy + R"(],"timestamps":[)" + timestamps +
         "]}\n";
}

TEST_F(BackfillTest, resume_fills_the_minutes_around_live_samples_and_never_doubles_them) {
  StartVm(false);
  const int64_t to = kLastMinute + 60;
  const int64_t from = to - 3 * 3600;
  const Span live{from + 2 * 3600, to - 600};
  const Span hole{live.begin + 1200, live.begin + 1500};
  RunBackfill(MakeOptions(from, from + 3600));

  Truth truth = ComputeTruth(from, to);
  auto& mains_truth = truth.series.at(kMainsKey);
  vm_->Post("/api/v1/import", LiveLines(mains_truth, live, hole));
  const size_t live_samples = (live.minutes() - hole.minutes()) * 6;
  vm_->ExportWhenCount(kMains, 60 + live_samples);
  std::this_thread::sleep_for(2s);

  Options options = MakeOptions(from, to);
  options.resume = true;
  EXPECT_TRUE(RunBackfill(options).complete);

  // Mains_1 gets minute averages only where no live sample is: before the live data, in
  // the hole, and after it.
  for (int64_t minute = live.begin; minute < live.end; minute += 60) {
    if (minute < hole.begin || minute >= hole.end) {
      mains_truth.erase(minute);
    }
  }
  auto gauges = ExportGauges(CountSamples(truth) + live_samples);
  Samples& mains = gauges.at(kMainsKey);
  const auto scraped = std::erase_if(mains, [](const auto& sample) { return !Aligned(sample); });
  EXPECT_EQ(scraped, live_samples);
  for (const auto& [ms, value] : mains) {
    const int64_t minute = ms / 1000;
    EXPECT_FALSE(minute >= live.begin && minute < live.end &&
                 (minute < hole.begin || minute >= hole.end))
        << "minute average beside live samples at " << minute;
  }
  ExpectMatches(truth, gauges);

  // The backfilled energy counter ends where the live one begins.
  const auto energy =
      vm_->Export("iotawatt_energy_joules_total{channel=\"Mains_1\",device=\"iwatt5\"}");
  ASSERT_EQ(energy.size(), 1u);
  int64_t newest_backfilled = 0;
  size_t backfilled = 0;
  for (const auto& sample : energy.begin()->second) {
    if (Aligned(sample)) {
      newest_backfilled = std::max(newest_backfilled, sample.first / 1000);
      ++backfilled;
    }
  }
  EXPECT_EQ(newest_backfilled, live.begin - 60);
  EXPECT_EQ(backfilled, static_cast<size_t>((live.begin - from) / 60));
}

// Runs the exporter binary; its output goes to `log`.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& arg : args) {
      argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    if (std::freopen(log.c_str(), "w", stderr) != nullptr) {
      execv(argv[0], argv.data());
    }
    _exit(127);
  }
  return pid;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST_F(BackfillTest, resume_after_sigkill_leaves_no_minute_missing_or_twice) {
  for (const bool dedup : {false, true}) {
    StartVm(dedup);
    const std::string dir = ::testing::TempDir();
    const std::string config_path = dir + "/sigkill.toml";
    std::ofstream(config_path) << config_text_;
    const int64_t to = kLastMinute + 60;
    const int64_t from = to - 6 * kDaySeconds;
    const std::vector<std::string> args = {IWX_EXPORTER, "backfill", "--config.file=" + config_path,
                                           "--from=" + std::to_string(from),
                                           "--to=" + std::to_string(to)};

    // Killed once it has read a few days, in the middle of the range.
    const auto& stats = simulator_->unit("iwatt5");
    const uint64_t before = stats.stats().query_select;
    const pid_t pid = Spawn(args, dir + "/killed.log");
    while (stats.stats().query_select < before + 6 && waitpid(pid, nullptr, WNOHANG) == 0) {
      std::this_thread::sleep_for(1ms);
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the backfill ended before it was killed\n"
                                     << ReadFile(dir + "/killed.log");

    // As a user would: some seconds later, the same command with --resume.
    std::this_thread::sleep_for(3s);
    std::vector<std::string> resume = args;
    resume.push_back("--resume");
    const pid_t resumed = Spawn(resume, dir + "/resumed.log");
    waitpid(resumed, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadFile(dir + "/resumed.log");

    const Truth truth = ComputeTruth(from, to);
    ExpectMatches(truth, ExportGauges(CountSamples(truth)));
    ExpectDerivedEnergyFollowsPower(true);
  }
}

}  // namespace
}  // namespace iwx::backfill
