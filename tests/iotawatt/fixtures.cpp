#include "fixtures.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace iwx::iotawatt::testing {

std::string ReadFixture(const std::string& name) {
  const char* root = std::getenv("IWX_FIXTURES");
  if (root == nullptr) {
    throw std::runtime_error("IWX_FIXTURES is not set; expected the path of tests/fixtures");
  }
  const std::string path = std::string(root) + "/iotawatt/" + name;
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw std::runtime_error("cannot read fixture " + path);
  }
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

}  // namespace iwx::iotawatt::testing
