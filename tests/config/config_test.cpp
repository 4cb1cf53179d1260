#include "config/config.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace iwx::config {
namespace {

using namespace std::chrono_literals;

constexpr const char* kDevice = "[[device]]\nname = \"iwatt5\"\nurl = \"http://iwatt5.local\"\n";

constexpr const char* kExample = R"toml([web]
listen_address = "127.0.0.1:9980"
telemetry_path = "/metrics"

[poll]
interval = "10s"
timeout = "5s"
status_interval = "2m"

[[device]]
name = "iwatt5"
url  = "http://iwatt5.local"
username = "user"
password_file = "iwatt5.pass"
channels = ["Mains_1", "Mains_2"]
labels = { site = "home", floor = "1" }

[[device]]
name = "iwatt6"
url = "http://192.168.1.6:8080/iotawatt/"

[[labels]]
match = "Mains_*"
set = { type = "trunk", pair = "Mains" }

[[labels]]
match = "Solar*"
set = { type = "solar" }

[derived]
load        = "iwatt5.Mains_1 + iwatt5.Mains_2"
solar_a     = "SolarA_1 + SolarA_2"
solar       = "max(0, solar_a + solar_b)"
grid_import = "max(0, load - solar)"
)toml";

std::string ErrorOf(const std::string& text) {
  try {
    ParseConfig(text, "test.toml");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "no error";
}

struct ErrorCase {
  std::string text;
  std::string expected;
};

void ExpectErrors(const std::vector<ErrorCase>& cases) {
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(ErrorOf(text), expected) << text;
  }
}

TEST(ParseConfig, reads_the_documented_example) {
  const Config config = ParseConfig(kExample, "/etc/iwx/config.toml");

  EXPECT_EQ(config.source, "/etc/iwx/config.toml");
  EXPECT_EQ(config.web.listen_address, "127.0.0.1:9980");
  EXPECT_EQ(config.web.telemetry_path, "/metrics");
  EXPECT_EQ(config.poll.interval, 10s);
  EXPECT_EQ(config.poll.timeout, 5s);
  EXPECT_EQ(config.poll.status_interval, 2min);

  ASSERT_EQ(config.devices.size(), 2u);
  const DeviceConfig& first = config.devices[0];
  EXPECT_EQ(first.name, "iwatt5");
  EXPECT_EQ(first.url, "http://iwatt5.local");
  EXPECT_EQ(first.username, "user");
  EXPECT_EQ(first.password_file, "/etc/iwx/iwatt5.pass");
  EXPECT_EQ(first.channels, (std::vector<std::string>{"Mains_1", "Mains_2"}));
  EXPECT_EQ(first.labels, (Labels{{"site", "home"}, {"floor", "1"}}));
  EXPECT_EQ(first.key, "device[1]");
  EXPECT_EQ(first.location.line, 10);
  EXPECT_EQ(first.location.column, 1);

  const DeviceConfig& second = config.devices[1];
  EXPECT_EQ(second.name, "iwatt6");
  EXPECT_EQ(second.url, "http://192.168.1.6:8080/iotawatt");
  EXPECT_EQ(second.username, "");
  EXPECT_EQ(second.password_file, "");
  EXPECT_TRUE(second.channels.empty());
  EXPECT_EQ(second.key, "device[2]");

  ASSERT_EQ(config.label_rules.size(), 2u);
  EXPECT_EQ(config.label_rules[0].match, "Mains_*");
  EXPECT_EQ(config.label_rules[0].set, (Labels{{"type", "trunk"}, {"pair", "Mains"}}));
  EXPECT_EQ(config.label_rules[0].location.line, 22);
  EXPECT_EQ(config.label_rules[1].match, "Solar*");
  EXPECT_EQ(config.label_rules[1].set, (Labels{{"type", "solar"}}));

  ASSERT_EQ(config.derived.size(), 4u);
  const std::vector<std::string> names = {"load", "solar_a", "solar", "grid_import"};
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(config.derived[i].name, names[i]);
  }
  const DerivedSeries& solar = config.derived[2];
  EXPECT_EQ(solar.expression, "max(0, solar_a + solar_b)");
  EXPECT_EQ(solar.location.file, "/etc/iwx/config.toml");
  EXPECT_EQ(solar.location.line, 33);
  EXPECT_EQ(solar.location.column, 15);
  EXPECT_EQ(solar.first_column, 16);
  EXPECT_EQ(solar.At(8).column, 23);
}

