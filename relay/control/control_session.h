#pragma once
// ControlSession: the relay's side of the RelaySession stream
// (proto/overline/v1/relay_session.proto), on gRPC's synchronous API.
//
// Threads: start() spawns the session thread, which connects, writes the
// hello and then a report every report interval, and backs off between
// attempts. While a stream is up a reader thread blocks in Read() and hands
// each controller message to the Listener. Neither thread touches RelayCore:
// reports are built from the latest RelayStateSnapshot the loop thread
// published (publishState, any thread), and updates go out through the
// Listener, whose implementation (ControlBridge) posts them to the loop.
//
// Transport: mutual TLS (common/tls/grpc_tls.h) with controller.tls: the
// relay presents its certificate and checks the controller's against the
// CA and server_name. setTls() (a config reload) swaps the files for the
// next connection. Keepalive pings every 5 minutes (the least gRPC servers
// accept by default without a GOAWAY for too many pings); their 20 s
// timeout is also the kernel's TCP_USER_TIMEOUT, so reports that stay
// unacknowledged for 20 s end the stream and the relay tries the next
// address. Messages from the controller may be up to 16 MiB.
//
// Reconnects: on stream end, error or a rejected hello the session waits a
// jittered exponential backoff (backoff_initial_ms doubling up to
// backoff_max_ms; reset by an accepted hello) and tries the next address in
// turn, with a fresh channel and a fresh hello. The reason is logged when it
// changes, not at every retry. stop() cancels the stream (TryCancel) and
// joins both threads; it must be called before the Listener goes away.

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "relay/config/relay_process_config.h"
#include "relay/control/control_messages.h"
#include "relay/control/relay_state_snapshot.h"

namespace overline::relay {

class ControlSession {
 public:
  // Called on the reader or session thread, never concurrently with itself
  // for one session; implementations must not block for long.
  class Listener {
   public:
    virtual ~Listener() = default;
    // `connected`: a hello was accepted (true) or that session ended (false).
    virtual void onSessionChanged(bool connected) = 0;
    // Every table as it arrives; the listener fences (route_fence.h).
    virtual void onRouteTable(std::uint64_t version, RouteTablePtr routes) = 0;
    // `keys_ignored`: pushed keys refused while converting the list (already
    // logged by the session).
    virtual void onPeerList(std::vector<NeighbourConfig> neighbours, std::uint64_t keys_ignored) = 0;
    // The controller's report interval (ms, >= 1); the session already uses it.
    virtual void onReportInterval(std::uint32_t report_interval_ms) = 0;
  };

  // `listener` must outlive this session (or its stop()).
  ControlSession(ControllerClientConfig config, HelloInfo hello, std::uint32_t probe_interval_ms,
                 Listener& listener);
  ~ControlSession();  // stop()
  ControlSession(const ControlSession&) = delete;
  ControlSession& operator=(const ControlSession&) = delete;

  void start();
  // Cancels the stream and joins the threads. Idempotent.
  void stop();

  // Replaces the state the next report is built from. Any thread.
  void publishState(RelayStateSnapshotPtr state);
  // Replaces the TLS files and server name for the next connection (a
  // config reload: a renewed certificate); the live stream keeps its own.
  // Any thread.
  void setTls(ControllerTlsConfig tls);
  // Announces a graceful shutdown: sends RelayDrain on the current session
  // as soon as its hello is accepted, and again on every later session, so
  // the controller routes transit around this relay. Any thread; idempotent.
  void requestDrain();

 private:
  // One connection attempt on `address`; returns when the stream ended (or
  // stop()). Sets `reason` to why it ended.
  void runSession(const std::string& address, std::string& reason);
  void readLoop(grpc::ClientReaderWriter<v1::RelayMessage, v1::ControllerMessage>& stream, std::string& reason);
  void handle(const v1::ControllerMessage& message, std::string& reason);
  void run();
  // Waits until `wake_at` or stop(); true if stopping.
  bool sleepUntil(std::chrono::steady_clock::time_point wake_at);

  const ControllerClientConfig config_;
  const HelloInfo hello_;
  const std::uint32_t probe_interval_ms_;  // the config's, to compare with ConfigPush
  Listener& listener_;
  std::thread thread_;
  std::minstd_rand jitter_;  // session thread only
  // The last ConfigPush probe interval logged as not applied; reader threads
  // only (one at a time).
  std::uint32_t ignored_probe_interval_ms_ = 0;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;                  // guarded by mutex_
  grpc::ClientContext* context_ = nullptr;  // the live stream's; guarded by mutex_
  RelayStateSnapshotPtr state_;             // guarded by mutex_
  ControllerTlsConfig tls_;                 // for the next connection; guarded by mutex_
  std::uint32_t report_interval_ms_;        // guarded by mutex_
  bool accepted_ = false;                   // this stream's hello was accepted; guarded by mutex_
  bool stream_ended_ = false;               // the reader saw the end; guarded by mutex_
  bool draining_ = false;                   // requestDrain() was called; guarded by mutex_
};

}  // namespace overline::relay
