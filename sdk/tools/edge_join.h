#pragma once
// How the SDK tools reach their edges: `--edge IP:PORT` (once per edge, in
// the order to try them; no token), or `--controller IP:PORT
// --controller-ca FILE [--region R] [--isp I]`: allocate candidates from
// the controller's Edge service (TLS, verified with the deployment's CA),
// with one join token for the tool's role and stream, order them by
// pickFastestEdge (the controller's order unless another edge answers
// clearly faster), and renew the token before it expires
// (token_renewer.h). Either way the client joins the first candidate
// (`--homes 2`: the first two), moves down the list when one does not
// answer, and keeps the list to move again when its edge dies.

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "sdk/client.h"
#include "sdk/tools/token_renewer.h"

namespace overline::sdk::tools {

struct EdgeFlags {
  std::vector<std::string> edges;
  std::string controller;
  std::string controller_ca;  // file
  std::string region;
  std::string isp;
  std::size_t homes = 1;
};

// Adds --edge, --controller, --controller-ca, --region, --isp and --homes
// to `app`. --edge and --controller exclude each other; --controller-ca,
// --region and --isp need --controller.
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

// Connects as the flags say (options.homes and the candidates come from
// them). `options.connect_timeout_us` bounds the join over all candidates;
// the allocation and the RTT probe have their own short timeouts. Through
// the controller, the token is renewed before it expires, and edges that
// see another public address than the controller did are counted
// (ClientCounters::reflexive_mismatches).
Result<JoinedEdge, std::string> connectToEdge(const EdgeFlags& flags, const JoinIntent& intent,
                                              ClientOptions options);

}  // namespace overline::sdk::tools
