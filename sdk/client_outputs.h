#pragma once
// ClientOutputs: sdk::Client's SessionSink. Datagrams go out at once with
// sendto() on the client's socket; DATA and events are copied into a batch
// that the SDK thread takes (under the client's core mutex) and hands to the
// application's callbacks after releasing that mutex, so a callback may call
// back into the client.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/endpoint.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "sdk/core/session_io.h"

namespace overline::sdk {

// One queued output. Items are reused from batch to batch, so a payload's
// buffer is allocated once per slot, not once per packet.
struct ClientOutput {
  enum class Kind : std::uint8_t { kArrival, kDelivery, kEvent };
  Kind kind = Kind::kEvent;
  SessionEvent event{SessionEventType::kConnected, kNoNode, kNoNode, {}};  // kEvent
  std::uint64_t subscription = 0;                    // the rest: kArrival and kDelivery
  StreamId stream = 0;
  wire::Header header;
  std::vector<std::byte> payload;
  std::uint64_t arrival_us = 0;
};

// Outputs in the order the core produced them.
class ClientOutputBatch {
 public:
  std::span<const ClientOutput> items() const { return std::span(items_).first(size_); }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }
  // The next slot, appended (reused when there is one).
  ClientOutput& append();
  void swap(ClientOutputBatch& other) noexcept;

 private:
  std::vector<ClientOutput> items_;
  std::size_t size_ = 0;  // items_[0, size_) are live
};

class ClientOutputs final : public SessionSink {
 public:
  // `socket_fd` (non-blocking UDP) must outlive this object.
  explicit ClientOutputs(int socket_fd) : socket_fd_(socket_fd) {}

  bool sendDatagram(const Endpoint& to, std::span<const std::byte> datagram) override;
  void onArrival(const DataRelease& data) override { queue(ClientOutput::Kind::kArrival, data); }
  void onDelivery(const DataRelease& data) override { queue(ClientOutput::Kind::kDelivery, data); }
  void onEvent(const SessionEvent& event) override;

  // Moves what is queued into `out` (emptied first); the queue keeps out's
  // old slots for reuse.
  void take(ClientOutputBatch& out);

 private:
  void queue(ClientOutput::Kind kind, const DataRelease& data);

  const int socket_fd_;
  ClientOutputBatch pending_;
};

}  // namespace overline::sdk
