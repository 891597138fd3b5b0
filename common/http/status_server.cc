#include "common/http/status_server.h"

#include <civetweb.h>
#include <netinet/in.h>
#include <prometheus/collectable.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <string_view>
#include <thread>

namespace overline::http {
namespace {

// Scrapes and probes are rare and quick; two threads let a probe through
// while a scrape serializes.
constexpr const char* kWorkerThreads = "2";
// A client that has not sent its request within this is dropped (civetweb's
// default is 30 s).
constexpr const char* kRequestTimeoutMs = "5000";
constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kTextContentType = "text/plain; charset=utf-8";
constexpr std::uint32_t kLoopback = 0x7f000001;

// stop(): how often and how long the listener is woken (see there).
constexpr auto kWakeUpInterval = std::chrono::milliseconds(2);
constexpr int kMaxWakeUps = 1500;  // 3 s, beyond civetweb's own 2 s poll quantum

int reply(mg_connection* connection, int status, const char* content_type, std::string_view body) {
  mg_response_header_start(connection, status);
  mg_response_header_add(connection, "Content-Type", content_type, -1);
  mg_response_header_add(connection, "Content-Length", std::to_string(body.size()).c_str(), -1);
  mg_response_header_add(connection, "Cache-Control", "no-store", -1);
  mg_response_header_send(connection);
  mg_write(connection, body.data(), body.size());
  return status;
}

// Answers 405 unless the request is a GET; true when it was one.
bool requireGet(mg_connection* connection) {
  const mg_request_info* request = mg_get_request_info(connection);
  if (request != nullptr && request->request_method != nullptr && std::strcmp(request->request_method, "GET") == 0) {
    return true;
  }
  mg_response_header_start(connection, 405);
  mg_response_header_add(connection, "Allow", "GET", -1);
  mg_response_header_add(connection, "Content-Type", kTextContentType, -1);
  mg_response_header_add(connection, "Content-Length", "19", -1);
  mg_response_header_send(connection);
  mg_write(connection, "method not allowed\n", 19);
  return false;
}

// Runs `handle` (which replies and returns the status), turning an
// exception into a 500: none may unwind into civetweb's C code.
template <typename Handler>
int guarded(mg_connection* connection, Handler handle) {
  if (!requireGet(connection)) return 405;
  try {
    return handle();
  } catch (const std::exception& e) {
    spdlog::error("status server: {} failed: {}", mg_get_request_info(connection)->local_uri, e.what());
    return reply(connection, 500, kTextContentType, "internal error\n");
  }
}

int probeReply(mg_connection* connection, const Probe& probe, std::string_view ok_body, std::string_view prefix) {
  const ProbeResult result = probe();
  if (result.ok) return reply(connection, 200, kTextContentType, ok_body);
  return reply(connection, 503, kTextContentType, std::string(prefix) + result.reason + "\n");
}

// Opens a TCP connection to `target` and drops it at once, without waiting.
void connectAndClose(const Endpoint& target) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const sockaddr_in address = target.toSockaddr();
  (void)::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  ::close(fd);
}

}  // namespace

StatusServer::StatusServer(const prometheus::Collectable& registry, Probe liveness, Probe readiness)
    : registry_(registry), liveness_(std::move(liveness)), readiness_(std::move(readiness)) {}

