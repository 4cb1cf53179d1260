// /probe against the in-process simulated installation.
#include "app/probe.hpp"

#include <cmath>

#include <gtest/gtest.h>
#include <httplib.h>

#include "app/exporter.hpp"
#include "metrics_text.hpp"
#include "simulator/simulator.hpp"

namespace iwx::app {
namespace {

// 2026-06-21 12:00:00 UTC: both solar systems producing.
constexpr int64_t kNoon = 1782043200;
constexpr double kPowerTolerance = 1e-3;

class ProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    simulator_ = std::make_unique<sim::Simulator>(sim::DefaultInstallation(kNoon, 1),
                                                  sim::Clock::Fixed(kNoon * 1000));
    simulator_->Start("127.0.0.1", 0);
  }
  void TearDown() override { simulator_->Stop(); }

  config::Config Config(const std::string& allowed) const {
    return config::ParseConfig("[probe]\nallowed_targets = [" + allowed +
                                   "]\n[[device]]\nname = \"iwatt6\"\nurl = \"" +
                                   simulator_->unit("iwatt6").url() +
                                   "\"\n[[labels]]\nmatch = \"Mains_*\"\nset = { type = "
                                   "\"mains\" }\n",
                               "probe.toml");
  }

  std::string Url() const { return simulator_->unit("iwatt5").url(); }

  double TruthMean(const std::string& channel, int64_t begin, int64_t end) const {
    auto& model = simulator_->unit("iwatt5").model();
    double sum = 0;
    int count = 0;
    for (int64_t time = begin; time < end; time += 5) {
      sum += *model.TruthValue(*model.FindInput(channel), time);
      ++count;
    }
    return sum / count;
  }

  static web::ProbeRequest Request(std::map<std::string, std::string> params) {
    return web::ProbeRequest{std::move(params), std::nullopt};
  }

  std::unique_ptr<sim::Simulator> simulator_;
};

TEST_F(ProbeTest, answers_the_devices_power_voltage_and_health) {
  const auto config = Config("\"http://127.0.0.1:*\"");
  const auto response = Probe(Request({{"target", Url()}, {"device", "iwatt5"}}), config);
  ASSERT_EQ(response.status, 200) << response.body;
  const auto samples = testing::ParseExposition(response.body);

  EXPECT_EQ(testing::FindValue(samples, "iotawatt_up", {{"device", "iwatt5"}}), 1.0);
  for (const std::string channel : {"Mains_1", "SolarA_1", "Fridge"}) {
    const auto value = testing::FindValue(samples, "iotawatt_power_watts",
                                          {{"device", "iwatt5"}, {"channel", channel}});
    ASSERT_TRUE(value.has_value()) << channel;
    EXPECT_NEAR(*value, TruthMean(channel, kNoon - 30, kNoon), kPowerTolerance) << channel;
  }
  EXPECT_TRUE(testing::FindValue(samples, "iotawatt_power_watts",
                                 {{"channel", "Mains_1"}, {"type", "mains"}})
                  .has_value());
  EXPECT_TRUE(testing::FindValue(samples, "iotawatt_voltage_volts",
                                 {{"device", "iwatt5"}, {"channel", "Voltage"}})
                  .has_value());
  EXPECT_TRUE(testing::FindValue(samples, "iotawatt_device_uptime_seconds", {{"device", "iwatt5"}})
                  .has_value());
  EXPECT_EQ(testing::CountSamples(samples, "iotawatt_energy_joules_total"), 0u);
  EXPECT_EQ(testing::CountSamples(samples, "iotawatt_polls_total"), 0u);
  EXPECT_EQ(testing::CountSamples(samples, "iotawatt_derived_power_watts"), 0u);
}

TEST_F(ProbeTest, labels_the_device_with_the_targets_host_by_default) {
  const auto response = Probe(Request({{"target", Url()}}), Config("\"http://127.0.0.1:*\""));
  ASSERT_EQ(response.status, 200) << response.body;
  const auto samples = testing::ParseExposition(response.body);
  EXPECT_EQ(testing::FindValue(samples, "iotawatt_up", {{"device", "127.0.0.1"}}), 1.0);
}

