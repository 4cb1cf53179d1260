// The HTTP face of one unit. Like the device, it answers one request at a time: handlers
// run under one lock, so concurrent clients queue.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <httplib.h>

#include "log/log.hpp"
#include "simulator/digest_auth.hpp"
#include "simulator/query.hpp"
#include "simulator/simulator.hpp"
#include "simulator/status.hpp"

namespace iwx::sim {

namespace {

const log::Logger kLog("simulator");

constexpr size_t kWorkerThreads = 8;
constexpr size_t kChunkSize = 1440;  // the firmware streams query data in chunks this size

struct Reply {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
  bool chunked = false;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Sends the reply; a truncated one announces its full size (or chunking) and breaks off
// halfway, so clients see a real short read.
void Send(const Reply& reply, bool truncate, httplib::Response& response) {
  response.status = reply.status;
  for (const auto& [name, value] : reply.headers) {
    response.set_header(name, value);
  }
  const auto body = std::make_shared<std::string>(reply.body);
  const size_t cut = truncate ? body->size() / 2 : body->size();
  if (reply.chunked) {
    response.set_chunked_content_provider(
        reply.content_type, [body, cut, truncate](size_t offset, httplib::DataSink& sink) {
          if (offset >= cut) {
            if (truncate) {
              return false;
            }
            sink.done();
            return true;
          }
          const size_t length = std::min(kChunkSize, cut - offset);
          return sink.write(body->data() + offset, length);
        });
    return;
  }
  if (!truncate) {
    response.set_content(reply.body, reply.content_type);
    return;
  }
  response.set_content_provider(body->size(), reply.content_type,
                                [body, cut](size_t offset, size_t, httplib::DataSink& sink) {
                                  if (offset >= cut) {
                                    return false;
                                  }
                                  return sink.write(body->data() + offset, cut - offset);
                                });
}

}  // namespace

struct UnitServer::Impl {
  std::shared_ptr<UnitModel> model;
  DigestAuth auth;
  StatusContext status_context;

  // Guards fault, stats and stopping; never held while waiting for the listener.
  mutable std::mutex state_mutex;
  std::condition_variable state_changed;
  Fault fault;
  RequestStats stats;
  bool stopping = false;

  std::mutex serial_mutex;  // one request at a time, like the device

  std::mutex lifecycle_mutex;  // guards the listener below
  std::unique_ptr<httplib::Server> server;
  std::thread listener;
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  bool started = false;

  explicit Impl(std::shared_ptr<UnitModel> unit_model)
      : model(std::move(unit_model)), auth(model->spec().name, model->spec().user_password) {
    status_context.start_time = model->clock()->NowSeconds();
  }

