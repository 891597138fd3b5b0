#include "sdk/tools/token_renewer.h"

#include <algorithm>
#include <chrono>

#include "common/token/join_token.h"

namespace overline::sdk::tools {
namespace {

constexpr std::int64_t kMinLeadS = 10;
constexpr std::int64_t kRetryS = 5;

std::int64_t unixNowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TokenRenewer::TokenRenewer(Client& client, EdgeAllocationRequest request, std::int64_t expires_unix_s)
    : client_(client), request_(std::move(request)) {
  thread_ = std::thread([this, expires_unix_s] { run(expires_unix_s); });
}

TokenRenewer::~TokenRenewer() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stop_changed_.notify_all();
  thread_.join();
}

void TokenRenewer::run(std::int64_t expires_unix_s) {
  std::int64_t issued_unix_s = unixNowS();
  for (;;) {
    const std::int64_t lifetime_s = std::max<std::int64_t>(expires_unix_s - issued_unix_s, 0);
    std::int64_t renew_at_s = expires_unix_s - std::max(lifetime_s / 4, kMinLeadS);
    for (;;) {
      std::unique_lock lock(mutex_);
      const auto wait = std::chrono::seconds(std::max<std::int64_t>(renew_at_s - unixNowS(), 0));
      if (stop_changed_.wait_for(lock, wait, [this] { return stop_; })) return;
      lock.unlock();
      if (unixNowS() >= expires_unix_s) return;  // too late: the edge has ended the session
      auto allocated = allocateEdges(request_);
      if (allocated) {
        const auto& edges = allocated.value().edges;
        const auto own = std::find_if(edges.begin(), edges.end(),
                                      [&](const AllocatedEdge& e) { return e.node_id == client_.edgeNode(); });
        const auto grant = own == edges.end() ? std::nullopt : token::readUnverifiedGrant(own->candidate.join_token);
        if (grant && grant->expires_unix_s > expires_unix_s && client_.setJoinToken(own->candidate.join_token)) {
          issued_unix_s = unixNowS();
          expires_unix_s = grant->expires_unix_s;
          break;
        }
      }
      renew_at_s = unixNowS() + kRetryS;
    }
  }
}

}  // namespace overline::sdk::tools
