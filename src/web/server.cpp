#include "web/server.hpp"

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include <httplib.h>

#include "build_config.hpp"
#include "log/log.hpp"
#include "web/auth.hpp"

namespace iwx::web {

namespace {

const log::Logger kLog("web");

constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string LandingPage(const std::string& telemetry_path) {
  return "<!DOCTYPE html>\n<html><head><title>IoTaWatt Exporter</title></head><body>\n"
         "<h1>IoTaWatt Exporter</h1>\n<p>Version " IWX_VERSION
         "</p>\n<ul>\n"
         "<li><a href=\"" +
         telemetry_path +
         "\">Metrics</a></li>\n"
         "<li><a href=\"/-/healthy\">Health</a></li>\n"
         "<li><a href=\"/-/ready\">Readiness</a></li>\n</ul>\n</body></html>\n";
}

std::unique_ptr<httplib::Server> MakeHttpServer(const WebSecurity& security) {
  if (!security.tls) {
    return std::make_unique<httplib::Server>();
  }
  const TlsConfig& tls = *security.tls;
  const char* client_ca =
      tls.client_auth == ClientAuth::kRequireAndVerify ? tls.client_ca_file.c_str() : nullptr;
  return std::make_unique<httplib::SSLServer>(tls.cert_file.c_str(), tls.key_file.c_str(),
                                              client_ca);
}

std::optional<double> ScrapeTimeout(const httplib::Request& request) {
  if (!request.has_header("X-Prometheus-Scrape-Timeout-Seconds")) {
    return std::nullopt;
  }
  const std::string text = request.get_header_value("X-Prometheus-Scrape-Timeout-Seconds");
  char* end = nullptr;
  const double seconds = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(seconds > 0)) {
    return std::nullopt;
  }
  return seconds;
}

}  // namespace

struct Server::Impl {
  explicit Impl(const WebSecurity& security)
      : http(MakeHttpServer(security)), auth(security.basic_auth_users) {}

  std::unique_ptr<httplib::Server> http;
  BasicAuthenticator auth;
};

std::pair<std::string, uint16_t> SplitListenAddress(const std::string& address) {
  const auto colon = address.rfind(':');
  const auto invalid = [&] {
    return std::invalid_argument("invalid listen address \"" + address +
                                 "\": expected HOST:PORT, [IPv6]:PORT or :PORT");
  };
  if (colon == std::string::npos) {
    throw invalid();
  }

  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) {
    host = "0.0.0.0";
  }

  const std::string port_text = address.substr(colon + 1);
  unsigned port = 0;
  const auto [end, error] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc{} || end != port_text.data() + port_text.size() ||
      port > 65535) {
    throw invalid();
  }
  return {host, static_cast<uint16_t>(port)};
}

Server::Server(config::WebConfig web, Handlers handlers, WebSecurity security)
    : web_(std::move(web)),
      handlers_(std::move(handlers)),
      security_(std::move(security)),
      impl_(std::make_unique<Impl>(security_)) {
  AddRoutes();
}

void Server::AddRoutes() {
  auto& http = *impl_->http;
  const std::string telemetry_path = web_.telemetry_path;

  // httplib writes headers and body separately; without this the body waits for the
  // client's delayed ACK, about 40 ms per scrape.
  http.set_tcp_nodelay(true);

  if (impl_->auth.enabled()) {
    http.set_pre_routing_handler([this](const httplib::Request& request,
                                        httplib::Response& response) {
      if (impl_->auth.Allows(request.get_header_value("Authorization"))) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      response.status = 401;
      response.set_header("WWW-Authenticate", std::string("Basic realm=\"") + kAuthRealm + "\"");
      response.set_content("Unauthorized\n", "text/plain; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    });
  }

  http.Get(telemetry_path, [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(handlers_.metrics(), kMetricsContentType);
  });
  http.Get("/", [telemetry_path](const httplib::Request&, httplib::Response& response) {
    response.set_content(LandingPage(telemetry_path), "text/html; charset=utf-8");
  });
  http.Get("/-/healthy", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("Healthy\n", "text/plain; charset=utf-8");
  });
  http.Get("/-/ready", [this](const httplib::Request&, httplib::Response& response) {
    const bool ready = handlers_.ready();
    response.status = ready ? 200 : 503;
    response.set_content(ready ? "Ready\n" : "Not ready: devices not polled yet\n",
                         "text/plain; charset=utf-8");
  });
  if (handlers_.probe) {
    http.Get("/probe", [this](const httplib::Request& request, httplib::Response& response) {
      ProbeRequest probe;
      for (const auto& [name, value] : request.params) {
        probe.params[name] = value;
      }
      probe.scrape_timeout_seconds = ScrapeTimeout(request);
      const ProbeResponse answer = handlers_.probe(probe);
      response.status = answer.status;
      response.set_content(answer.body, answer.content_type);
    });
  }
}

Server::~Server() {
  Stop();
}

void Server::Start() {
  const auto [host, port] = SplitListenAddress(web_.listen_address);
  auto& http = *impl_->http;
  if (!http.is_valid()) {
    const TlsConfig& tls = *security_.tls;
    throw std::runtime_error(
        "cannot serve HTTPS: the certificate \"" + tls.cert_file + "\" or the key \"" +
        tls.key_file + "\"" +
        (tls.client_ca_file.empty() ? ""
                                    : " or the client CA file \"" + tls.client_ca_file + "\"") +
        " cannot be read or do not match; expected readable PEM files of one key pair");
  }
  if (port == 0) {
    port_ = static_cast<uint16_t>(http.bind_to_any_port(host));
  } else if (http.bind_to_port(host, port)) {
    port_ = port;
  }
  if (port_ == 0) {
    throw std::runtime_error("cannot listen on " + web_.listen_address +
                             ": the address is in use or not available on this host");
  }

  thread_ = std::thread([this] { impl_->http->listen_after_bind(); });
  // httplib's stop() is a no-op until the accept loop runs; wait for it so that an early
  // Stop() cannot leave the loop running.
  while (!impl_->http->is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  kLog.Info("listening", {{"address", web_.listen_address},
                          {"port", port_},
                          {"telemetry_path", web_.telemetry_path},
                          {"tls", security_.tls.has_value()},
                          {"basic_auth", impl_->auth.enabled()}});
}

void Server::Stop() {
  if (!thread_.joinable()) {
    return;
  }
  impl_->http->stop();
  thread_.join();
}

}  // namespace iwx::web
