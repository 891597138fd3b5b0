#include "deploy/impair/access_clients.h"

namespace overline::impair {

AccessClients::Client::Client(std::size_t client_index, const Endpoint& client_endpoint,
                              const impairment::ImpairmentKnobs& knobs, std::uint64_t up_seed,
                              std::uint64_t down_seed)
    // The config loader has checked that the access knobs convert.
    : index(client_index),
      endpoint(client_endpoint),
      up(impairment::toSettings(knobs).value(), up_seed),
      down(impairment::toSettings(knobs).value(), down_seed) {}

AccessClients::AccessClients(const impairment::ImpairmentKnobs& knobs, std::uint64_t seed)
    : knobs_(knobs), seed_(seed) {}

AccessClients::Client* AccessClients::clientAt(const Endpoint& endpoint, bool& added) {
  added = false;
  if (const auto it = index_of_.find(endpoint); it != index_of_.end()) return clients_[it->second].get();
  if (clients_.size() >= kMaxClients) {
    ++refused_;
    return nullptr;
  }
  const std::size_t index = clients_.size();
  clients_.push_back(std::make_unique<Client>(index, endpoint, knobs_, impairment::deriveSeed(seed_, 2 * index),
                                              impairment::deriveSeed(seed_, 2 * index + 1)));
  index_of_.emplace(endpoint, index);
  added = true;
  return clients_.back().get();
}

}  // namespace overline::impair
