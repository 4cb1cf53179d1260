#include "backfill/vm_client.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <sstream>

#include <httplib.h>

#include "backfill/encoder.hpp"
#include "backfill/planner.hpp"
#include "log/log.hpp"
#include "util/strings.hpp"

namespace iwx::backfill {

namespace {

const log::Logger kLog("backfill");

// Longest response text quoted in an error message.
constexpr size_t kMaxQuotedBody = 500;

struct SplitUrl {
  std::string origin;  // "http://host:port"
  std::string prefix;  // "/insert/0/prometheus" or ""
};

SplitUrl Split(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos ||
      (url.substr(0, scheme_end) != "http" && url.substr(0, scheme_end) != "https")) {
    throw std::invalid_argument("VictoriaMetrics URL \"" + url +
                                "\" is not http[s]://HOST[:PORT][/PATH]");
  }
  const size_t path = url.find('/', scheme_end + 3);
  SplitUrl split{url.substr(0, path), path == std::string::npos ? "" : url.substr(path)};
  while (split.prefix.ends_with('/')) {
    split.prefix.pop_back();
  }
  return split;
}

// Whether "http://host[:port]" names this machine by a loopback name or address; other
// names that resolve to it (such as the host's own name) are not recognised.
bool IsLoopback(const std::string& origin) {
  std::string host = origin.substr(origin.find("://") + 3);
  host =
      host.starts_with("[") ? host.substr(0, host.find(']') + 1) : host.substr(0, host.find(':'));
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return host == "localhost" || host.starts_with("127.") || host == "[::1]";
}

std::unique_ptr<httplib::Client> MakeHttp(const std::string& origin, const VmEndpoint& endpoint) {
  auto http = std::make_unique<httplib::Client>(origin);
  if (!http->is_valid()) {
    throw std::invalid_argument("VictoriaMetrics URL \"" + origin +
                                "\" cannot be used: https needs a build with TLS support");
  }
  http->set_connection_timeout(endpoint.timeout);
  http->set_read_timeout(endpoint.timeout);
  http->set_write_timeout(endpoint.timeout);
  http->set_keep_alive(true);
  if (!endpoint.username.empty()) {
    http->set_basic_auth(endpoint.username, endpoint.password);
  }
  return http;
}

std::string Quoted(const std::string& body) {
  std::string text = body.substr(0, kMaxQuotedBody);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  return "\"" + text + (body.size() > kMaxQuotedBody ? "...\"" : "\"");
}

struct Attempt {
  int status = 0;  // 0: no answer
  std::string body;
  std::string error;  // transport error when status is 0
};

Attempt FromResult(const httplib::Result& result) {
  if (!result) {
    return {0, "", httplib::to_string(result.error())};
  }
  return {result->status, result->body, ""};
}

}  // namespace

VmAnswer ClassifyVmStatus(int status) {
  if (status >= 200 && status < 300) {
    return VmAnswer::kAccepted;
  }
  if (status == 0 || status == 429 || status >= 500) {
    return VmAnswer::kRetry;
  }
  return VmAnswer::kRefused;
}

struct VmClient::Impl {
  std::mutex mutex;
  SplitUrl import_url;
  SplitUrl query_url;
  std::unique_ptr<httplib::Client> import_http;
  std::unique_ptr<httplib::Client> query_http;
  bool failing = false;

  // Repeats `send` until VictoriaMetrics accepts, refuses, the deadline passes or a stop
  // is requested; returns the accepted answer's body.
  std::string Retry(const std::string& what, const RetryOptions& retry, const StopSignal& stop,
                    std::atomic<uint64_t>& requests, std::atomic<uint64_t>& retries,
                    const std::function<Attempt()>& send) {
    Backoff backoff(retry.initial, retry.max);
    const auto first_try = std::chrono::steady_clock::now();
    for (;;) {
      ++requests;
      const Attempt attempt = send();
      const VmAnswer answer = ClassifyVmStatus(attempt.status);
      if (answer == VmAnswer::kAccepted) {
        Recovered(what);
        return attempt.body;
      }
      const std::string cause = attempt.status == 0 ? attempt.error
                                                    : "HTTP " + std::to_string(attempt.status) +
                                                          " " + Quoted(attempt.body);
      if (answer == VmAnswer::kRefused) {
        throw VmError(what + ": VictoriaMetrics refused the request: " + cause);
      }

      const auto waited = std::chrono::steady_clock::now() - first_try;
      if (waited >= retry.deadline) {
        throw VmError(what + ": VictoriaMetrics did not accept the request within " +
                      std::to_string(retry.deadline.count() / 1000) + " s (last error: " + cause +
                      "); nothing after the last accepted batch was written, re-run with "
                      "--resume to continue");
      }
      Failing(what, cause);
      ++retries;
      if (!stop.SleepFor(backoff.Next())) {
        throw Interrupted(what + ": stopped while VictoriaMetrics was unavailable (" + cause + ")");
      }
    }
  }

