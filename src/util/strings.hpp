// Small string helpers shared by several subsystems.
#pragma once

#include <string>
#include <string_view>

namespace iwx::util {

/// Shell-style glob match: '*' matches any run of characters, '?' any one character.
bool GlobMatch(std::string_view pattern, std::string_view text) noexcept;

/// Percent-encodes everything outside RFC 3986's unreserved set.
std::string UrlEncode(std::string_view text);

/// Renders a double as the shortest text that reads back to the same value.
std::string FormatDouble(double value);

}  // namespace iwx::util
