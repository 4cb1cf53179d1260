// Access to the response bodies in tests/fixtures/iotawatt.
#pragma once

#include <string>

namespace iwx::iotawatt::testing {

/// The bytes of tests/fixtures/iotawatt/<name>, found through $IWX_FIXTURES.
/// \throw std::runtime_error naming the path when the file cannot be read.
std::string ReadFixture(const std::string& name);

}  // namespace iwx::iotawatt::testing