TEST(ParseConfig, applies_defaults) {
  const Config config = ParseConfig(kDevice, "<embedded>");

  EXPECT_EQ(config.web.listen_address, "127.0.0.1:9980");
  EXPECT_EQ(config.web.telemetry_path, "/metrics");
  EXPECT_EQ(config.poll.interval, 10s);
  EXPECT_EQ(config.poll.timeout, 10s);
  EXPECT_EQ(config.poll.status_interval, 1min);
  EXPECT_TRUE(config.label_rules.empty());
  EXPECT_TRUE(config.derived.empty());
}

TEST(ParseConfig, raises_the_default_status_interval_to_the_poll_interval) {
  const Config config = ParseConfig(std::string("[poll]\ninterval = \"2m\"\n") + kDevice, "x");

  EXPECT_EQ(config.poll.interval, 2min);
  EXPECT_EQ(config.poll.status_interval, 2min);
}

TEST(ParseConfig, keeps_absolute_password_files) {
  const Config config =
      ParseConfig(std::string(kDevice) + "username = \"user\"\npassword_file = \"/run/pass\"\n",
                  "conf/config.toml");

  EXPECT_EQ(config.devices[0].password_file, "/run/pass");
}

TEST(ParseConfig, accepts_url_and_address_forms) {
  const std::vector<std::string> urls = {"http://iwatt5", "http://10.0.0.5:80",
                                         "http://[fe80::1]:8080/x/y", "http://a-b.c/"};
  for (const auto& url : urls) {
    const std::string text = "[[device]]\nname = \"d\"\nurl = \"" + url + "\"\n";
    EXPECT_EQ(ErrorOf(text), "no error") << url;
  }

  const std::vector<std::string> addresses = {"0.0.0.0:9980", "[::]:9980", "localhost:0"};
  for (const auto& address : addresses) {
    const std::string text = "[web]\nlisten_address = \"" + address + "\"\n" + kDevice;
    EXPECT_EQ(ErrorOf(text), "no error") << address;
  }
}

TEST(ParseConfig, reports_toml_syntax_errors_at_their_position) {
  ExpectErrors({
      {"[web\n",
       "test.toml:1:5: invalid TOML: Error while parsing table header: expected "
       "']', saw '\\n'"},
      {"[derived]\na = \"x\"\na = \"y\"\n",
       "test.toml:3:5: invalid TOML: Error while parsing key-value pair: cannot redefine "
       "existing string 'a'"},
  });
}

TEST(ParseConfig, rejects_unknown_keys_listing_the_accepted_ones) {
  const std::string device = kDevice;
  ExpectErrors({
      {"[webs]\n" + device,
       "test.toml:1:2: webs: unknown key \"webs\"; expected one of web, poll, state, "
       "victoriametrics, probe, device, labels, derived"},
      {"[web]\nlisten = \"a:1\"\n" + device,
       "test.toml:2:1: web.listen: unknown key \"listen\"; expected one of listen_address, "
       "telemetry_path"},
      {"[poll]\nperiod = \"10s\"\n" + device,
       "test.toml:2:1: poll.period: unknown key \"period\"; expected one of interval, timeout, "
       "status_interval"},
      {device + "user = \"x\"\n",
       "test.toml:4:1: device[1].user: unknown key \"user\"; expected one of name, url, "
       "username, password_file, password_env, channels, labels"},
      {device + "[[labels]]\nmatch = \"*\"\nset = { a = \"b\" }\nlabel = \"x\"\n",
       "test.toml:7:1: labels[1].label: unknown key \"label\"; expected one of match, set"},
  });
}

