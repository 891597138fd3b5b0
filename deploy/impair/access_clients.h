#pragma once
// Client access through the switchboard (config `switchboard.access`): SDK
// clients reach relay lines through the proxy too, each through a port of
// its own, the way a NAT gives every client a mapping. Pure (no sockets, no
// clock): the Switchboard asks here which client a datagram belongs to and
// what its access path does to it; ImpairProxy opens the client's port when
// a client is added.
//
// A datagram at stand-in S(X) from client endpoint C travels C's `up`
// direction and is delivered to X's real endpoint FROM C's port P(C); X's
// answer, sent to P(C), travels C's `down` direction and reaches C FROM
// S(X), the address C dialled. So a relay sees one address per client (the
// port, bound on C's own IP so that a join token bound to that IP still
// verifies), and a client sees its edge where it sent to, as with a real
// edge. Both directions of every client take the `access` knobs (each with
// its own seed). Line commands (line-down, line-set, pair-set) do not touch
// access: lines stand for the relays' uplinks between each other, access
// for the client's own path to its edge, so a line test never cuts a client
// off from its edge.
//
// At most kMaxClients clients per run (each port is a file descriptor, and
// 512 of them stay well inside the usual limit of 1024 per process);
// datagrams of any client beyond that are dropped and counted as refused.
// Single-threaded.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/endpoint.h"
#include "common/impairment/impairment_knobs.h"
#include "common/impairment/link_impairment.h"
#include "deploy/impair/direction_counters.h"

namespace overline::impair {

class AccessClients {
 public:
  static constexpr std::size_t kMaxClients = 512;

  struct Client {
    Client(std::size_t client_index, const Endpoint& client_endpoint, const impairment::ImpairmentKnobs& knobs,
           std::uint64_t up_seed, std::uint64_t down_seed);

    std::size_t index;  // order of first sight, from 0
    Endpoint endpoint;  // where the client sends from and gets answers
    impairment::LinkImpairment up;    // client -> relay line
    impairment::LinkImpairment down;  // relay line -> client
    // The Switchboard counts `received` and `received_bytes`; whoever
    // delivers counts the rest.
    DirectionCounters up_counters;
    DirectionCounters down_counters;
    std::uint64_t foreign = 0;  // datagrams at the client's port from anything but a line
  };

  // `knobs` convert (toSettings succeeds: the config loader checked them).
  AccessClients(const impairment::ImpairmentKnobs& knobs, std::uint64_t seed);
  AccessClients(const AccessClients&) = delete;
  AccessClients& operator=(const AccessClients&) = delete;

  // The client at `endpoint`, added on first sight (`added` then true: its
  // port is to be opened). nullptr, and one more refused datagram, when
  // kMaxClients other clients exist.
  Client* clientAt(const Endpoint& endpoint, bool& added);
  Client& client(std::size_t index) { return *clients_[index]; }
  std::size_t size() const { return clients_.size(); }
  std::uint64_t refused() const { return refused_; }
  const impairment::ImpairmentKnobs& knobs() const { return knobs_; }

 private:
  impairment::ImpairmentKnobs knobs_;
  std::uint64_t seed_;
  std::vector<std::unique_ptr<Client>> clients_;  // stable addresses: queued packets count into them
  std::unordered_map<Endpoint, std::size_t> index_of_;
  std::uint64_t refused_ = 0;
};

}  // namespace overline::impair
