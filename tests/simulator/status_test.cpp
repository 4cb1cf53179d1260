#include "simulator/status.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "simulator/number_format.hpp"
#include "test_support.hpp"

namespace iwx::sim {
namespace {

using testing::kNow;
using Ordered = nlohmann::ordered_json;

Ordered Fixture(const std::string& name) {
  std::ifstream file(std::string(IWX_SIMULATOR_FIXTURES) + "/" + name);
  std::stringstream text;
  text << file.rdbuf();
  return Ordered::parse(text.str());
}

std::vector<std::string> Keys(const Ordered& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) {
    keys.push_back(key);
  }
  return keys;
}

class StatusTest : public ::testing::Test {
 protected:
  StatusTest()
      : clock_(Clock::Fixed(kNow * 1000)), model_(DefaultInstallation(kNow, 20).units[0], clock_) {}

  Ordered Status(std::initializer_list<std::string> sections) const {
    const std::vector<std::string> wanted(sections);
    const std::string body =
        RenderStatus(model_, {kNow - 3600, "127.0.0.1"}, [&wanted](const std::string& name) {
          return std::find(wanted.begin(), wanted.end(), name) != wanted.end();
        });
    return Ordered::parse(body);
  }

  std::shared_ptr<Clock> clock_;
  UnitModel model_;
};

TEST_F(StatusTest, sections_come_in_the_firmware_order_whatever_was_asked) {
  const Ordered status = Status({"passwords", "wifi", "datalogs", "pvoutput", "emoncms", "influx2",
                                 "influx1", "outputs", "inputs", "stats", "device", "state"});
  EXPECT_EQ(Keys(status),
            (std::vector<std::string>{"device", "stats", "inputs", "outputs", "influx1", "influx2",
                                      "emoncms", "pvoutput", "datalogs", "wifi", "passwords"}));
  EXPECT_EQ(Status({}).dump(), "{}");
}

TEST_F(StatusTest, section_keys_match_the_captures) {
  const Ordered status =
      Status({"device", "stats", "inputs", "datalogs", "wifi", "passwords", "influx1"});
  EXPECT_EQ(Keys(status["device"]), Keys(Fixture("jeedom-status-device.json")["device"]));
  EXPECT_EQ(Keys(status["stats"]), Keys(Fixture("jeedom-status-stats.json")["stats"]));
  EXPECT_EQ(Keys(status["wifi"]), Keys(Fixture("jeedom-status-wifi.json")["wifi"]));
  EXPECT_EQ(Keys(status["passwords"]), Keys(Fixture("jeedom-status-passwords.json")["passwords"]));
  const Ordered datalogs = Fixture("jeedom-status-datalogs.json")["datalogs"];
  EXPECT_EQ(Keys(status["datalogs"][0]), Keys(datalogs[0]));
  EXPECT_EQ(status["datalogs"][0]["id"], "Current");
  EXPECT_EQ(status["datalogs"][1]["id"], "History");
  EXPECT_EQ(status["influx1"], Ordered::parse("{\"state\":\"not running\"}"));

  const Ordered inputs = Fixture("jeedom-status-inputs.json")["inputs"];
  EXPECT_EQ(Keys(status["inputs"][0]), Keys(inputs[0]));
  for (const auto& input : status["inputs"]) {
    if (input["channel"] == 0) {
      continue;
    }
    EXPECT_TRUE(input["Watts"].is_string());
    EXPECT_EQ(Keys(input), Keys(inputs[3]));  // no `reversed` on a correctly clamped CT
  }
}

TEST_F(StatusTest, reversed_appears_only_for_a_backwards_unsigned_ct) {
  UnitSpec spec = DefaultInstallation(kNow, 20).units[0];
  const size_t fridge = 5;
  spec.inputs[fridge].reversed = true;
  UnitModel model(spec, clock_);
  const std::string body = RenderStatus(model, {kNow, "127.0.0.1"},
                                        [](const std::string& name) { return name == "inputs"; });
  const Ordered status = Ordered::parse(body);
  const Ordered& input = status["inputs"][fridge];
  if (std::stod(input["Watts"].get<std::string>()) > 5) {
    EXPECT_EQ(Keys(input), Keys(Fixture("jeedom-status-inputs.json")["inputs"][1]));
  }
}

TEST(StatusFormat, watts_strings_and_float_digits) {
  EXPECT_EQ(FormatStatusWatts(0.4), " 0");
  EXPECT_EQ(FormatStatusWatts(-1.9), " 0");
  EXPECT_EQ(FormatStatusWatts(5.6), " 6");
  EXPECT_EQ(FormatStatusWatts(58), "58");
  EXPECT_EQ(FormatStatusWatts(677.2), "677");
  EXPECT_EQ(FormatStatusWatts(-842.3), "-842");
  EXPECT_EQ(FormatStatusFloat(239.49881), "239.4988");
  EXPECT_EQ(FormatStatusFloat(0.44705), "0.44705");
  EXPECT_EQ(FormatStatusFloat(50.0), "50");
  EXPECT_EQ(FormatStatusFloat(0.747267), "0.747267");
  EXPECT_EQ(FormatStatusFloat(12345678), "1.234568e7");
}

TEST_F(StatusTest, outputs_and_datalogs_follow_the_model) {
  const Ordered status = Status({"outputs", "datalogs"});
  EXPECT_EQ(status["outputs"][0]["name"], "Total_Load");
  EXPECT_EQ(status["outputs"][0]["units"], "Watts");
  EXPECT_TRUE(status["outputs"][0]["value"].is_number());
  EXPECT_EQ(status["datalogs"][0]["lastkey"], model_.CurrentLastKey());
  EXPECT_EQ(status["datalogs"][1]["firstkey"], model_.HistoryFirstKey());
  EXPECT_EQ(status["datalogs"][1]["interval"], 60);
}

}  // namespace
}  // namespace iwx::sim
