// The --web.config.file: TLS and basic authentication of the exporter's own HTTP server, in
// the YAML format of the Prometheus exporter toolkit (the subset this exporter supports).
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace iwx::web {

/// A problem in the web configuration file. what() reads "FILE:LINE: KEY: MESSAGE" (":LINE"
/// left out when the problem is not on one line, "KEY: " when no key is concerned).
class WebConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// How the server treats client certificates.
enum class ClientAuth { kNone, kRequireAndVerify };

struct TlsConfig {
  /// PEM certificate (chain) and private key; paths relative to the web configuration file
  /// are resolved against its directory.
  std::string cert_file;
  std::string key_file;
  ClientAuth client_auth = ClientAuth::kNone;
  /// PEM bundle of the CAs that sign client certificates; set exactly when client_auth
  /// is kRequireAndVerify.
  std::string client_ca_file;
};

/// What the web configuration file asks for. Default: plain HTTP without authentication.
struct WebSecurity {
  /// Serve HTTPS when set.
  std::optional<TlsConfig> tls;
  /// User name -> bcrypt hash ($2a$, $2b$ or $2y$). Empty: no authentication.
  std::map<std::string, std::string> basic_auth_users;
};

/// Parses the file's text. Accepted: top-level keys `tls_server_config` (cert_file,
/// key_file, client_auth_type NoClientCert or RequireAndVerifyClientCert, client_ca_file)
/// and `basic_auth_users` (name: hash); YAML block mappings two levels deep, scalars
/// plain, 'single-' or "double-quoted", `#` comments, an empty map as `{}`.
/// \throw WebConfigError naming the file, line and key, quoting the bad value and saying
/// what was expected (also for unknown keys and for YAML outside that subset).
WebSecurity ParseWebConfig(std::string_view text, const std::string& source);

/// Reads and parses a file. \throw WebConfigError (also when it cannot be read).
WebSecurity LoadWebConfigFile(const std::string& path);

}  // namespace iwx::web
