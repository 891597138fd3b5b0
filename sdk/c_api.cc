// The C API (sdk/overline.h) over sdk::Client. No C++ exception may cross
// this boundary: allocation failures are caught and returned as codes.

#include <new>
#include <set>
#include <vector>

#include "common/endpoint.h"
#include "common/wire/packet.h"
#include "sdk/client.h"
#include "sdk/overline.h"

static_assert(OVERLINE_MAX_PAYLOAD_BYTES == overline::wire::kMaxPayloadBytes);

struct overline_client {
  std::unique_ptr<overline::sdk::Client> client;
};

namespace {

using overline::sdk::Client;
using overline::sdk::EdgeCandidate;

int eventCode(overline::sdk::SessionEventType type) {
  switch (type) {
    case overline::sdk::SessionEventType::kJoined: return OVERLINE_EVENT_EDGE_JOINED;
    case overline::sdk::SessionEventType::kConnected: return OVERLINE_EVENT_CONNECTED;
    case overline::sdk::SessionEventType::kEdgeChanged: return OVERLINE_EVENT_EDGE_CHANGED;
    case overline::sdk::SessionEventType::kLost: return OVERLINE_EVENT_LOST;
  }
  return 0;  // unreachable: every type is handled above
}

template <typename Fn>
int guarded(Fn&& fn) {
  try {
    return fn();
  } catch (...) {
    return OVERLINE_ERR_INTERNAL;
  }
}

}  // namespace

extern "C" {

const char* overline_strerror(int code) {
  switch (code) {
    case OVERLINE_OK:
      return "ok";
    case OVERLINE_ERR_INVALID_ARGUMENT:
      return "invalid argument";
    case OVERLINE_ERR_CONNECT:
      return "could not connect to the edge relay";
    case OVERLINE_ERR_SEND:
      return "could not send";
    case OVERLINE_ERR_INTERNAL:
      return "internal error";
    default:
      return "unknown error code";
  }
}

int overline_connect(const char* edge, uint32_t connect_timeout_ms, overline_client** out) {
  return overline_connect_with_token(edge, nullptr, connect_timeout_ms, out);
}

int overline_connect_with_token(const char* edge, const char* join_token, uint32_t connect_timeout_ms,
                                overline_client** out) {
  return overline_connect_candidates(&edge, &join_token, 1, 1, connect_timeout_ms, nullptr, nullptr, out);
}

int overline_connect_candidates(const char* const* edges, const char* const* tokens, size_t n, uint32_t homes,
                                uint32_t timeout_ms, overline_event_fn on_event, void* user,
                                overline_client** out) {
  if (out == nullptr) return OVERLINE_ERR_INVALID_ARGUMENT;
  *out = nullptr;
  if (edges == nullptr || n == 0 || homes > 2) return OVERLINE_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    std::vector<EdgeCandidate> candidates;
    std::set<overline::Endpoint> seen;
    for (size_t i = 0; i < n; ++i) {
      if (edges[i] == nullptr) return OVERLINE_ERR_INVALID_ARGUMENT;
      const auto endpoint = overline::Endpoint::parse(edges[i]);
      if (!endpoint || endpoint->address() == 0 || endpoint->port() == 0 || !seen.insert(*endpoint).second) {
        return OVERLINE_ERR_INVALID_ARGUMENT;
      }
      EdgeCandidate candidate{*endpoint, {}};
      if (tokens != nullptr && tokens[i] != nullptr) candidate.join_token = tokens[i];
      if (candidate.join_token.size() > overline::wire::kMaxJoinTokenBytes) return OVERLINE_ERR_INVALID_ARGUMENT;
      candidates.push_back(std::move(candidate));
    }
    overline::sdk::ClientOptions options;
    options.homes = homes == 0 ? 1 : homes;
    if (timeout_ms > 0) {
      options.connect_timeout_us = static_cast<overline::DurationUs>(timeout_ms) * overline::kMillisecond;
    }
    if (on_event != nullptr) {
      options.on_event = [on_event, user](const overline::sdk::SessionEvent& event) {
        on_event(user, eventCode(event.type), event.old_edge, event.new_edge);
      };
    }
    auto connected = Client::connect(candidates, options);
    if (!connected) return OVERLINE_ERR_CONNECT;
    *out = new overline_client{std::move(connected.value())};
    return OVERLINE_OK;
  });
}

uint32_t overline_edge_node(const overline_client* client) {
  return client == nullptr ? overline::kNoNode : client->client->edgeNode();
}

int overline_publish(overline_client* client, uint32_t local_id, uint64_t* stream_id) {
  return overline_publish_with_budget(client, local_id, 0, stream_id);
}

int overline_publish_with_budget(overline_client* client, uint32_t local_id, uint32_t latency_budget_ms,
                                 uint64_t* stream_id) {
  if (client == nullptr || stream_id == nullptr) return OVERLINE_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    overline::sdk::PublishOptions options;
    if (latency_budget_ms != 0) {
      options.latency_budget_us = static_cast<overline::DurationUs>(latency_budget_ms) * overline::kMillisecond;
    }
    const auto published = client->client->publish(local_id, options);
    if (!published) return OVERLINE_ERR_INVALID_ARGUMENT;
    *stream_id = *published;
    return OVERLINE_OK;
  });
}

int overline_send(overline_client* client, uint64_t stream_id, const uint8_t* payload, size_t len) {
  if (client == nullptr || (payload == nullptr && len > 0) || len > OVERLINE_MAX_PAYLOAD_BYTES) {
    return OVERLINE_ERR_INVALID_ARGUMENT;
  }
  const auto bytes = std::span(reinterpret_cast<const std::byte*>(payload), len);
  return client->client->send(stream_id, bytes) ? OVERLINE_OK : OVERLINE_ERR_SEND;
}

int overline_subscribe(overline_client* client, uint64_t stream_id, overline_receive_fn fn, void* user) {
  if (client == nullptr || fn == nullptr) return OVERLINE_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    (void)client->client->subscribe(stream_id,
                              [fn, user](overline::StreamId stream, const overline::wire::Header& header,
                                         std::span<const std::byte> payload, std::uint64_t) {
                                fn(user, stream, header.sequence, header.timestamp_us,
                                   reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
                              });
    return OVERLINE_OK;
  });
}

int overline_set_join_token(overline_client* client, const char* join_token) {
  if (client == nullptr || join_token == nullptr) return OVERLINE_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    return client->client->setJoinToken(join_token) ? OVERLINE_OK : OVERLINE_ERR_INVALID_ARGUMENT;
  });
}

int overline_unsubscribe(overline_client* client, uint64_t stream_id) {
  if (client == nullptr) return OVERLINE_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    client->client->unsubscribe(stream_id);
    return OVERLINE_OK;
  });
}

void overline_destroy(overline_client* client) { delete client; }

}  // extern "C"