  // Caller holds lifecycle_mutex.
  void OpenListener() {
    auto created = std::make_unique<httplib::Server>();
    created->new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
    created->set_keep_alive_max_count(1);  // the device closes after each response
    created->set_read_timeout(2, 0);
    const auto handler = [this](const httplib::Request& request, httplib::Response& response) {
      Handle(request, response);
    };
    created->Get(".*", handler);
    created->Post(".*", handler);
    created->Put(".*", handler);
    created->Delete(".*", handler);
    created->Patch(".*", handler);
    created->Options(".*", handler);

    const bool bound =
        port == 0 ? (port = static_cast<uint16_t>(created->bind_to_any_port(host)), port != 0)
                  : created->bind_to_port(host, port);
    if (!bound) {
      throw std::runtime_error("unit \"" + model->spec().name + "\": cannot listen on " + host +
                               ":" + std::to_string(port) + ": expected a free loopback port");
    }
    server = std::move(created);
    listener = std::thread([raw = server.get()] { raw->listen_after_bind(); });
    // httplib's stop() is a no-op until the accept loop runs; a refuse fault set right
    // after start would otherwise leave the loop running forever.
    while (!server->is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  // Caller holds lifecycle_mutex.
  void CloseListener() {
    if (!server) {
      return;
    }
    server->stop();
    listener.join();
    server.reset();
  }

  Fault CurrentFault() const {
    std::lock_guard lock(state_mutex);
    return fault;
  }

  void Count(uint64_t RequestStats::*counter) {
    std::lock_guard lock(state_mutex);
    ++(stats.*counter);
  }

  // Waits while the hang fault lasts (or until the server stops).
  void WaitWhileHung() {
    std::unique_lock lock(state_mutex);
    state_changed.wait(lock, [this] { return stopping || fault.kind != FaultKind::kHang; });
  }

  void Delay(std::chrono::microseconds delay) {
    std::unique_lock lock(state_mutex);
    state_changed.wait_for(lock, delay, [this] { return stopping; });
  }

  void Handle(const httplib::Request& request, httplib::Response& response) {
    WaitWhileHung();
    std::lock_guard serial(serial_mutex);
    const Fault active = CurrentFault();
    if (active.kind == FaultKind::kSlow) {
      Delay(active.delay);
    }

    Reply reply = Route(request);
    if (active.kind == FaultKind::kHttp500) {
      reply = Reply{500, "text/plain", "Internal Server Error", false, {}};
    } else if (active.kind == FaultKind::kGarbage) {
      reply.body = "\x1f<garbage>{\"data\":[[1,2,,\xff";
    }
    Send(reply, active.kind == FaultKind::kTruncated, response);
  }

  // cpp-httplib URL-decodes every header value it receives, so the Digest `uri` field
  // no longer reads as the client sent and hashed it. The device keeps headers as sent;
  // when the decoded field is the decoded request target, restore the raw target.
  static std::string RawAuthorization(const httplib::Request& request) {
    std::string header = request.get_header_value("Authorization");
    const std::string field = "uri=\"";
    const size_t begin = header.find(field);
    const size_t end = begin == std::string::npos ? begin : header.find('"', begin + field.size());
    if (end == std::string::npos) {
      return header;
    }
    const size_t value = begin + field.size();
    if (header.compare(value, end - value, httplib::detail::decode_url(request.target, false)) ==
        0) {
      header.replace(value, end - value, request.target);
    }
    return header;
  }

  Reply Route(const httplib::Request& request) {
    const std::string verb = request.method == "GET" || request.method == "HEAD" ? "GET" : "POST";
    if (auth.enabled() && !auth.Verify(request.method, RawAuthorization(request))) {
      Count(&RequestStats::unauthorized);
      Reply reply{401, "text/html", "IoTaWatt-Login", false, {}};
      reply.headers.emplace_back("WWW-Authenticate", auth.Challenge());
      return reply;
    }
    if (verb == "GET" && request.path == "/status") {
      Count(&RequestStats::status);
      const std::string body = RenderStatus(*model, status_context, [&](const std::string& name) {
        return request.has_param(name.c_str());
      });
      return Reply{200, "application/json", body, false, {}};
    }
    if (verb == "GET" && request.path == "/query") {
      return Query(request);
    }
    Count(&RequestStats::other);
    if (verb == "GET" && request.path == "/nullreq") {
      return Reply{200, "text/plain", "", false, {}};
    }
    return Reply{404, "text/plain", "Not found: " + verb + ", URI: " + request.path, false, {}};
  }

  Reply Query(const httplib::Request& request) {
    QueryArgs args(request.params.begin(), request.params.end());
    const QueryResponse answer = RunQuery(*model, args);
    Count(answer.is_series ? &RequestStats::query_series : &RequestStats::query_select);
    const auto row_delay = model->spec().row_delay * static_cast<int64_t>(answer.rows);
    if (row_delay.count() > 0) {
      Delay(row_delay);
    }
    return Reply{answer.status,
                 answer.content_type,
                 answer.body,
                 answer.status == 200 && !answer.is_series,
                 {}};
  }
};

UnitServer::UnitServer(std::shared_ptr<UnitModel> model)
    : impl_(std::make_unique<Impl>(std::move(model))) {}

UnitServer::~UnitServer() {
  Stop();
}

uint16_t UnitServer::Start(const std::string& host, uint16_t port) {
  std::lock_guard lifecycle(impl_->lifecycle_mutex);
  if (impl_->started) {
    return impl_->port;
  }
  {
    std::lock_guard lock(impl_->state_mutex);
    impl_->stopping = false;
  }
  impl_->host = host;
  impl_->port = port;
  impl_->status_context.ip = host;
  impl_->OpenListener();
  impl_->started = true;
  if (impl_->CurrentFault().kind == FaultKind::kRefuse) {
    impl_->CloseListener();
  }
  kLog.Info("unit listening", {{"unit", impl_->model->spec().name}, {"url", url()}});
  return impl_->port;
}

void UnitServer::Stop() {
  std::lock_guard lifecycle(impl_->lifecycle_mutex);
  {
    std::lock_guard lock(impl_->state_mutex);
    impl_->stopping = true;
  }
  impl_->state_changed.notify_all();
  impl_->CloseListener();
  impl_->started = false;
}

uint16_t UnitServer::port() const noexcept {
  return impl_->port;
}

std::string UnitServer::url() const {
  return "http://" + impl_->host + ":" + std::to_string(impl_->port);
}

void UnitServer::SetFault(Fault fault) {
  std::lock_guard lifecycle(impl_->lifecycle_mutex);
  FaultKind previous = FaultKind::kNone;
  {
    std::lock_guard lock(impl_->state_mutex);
    previous = impl_->fault.kind;
    impl_->fault = fault;
  }
  impl_->state_changed.notify_all();
  if (!impl_->started) {
    return;
  }
  if (fault.kind == FaultKind::kRefuse && previous != FaultKind::kRefuse) {
    impl_->CloseListener();
  } else if (fault.kind != FaultKind::kRefuse && previous == FaultKind::kRefuse) {
    impl_->OpenListener();
  }
}

RequestStats UnitServer::stats() const {
  std::lock_guard lock(impl_->state_mutex);
  return impl_->stats;
}

UnitModel& UnitServer::model() noexcept {
  return *impl_->model;
}

}  // namespace iwx::sim
