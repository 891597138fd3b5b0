#pragma once
// TokenRenewer: keeps the join token of a client joined through the
// controller fresh (an edge ends a session when the token it holds expires;
// docs/architecture.md, "Trust"). A background thread asks the controller's
// Edge service for a new token when a quarter of the current one's lifetime
// is left (at least 10 s before expiry), and hands it to the client, whose
// next keepalive carries it; a failed request is retried every 5 s until
// the token expires. A new token that does not name the client's edge (the
// controller no longer offers it) is not used.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "sdk/client.h"
#include "sdk/edge/edge_allocation.h"

namespace overline::sdk::tools {

class TokenRenewer {
 public:
  // `client` must outlive this object; `request` is the allocation that
  // gave the client its current token, expiring at `expires_unix_s`.
  TokenRenewer(Client& client, EdgeAllocationRequest request, std::int64_t expires_unix_s);
  ~TokenRenewer();  // stops the thread and waits for it (at most one request's timeout)
  TokenRenewer(const TokenRenewer&) = delete;
  TokenRenewer& operator=(const TokenRenewer&) = delete;

 private:
  void run(std::int64_t expires_unix_s);

  Client& client_;
  const EdgeAllocationRequest request_;
  std::mutex mutex_;
  std::condition_variable stop_changed_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace overline::sdk::tools
