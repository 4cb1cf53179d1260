// MD5, needed only for HTTP Digest authentication (the IoTaWatt supports nothing else).
#pragma once

#include <string>
#include <string_view>

namespace iwx::util {

/// Lower-case hex MD5 of a text.
std::string Md5Hex(std::string_view text);

}  // namespace iwx::util
