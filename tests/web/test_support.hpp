// Temporary directories, external commands and test credentials for the web tests.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace iwx::testing {

/// A fresh directory under the system's temporary directory, removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// Writes `text` to `name` in the directory; returns the full path.
  std::string Write(const std::string& name, const std::string& text) const;

 private:
  std::filesystem::path path_;
};

/// Runs a shell command; returns its stdout, and its exit status in `status`.
std::string RunCommand(const std::string& command, int& status);

/// A bcrypt hash of `password`: from `htpasswd -nbBC 10` when installed, else from
/// libcrypt with a generated $2b$ salt; nullopt when neither works.
std::optional<std::string> MakeBcryptHash(const std::string& user, const std::string& password);

/// Writes a self-signed certificate for 127.0.0.1 (cert.pem, key.pem) into `dir` with
/// openssl; false when openssl is missing or fails.
bool MakeSelfSignedCertificate(const std::filesystem::path& dir);

}  // namespace iwx::testing
