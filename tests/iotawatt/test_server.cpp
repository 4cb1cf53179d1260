#include "test_server.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "iotawatt/digest.hpp"
#include "util/md5.hpp"

namespace iwx::iotawatt::testing {
namespace {

constexpr auto kLongestHang = std::chrono::seconds(20);

}  // namespace

FakeDevice::FakeDevice() {
  server_.Get(".*", [this](const httplib::Request& request, httplib::Response& response) {
    Handle(request, response);
  });
  port_ = server_.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) {
    throw std::runtime_error("fake device cannot bind a port on 127.0.0.1");
  }
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  // Connections wait in the backlog of the bound socket, but a test that stops the
  // server at once needs the accept loop running first.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

FakeDevice::~FakeDevice() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    released_ = true;
  }
  changed_.notify_all();
  server_.stop();
  thread_.join();
}

std::string FakeDevice::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void FakeDevice::Serve(const std::string& path, std::string body, int status) {
  const std::lock_guard<std::mutex> lock(mutex_);
  routes_[path] = {status, std::move(body)};
}

void FakeDevice::Hang(const std::string& path) {
  const std::lock_guard<std::mutex> lock(mutex_);
  hanging_paths_.push_back(path);
}

void FakeDevice::RequireDigest(std::string username, std::string password, std::string realm) {
  const std::lock_guard<std::mutex> lock(mutex_);
  username_ = std::move(username);
  password_ = std::move(password);
  realm_ = std::move(realm);
}

void FakeDevice::ExpireNonce() {
  const std::lock_guard<std::mutex> lock(mutex_);
  nonce_.clear();
}

void FakeDevice::WaitUntilHanging() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return hanging_ > 0; });
}

int FakeDevice::challenges_sent() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return challenges_sent_;
}

std::vector<std::string> FakeDevice::targets() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return targets_;
}

std::vector<std::string> FakeDevice::authorizations() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return authorizations_;
}

void FakeDevice::Handle(const httplib::Request& request, httplib::Response& response) {
  std::unique_lock<std::mutex> lock(mutex_);
  targets_.push_back(request.target);
  authorizations_.push_back(request.get_header_value("Authorization"));

  if (!username_.empty() && !Authorized(request)) {
    Challenge(response);
    return;
  }

  const bool hangs =
      std::find(hanging_paths_.begin(), hanging_paths_.end(), request.path) != hanging_paths_.end();
  if (hangs) {
    // Like a device busy with a long query: nothing is sent until the test ends.
    ++hanging_;
    changed_.notify_all();
    changed_.wait_for(lock, kLongestHang, [this] { return released_; });
    return;
  }

  const auto route = routes_.find(request.path);
  if (route == routes_.end()) {
    response.status = 404;
    response.set_content("Not found: GET, URI: " + request.path, "text/plain");
    return;
  }
  response.status = route->second.first;
  response.set_content(route->second.second, "application/json");
}

// The firmware's checks: known nonce, an nc above the last one, and the MD5 response
// over what the client sent as uri.
bool FakeDevice::Authorized(const httplib::Request& request) {
  const auto params = ParseDigestParams(request.get_header_value("Authorization"));
  if (!params || nonce_.empty()) {
    return false;
  }
  const auto field = [&](const char* name) {
    const auto found = params->find(name);
    return found == params->end() ? std::string() : found->second;
  };
  const unsigned long nc = std::stoul(field("nc").empty() ? "0" : field("nc"), nullptr, 16);
  if (field("username") != username_ || field("realm") != realm_ || field("nonce") != nonce_ ||
      field("qop") != "auth" || nc <= last_nc_) {
    return false;
  }

  const std::string ha1 = util::Md5Hex(username_ + ":" + realm_ + ":" + password_);
  const std::string ha2 = util::Md5Hex("GET:" + field("uri"));
  const std::string expected =
      util::Md5Hex(ha1 + ":" + nonce_ + ":" + field("nc") + ":" + field("cnonce") + ":auth:" + ha2);
  if (field("response") != expected) {
    return false;
  }
  last_nc_ = nc;
  return true;
}

void FakeDevice::Challenge(httplib::Response& response) {
  char nonce[33];
  std::snprintf(nonce, sizeof(nonce), "%032x", static_cast<unsigned>(++challenges_sent_));
  nonce_ = nonce;
  last_nc_ = 0;
  response.status = 401;
  response.set_header("WWW-Authenticate",
                      "Digest realm=\"" + realm_ + "\",qop=\"auth\",nonce=\"" + nonce_ + "\"");
  response.set_content("IoTaWatt-Login", "text/html");
}

}  // namespace iwx::iotawatt::testing