TEST(ParseConfig, rejects_values_of_the_wrong_type) {
  const std::string device = kDevice;
  ExpectErrors({
      {"[web]\nlisten_address = 9980\n" + device,
       "test.toml:2:18: web.listen_address: expected a string, got integer 9980"},
      {"poll = 5\n" + device, "test.toml:1:8: poll: expected a table, got integer 5"},
      {"[poll]\ninterval = 10\n" + device,
       "test.toml:2:12: poll.interval: expected a string, got integer 10"},
      {"[device]\nname = \"a\"\nurl = \"http://a\"\n",
       "test.toml:1:1: device: expected an array of tables ([[device]]), got a table"},
      {"device = [1]\n", "test.toml:1:11: device[1]: expected a table, got integer 1"},
      {device + "channels = \"Mains_1\"\n",
       "test.toml:4:12: device[1].channels: expected an array, got string \"Mains_1\""},
      {device + "channels = [true]\n",
       "test.toml:4:13: device[1].channels[1]: expected a string, got boolean true"},
      {device + "labels = [\"a\"]\n",
       "test.toml:4:10: device[1].labels: expected a table, got an array"},
      {device + "labels = { site = 1.5 }\n",
       "test.toml:4:19: device[1].labels.site: expected a string, got float 1.5"},
      {device + "[derived]\nx = 3\n", "test.toml:5:5: derived.x: expected a string, got integer 3"},
      {device + "[derived]\nx.y = \"a\"\n",
       "test.toml:5:1: derived.x: expected a string, got a table"},
  });
}

TEST(ParseConfig, rejects_bad_and_out_of_range_durations) {
  const std::string device = kDevice;
  ExpectErrors({
      {"[poll]\ninterval = \"10\"\n" + device,
       "test.toml:2:12: poll.interval: invalid duration \"10\": expected a number followed by a "
       "unit (ms, s, m, h, d, w), for example \"10s\" or \"1h30m\""},
      {"[poll]\ninterval = \"2s\"\n" + device,
       "test.toml:2:12: poll.interval: \"2s\" is out of range; expected 5s to 5m"},
      {"[poll]\ninterval = \"6m\"\n" + device,
       "test.toml:2:12: poll.interval: \"6m\" is out of range; expected 5s to 5m"},
      {"[poll]\ntimeout = \"500ms\"\n" + device,
       "test.toml:2:11: poll.timeout: \"500ms\" is out of range; expected 1s to 2m"},
      {"[poll]\ninterval = \"30s\"\nstatus_interval = \"20s\"\n" + device,
       "test.toml:3:19: poll.status_interval: \"20s\" is out of range; expected 30s to 10m"},
      {"[poll]\nstatus_interval = \"11m\"\n" + device,
       "test.toml:2:19: poll.status_interval: \"11m\" is out of range; expected 10s to 10m"},
  });
}

TEST(ParseConfig, rejects_bad_devices) {
  const std::string device = kDevice;
  ExpectErrors({
      {"",
       "test.toml:1:1: device: no device configured; expected at least one [[device]] "
       "table with name and url"},
      {"[web]\n",
       "test.toml:1:1: device: no device configured; expected at least one "
       "[[device]] table with name and url"},
      {"[[device]]\nurl = \"http://a\"\n",
       "test.toml:1:1: device[1].name: missing; expected a device name such as \"iwatt5\""},
      {"[[device]]\nname = \"a\"\n",
       "test.toml:1:1: device[1].url: missing; expected a URL such as \"http://iwatt5.local\""},
      {device + "\n[[device]]\nname = \"iwatt5\"\nurl = \"http://b\"\n",
       "test.toml:6:8: device[2].name: duplicate device name \"iwatt5\"; device[1] at line 1 "
       "already has it; expected unique names"},
      {"[[device]]\nname = \"iwatt-5\"\nurl = \"http://a\"\n",
       "test.toml:2:8: device[1].name: \"iwatt-5\" is not a valid device name; expected a letter "
       "or '_' followed by letters, digits or '_' (it is used in expressions)"},
      {"[[device]]\nname = \"5iwatt\"\nurl = \"http://a\"\n",
       "test.toml:2:8: device[1].name: \"5iwatt\" is not a valid device name; expected a letter "
       "or '_' followed by letters, digits or '_' (it is used in expressions)"},
      {device + "channels = [\"Mains_1\", \"\"]\n",
       "test.toml:4:24: device[1].channels[2]: empty channel name; expected a channel name as "
       "the device reports it, such as \"Mains_1\""},
      {device + "channels = [\"Mains_1\", \"Mains_1\"]\n",
       "test.toml:4:24: device[1].channels[2]: channel \"Mains_1\" is listed twice"},
      {device + "username = \"user\"\n",
       "test.toml:4:12: device[1].username: username \"user\" needs password_file or "
       "password_env too; expected both or neither"},
      {device + "password_file = \"p\"\n",
       "test.toml:4:17: device[1].password_file: password_file \"p\" needs username too "
       "(normally \"user\"); expected both or neither"},
  });
}

