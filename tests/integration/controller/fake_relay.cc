#include "tests/integration/controller/fake_relay.h"

#include <catch2/catch.hpp>

#include <filesystem>

#include "common/tls/grpc_tls.h"
#include "common/tls/pki.h"

namespace overline::controller::testing {

namespace {

std::shared_ptr<grpc::Channel> relayChannel(const ControllerProcess& controller, NodeId node) {
  const std::string& pki = controller.pkiDir();
  const tls::PeerIdentity identity{tls::PeerRole::kRelay, node, ""};
  const std::string stem = pki + "/" + tls::fileStem(identity);
  const std::int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (!std::filesystem::exists(stem + ".pem")) {
    const auto issued = tls::issueCertificate(pki, {identity, tls::validFor(now_s, 1), {}});
    INFO((issued ? "" : issued.error()));
    REQUIRE(issued.ok());
  }
  const auto files = tls::loadIdentity(pki + "/ca.pem", stem + ".pem", stem + ".key", now_s);
  INFO((files ? "" : files.error().message));
  REQUIRE(files.ok());
  return tls::mutualTlsChannel(controller.relaysAddress(), files.value(), tls::kControllerServerName);
}

}  // namespace

FakeRelay::FakeRelay(const ControllerProcess& controller, NodeId id, std::string region, std::size_t lines,
                     NodeId certificate_node)
    : id_(id),
      region_(std::move(region)),
      lines_(lines),
      stub_(v1::RelaySession::NewStub(relayChannel(controller, certificate_node == kNoNode ? id : certificate_node))),
      stream_(stub_->Session(&context_)),
      reader_([this] { readLoop(); }) {}

FakeRelay::~FakeRelay() {
  context_.TryCancel();
  reader_.join();
}

void FakeRelay::readLoop() {
  v1::ControllerMessage message;
  while (stream_->Read(&message)) {
    std::lock_guard lock(mutex_);
    received_.push_back(message);
    changed_.notify_all();
  }
  const grpc::Status status = stream_->Finish();
  std::lock_guard lock(mutex_);
  end_ = status;
  changed_.notify_all();
}

v1::HelloAck FakeRelay::hello() {
  v1::RelayMessage message;
  v1::RelayHello* hello = message.mutable_hello();
  hello->set_node_id(id_);
  hello->set_region(region_);
  hello->set_software_version("fake-relay");
  for (std::size_t i = 0; i < lines_; ++i) {
    v1::Line* line = hello->add_lines();
    line->set_name(std::string(1, static_cast<char>('a' + i)));
    line->set_address("127.0." + std::to_string(id_) + "." + std::to_string(i + 1) + ":" + std::to_string(4000 + id_));
  }
  REQUIRE(stream_->Write(message));
  std::unique_lock lock(mutex_);
  const bool acked = changed_.wait_for(lock, std::chrono::seconds(5), [&] {
    return end_.has_value() ||
           std::any_of(received_.begin(), received_.end(), [](const auto& m) { return m.has_hello_ack(); });
  });
  REQUIRE(acked);
  for (const auto& m : received_) {
    if (m.has_hello_ack()) return m.hello_ack();
  }
  FAIL("session ended before the hello was answered: " << end_->error_message());
  return {};
}

void FakeRelay::report(const std::vector<FakeLink>& links, double load) {
  v1::RelayMessage message;
  v1::RelayReport* report = message.mutable_report();
  report->set_sequence(++report_sequence_);
  report->set_load(load);
  report->set_applied_route_version(highestVersion());
  for (const FakeLink& link : links) {
    v1::LinkReport* out = report->add_links();
    out->set_neighbour(link.to);
    out->set_rtt_us(static_cast<std::uint64_t>(link.rtt_ms * 1000));
    out->set_jitter_us(200);
    out->set_loss(link.loss);
    out->set_state(link.state);
  }
  REQUIRE(stream_->Write(message));
}

std::optional<v1::RouteTable> FakeRelay::waitForTable(const std::function<bool(const v1::RouteTable&)>& accept,
                                                      std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  std::size_t checked = 0;
  std::optional<v1::RouteTable> found;
  changed_.wait_for(lock, timeout, [&] {
    for (; checked < received_.size(); ++checked) {
      if (received_[checked].has_route_table() && accept(received_[checked].route_table())) {
        found = received_[checked].route_table();
        return true;
      }
    }
    return end_.has_value();
  });
  return found;
}

bool FakeRelay::waitForPeers(const std::function<bool(const v1::PeerList&)>& accept,
                             std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  std::size_t checked = 0;
  bool found = false;
  changed_.wait_for(lock, timeout, [&] {
    for (; checked < received_.size(); ++checked) {
      if (received_[checked].has_peer_list() && accept(received_[checked].peer_list())) {
        found = true;
        return true;
      }
    }
    return end_.has_value();
  });
  return found;
}

std::uint64_t FakeRelay::highestVersion() const {
  std::lock_guard lock(mutex_);
  std::uint64_t highest = 0;
  for (const auto& m : received_) {
    if (m.has_route_table()) highest = std::max<std::uint64_t>(highest, m.route_table().version());
  }
  return highest;
}

std::optional<grpc::Status> FakeRelay::waitForEnd(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return end_.has_value(); });
  return end_;
}

std::pair<NodeId, NodeId> hopsTo(const v1::RouteTable& table, NodeId destination) {
  for (const v1::Route& route : table.routes()) {
    if (route.destination() == destination) {
      return {route.primary().node_id(), route.has_backup() ? route.backup().node_id() : kNoNode};
    }
  }
  return {kNoNode, kNoNode};
}

}  // namespace overline::controller::testing
