// A small stand-in for an IoTaWatt on 127.0.0.1, for the client tests: canned bodies per
// path, optional Digest authentication checked like the firmware does, and a path that
// hangs until released.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

namespace iwx::iotawatt::testing {

class FakeDevice {
 public:
  /// Listens on an ephemeral port of 127.0.0.1 at once. \throw std::runtime_error
  FakeDevice();
  /// Releases hanging requests and stops the server thread.
  ~FakeDevice();

  FakeDevice(const FakeDevice&) = delete;
  FakeDevice& operator=(const FakeDevice&) = delete;

  /// "http://127.0.0.1:<port>".
  std::string url() const;

  /// Answers GET `path` (no query string) with this status and body.
  void Serve(const std::string& path, std::string body, int status = 200);

  /// GET `path` blocks until the device is destroyed.
  void Hang(const std::string& path);

  /// Demands Digest credentials for every request from now on.
  void RequireDigest(std::string username, std::string password, std::string realm);

  /// Forgets the current nonce, as the firmware does after 600 s without use.
  void ExpireNonce();

  /// Blocks until a request has entered a hanging path.
  void WaitUntilHanging();

  int challenges_sent() const;
  /// Request targets (path and query) in arrival order.
  std::vector<std::string> targets() const;
  /// Authorization header values in arrival order (empty when absent).
  std::vector<std::string> authorizations() const;

 private:
  void Handle(const httplib::Request& request, httplib::Response& response);
  bool Authorized(const httplib::Request& request);
  void Challenge(httplib::Response& response);

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::pair<int, std::string>> routes_;
  std::vector<std::string> hanging_paths_;
  bool released_ = false;
  int hanging_ = 0;

  std::string username_;
  std::string password_;
  std::string realm_;
  std::string nonce_;
  unsigned long last_nc_ = 0;
  int challenges_sent_ = 0;
  std::vector<std::string> targets_;
  std::vector<std::string> authorizations_;
};

}  // namespace iwx::iotawatt::testing