TEST(ParseConfig, reads_the_device_password_from_an_environment_variable) {
  const Config config = ParseConfig(
      std::string(kDevice) + "username = \"user\"\npassword_env = \"IWX_TEST_PASSWORD\"\n",
      "test.toml");
  const DeviceConfig& device = config.devices[0];
  EXPECT_EQ(device.username, "user");
  EXPECT_EQ(device.password_env, "IWX_TEST_PASSWORD");
  EXPECT_EQ(device.password_file, "");

  ::setenv("IWX_TEST_PASSWORD", "from the environment", 1);
  EXPECT_EQ(ReadDevicePassword(device), "from the environment");

  ::setenv("IWX_TEST_PASSWORD", "", 1);
  try {
    ReadDevicePassword(device);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "test.toml:1:1: device[1].password_env: environment variable "
              "\"IWX_TEST_PASSWORD\" is empty; expected it to hold the device's password");
  }

  ::unsetenv("IWX_TEST_PASSWORD");
  try {
    ReadDevicePassword(device);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "test.toml:1:1: device[1].password_env: environment variable "
              "\"IWX_TEST_PASSWORD\" is not set; expected it to hold the device's password");
  }
}

TEST(ParseConfig, a_device_without_credentials_has_an_empty_password) {
  const Config config = ParseConfig(kDevice, "test.toml");
  EXPECT_EQ(ReadDevicePassword(config.devices[0]), "");
}

TEST(ParseConfig, rejects_bad_password_sources) {
  const std::string device = kDevice;
  ExpectErrors({
      {device + "username = \"user\"\npassword_file = \"p\"\npassword_env = \"P\"\n",
       "test.toml:6:16: device[1].password_env: password_env \"P\" and password_file \"p\" "
       "are both set; expected only one of them"},
      {device + "password_env = \"P\"\n",
       "test.toml:4:16: device[1].password_env: password_env \"P\" needs username too "
       "(normally \"user\"); expected both or neither"},
      {device + "username = \"user\"\npassword_env = \"1PASS\"\n",
       "test.toml:5:16: device[1].password_env: \"1PASS\" is not an environment variable name; "
       "expected letters, digits or '_', not starting with a digit, such as "
       "\"IWX_PASSWORD\""},
      {device + "username = \"user\"\npassword_env = \"\"\n",
       "test.toml:5:16: device[1].password_env: \"\" is not an environment variable name; "
       "expected letters, digits or '_', not starting with a digit, such as "
       "\"IWX_PASSWORD\""},
  });
}

TEST(ParseConfig, reads_the_probe_allow_list) {
  EXPECT_TRUE(ParseConfig(kDevice, "test.toml").probe.allowed_targets.empty());

  const Config config =
      ParseConfig("[probe]\nallowed_targets = [\"http://10.0.0.*\", \"http://iwatt?.local:80\"]\n" +
                      std::string(kDevice),
                  "test.toml");
  EXPECT_EQ(config.probe.allowed_targets,
            (std::vector<std::string>{"http://10.0.0.*", "http://iwatt?.local:80"}));
}

