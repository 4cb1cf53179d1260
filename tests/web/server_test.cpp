// The web server with TLS and basic authentication, through real HTTP clients.
#include "web/server.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include "test_support.hpp"
#include "web/web_config.hpp"

namespace iwx::web {
namespace {

const std::string kMetrics = "test_metric 1\n";

Handlers TestHandlers() {
  return Handlers{[] { return kMetrics; }, [] { return true; }, {}};
}

config::WebConfig Loopback() {
  config::WebConfig web;
  web.listen_address = "127.0.0.1:0";
  return web;
}

class Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::MakeSelfSignedCertificate(dir_.path())) {
      GTEST_SKIP() << "openssl cannot make a test certificate here";
    }
    cert_ = (dir_.path() / "cert.pem").string();
    key_ = (dir_.path() / "key.pem").string();
  }

  WebSecurity TlsSecurity() const {
    WebSecurity security;
    security.tls = TlsConfig{cert_, key_, ClientAuth::kNone, ""};
    return security;
  }

  testing::TempDir dir_;
  std::string cert_;
  std::string key_;
};

TEST_F(Tls, serves_https_to_a_client_that_trusts_the_certificate) {
  Server server(Loopback(), TestHandlers(), TlsSecurity());
  server.Start();

  httplib::SSLClient client("127.0.0.1", server.port());
  client.set_ca_cert_path(cert_.c_str());
  client.enable_server_certificate_verification(true);
  const auto response = client.Get("/metrics");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, kMetrics);

  // Without the certificate as CA the client refuses the server.
  httplib::SSLClient untrusting("127.0.0.1", server.port());
  untrusting.set_ca_cert_path((dir_.path() / "absent.pem").string().c_str());
  untrusting.enable_server_certificate_verification(true);
  EXPECT_FALSE(untrusting.Get("/metrics"));

  // Plain HTTP gets no answer.
  httplib::Client plain("127.0.0.1", server.port());
  plain.set_read_timeout(2, 0);
  const auto plain_response = plain.Get("/metrics");
  EXPECT_TRUE(!plain_response || plain_response->status != 200);
  server.Stop();
}

TEST_F(Tls, serves_https_to_curl) {
  int status = 0;
  testing::RunCommand("curl --version >/dev/null 2>&1", status);
  if (status != 0) {
    GTEST_SKIP() << "curl is not installed";
  }
  Server server(Loopback(), TestHandlers(), TlsSecurity());
  server.Start();
  const std::string output =
      testing::RunCommand("curl -sS --max-time 10 --cacert '" + cert_ +
                              "' https://127.0.0.1:" + std::to_string(server.port()) + "/metrics",
                          status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(output, kMetrics);
  server.Stop();
}

TEST_F(Tls, requires_a_client_certificate_signed_by_the_client_ca) {
  WebSecurity security = TlsSecurity();
  security.tls->client_auth = ClientAuth::kRequireAndVerify;
  // The self-signed certificate is its own CA: it serves as client certificate too.
  security.tls->client_ca_file = cert_;
  Server server(Loopback(), TestHandlers(), security);
  server.Start();

  httplib::SSLClient with_cert("127.0.0.1", server.port(), cert_, key_);
  with_cert.set_ca_cert_path(cert_.c_str());
  with_cert.enable_server_certificate_verification(true);
  const auto response = with_cert.Get("/metrics");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->body, kMetrics);

  httplib::SSLClient without_cert("127.0.0.1", server.port());
  without_cert.set_ca_cert_path(cert_.c_str());
  without_cert.enable_server_certificate_verification(true);
  const auto refused = without_cert.Get("/metrics");
  EXPECT_TRUE(!refused || refused->status != 200);
  server.Stop();
}

TEST_F(Tls, names_the_files_when_the_key_pair_cannot_be_loaded) {
  WebSecurity security = TlsSecurity();
  security.tls->key_file = (dir_.path() / "absent.key").string();
  Server server(Loopback(), TestHandlers(), security);
  try {
    server.Start();
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              "cannot serve HTTPS: the certificate \"" + cert_ + "\" or the key \"" +
                  security.tls->key_file +
                  "\" cannot be read or do not match; expected readable PEM files of one key "
                  "pair");
  }
}

TEST(BasicAuthServer, answers_401_without_valid_credentials_on_every_path) {
  const auto hash = testing::MakeBcryptHash("vmagent", "scrape-secret");
  if (!hash) {
    GTEST_SKIP() << "no way to make a bcrypt hash here (htpasswd, libcrypt)";
  }
  WebSecurity security;
  security.basic_auth_users = {{"vmagent", *hash}};
  Server server(Loopback(), TestHandlers(), security);
  server.Start();

  httplib::Client anonymous("127.0.0.1", server.port());
  for (const std::string path : {"/metrics", "/", "/-/healthy", "/-/ready", "/absent"}) {
    const auto response = anonymous.Get(path);
    ASSERT_TRUE(response) << path;
    EXPECT_EQ(response->status, 401) << path;
    EXPECT_EQ(response->get_header_value("WWW-Authenticate"), "Basic realm=\"iotawatt_exporter\"")
        << path;
  }

  httplib::Client wrong("127.0.0.1", server.port());
  wrong.set_basic_auth("vmagent", "guess");
  EXPECT_EQ(wrong.Get("/metrics")->status, 401);

  httplib::Client right("127.0.0.1", server.port());
  right.set_basic_auth("vmagent", "scrape-secret");
  for (int i = 0; i < 3; ++i) {
    const auto response = right.Get("/metrics");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, kMetrics);
  }
  EXPECT_EQ(right.Get("/-/healthy")->status, 200);
  server.Stop();
}

}  // namespace
}  // namespace iwx::web
