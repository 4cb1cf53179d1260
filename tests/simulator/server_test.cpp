#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "simulator/digest_auth.hpp"
#include "test_support.hpp"
#include "util/md5.hpp"

namespace iwx::sim {
namespace {

using testing::kNow;

class ServerTest : public ::testing::Test {
 protected:
  explicit ServerTest(std::string password = "")
      : clock_(Clock::Fixed(kNow * 1000)), server_(MakeModel(password, clock_)) {
    port_ = server_.Start();
  }

  static std::shared_ptr<UnitModel> MakeModel(const std::string& password,
                                              std::shared_ptr<Clock> clock) {
    UnitSpec spec = testing::SmallUnit();
    spec.user_password = password;
    return std::make_shared<UnitModel>(spec, std::move(clock));
  }

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(5, 0);
    return client;
  }

  std::shared_ptr<Clock> clock_;
  UnitServer server_;
  uint16_t port_ = 0;
};

TEST_F(ServerTest, unknown_paths_and_methods_get_the_firmware_404) {
  auto client = Client();
  auto get = client.Get("/nothing/here?x=1");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 404);
  EXPECT_EQ(get->body, "Not found: GET, URI: /nothing/here");
  auto post = client.Post("/status", "", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 404);
  EXPECT_EQ(post->body, "Not found: POST, URI: /status");
  auto null_request = client.Get("/nullreq");
  ASSERT_TRUE(null_request);
  EXPECT_EQ(null_request->status, 200);
  EXPECT_EQ(null_request->body, "");
}

TEST_F(ServerTest, status_and_query_over_http_are_counted) {
  auto client = Client();
  auto status = client.Get("/status?device&datalogs");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(status->body.rfind("{\"device\":{\"name\":\"small\"", 0), 0u);
  auto series = client.Get("/query?show=series");
  ASSERT_TRUE(series);
  auto select =
      client.Get("/query?select=%5Btime.utc.unix,Load%5D&begin=s-1h&end=s&group=5m&header=yes");
  ASSERT_TRUE(select);
  EXPECT_EQ(select->status, 200);
  EXPECT_NE(select->body.find("\r\n\"data\":[["), std::string::npos);
  auto error = client.Get("/query?select=%5BLoad%5D");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->status, 400);
  EXPECT_EQ(error->get_header_value("Content-Type"), "text/plain");
  const RequestStats stats = server_.stats();
  EXPECT_EQ(stats.status, 1u);
  EXPECT_EQ(stats.query_series, 1u);
  EXPECT_EQ(stats.query_select, 2u);
  EXPECT_EQ(stats.total(), 4u);
}

TEST_F(ServerTest, faults_500_garbage_truncated_and_slow) {
  auto client = Client();
  server_.SetFault({FaultKind::kHttp500, {}});
  auto failed = client.Get("/status?device");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 500);

  server_.SetFault({FaultKind::kGarbage, {}});
  auto garbage = client.Get("/status?device");
  ASSERT_TRUE(garbage);
  EXPECT_FALSE(nlohmann::json::accept(garbage->body));

  server_.SetFault({FaultKind::kTruncated, {}});
  auto truncated = client.Get("/status?device&stats&inputs");
  EXPECT_TRUE(!truncated || truncated->body.size() < 200);

  server_.SetFault({FaultKind::kSlow, std::chrono::milliseconds(50)});
  auto slow = client.Get("/status?device");
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->status, 200);
}

TEST_F(ServerTest, refuse_closes_the_port_and_reopens_it_when_cleared) {
  server_.SetFault({FaultKind::kRefuse, {}});
  auto client = Client();
  client.set_connection_timeout(1, 0);
  auto refused = client.Get("/nullreq");
  EXPECT_FALSE(refused);
  server_.SetFault({FaultKind::kNone, {}});
  auto again = Client().Get("/nullreq");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(server_.port(), port_);
}