TEST(ParseConfig, rejects_bad_probe_settings) {
  const std::string device = kDevice;
  const std::string glob_error =
      " is not a target glob; expected http://HOST[:PORT] where HOST and PORT may contain '*' "
      "and '?', such as \"http://10.0.0.*\" or \"http://iwatt*.local\"";
  ExpectErrors({
      {"[probe]\ntargets = []\n" + device,
       "test.toml:2:1: probe.targets: unknown key \"targets\"; expected one of allowed_targets"},
      {"[probe]\nallowed_targets = \"http://*\"\n" + device,
       "test.toml:2:19: probe.allowed_targets: expected an array, got string \"http://*\""},
      {"[probe]\nallowed_targets = [\"10.0.0.*\"]\n" + device,
       "test.toml:2:20: probe.allowed_targets[1]: \"10.0.0.*\"" + glob_error},
      {"[probe]\nallowed_targets = [\"http://a/*\"]\n" + device,
       "test.toml:2:20: probe.allowed_targets[1]: \"http://a/*\"" + glob_error},
      {"[probe]\nallowed_targets = [\"http://*@a\"]\n" + device,
       "test.toml:2:20: probe.allowed_targets[1]: \"http://*@a\"" + glob_error},
  });
}

TEST(ParseConfig, rejects_urls_other_than_plain_http) {
  const std::vector<std::string> urls = {
      "https://iwatt5.local", "iwatt5.local",   "http://",       "http://a:0", "http://a:99999",
      "http://a:x",           "http://a/b?c=1", "http://user@a", "http://a b", "ftp://a",
  };
  for (const auto& url : urls) {
    const std::string text = "[[device]]\nname = \"d\"\nurl = \"" + url + "\"\n";
    EXPECT_EQ(ErrorOf(text), "test.toml:3:7: device[1].url: \"" + url +
                                 "\" is not a supported URL; expected http://HOST[:PORT][/PATH] "
                                 "such as \"http://iwatt5.local\" (the device has no TLS)")
        << url;
  }
}

TEST(ParseConfig, rejects_bad_web_settings) {
  const std::string device = kDevice;
  const std::string address_error =
      " is not HOST:PORT; expected for example \"127.0.0.1:9980\", \"0.0.0.0:9980\" or "
      "\"[::]:9980\"";
  ExpectErrors({
      {"[web]\nlisten_address = \"localhost\"\n" + device,
       "test.toml:2:18: web.listen_address: \"localhost\"" + address_error},
      {"[web]\nlisten_address = \":9980\"\n" + device,
       "test.toml:2:18: web.listen_address: \":9980\"" + address_error},
      {"[web]\nlisten_address = \"a:70000\"\n" + device,
       "test.toml:2:18: web.listen_address: \"a:70000\"" + address_error},
      {"[web]\ntelemetry_path = \"metrics\"\n" + device,
       "test.toml:2:18: web.telemetry_path: \"metrics\" is not a path; expected a path such as "
       "\"/metrics\""},
      {"[web]\ntelemetry_path = \"/\"\n" + device,
       "test.toml:2:18: web.telemetry_path: \"/\" is the landing page; expected another path "
       "such as \"/metrics\""},
  });
}

TEST(ParseConfig, rejects_bad_label_names) {
  const std::string device = kDevice;
  const std::string rule = "[[labels]]\nmatch = \"Mains_*\"\n";
  ExpectErrors({
      {device + "labels = { my-label = \"x\" }\n",
       "test.toml:4:12: device[1].labels.my-label: \"my-label\" is not a valid label name; "
       "expected a letter or '_' followed by letters, digits or '_'"},
      {device + "labels = { __meta = \"x\" }\n",
       "test.toml:4:12: device[1].labels.__meta: \"__meta\" starts with \"__\", which Prometheus "
       "reserves for internal use"},
      {device + rule + "set = { type = \"trunk\", device = \"x\" }\n",
       "test.toml:6:25: labels[1].set.device: \"device\" is reserved: the exporter sets it"},
      {device + rule + "set = { channel = \"x\" }\n",
       "test.toml:6:9: labels[1].set.channel: \"channel\" is reserved: the exporter sets it"},
      {device + rule + "set = { name = \"x\" }\n",
       "test.toml:6:9: labels[1].set.name: \"name\" is reserved: the exporter sets it"},
      {device + rule + "set = { direction = \"x\" }\n",
       "test.toml:6:9: labels[1].set.direction: \"direction\" is reserved: the exporter sets it"},
      {device + rule + "set = { job = \"x\" }\n",
       "test.toml:6:9: labels[1].set.job: \"job\" is reserved: vmagent (or Prometheus) sets it"},
      {device + rule + "set = { instance = \"x\" }\n",
       "test.toml:6:9: labels[1].set.instance: \"instance\" is reserved: vmagent (or "
       "Prometheus) sets it"},
      {device + rule,
       "test.toml:4:1: labels[1].set: missing; expected labels to set, such as set = { type = "
       "\"trunk\" }"},
      {device + "[[labels]]\nset = { a = \"b\" }\n",
       "test.toml:4:1: labels[1].match: missing; expected a channel name glob such as "
       "\"Mains_*\""},
  });
}

