#pragma once
// How the SDK tools reach an edge: `--edge IP:PORT` directly (no token), or
// `--controller IP:PORT --controller-ca FILE [--region R] [--isp I]`:
// allocate candidates from the controller's Edge service (TLS, verified
// with the deployment's CA), with one join token for the tool's role and
// stream, order them by pickFastestEdge (the controller's order unless
// another edge answers clearly faster) and join the first with the token,
// failing over to the next candidates, and renew the token before it
// expires (token_renewer.h).

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "common/types.h"
#include "sdk/client.h"
#include "sdk/tools/token_renewer.h"

namespace overline::sdk::tools {

struct EdgeFlags {
  std::string edge;
  std::string controller;
  std::string controller_ca;  // file
  std::string region;
  std::string isp;
};

// Adds --edge, --controller, --controller-ca, --region and --isp to `app`.
// The two addresses exclude each other; the others need --controller.
void addEdgeFlags(CLI::App& app, EdgeFlags& flags);

// After parsing: the message for "neither --edge nor --controller" or for
// --controller without --controller-ca, else nullopt.
std::optional<std::string> checkEdgeFlags(const EdgeFlags& flags);

// What a tool asks the controller's join token for (--controller only).
struct JoinIntent {
  bool publish = false;
  bool subscribe = false;
  std::optional<StreamId> stream;  // the one stream the tool uses, if known before joining; else any
};

// A joined client and, when it joined through the controller, the renewer
// of its token (declared after the client: it goes first).
struct JoinedEdge {
  std::unique_ptr<Client> client;
  std::unique_ptr<TokenRenewer> renewer;
};

// Connects as the flags say. `options.connect_timeout_us` applies per edge
// tried; the allocation and the RTT probe have their own short timeouts.
// Through the controller, the token is renewed before it expires.
Result<JoinedEdge, std::string> connectToEdge(const EdgeFlags& flags, const JoinIntent& intent,
                                              const ClientOptions& options);

}  // namespace overline::sdk::tools
