// The built-in demonstration: a simulated two-unit installation and its configuration.
#pragma once

#include <string>

namespace iwx::cli {

/// The configuration of the simulated installation, with the units' URLs filled in.
std::string DemoConfigText(const std::string& iwatt5_url, const std::string& iwatt6_url);

}  // namespace iwx::cli