TEST(ParseConfig, rejects_bad_derived_names) {
  const std::string device = kDevice;
  ExpectErrors({
      {device + "[derived]\n\"grid-import\" = \"1\"\n",
       "test.toml:5:1: derived.grid-import: \"grid-import\" is not a valid derived series name; "
       "expected a letter or '_' followed by letters, digits or '_' (it is used in "
       "expressions)"},
      {device + "[derived]\niwatt5 = \"1\"\n",
       "test.toml:5:1: derived.iwatt5: \"iwatt5\" is also the name of device[1]; expected "
       "distinct names for devices and derived series"},
      {device + "[derived]\na = \"1\"\n\"a\" = \"2\"\n",
       "test.toml:6:7: invalid TOML: Error while parsing key-value pair: cannot redefine "
       "existing string '\"a\"a\" '"},
  });
}

TEST(ParseConfig, reports_expression_syntax_errors_at_their_file_column) {
  const std::string device = kDevice;
  ExpectErrors({
      {device + "[derived]\nload = \"a + * b\"\n",
       "test.toml:5:13: derived.load: expected a number, a name or '(' but found '*' at column 5 "
       "of \"a + * b\""},
      {device + "[derived]\nload = 'abs(a, b)'\n",
       "test.toml:5:9: derived.load: abs takes exactly one argument, got 2 at column 1 of "
       "\"abs(a, b)\""},
      // An escape shifts the file columns; the error points at the string instead.
      {device + "[derived]\nload = \"\\u0061 + * b\"\n",
       "test.toml:5:8: derived.load: expected a number, a name or '(' but found '*' at column 5 "
       "of \"a + * b\""},
  });
}

TEST(ParseConfig, rejects_references_to_what_is_not_a_device) {
  const std::string devices =
      std::string(kDevice) + "[[device]]\nname = \"iwatt6\"\nurl = \"http://iwatt6\"\n";
  ExpectErrors({
      {devices + "[derived]\nload = \"2 * iwatt7.Mains_1\"\n",
       "test.toml:8:13: derived.load: \"iwatt7.Mains_1\": unknown device \"iwatt7\"; configured "
       "devices: iwatt5 and iwatt6"},
      {devices + "[derived]\nsolar = \"1\"\nload = \"solar.x + 1\"\n",
       "test.toml:9:9: derived.load: \"solar.x\": solar is a derived series, not a device, and "
       "has no channels; write solar"},
  });
}

