#include "web/web_config.hpp"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace iwx::web {
namespace {

// A syntactically valid bcrypt hash (cost 10); never verified in these tests.
constexpr const char* kHash = "$2y$10$5W3oYpWKm1y4i3w9j3n1pO9yq2d4xI2aGm8nZc5dJ0tR3fQ6vH1yW";

std::string ErrorOf(const std::string& text) {
  try {
    ParseWebConfig(text, "/etc/iwx/web.yml");
  } catch (const WebConfigError& error) {
    return error.what();
  }
  return "no error";
}

TEST(WebConfig, an_empty_file_asks_for_plain_http_without_authentication) {
  const WebSecurity security = ParseWebConfig("# nothing\n\n", "web.yml");
  EXPECT_FALSE(security.tls.has_value());
  EXPECT_TRUE(security.basic_auth_users.empty());
}

TEST(WebConfig, reads_tls_and_users_with_comments_and_quotes) {
  const std::string text = std::string("---\n# TLS for the exporter\n") +
                           "tls_server_config:\n"
                           "  cert_file: server.crt   # relative to this file\n"
                           "  key_file: '/etc/ssl/private/server.key'\n"
                           "  client_auth_type: \"RequireAndVerifyClientCert\"\n"
                           "  client_ca_file: ca.pem\n"
                           "\n"
                           "basic_auth_users:\n"
                           "    vmagent: " +
                           kHash +
                           "\n"
                           "    \"second user\": '" +
                           kHash + "'  # quoted\n";
  const WebSecurity security = ParseWebConfig(text, "/etc/iwx/web.yml");

  ASSERT_TRUE(security.tls.has_value());
  EXPECT_EQ(security.tls->cert_file, "/etc/iwx/server.crt");
  EXPECT_EQ(security.tls->key_file, "/etc/ssl/private/server.key");
  EXPECT_EQ(security.tls->client_auth, ClientAuth::kRequireAndVerify);
  EXPECT_EQ(security.tls->client_ca_file, "/etc/iwx/ca.pem");
  EXPECT_EQ(security.basic_auth_users,
            (std::map<std::string, std::string>{{"second user", kHash}, {"vmagent", kHash}}));
}

TEST(WebConfig, reads_crlf_lines_escapes_and_empty_maps) {
  const WebSecurity security = ParseWebConfig(
      "tls_server_config:\r\n  cert_file: \"a\\\\b.crt\"\r\n  key_file: 'it''s.key'\r\n"
      "basic_auth_users: {}\r\n",
      "web.yml");
  ASSERT_TRUE(security.tls.has_value());
  EXPECT_EQ(security.tls->cert_file, "a\\b.crt");
  EXPECT_EQ(security.tls->key_file, "it's.key");
  EXPECT_EQ(security.tls->client_auth, ClientAuth::kNone);
  EXPECT_TRUE(security.basic_auth_users.empty());
}

TEST(WebConfig, names_file_line_and_key_of_every_problem) {
  const std::string tls = "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n";
  const std::string file = "/etc/iwx/web.yml";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"http_server_config:\n  http2: false\n",
       file + ":1: http_server_config: unknown key \"http_server_config\"; expected one of "
              "tls_server_config, basic_auth_users"},
      {tls + "  min_version: TLS13\n",
       file + ":4: tls_server_config.min_version: unknown key \"min_version\"; expected one of "
              "cert_file, key_file, client_auth_type, client_ca_file"},
      {"tls_server_config:\n  key_file: k.pem\n",
       file + ":1: tls_server_config.cert_file: missing; expected the path of the server's PEM "
              "certificate"},
      {"tls_server_config:\n  cert_file: c.pem\n",
       file + ":1: tls_server_config.key_file: missing; expected the path of the server's PEM "
              "private key"},
      {"tls_server_config:\n  cert_file: ''\n  key_file: k.pem\n",
       file + ":2: tls_server_config.cert_file: empty path; expected a file name"},
      {tls + "  client_auth_type: RequireAnyClientCert\n",
       file + ":4: tls_server_config.client_auth_type: \"RequireAnyClientCert\" is not "
              "supported; expected NoClientCert or RequireAndVerifyClientCert"},
      {tls + "  client_auth_type: RequireAndVerifyClientCert\n",
       file + ":4: tls_server_config.client_ca_file: missing; RequireAndVerifyClientCert needs "
              "the PEM file of the CAs that sign client certificates"},
      {tls + "  client_ca_file: ca.pem\n",
       file + ":4: tls_server_config.client_ca_file: \"ca.pem\" is set but client certificates "
              "are not checked; expected client_auth_type: RequireAndVerifyClientCert as well, "
              "or no client_ca_file"},
      {"tls_server_config: yes\n",
       file + ":1: tls_server_config: \"yes\" is a string; expected a map of keys on the "
              "following lines, indented"},
      {"basic_auth_users:\n  alice: secret\n",
       file + ":2: basic_auth_users.alice: the value is not a bcrypt hash (not shown: it may be "
              "a password); expected 60 characters starting with $2a$, $2b$ or $2y$ and a "
              "cost, such as the part after the colon of `htpasswd -nBC 10 alice`"},
      {"basic_auth_users:\n  \"a:b\": x\n",
       file + ":2: basic_auth_users.a:b: user name \"a:b\" cannot be used with basic "
              "authentication; expected a non-empty name without ':'"},
      {"basic_auth_users:\n  alice: " + std::string(kHash) + "\n  alice: " + kHash + "\n",
       file + ":3: basic_auth_users.alice: duplicate key; it is already set at line 2"},
      {tls + "tls_server_config:\n  cert_file: x\n",
       file + ":4: tls_server_config: duplicate key; it is already set at line 1"},
      {"basic_auth_users:\n  alice:\n",
       file + ":2: basic_auth_users.alice: missing value; expected a string after the colon"},
      {"basic_auth_users:\n  alice: " + std::string(kHash) + "\n    bob: " + kHash + "\n",
       file + ":3: basic_auth_users.bob: indented by 4 spaces where the previous keys are "
              "indented by 2; expected the same indentation (values are nested at most two "
              "levels deep)"},
      {"  cert_file: c.pem\n",
       file + ":1: indented line before any top-level key; expected a key at the start of the "
              "line"},
      {"tls_server_config: {cert_file: c.pem}\n",
       file + ":1: tls_server_config: \"{cert_file: c.pem}\" uses YAML syntax this reader does "
              "not support (flow collections, anchors, tags, block scalars); expected a plain "
              "or quoted string, or nested \"key: value\" lines"},
      {"basic_auth_users:\n  - alice\n",
       file + ":2: a list item; expected \"key: value\" (no key of the web configuration takes "
              "a list)"},
      {"basic_auth_users:\n\talice: x\n",
       file + ":2: tab in indentation; expected spaces (YAML forbids tabs there)"},
      {"tls_server_config\n",
       file + ":1: \"tls_server_config\" is not a \"key: value\" line; expected a key followed "
              "by a colon"},
      {"tls_server_config:\n  cert_file: \"c.pem\n",
       file + ":2: cert_file: unterminated double-quoted string; expected the closing quote on "
              "the same line"},
      {"tls_server_config:\n  cert_file: \"c\\x.pem\"\n",
       file + ":2: cert_file: unsupported escape \"\\x\" in a double-quoted string; expected "
              "\\\\, \\\", \\/, \\n or \\t"},
      {"tls_server_config:\n  cert_file: 'c.pem' extra\n",
       file + ":2: cert_file: text \"extra\" after the quoted value; expected a comment or "
              "nothing"},
      {"tls_server_config:\n  cert_file:c.pem\n",
       file + ":2: \"cert_file:c.pem\" is not a \"key: value\" line; expected a key followed "
              "by a colon"},
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(ErrorOf(text), expected) << text;
  }
}

TEST(WebConfig, names_an_unreadable_file) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "absent.yml").string();
  try {
    LoadWebConfigFile(path);
    ADD_FAILURE() << "no error";
  } catch (const WebConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              path + ": cannot read web configuration file: No such file or directory");
  }
}

TEST(WebConfig, loads_a_file_and_resolves_paths_next_to_it) {
  testing::TempDir dir;
  const std::string path =
      dir.Write("web.yml", "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n");
  const WebSecurity security = LoadWebConfigFile(path);
  ASSERT_TRUE(security.tls.has_value());
  EXPECT_EQ(security.tls->cert_file, (dir.path() / "c.pem").string());
  EXPECT_EQ(security.tls->key_file, (dir.path() / "k.pem").string());
}

}  // namespace
}  // namespace iwx::web
