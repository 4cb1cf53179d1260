#include "vm_process.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <httplib.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace iwx::backfill::testing {

namespace {

uint16_t FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

}  // namespace

std::string LineKey(const std::map<std::string, std::string>& labels) {
  std::string key;
  for (const auto& [name, value] : labels) {
    key += (key.empty() ? "" : ",") + name + "=" + value;
  }
  return key;
}

std::string VmProcess::FindBinary() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = dir + "/victoria-metrics";
    if (access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

VmProcess::VmProcess(bool dedup) : dedup_(dedup), port_(FreePort()) {
  char tmpl[] = "/tmp/iwx-bf-vm.XXXXXX";
  data_dir_ = mkdtemp(tmpl);
  Start();
}

VmProcess::~VmProcess() {
  Stop();
  std::filesystem::remove_all(data_dir_);
}

void VmProcess::Start() {
  const std::string binary = FindBinary();
  std::vector<std::string> args = {binary,
                                   "-storageDataPath=" + data_dir_,
                                   "-httpListenAddr=127.0.0.1:" + std::to_string(port_),
                                   "-retentionPeriod=100y",
                                   "-search.disableCache",
                                   "-search.latencyOffset=1s",
                                   "-loggerLevel=ERROR"};
  if (dedup_) {
    args.push_back("-dedup.minScrapeInterval=1ms");
  }
  pid_ = fork();
  if (pid_ == 0) {
    std::vector<char*> argv;
    for (auto& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }

  httplib::Client http("127.0.0.1", port_);
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("victoria-metrics exited at start-up on port " +
                               std::to_string(port_));
    }
    if (auto result = http.Get("/health"); result && result->status == 200) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("victoria-metrics did not become healthy");
}

void VmProcess::Stop() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

std::string VmProcess::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void VmProcess::Post(const std::string& path, const std::string& body) {
  httplib::Client http("127.0.0.1", port_);
  http.set_read_timeout(std::chrono::seconds(30));
  const auto result = http.Post(path, body, "application/x-www-form-urlencoded");
  if (!result || result->status / 100 != 2) {
    throw std::runtime_error("POST " + path + " failed");
  }
}

std::map<std::string, Samples> VmProcess::Export(const std::string& selector) {
  httplib::Client http("127.0.0.1", port_);
  http.set_read_timeout(std::chrono::seconds(60));
  const auto result = http.Post(
      "/api/v1/export",
      "match[]=" + httplib::detail::encode_query_param(selector) + "&start=1&end=4000000000",
      "application/x-www-form-urlencoded");
  std::map<std::string, Samples> series;
  if (!result || result->status != 200) {
    return series;
  }
  std::istringstream lines(result->body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) {
      continue;
    }
    const auto json = nlohmann::json::parse(line);
    auto& samples = series[LineKey(json.at("metric").get<std::map<std::string, std::string>>())];
    for (size_t i = 0; i < json.at("timestamps").size(); ++i) {
      samples.emplace_back(json["timestamps"][i].get<int64_t>(), json["values"][i].get<double>());
    }
  }
  return series;
}

std::map<std::string, Samples> VmProcess::ExportWhenCount(const std::string& selector,
                                                          size_t expected) {
  httplib::Client http("127.0.0.1", port_);
  http.Get("/internal/force_flush");
  std::map<std::string, Samples> series;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    series = Export(selector);
    size_t count = 0;
    for (const auto& [key, samples] : series) {
      count += samples.size();
    }
    if (count >= expected) {
      return series;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return series;
}

}  // namespace iwx::backfill::testing