TEST(ParseConfig, names_cycles_in_order) {
  const std::string device = kDevice;
  ExpectErrors({
      {device + "[derived]\na = \"b + 1\"\nb = \"2 * a\"\n",
       "test.toml:5:6: derived.a: cycle between derived series: a -> b -> a"},
      {device + "[derived]\nx = \"Mains_1\"\nb = \"c\"\nc = \"max(x, d)\"\nd = \"b\"\n",
       "test.toml:6:6: derived.b: cycle between derived series: b -> c -> d -> b"},
      {device + "[derived]\na = \"Mains_1 + a\"\n",
       "test.toml:5:16: derived.a: cycle between derived series: a -> a"},
  });
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("iwx_config_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path Write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(TempDir, loads_a_file_and_resolves_password_files_next_to_it) {
  Write("iwatt5.pass", "secret\nsecond line\n");
  const auto path = Write("config.toml", std::string(kDevice) +
                                             "username = \"user\"\npassword_file = "
                                             "\"iwatt5.pass\"\n");

  const Config config = LoadConfigFile(path);

  EXPECT_EQ(config.source, path.string());
  EXPECT_EQ(config.devices[0].password_file, (dir_ / "iwatt5.pass").string());
  EXPECT_EQ(ReadPasswordFile(config.devices[0]), "secret");
}

TEST_F(TempDir, reads_passwords_without_line_breaks) {
  DeviceConfig device;
  device.password_file = Write("crlf.pass", "secret\r\n").string();
  EXPECT_EQ(ReadPasswordFile(device), "secret");

  device.password_file = Write("bare.pass", "secret").string();
  EXPECT_EQ(ReadPasswordFile(device), "secret");
}

TEST_F(TempDir, names_the_file_and_the_reason_when_reading_fails) {
  const auto path = Write("config.toml", std::string(kDevice) +
                                             "username = \"user\"\npassword_file = "
                                             "\"missing.pass\"\n");
  const Config config = LoadConfigFile(path);

  try {
    ReadPasswordFile(config.devices[0]);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              path.string() + ":1:1: device[1].password_file: cannot read password file \"" +
                  (dir_ / "missing.pass").string() + "\": No such file or directory");
  }

  try {
    LoadConfigFile(dir_ / "absent.toml");
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& error) {
    const std::string absent = (dir_ / "absent.toml").string();
    EXPECT_EQ(std::string(error.what()), absent + ": cannot read configuration file \"" + absent +
                                             "\": No such file or directory");
  }
}

TEST(ParseConfig, reads_the_victoriametrics_table) {
  const Config config = ParseConfig(std::string(kDevice) + R"toml(
[victoriametrics]
url = "http://vminsert:8480/insert/0/prometheus/"
query_url = "http://vmselect:8481/select/0/prometheus"
extra_labels = { job = "iotawatt", instance = "127.0.0.1:9980" }
username = "backfill"
password_file = "vm.pass"
timeout = "1m"
device_share = 0.25
compress = true
)toml",
                                    "/etc/iwx/config.toml");

  const auto& vm = config.victoriametrics;
  EXPECT_EQ(vm.url, "http://vminsert:8480/insert/0/prometheus");
  EXPECT_EQ(vm.query_url, "http://vmselect:8481/select/0/prometheus");
  EXPECT_EQ(vm.extra_labels, (Labels{{"job", "iotawatt"}, {"instance", "127.0.0.1:9980"}}));
  EXPECT_EQ(vm.username, "backfill");
  EXPECT_EQ(vm.password_file, "/etc/iwx/vm.pass");
  EXPECT_EQ(vm.timeout, 1min);
  EXPECT_DOUBLE_EQ(vm.device_share, 0.25);
  EXPECT_EQ(vm.compress, true);
}

TEST(ParseConfig, reads_the_victoriametrics_password_from_an_environment_variable) {
  const Config config = ParseConfig(std::string(kDevice) +
                                        "[victoriametrics]\nurl = \"http://vm:8428\"\n"
                                        "username = \"backfill\"\npassword_env = \"IWX_VM_PASS\"\n",
                                    "test.toml");
  const auto& vm = config.victoriametrics;
  EXPECT_EQ(vm.username, "backfill");
  EXPECT_EQ(vm.password_env, "IWX_VM_PASS");

  ::setenv("IWX_VM_PASS", "vm secret", 1);
  EXPECT_EQ(ReadVictoriaMetricsPassword(vm, config.source), "vm secret");

  ::unsetenv("IWX_VM_PASS");
  try {
    ReadVictoriaMetricsPassword(vm, config.source);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "test.toml: victoriametrics.password_env: environment variable \"IWX_VM_PASS\" is "
              "not set; expected it to hold VictoriaMetrics' password");
  }
  EXPECT_EQ(ReadVictoriaMetricsPassword(ParseConfig(kDevice, "t").victoriametrics, "t"), "");
}

