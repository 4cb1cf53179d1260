// Number formatting exactly as the firmware prints it.
#pragma once

#include <string>

namespace iwx::sim {

/// A /query value: `decimals` places, then trailing zeros and a trailing '.' removed
/// ("333.0" -> "333", "0.50" -> "0.5"); never an exponent. NaN prints as 0.
std::string FormatQueryValue(double value, int decimals);

/// A /status float as ArduinoJson 5 prints it: single precision, about 7 significant
/// digits, trailing zeros dropped, exponent notation at >= 1e7 or < 1e-5 in magnitude.
std::string FormatStatusFloat(double value);

/// The /status `Watts` string: the rounded power right-aligned to width 2, " 0" for any
/// value strictly between -2 and 2.
std::string FormatStatusWatts(double watts);

}  // namespace iwx::sim
