#include "relay/control/control_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "common/process/log_fields.h"
#include "common/tls/grpc_tls.h"
#include "overline/v1/relay_session.grpc.pb.h"

namespace overline::relay {
namespace {

constexpr int kMaxReceiveBytes = 16 << 20;    // a peer list with keys for thousands of peers fits
constexpr int kKeepaliveTimeMs = 300'000;    // gRPC servers' default minimum ping interval
constexpr int kKeepaliveTimeoutMs = 20'000;  // also TCP_USER_TIMEOUT: unacknowledged reports end the stream

grpc::ChannelArguments channelArguments() {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveTimeMs);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
  return arguments;
}

// Logs the keys a peer list's conversion refused, one line each.
void logRefusedKeys(const PeerListUpdate& update) {
  for (const std::string& problem : update.problems) {
    logEvent(spdlog::level::warn, "pushed key refused", {{"problem", problem}});
  }
  if (update.keys_ignored > update.problems.size()) {
    logEvent(spdlog::level::warn, "more pushed keys refused",
             {{"count", update.keys_ignored - update.problems.size()}});
  }
}

}  // namespace

ControlSession::ControlSession(ControllerClientConfig config, HelloInfo hello, std::uint32_t probe_interval_ms,
                               Listener& listener)
    : config_(std::move(config)),
      hello_(std::move(hello)),
      probe_interval_ms_(probe_interval_ms),
      listener_(listener),
      jitter_(std::random_device{}()),
      tls_(config_.tls),
      report_interval_ms_(config_.report_interval_ms) {}

ControlSession::~ControlSession() { stop(); }

void ControlSession::start() { thread_ = std::thread([this] { run(); }); }

void ControlSession::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ControlSession::publishState(RelayStateSnapshotPtr state) {
  std::lock_guard lock(mutex_);
  state_ = std::move(state);
}

void ControlSession::setTls(ControllerTlsConfig tls) {
  std::lock_guard lock(mutex_);
  tls_ = std::move(tls);
}

void ControlSession::requestDrain() {
  {
    std::lock_guard lock(mutex_);
    draining_ = true;
  }
  wake_.notify_all();
}

bool ControlSession::sleepUntil(std::chrono::steady_clock::time_point wake_at) {
  std::unique_lock lock(mutex_);
  return wake_.wait_until(lock, wake_at, [this] { return stopping_; });
}

void ControlSession::run() {
  std::size_t address_index = 0;
  std::uint32_t backoff_ms = config_.backoff_initial_ms;
  std::string last_reason;
  while (true) {
    const std::string& address = config_.addresses[address_index];
    std::string reason;
    runSession(address, reason);
    bool accepted = false;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      accepted = accepted_;
    }
    if (accepted) backoff_ms = config_.backoff_initial_ms;
    const std::string described = "controller " + address + ": " + reason;
    if (described != last_reason) {
      logEvent(spdlog::level::warn, "controller session down; reconnecting with backoff (forwarding continues on the last tables)",
               {{"controller", address}, {"reason", reason}});
      last_reason = described;
    }
    // Full jitter over the upper half: relays that lost the same controller
    // do not all come back in the same millisecond.
    const std::uint32_t delay_ms = backoff_ms / 2 + static_cast<std::uint32_t>(jitter_() % (backoff_ms / 2 + 1));
    if (sleepUntil(std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms))) return;
    backoff_ms = std::min(backoff_ms * 2, config_.backoff_max_ms);
    address_index = (address_index + 1) % config_.addresses.size();
  }
}

