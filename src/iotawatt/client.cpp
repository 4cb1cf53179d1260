#include "iotawatt/client.hpp"

#include <functional>
#include <optional>

#include <httplib.h>

#include "iotawatt/decode.hpp"
#include "iotawatt/digest.hpp"
#include "log/log.hpp"
#include "util/strings.hpp"

namespace iwx::iotawatt {
namespace {

constexpr size_t kBodyExcerptChars = 80;
constexpr int kUnauthorized = 401;

const log::Logger& Log() {
  static const log::Logger logger("iotawatt");
  return logger;
}

// "http://host:port/prefix" → {"http://host:port", "/prefix"}; httplib takes the origin
// only, so a path prefix has to be put in front of every request target.
std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos || scheme_end == 0 || scheme_end + 3 == url.size()) {
    throw std::invalid_argument("device URL \"" + url +
                                "\" is not of the form http://host[:port][/prefix]");
  }
  const size_t path_start = url.find('/', scheme_end + 3);
  if (path_start == std::string::npos) {
    return {url, ""};
  }
  std::string prefix = url.substr(path_start);
  while (!prefix.empty() && prefix.back() == '/') {
    prefix.pop_back();
  }
  return {url.substr(0, path_start), prefix};
}

std::string BodyExcerpt(const std::string& body) {
  std::string out;
  for (const char c : body.substr(0, kBodyExcerptChars)) {
    const auto byte = static_cast<unsigned char>(c);
    out += (byte < 0x20 || byte == 0x7F) ? ' ' : c;
  }
  return '"' + out + (body.size() > kBodyExcerptChars ? "...\"" : "\"");
}

std::string Milliseconds(std::chrono::milliseconds duration) {
  return std::to_string(duration.count()) + " ms";
}

}  // namespace

const char* FailureReasonName(FailureReason reason) noexcept {
  switch (reason) {
    case FailureReason::kConnect:
      return "connect";
    case FailureReason::kTimeout:
      return "timeout";
    case FailureReason::kHttpStatus:
      return "http_status";
    case FailureReason::kAuth:
      return "auth";
    case FailureReason::kDecode:
      return "decode";
  }
  return "unknown";
}

struct Client::Impl {
  Impl(const std::string& origin, std::string path_prefix)
      : http(origin), prefix(std::move(path_prefix)) {}

  httplib::Client http;
  std::string prefix;
  std::optional<DigestSession> digest;
};

Client::Client(Endpoint endpoint) : endpoint_(std::move(endpoint)) {
  auto [origin, prefix] = SplitUrl(endpoint_.url);
  impl_ = std::make_unique<Impl>(origin, std::move(prefix));
  if (!impl_->http.is_valid()) {
    throw std::invalid_argument("device URL \"" + endpoint_.url +
                                "\" is not usable; expected http://host[:port][/prefix]");
  }

  // The device serves one connection at a time and closes it after the answer, so a
  // fresh connection per request is the robust choice. Targets are sent exactly as
  // built (already percent-encoded) because the Digest hash covers them byte for byte.
  impl_->http.set_keep_alive(false);
  impl_->http.set_url_encode(false);
  impl_->http.set_connection_timeout(endpoint_.timeout);
  impl_->http.set_read_timeout(endpoint_.timeout);
  impl_->http.set_write_timeout(endpoint_.timeout);
  if (!endpoint_.username.empty()) {
    impl_->digest.emplace(endpoint_.username, endpoint_.password);
  }
}

Client::~Client() = default;

StatusReport Client::FetchStatus(const std::vector<std::string>& sections) {
  std::string target = "/status";
  for (size_t i = 0; i < sections.size(); ++i) {
    target += (i == 0 ? "?" : "&") + util::UrlEncode(sections[i]);
  }
  const std::string body = Get(target);
  try {
    return DecodeStatus(body);
  } catch (const DecodeError& error) {
    throw DeviceError(FailureReason::kDecode,
                      "GET " + endpoint_.url + target + ": " + error.what());
  }
}

std::vector<SeriesInfo> Client::FetchSeries() {
  const std::string target = "/query?show=series";
  const std::string body = Get(target);
  try {
    return DecodeSeriesList(body);
  } catch (const DecodeError& error) {
    throw DeviceError(FailureReason::kDecode,
                      "GET " + endpoint_.url + target + ": " + error.what());
  }
}

QueryPage Client::Query(const QueryRequest& request) {
  const std::string target = BuildQueryTarget(request);
  const std::string body = Get(target);
  try {
    return DecodeQueryPage(body, request.columns.size());
  } catch (const DecodeError& error) {
    throw DeviceError(FailureReason::kDecode,
                      "GET " + endpoint_.url + target + ": " + error.what());
  }
}

void Client::Stop() {
  // No lock: this must interrupt the request that holds mutex_. httplib's stop() shuts
  // the socket of the request in flight down, which makes its read fail at once.
  stopped_.store(true);
  impl_->http.stop();
}