TEST_F(ServerTest, hang_answers_nothing_until_cleared_and_stop_releases_it) {
  server_.SetFault({FaultKind::kHang, {}});
  auto client = Client();
  client.set_read_timeout(0, 300'000);
  EXPECT_FALSE(client.Get("/nullreq"));
  server_.SetFault({FaultKind::kNone, {}});
  auto answered = Client().Get("/nullreq");
  ASSERT_TRUE(answered);

  server_.SetFault({FaultKind::kHang, {}});
  std::thread waiting([this] { Client().Get("/nullreq"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server_.Stop();
  waiting.join();
}

std::string DigestHeader(const std::string& challenge, const std::string& password,
                         const std::string& uri, const std::string& nc) {
  auto field = [&challenge](const std::string& name) {
    const size_t start = challenge.find(name + "=\"") + name.size() + 2;
    return challenge.substr(start, challenge.find('"', start) - start);
  };
  const std::string realm = field("realm");
  const std::string nonce = field("nonce");
  const std::string cnonce = "0a4f113b";
  const std::string ha1 = util::Md5Hex("user:" + realm + ":" + password);
  const std::string ha2 = util::Md5Hex("GET:" + uri);
  const std::string response =
      util::Md5Hex(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2);
  return "Digest username=\"user\", realm=\"" + realm + "\", nonce=\"" + nonce +
         "\", qop=auth, nc=" + nc + ", cnonce=\"" + cnonce + "\", response=\"" + response +
         "\", uri=\"" + uri + "\"";
}

class DigestServerTest : public ServerTest {
 protected:
  DigestServerTest() : ServerTest("pa55word") {}
};

TEST_F(DigestServerTest, challenge_then_success_then_replay_rejected) {
  auto client = Client();
  auto challenge = client.Get("/status?device");
  ASSERT_TRUE(challenge);
  EXPECT_EQ(challenge->status, 401);
  EXPECT_EQ(challenge->body, "IoTaWatt-Login");
  const std::string header = challenge->get_header_value("WWW-Authenticate");
  EXPECT_EQ(header.rfind("Digest realm=\"small\",qop=\"auth\",nonce=\"", 0), 0u) << header;
  EXPECT_EQ(header.size(),
            std::string("Digest realm=\"small\",qop=\"auth\",nonce=\"\"").size() + 32);

  auto first = client.Get(
      "/status?device",
      {{"Authorization", DigestHeader(header, "pa55word", "/status?device", "00000001")}});
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  auto next = client.Get(
      "/nullreq", {{"Authorization", DigestHeader(header, "pa55word", "/nullreq", "00000002")}});
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  auto replay = client.Get(
      "/nullreq", {{"Authorization", DigestHeader(header, "pa55word", "/nullreq", "00000002")}});
  ASSERT_TRUE(replay);
  EXPECT_EQ(replay->status, 401);
  auto wrong = client.Get(
      "/nullreq", {{"Authorization", DigestHeader(header, "guess", "/nullreq", "00000003")}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto unknown_path = client.Get("/missing");
  ASSERT_TRUE(unknown_path);
  EXPECT_EQ(unknown_path->status, 401);  // the auth check comes before the 404
  EXPECT_EQ(server_.stats().unauthorized, 4u);
}

TEST(DigestAuth, nonce_counts_tolerate_reordering_but_not_repeats_and_sessions_expire) {
  auto now = std::chrono::steady_clock::time_point{};
  DigestAuth auth("dev", "pw", [&now] { return now; });
  const std::string header = auth.Challenge();
  auto verify = [&](const std::string& nc) {
    return auth.Verify("GET",
                       DigestHeader("Digest realm=\"dev\",qop=\"auth\",nonce=\"" +
                                        header.substr(header.find("nonce=\"") + 7, 32) + "\"",
                                    "pw", "/x", nc));
  };
  EXPECT_TRUE(verify("00000005"));
  EXPECT_TRUE(verify("00000007"));
  EXPECT_TRUE(verify("00000006"));   // later than the oldest of the last four, not seen
  EXPECT_FALSE(verify("00000007"));  // a repeat
  EXPECT_FALSE(verify("00000004"));  // older than the oldest
  now += std::chrono::seconds(599);
  EXPECT_TRUE(verify("00000008"));
  now += std::chrono::seconds(601);
  EXPECT_FALSE(verify("00000009"));  // idle too long: the client must re-authenticate
}

}  // namespace
}  // namespace iwx::sim