TEST(ParseConfig, victoriametrics_defaults_query_url_to_url) {
  const Config config =
      ParseConfig(std::string(kDevice) + "[victoriametrics]\nurl = \"https://vm:8428\"\n", "t");

  EXPECT_EQ(config.victoriametrics.query_url, "https://vm:8428");
  EXPECT_EQ(config.victoriametrics.timeout, 30s);
  EXPECT_DOUBLE_EQ(config.victoriametrics.device_share, 0.5);
  EXPECT_FALSE(config.victoriametrics.compress.has_value());
  EXPECT_TRUE(ParseConfig(kDevice, "t").victoriametrics.url.empty());
}

TEST(ParseConfig, rejects_bad_victoriametrics_values) {
  const std::string device = kDevice;
  ExpectErrors({
      {"[victoriametrics]\nurl = \"ftp://vm\"\n" + device,
       "test.toml:2:7: victoriametrics.url: \"ftp://vm\" is not a supported URL; expected "
       "http[s]://HOST[:PORT][/PATH] such as \"http://127.0.0.1:8428\" or "
       "\"http://vminsert:8480/insert/0/prometheus\""},
      {"[victoriametrics]\nquery_url = \"http://vm:8481\"\n" + device,
       "test.toml:1:1: victoriametrics.url: missing; expected a URL such as "
       "\"http://127.0.0.1:8428\""},
      {"[victoriametrics]\nurl = \"http://vm:8428\"\nport = 1\n" + device,
       "test.toml:3:1: victoriametrics.port: unknown key \"port\"; expected one of url, "
       "query_url, extra_labels, username, password_file, password_env, timeout, device_share, "
       "compress"},
      {"[victoriametrics]\nurl = \"http://vm:8428\"\nextra_labels = { device = \"x\" }\n" + device,
       "test.toml:3:18: victoriametrics.extra_labels.device: \"device\" is reserved: the "
       "exporter sets it"},
      {"[victoriametrics]\nurl = \"http://vm:8428\"\nextra_labels = { 1x = \"x\" }\n" + device,
       "test.toml:3:18: victoriametrics.extra_labels.1x: \"1x\" is not a valid label name; "
       "expected a letter or '_' followed by letters, digits or '_'"},
      {"[victoriametrics]\nurl = \"http://vm:8428\"\nusername = \"u\"\n" + device,
       "test.toml:3:12: victoriametrics.username: username \"u\" needs password_file or "
       "password_env too; expected both or neither"},
      {"[victoriametrics]\nurl = \"http://vm:8428\"\npassword_env = \"VM_PASS\"\n" + device,
       "test.toml:3:16: victoriametrics.password_env: password_env \"VM_PASS\" needs username "
       "too; expected both or neither"},
      {"[victoriametrics]\nurl = \"http://vm:8428\"\ncompress = \"yes\"\n" + device,
       "test.toml:3:12: victoriametrics.compress: string \"yes\" is not a boolean; expected "
       "true or false"},
      {"[victoriametrics]\nurl = \"http://vm:8428\"\ndevice_share = 2\n" + device,
       "test.toml:3:16: victoriametrics.device_share: integer 2 is not a share; expected a "
       "number from 0.01 to 1 such as 0.5 (the device answers backfill queries at most half "
       "of the time)"},
      {"[victoriametrics]\nurl = \"http://vm:8428\"\ntimeout = \"0s\"\n" + device,
       "test.toml:3:11: victoriametrics.timeout: \"0s\" is out of range; expected 1s to 10m"},
  });
}

TEST(ConfigError, keeps_location_and_key) {
  const ConfigError error(Location{"f.toml", 3, 7}, "poll.interval", "bad");

  EXPECT_STREQ(error.what(), "f.toml:3:7: poll.interval: bad");
  EXPECT_EQ(error.where().line, 3);
  EXPECT_EQ(error.key(), "poll.interval");
}

}  // namespace
}  // namespace iwx::config
