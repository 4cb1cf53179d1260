#include "cli/demo.hpp"

#include <string_view>

namespace iwx::cli {

namespace {

constexpr std::string_view kDemoConfig = R"toml([web]
listen_address = "127.0.0.1:9980"

[poll]
interval = "10s"

[state]
file = ""  # the simulated history starts afresh at every run

[[device]]
name = "iwatt5"
url = "@IWATT5_URL@"

[[device]]
name = "iwatt6"
url = "@IWATT6_URL@"

[[labels]]
match = "Mains_*"
set = { type = "mains" }

[[labels]]
match = "Solar*"
set = { type = "solar" }

[derived]
load = "iwatt5.Mains_1 + iwatt5.Mains_2"
solar_a = "SolarA_1 + SolarA_2"
solar_b = "SolarB_1 + SolarB_2"
solar = "max(0, solar_a + solar_b)"
grid_import = "max(0, load - solar)"
grid_export = "max(0, solar - load)"
)toml";

void ReplaceFirst(std::string& text, std::string_view placeholder, const std::string& value) {
  const auto position = text.find(placeholder);
  if (position != std::string::npos) {
    text.replace(position, placeholder.size(), value);
  }
}

}  // namespace

std::string DemoConfigText(const std::string& iwatt5_url, const std::string& iwatt6_url) {
  std::string text(kDemoConfig);
  ReplaceFirst(text, "@IWATT5_URL@", iwatt5_url);
  ReplaceFirst(text, "@IWATT6_URL@", iwatt6_url);
  return text;
}

}  // namespace iwx::cli