TEST_F(ProbeTest, reports_an_unreachable_device_as_down) {
  // Port 1 on the loopback interface: nothing listens there.
  const auto response = Probe(Request({{"target", "127.0.0.1:1"}, {"timeout", "2"}}),
                              Config("\"http://127.0.0.1:*\""));
  ASSERT_EQ(response.status, 200) << response.body;
  const auto samples = testing::ParseExposition(response.body);
  EXPECT_EQ(testing::FindValue(samples, "iotawatt_up", {{"device", "127.0.0.1"}}), 0.0);
  EXPECT_EQ(testing::CountSamples(samples, "iotawatt_power_watts"), 0u);
}

TEST_F(ProbeTest, refuses_targets_outside_the_allow_list_and_bad_requests) {
  const auto disabled = Probe(Request({{"target", Url()}}), Config(""));
  EXPECT_EQ(disabled.status, 403);
  EXPECT_EQ(disabled.body,
            "probing is disabled: [probe] allowed_targets is empty; expected it to list globs "
            "of the devices that may be probed, such as \"http://10.0.0.*\"\n");

  const auto config = Config("\"http://10.0.0.*\"");
  const auto denied = Probe(Request({{"target", Url()}}), config);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.body, "target \"" + Url() +
                             "\" is not allowed; expected a target matching a glob of [probe] "
                             "allowed_targets\n");

  // User info would turn "http://10.0.0.*" into a way to any host.
  const auto sneaky = Probe(Request({{"target", "http://10.0.0.1@127.0.0.1"}}), config);
  EXPECT_EQ(sneaky.status, 400);
  EXPECT_EQ(sneaky.body,
            "target \"http://10.0.0.1@127.0.0.1\" is not a device URL; expected "
            "http://HOST[:PORT] without user, path or query\n");

  const auto missing = Probe(Request({}), config);
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body,
            "missing parameter \"target\"; expected /probe?target=http://HOST[:PORT]\n");

  const auto bad_timeout =
      Probe(Request({{"target", "http://10.0.0.1"}, {"timeout", "soon"}}), config);
  EXPECT_EQ(bad_timeout.status, 400);
  EXPECT_EQ(bad_timeout.body,
            "timeout \"soon\" is not a duration; expected seconds such as 5 or a duration such "
            "as \"5s\"\n");
}

TEST(ProbeTarget, accepts_only_http_host_and_port) {
  EXPECT_EQ(NormaliseProbeTarget("10.0.0.5"), "http://10.0.0.5");
  EXPECT_EQ(NormaliseProbeTarget("http://iwatt5.local:8080/"), "http://iwatt5.local:8080");
  EXPECT_EQ(NormaliseProbeTarget("http://[fe80::1]:80"), "http://[fe80::1]:80");
  for (const std::string bad :
       {"https://10.0.0.5", "http://a@b", "http://a/b", "http://a?b", "http://a:0", "http://a:x",
        "http://", "ftp://a", "http://a b", "http://[zz]"}) {
    EXPECT_FALSE(NormaliseProbeTarget(bad).has_value()) << bad;
  }
}

TEST_F(ProbeTest, is_served_by_the_exporter_with_the_scrapers_timeout) {
  Exporter exporter(Config("\"http://127.0.0.1:*\""));
  exporter.Start();
  httplib::Client client("127.0.0.1", exporter.port());
  const auto response = client.Get("/probe?target=" + Url() + "&device=iwatt5",
                                   {{"X-Prometheus-Scrape-Timeout-Seconds", "10"}});
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(response->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const auto samples = testing::ParseExposition(response->body);
  EXPECT_EQ(testing::FindValue(samples, "iotawatt_up", {{"device", "iwatt5"}}), 1.0);

  const auto denied = client.Get("/probe?target=http://192.0.2.1");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403);
  exporter.Stop();
}

}  // namespace
}  // namespace iwx::app
