#include "test_support.hpp"

#include <array>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>

#include <crypt.h>
#include <sys/wait.h>
#include <unistd.h>

namespace iwx::testing {

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          ("iwx_web_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::Write(const std::string& name, const std::string& text) const {
  const auto file = path_ / name;
  std::ofstream(file, std::ios::binary) << text;
  return file.string();
}

std::string RunCommand(const std::string& command, int& status) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    status = -1;
    return output;
  }
  std::array<char, 4096> buffer{};
  size_t count = 0;
  while ((count = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    output.append(buffer.data(), count);
  }
  const int raw = ::pclose(pipe);
  status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return output;
}

std::optional<std::string> MakeBcryptHash(const std::string& user, const std::string& password) {
  int status = 0;
  std::string line =
      RunCommand("htpasswd -nbBC 10 '" + user + "' '" + password + "' 2>/dev/null", status);
  const size_t colon = line.find(':');
  if (status == 0 && colon != std::string::npos) {
    line = line.substr(colon + 1);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
      line.pop_back();
    }
    return line;
  }

  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> salt{};
  if (crypt_gensalt_rn("$2b$", 10, nullptr, 0, salt.data(), static_cast<int>(salt.size())) ==
      nullptr) {
    return std::nullopt;
  }
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_r(password.c_str(), salt.data(), data.get());
  if (hash == nullptr || hash[0] == '*') {
    return std::nullopt;
  }
  return std::string(hash);
}

bool MakeSelfSignedCertificate(const std::filesystem::path& dir) {
  const std::string cert = (dir / "cert.pem").string();
  const std::string key = (dir / "key.pem").string();
  int status = 0;
  RunCommand(
      "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -addext "
      "subjectAltName=IP:127.0.0.1 -days 1 -keyout '" +
          key + "' -out '" + cert + "' >/dev/null 2>&1",
      status);
  return status == 0 && std::filesystem::exists(cert) && std::filesystem::exists(key);
}

}  // namespace iwx::testing