namespace {

// Turns a transport failure into a DeviceError. httplib reports a read timeout and a
// connection closed by the peer alike (Error::Read), so the elapsed time decides.
[[noreturn]] void ThrowTransportError(const std::string& request, httplib::Error error,
                                      std::chrono::milliseconds elapsed,
                                      std::chrono::milliseconds timeout, bool stopped) {
  if (stopped) {
    throw DeviceError(FailureReason::kConnect, request + ": aborted because the client stopped");
  }
  switch (error) {
    case httplib::Error::Connection:
      // httplib connects without blocking and does not keep the socket error, so refused
      // and unreachable cannot be told apart here.
      throw DeviceError(FailureReason::kConnect,
                        request + ": cannot connect (connection refused or host unreachable)");
    case httplib::Error::ConnectionTimeout:
      throw DeviceError(FailureReason::kTimeout,
                        request + ": no connection within " + Milliseconds(timeout));
    case httplib::Error::Read:
    case httplib::Error::Write:
      // 90 %: the socket timeout and our clock do not start at the same instant.
      if (elapsed * 10 >= timeout * 9) {
        throw DeviceError(FailureReason::kTimeout,
                          request + ": no answer within " + Milliseconds(timeout));
      }
      throw DeviceError(FailureReason::kConnect,
                        request + ": connection closed before a complete answer (" +
                            httplib::to_string(error) + ")");
    default:
      throw DeviceError(FailureReason::kConnect,
                        request + ": request failed (" + httplib::to_string(error) + ")");
  }
}

std::string ChallengeRealm(const httplib::Result& result) {
  const auto challenge = ParseDigestChallenge(result->get_header_value("WWW-Authenticate"));
  return challenge ? challenge->realm : std::string();
}

// Answers a 401: adopts the new challenge (first contact, or the device expired the
// nonce) and repeats the request once. A second 401 means the credentials are wrong.
httplib::Result Authenticate(const std::string& request, const Endpoint& endpoint,
                             std::optional<DigestSession>& digest, httplib::Result first,
                             const std::function<httplib::Result()>& exchange) {
  const std::string header = first->get_header_value("WWW-Authenticate");
  if (!digest) {
    throw DeviceError(FailureReason::kAuth,
                      request + ": the device requires a password (HTTP 401, realm \"" +
                          ChallengeRealm(first) +
                          "\"); set username and password_file or password_env",
                      kUnauthorized);
  }
  auto challenge = ParseDigestChallenge(header);
  if (!challenge) {
    throw DeviceError(FailureReason::kAuth,
                      request + ": HTTP 401 without a usable challenge (WWW-Authenticate: " +
                          BodyExcerpt(header) + "); expected Digest realm=\"...\", nonce=\"...\"",
                      kUnauthorized);
  }

  const std::string realm = challenge->realm;
  Log().Debug("digest challenge accepted", {{"device", endpoint.url}, {"realm", realm}});
  digest->Accept(std::move(*challenge));
  httplib::Result retry = exchange();
  if (retry->status == kUnauthorized) {
    throw DeviceError(FailureReason::kAuth,
                      request + ": user \"" + endpoint.username + "\" was rejected by realm \"" +
                          realm + "\"; check username and its password",
                      kUnauthorized);
  }
  return retry;
}

}  // namespace

std::string Client::Get(const std::string& target) {
  const std::lock_guard<std::mutex> lock(mutex_);
  const std::string request = "GET " + endpoint_.url + target;
  const std::string path = impl_->prefix + target;

  // One exchange: sends the request (with credentials when a challenge is cached) and
  // returns the response, or throws on a transport failure.
  const auto exchange = [&]() -> httplib::Result {
    if (stopped_.load()) {
      throw DeviceError(FailureReason::kConnect, request + ": client stopped");
    }
    httplib::Headers headers;
    if (impl_->digest && impl_->digest->HasChallenge()) {
      headers.emplace("Authorization", impl_->digest->Authorize("GET", path));
    }
    request_count_.fetch_add(1);
    const auto start = std::chrono::steady_clock::now();
    httplib::Result result = impl_->http.Get(path, headers);
    if (!result) {
      const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      ThrowTransportError(request, result.error(), elapsed, endpoint_.timeout, stopped_.load());
    }
    return result;
  };

  httplib::Result result = exchange();
  if (result->status == kUnauthorized) {
    result = Authenticate(request, endpoint_, impl_->digest, std::move(result), exchange);
  }
  if (result->status != 200) {
    throw DeviceError(FailureReason::kHttpStatus,
                      request + ": HTTP status " + std::to_string(result->status) +
                          " (expected 200), body " + BodyExcerpt(result->body),
                      result->status);
  }
  return std::move(result->body);
}

}  // namespace iwx::iotawatt