void ControlSession::runSession(const std::string& address, std::string& reason) {
  grpc::ClientContext context;
  ControllerTlsConfig tls;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    context_ = &context;
    accepted_ = false;
    stream_ended_ = false;
    tls = tls_;
  }
  const auto stub =
      v1::RelaySession::NewStub(tls::mutualTlsChannel(address, tls.files, tls.server_name, channelArguments()));
  const auto stream = stub->Session(&context);
  std::string read_reason;  // written by the reader thread, read after join
  std::thread reader([&] { readLoop(*stream, read_reason); });

  bool writing = stream->Write(makeHello(hello_));
  std::uint64_t sequence = 0;
  bool drain_sent = false;  // on this stream
  std::chrono::steady_clock::time_point next_report;
  {
    std::lock_guard lock(mutex_);
    next_report = std::chrono::steady_clock::now() + std::chrono::milliseconds(report_interval_ms_);
  }
  while (writing) {
    RelayStateSnapshotPtr state;  // null: send the drain instead of a report
    {
      std::unique_lock lock(mutex_);
      const auto drain_due = [&] { return draining_ && accepted_ && !drain_sent; };
      if (wake_.wait_until(lock, next_report, [&] { return stopping_ || stream_ended_ || drain_due(); })) {
        if (stopping_ || stream_ended_) break;
        drain_sent = true;
      } else {
        next_report += std::chrono::milliseconds(report_interval_ms_);
        // Reports start once the hello is accepted, from the loop's first snapshot.
        if (!accepted_ || state_ == nullptr) continue;
        state = state_;
      }
    }
    if (state != nullptr) {
      writing = stream->Write(makeReport(*state, ++sequence));
    } else {
      v1::RelayMessage drain;
      drain.mutable_drain();
      writing = stream->Write(drain);
      spdlog::info("told the controller this relay is draining");
    }
  }
  // A failed write means the stream is broken; cancel so the reader's Read
  // returns if it has not yet.
  context.TryCancel();
  reader.join();
  const grpc::Status status = stream->Finish();
  bool was_accepted = false;
  {
    std::lock_guard lock(mutex_);
    context_ = nullptr;
    was_accepted = accepted_;
  }
  if (was_accepted) listener_.onSessionChanged(false);
  if (!read_reason.empty()) {
    reason = read_reason;
  } else if (status.ok()) {
    reason = "stream ended by the controller";
  } else {
    reason = "stream ended: " + status.error_message() + " (code " + std::to_string(status.error_code()) + ")";
  }
}

void ControlSession::readLoop(grpc::ClientReaderWriter<v1::RelayMessage, v1::ControllerMessage>& stream,
                              std::string& reason) {
  v1::ControllerMessage message;
  while (stream.Read(&message)) handle(message, reason);
  {
    std::lock_guard lock(mutex_);
    stream_ended_ = true;
  }
  wake_.notify_all();
}

void ControlSession::handle(const v1::ControllerMessage& message, std::string& reason) {
  switch (message.body_case()) {
    case v1::ControllerMessage::kHelloAck:
      if (!message.hello_ack().accepted()) {
        reason = "hello rejected: " + message.hello_ack().reason();
        return;
      }
      {
        std::lock_guard lock(mutex_);
        accepted_ = true;
      }
      wake_.notify_all();  // a pending drain goes out now
      logEvent(spdlog::level::info, "controller session up", {});
      listener_.onSessionChanged(true);
      return;
    case v1::ControllerMessage::kPeerList: {
      PeerListUpdate update = toNeighbours(message.peer_list(), hello_.node_id);
      logRefusedKeys(update);
      listener_.onPeerList(std::move(update.neighbours), update.keys_ignored);
      return;
    }
    case v1::ControllerMessage::kRouteTable:
      listener_.onRouteTable(message.route_table().version(), toRouteTable(message.route_table(), hello_.node_id));
      return;
    case v1::ControllerMessage::kConfig: {
      const v1::ConfigPush& config = message.config();
      if (config.report_interval_ms() > 0) {
        {
          std::lock_guard lock(mutex_);
          report_interval_ms_ = config.report_interval_ms();
        }
        listener_.onReportInterval(config.report_interval_ms());
      }
      if (config.probe_interval_ms() > 0 && config.probe_interval_ms() != probe_interval_ms_ &&
          config.probe_interval_ms() != ignored_probe_interval_ms_) {
        // The core's link monitors take their interval at construction.
        spdlog::info("controller asks for probe_interval_ms {}; keeping the configured {} (not changeable at run time)",
                     config.probe_interval_ms(), probe_interval_ms_);
        ignored_probe_interval_ms_ = config.probe_interval_ms();
      }
      return;
    }
    case v1::ControllerMessage::BODY_NOT_SET: return;
  }
}

}  // namespace overline::relay