  void Failing(const std::string& what, const std::string& cause) {
    if (!failing) {
      kLog.Warning("victoriametrics unavailable, retrying", {{"request", what}, {"error", cause}});
    }
    failing = true;
  }

  void Recovered(const std::string& what) {
    if (failing) {
      kLog.Info("victoriametrics available again", {{"request", what}});
    }
    failing = false;
  }
};

VmClient::VmClient(VmEndpoint endpoint, RetryOptions retry, const StopSignal& stop)
    : impl_(std::make_unique<Impl>()), retry_(retry), stop_(stop) {
  impl_->import_url = Split(endpoint.import_url);
  impl_->query_url = Split(endpoint.query_url.empty() ? endpoint.import_url : endpoint.query_url);
  impl_->import_http = MakeHttp(impl_->import_url.origin, endpoint);
  gzip_ = endpoint.gzip.value_or(!IsLoopback(impl_->import_url.origin));
  impl_->query_http = MakeHttp(impl_->query_url.origin, endpoint);
}

VmClient::~VmClient() {
  if (!background_.valid()) {
    return;
  }
  // An import is still in flight only when the run ended early (a stop, or a failure
  // elsewhere); there is nobody left to throw to.
  try {
    background_.get();
  } catch (const std::exception& error) {
    kLog.Warning("last import not accepted", {{"error", error.what()}});
  }
}

void VmClient::ImportInBackground(std::string json_lines) {
  std::string body = gzip_ ? Gzip(json_lines) : std::move(json_lines);
  WaitForImport();
  background_ = std::async(std::launch::async, [this, body = std::move(body)] { Post(body); });
}

void VmClient::Post(const std::string& body) {
  const httplib::Headers headers =
      gzip_ ? httplib::Headers{{"Content-Encoding", "gzip"}} : httplib::Headers{};
  const std::lock_guard lock(impl_->mutex);
  const std::string path = impl_->import_url.prefix + "/api/v1/import";
  const std::string what = "POST " + impl_->import_url.origin + path;
  impl_->Retry(what, retry_, stop_, requests_, retries_, [&] {
    return FromResult(
        impl_->import_http->Post(path, headers, body.data(), body.size(), "application/x-ndjson"));
  });
}

void VmClient::WaitForImport() {
  if (background_.valid()) {
    background_.get();
  }
}

std::string VmClient::Get(const std::string& what, const std::string& target, bool import_side) {
  const std::lock_guard lock(impl_->mutex);
  auto& http = import_side ? *impl_->import_http : *impl_->query_http;
  return impl_->Retry(what, retry_, stop_, requests_, retries_,
                      [&] { return FromResult(http.Get(target)); });
}

nlohmann::json VmClient::Query(const std::string& query, double time) {
  const std::string path = impl_->query_url.prefix + "/api/v1/query";
  const std::string target = path + "?query=" + util::UrlEncode(query) +
                             "&time=" + util::FormatDouble(time) + "&nocache=1";
  const std::string what = "GET " + impl_->query_url.origin + path + " " + query;
  const std::string body = Get(what, target, false);
  try {
    return nlohmann::json::parse(body).at("data").at("result");
  } catch (const nlohmann::json::exception& error) {
    throw VmError(what + ": unexpected answer " + Quoted(body) + ": " + error.what());
  }
}

void VmClient::Export(const std::string& selector, double start, double end,
                      const std::function<void(const nlohmann::json&)>& line) {
  const std::string path = impl_->query_url.prefix + "/api/v1/export";
  const std::string target = path + "?match%5B%5D=" + util::UrlEncode(selector) +
                             "&start=" + util::FormatDouble(start) +
                             "&end=" + util::FormatDouble(end);
  const std::string what = "GET " + impl_->query_url.origin + path + " " + selector;
  const std::string body = Get(what, target, false);

  std::istringstream lines(body);
  std::string text;
  while (std::getline(lines, text)) {
    if (text.empty()) {
      continue;
    }
    try {
      line(nlohmann::json::parse(text));
    } catch (const nlohmann::json::exception& error) {
      throw VmError(what + ": unexpected export line " + Quoted(text) + ": " + error.what());
    }
  }
}

std::map<std::string, std::string> VmClient::Flags() {
  std::map<std::string, std::string> flags;
  std::string body;
  {
    const std::lock_guard lock(impl_->mutex);
    ++requests_;
    const Attempt attempt = FromResult(impl_->query_http->Get("/flags"));
    if (ClassifyVmStatus(attempt.status) != VmAnswer::kAccepted) {
      kLog.Warning("cannot read victoriametrics flags",
                   {{"url", impl_->query_url.origin + "/flags"},
                    {"status", attempt.status},
                    {"error", attempt.error}});
      return flags;
    }
    body = attempt.body;
  }

  // One "-name=value" per line.
  std::istringstream lines(body);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t equals = line.find('=');
    if (line.starts_with("-") && equals != std::string::npos) {
      std::string value = line.substr(equals + 1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      flags[line.substr(0, equals)] = value;
    }
  }
  return flags;
}

}  // namespace iwx::backfill