Result<std::unique_ptr<StatusServer>, std::string> StatusServer::start(const Endpoint& listen,
                                                                       const prometheus::Collectable& registry,
                                                                       Probe liveness, Probe readiness) {
  std::unique_ptr<StatusServer> server(new StatusServer(registry, std::move(liveness), std::move(readiness)));
  const std::string address = listen.toString();
  const char* options[] = {"listening_ports",   address.c_str(),   "num_threads",       kWorkerThreads,
                           "request_timeout_ms", kRequestTimeoutMs, "enable_keep_alive", "no",
                           nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = &StatusServer::onLogMessage;
  mg_init_data init{&callbacks, server.get(), options};
  unsigned error_code = 0;
  char error_text[256] = "";
  mg_error_data error{&error_code, error_text, sizeof error_text};
  server->context_ = mg_start2(&init, &error);
  {
    std::lock_guard lock(server->start_error_mutex_);
    server->starting_ = false;
  }
  if (server->context_ == nullptr) {
    std::lock_guard lock(server->start_error_mutex_);
    std::string reason = server->start_error_;
    if (reason.empty()) reason = error_text[0] != '\0' ? error_text : "civetweb did not start";
    return Err("cannot listen on " + address + ": " + reason);
  }
  mg_set_request_handler(server->context_, "/metrics$", &StatusServer::onMetrics, server.get());
  mg_set_request_handler(server->context_, "/healthz$", &StatusServer::onHealthz, server.get());
  mg_set_request_handler(server->context_, "/readyz$", &StatusServer::onReadyz, server.get());
  mg_server_port port{};
  if (mg_get_server_ports(server->context_, 1, &port) < 1 || port.port <= 0) {
    return Err("cannot listen on " + address + ": no listening port");
  }
  server->bound_ = listen.withPort(static_cast<std::uint16_t>(port.port));
  return server;
}

StatusServer::~StatusServer() { stop(); }

// civetweb 1.15's listener thread sleeps in poll() on its sockets for up to
// 2 s at a time and has no wake-up: mg_stop() alone takes that long (about
// 1 s on average, which was the relay's exit time). So mg_stop() runs on a
// helper thread while this one connects to the listening port every few
// milliseconds; the first connection after the stop flag is set wakes the
// listener, which then sees the flag and exits. The connections are dropped
// at once (a worker reads EOF). Bounded: after kMaxWakeUps, civetweb's own
// quantum has expired anyway.
void StatusServer::stop() {
  if (context_ == nullptr) return;
  std::atomic<bool> stopped{false};
  std::thread stopper([this, &stopped] {
    mg_stop(context_);
    stopped.store(true);
  });
  const Endpoint target = bound_.address() == 0 ? Endpoint(kLoopback, bound_.port()) : bound_;
  for (int i = 0; i < kMaxWakeUps && !stopped.load() && target.port() != 0; ++i) {
    connectAndClose(target);
    std::this_thread::sleep_for(kWakeUpInterval);
  }
  stopper.join();
  context_ = nullptr;
}

int StatusServer::onLogMessage(const mg_connection* connection, const char* message) {
  const mg_context* context = mg_get_context(connection);
  auto* server = context != nullptr ? static_cast<StatusServer*>(mg_get_user_data(context)) : nullptr;
  if (server != nullptr) {
    std::lock_guard lock(server->start_error_mutex_);
    // While mg_start2() runs, a message is the reason it fails.
    if (server->starting_ && server->start_error_.empty()) {
      server->start_error_ = message;
      return 1;
    }
  }
  spdlog::debug("status server: {}", message);
  return 1;  // handled: civetweb writes no log of its own
}

int StatusServer::onMetrics(mg_connection* connection, void* self) {
  const auto& server = *static_cast<const StatusServer*>(self);
  return guarded(connection, [&] {
    const std::string body = prometheus::TextSerializer().Serialize(server.registry_.Collect());
    return reply(connection, 200, kMetricsContentType, body);
  });
}

int StatusServer::onHealthz(mg_connection* connection, void* self) {
  const auto& server = *static_cast<const StatusServer*>(self);
  return guarded(connection, [&] { return probeReply(connection, server.liveness_, "ok\n", ""); });
}

int StatusServer::onReadyz(mg_connection* connection, void* self) {
  const auto& server = *static_cast<const StatusServer*>(self);
  return guarded(connection, [&] { return probeReply(connection, server.readiness_, "ready\n", "not ready: "); });
}

}  // namespace overline::http
