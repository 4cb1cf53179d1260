#include "iotawatt/client.hpp"

#include <future>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixtures.hpp"
#include "iotawatt/decode.hpp"
#include "test_server.hpp"

namespace iwx::iotawatt {
namespace {

using testing::FakeDevice;
using testing::ReadFixture;

constexpr auto kShortTimeout = std::chrono::milliseconds(300);

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Endpoint EndpointOf(const FakeDevice& device, std::string username = "",
                    std::string password = "") {
  Endpoint endpoint;
  endpoint.url = device.url();
  endpoint.username = std::move(username);
  endpoint.password = std::move(password);
  endpoint.timeout = std::chrono::seconds(5);
  return endpoint;
}

// The DeviceError that `call` throws; fails the test when there is none.
DeviceError ErrorOf(const std::function<void()>& call) {
  try {
    call();
  } catch (const DeviceError& error) {
    return error;
  }
  ADD_FAILURE() << "no DeviceError thrown";
  return DeviceError(FailureReason::kDecode, "(none)");
}

// A loopback port that nothing listens on: bound once by the kernel's choice, then freed.
int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

QueryRequest CapturedQuery() {
  QueryRequest request;
  for (int i = 0; i < 23; ++i) {
    request.columns.push_back("C" + std::to_string(i) + ".watts");
  }
  request.begin = 1731265880;
  request.end = 1731269480;
  request.group = "5m";
  return request;
}

TEST(FailureReasonName, names_match_the_metric_labels) {
  EXPECT_STREQ(FailureReasonName(FailureReason::kConnect), "connect");
  EXPECT_STREQ(FailureReasonName(FailureReason::kTimeout), "timeout");
  EXPECT_STREQ(FailureReasonName(FailureReason::kHttpStatus), "http_status");
  EXPECT_STREQ(FailureReasonName(FailureReason::kAuth), "auth");
  EXPECT_STREQ(FailureReasonName(FailureReason::kDecode), "decode");
}

TEST(Client, fetches_status_sections_without_credentials) {
  FakeDevice device;
  device.Serve("/status", ReadFixture("jeedom-status-stats.json"));
  Client client(EndpointOf(device));

  const StatusReport report = client.FetchStatus({"device", "stats", "inputs"});

  ASSERT_TRUE(report.stats.has_value());
  EXPECT_EQ(report.stats->version, "02_08_02");
  EXPECT_EQ(device.targets(), std::vector<std::string>{"/status?device&stats&inputs"});
  EXPECT_EQ(device.authorizations(), std::vector<std::string>{""});
  EXPECT_EQ(client.request_count(), 1u);
  EXPECT_EQ(client.url(), device.url());
}

TEST(Client, fetches_series_and_query_pages) {
  FakeDevice device;
  device.Serve("/query", ReadFixture("sivann-query-select-5m-header-with-time.compact.json"));
  Client client(EndpointOf(device));

  const QueryPage page = client.Query(CapturedQuery());

  EXPECT_EQ(page.rows.size(), 13u);
  EXPECT_EQ(page.labels.size(), 24u);
  EXPECT_EQ(device.targets().back(), BuildQueryTarget(CapturedQuery()));

  device.Serve("/query", R"({"series":[{"name":"Voltage","unit":"Volts"}]})");
  const std::vector<SeriesInfo> series = client.FetchSeries();
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].name, "Voltage");
  EXPECT_EQ(device.targets().back(), "/query?show=series");
}

TEST(Client, puts_the_path_prefix_of_the_url_before_every_request) {
  FakeDevice device;
  device.Serve("/iotawatt/status", R"({"device":{"name":"garage"}})");
  Endpoint endpoint = EndpointOf(device);
  endpoint.url += "/iotawatt/";
  Client client(endpoint);

  EXPECT_EQ(client.FetchStatus({"device"}).device->name, "garage");
  EXPECT_EQ(device.targets(), std::vector<std::string>{"/iotawatt/status?device"});
}

TEST(Client, reuses_the_digest_nonce_across_requests) {
  FakeDevice device;
  device.RequireDigest("admin", "s3cret", "IotaWatt");
  device.Serve("/status", ReadFixture("jeedom-status-device.json"));
  Client client(EndpointOf(device, "admin", "s3cret"));

  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client.FetchStatus({"device"}).device->name, "IotaWatt");
  }

  EXPECT_EQ(device.challenges_sent(), 1);
  EXPECT_EQ(client.request_count(), 4u);
  const std::vector<std::string> authorizations = device.authorizations();
  ASSERT_EQ(authorizations.size(), 4u);
  EXPECT_EQ(authorizations[0], "");
  EXPECT_PRED2(Contains, authorizations[1], "nc=00000001");
  EXPECT_PRED2(Contains, authorizations[3], "nc=00000003");
  EXPECT_PRED2(Contains, authorizations[3], ", uri=\"/status?device\"");
}

TEST(Client, authenticates_once_more_after_the_device_expires_the_nonce) {
  FakeDevice device;
  device.RequireDigest("admin", "s3cret", "IotaWatt");
  device.Serve("/status", ReadFixture("jeedom-status-device.json"));
  Client client(EndpointOf(device, "admin", "s3cret"));
  client.FetchStatus({"device"});
  client.FetchStatus({"device"});

  device.ExpireNonce();
  client.FetchStatus({"device"});
  client.FetchStatus({"device"});

  EXPECT_EQ(device.challenges_sent(), 2);
  EXPECT_EQ(client.request_count(), 6u);
  EXPECT_PRED2(Contains, device.authorizations().back(), "nc=00000002");
}

