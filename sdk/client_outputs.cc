#include "sdk/client_outputs.h"

#include <netinet/in.h>
#include <sys/socket.h>

namespace overline::sdk {

ClientOutput& ClientOutputBatch::append() {
  if (size_ == items_.size()) items_.emplace_back();
  return items_[size_++];
}

void ClientOutputBatch::swap(ClientOutputBatch& other) noexcept {
  items_.swap(other.items_);
  std::swap(size_, other.size_);
}

bool ClientOutputs::sendDatagram(const Endpoint& to, std::span<const std::byte> datagram) {
  const sockaddr_in address = to.toSockaddr();
  const ssize_t sent = ::sendto(socket_fd_, datagram.data(), datagram.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  return sent == static_cast<ssize_t>(datagram.size());
}

void ClientOutputs::onEvent(const SessionEvent& event) {
  ClientOutput& item = pending_.append();
  item.kind = ClientOutput::Kind::kEvent;
  item.event = event;
}

void ClientOutputs::queue(ClientOutput::Kind kind, const DataRelease& data) {
  ClientOutput& item = pending_.append();
  item.kind = kind;
  item.subscription = data.subscription;
  item.stream = data.stream;
  item.header = data.header;
  item.payload.assign(data.payload.begin(), data.payload.end());
  item.arrival_us = data.arrival_us;
}

void ClientOutputs::take(ClientOutputBatch& out) {
  out.clear();
  out.swap(pending_);
}

}  // namespace overline::sdk