TEST(Client, wrong_password_is_an_auth_failure_naming_user_and_realm) {
  FakeDevice device;
  device.RequireDigest("admin", "s3cret", "Garage");
  device.Serve("/status", "{}");
  Client client(EndpointOf(device, "admin", "wrong"));

  const DeviceError error = ErrorOf([&] { client.FetchStatus({"stats"}); });

  EXPECT_EQ(error.reason(), FailureReason::kAuth);
  EXPECT_EQ(error.http_status(), 401);
  EXPECT_EQ(std::string(error.what()),
            "GET " + device.url() +
                "/status?stats: user \"admin\" was rejected by realm \"Garage\"; check username "
                "and its password");
  EXPECT_EQ(client.request_count(), 2u);
}

TEST(Client, missing_credentials_are_an_auth_failure) {
  FakeDevice device;
  device.RequireDigest("admin", "s3cret", "Garage");
  Client client(EndpointOf(device));

  const DeviceError error = ErrorOf([&] { client.FetchSeries(); });

  EXPECT_EQ(error.reason(), FailureReason::kAuth);
  EXPECT_EQ(std::string(error.what()),
            "GET " + device.url() +
                "/query?show=series: the device requires a password (HTTP 401, realm \"Garage\"); "
                "set username and password_file or password_env");
}

TEST(Client, http_error_status_carries_status_and_body_excerpt) {
  FakeDevice device;
  device.Serve("/query", R"({"error":"invalid query. Invalid group"})", 400);
  device.Serve("/status", "Internal failure\r\n", 500);
  Client client(EndpointOf(device));

  const DeviceError error = ErrorOf([&] { client.FetchStatus({"stats"}); });
  EXPECT_EQ(error.reason(), FailureReason::kHttpStatus);
  EXPECT_EQ(error.http_status(), 500);
  EXPECT_EQ(std::string(error.what()), "GET " + device.url() +
                                           "/status?stats: HTTP status 500 (expected 200), body "
                                           "\"Internal failure  \"");

  const DeviceError query = ErrorOf([&] { client.FetchSeries(); });
  EXPECT_EQ(query.http_status(), 400);
  EXPECT_PRED2(Contains, query.what(), R"(body "{"error":"invalid query. Invalid group"}")");
}

TEST(Client, undecodable_body_is_a_decode_failure_naming_the_request) {
  FakeDevice device;
  device.Serve("/status", "<html><body>Router login</body></html>");
  Client client(EndpointOf(device));

  const DeviceError error = ErrorOf([&] { client.FetchStatus({"inputs"}); });

  EXPECT_EQ(error.reason(), FailureReason::kDecode);
  EXPECT_PRED2(Contains, error.what(),
               "GET " + device.url() + "/status?inputs: /status: body is not valid JSON");
  EXPECT_PRED2(Contains, error.what(), "\"<html><body>Router login</body></html>\"");
}

TEST(Client, a_device_that_does_not_answer_times_out) {
  FakeDevice device;
  device.Hang("/status");
  Endpoint endpoint = EndpointOf(device);
  endpoint.timeout = kShortTimeout;
  Client client(endpoint);

  const DeviceError error = ErrorOf([&] { client.FetchStatus({"stats"}); });

  EXPECT_EQ(error.reason(), FailureReason::kTimeout);
  EXPECT_EQ(std::string(error.what()),
            "GET " + device.url() + "/status?stats: no answer within 300 ms");
}

TEST(Client, a_closed_port_is_a_connect_failure) {
  Endpoint endpoint;
  endpoint.url = "http://127.0.0.1:" + std::to_string(ClosedPort());
  endpoint.timeout = kShortTimeout;
  Client client(endpoint);

  const DeviceError error = ErrorOf([&] { client.FetchStatus({"stats"}); });

  EXPECT_EQ(error.reason(), FailureReason::kConnect);
  EXPECT_EQ(std::string(error.what()),
            "GET " + endpoint.url +
                "/status?stats: cannot connect (connection refused or host unreachable)");
}

TEST(Client, stop_aborts_a_hanging_request_and_later_calls_fail_at_once) {
  FakeDevice device;
  device.Hang("/status");
  Endpoint endpoint = EndpointOf(device);
  endpoint.timeout = std::chrono::seconds(30);
  Client client(endpoint);

  auto pending = std::async(std::launch::async,
                            [&] { return ErrorOf([&] { client.FetchStatus({"stats"}); }); });
  device.WaitUntilHanging();
  client.Stop();

  ASSERT_EQ(pending.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const DeviceError error = pending.get();
  EXPECT_EQ(error.reason(), FailureReason::kConnect);
  EXPECT_EQ(std::string(error.what()),
            "GET " + device.url() + "/status?stats: aborted because the client stopped");

  const DeviceError later = ErrorOf([&] { client.FetchSeries(); });
  EXPECT_EQ(later.reason(), FailureReason::kConnect);
  EXPECT_EQ(std::string(later.what()),
            "GET " + device.url() + "/query?show=series: client stopped");
  EXPECT_EQ(client.request_count(), 1u);
}

TEST(Client, rejects_a_url_without_scheme) {
  Endpoint endpoint;
  endpoint.url = "iotawatt.local";

  EXPECT_THROW(Client client(endpoint), std::invalid_argument);
}

}  // namespace
}  // namespace iwx::iotawatt
