#pragma once
// CallerAuth: who may call what on the controller's mutual-TLS listeners
// (docs/architecture.md, "Control-plane trust").
//
//   relays listener  RelaySession   a relay certificate; the hello must name
//                                   the same node (Controller::onHello)
//   admin listener   Admin reads    an operator certificate, read or write
//                    Admin writes   an operator certificate with write
// Every refusal is counted (overline_controller_refused_calls_total) and
// answered UNAUTHENTICATED (no valid certificate) or PERMISSION_DENIED (a
// valid one without the role), before the call does any work. Thread-safe.

#include <grpcpp/grpcpp.h>

#include <memory>

#include "common/result.h"
#include "common/tls/certificate_verifier.h"
#include "common/types.h"
#include "controller/controller.h"
#include "controller/controller_metrics.h"

namespace overline::controller {

class CallerAuth {
 public:
  enum class Access : std::uint8_t { kRead, kWrite };

  CallerAuth(std::shared_ptr<const tls::CertificateVerifier> verifier, ControllerMetrics& metrics,
             UnixClockMs clock = systemUnixMs)
      : verifier_(std::move(verifier)), metrics_(metrics), clock_(std::move(clock)) {}

  // The node a RelaySession caller's certificate names.
  Result<NodeId, grpc::Status> relay(const grpc::AuthContext& context) const;
  // OK when an Admin caller may make a call needing `access`.
  grpc::Status admin(const grpc::AuthContext& context, Access access) const;

 private:
  Result<tls::PeerIdentity, grpc::Status> identify(const grpc::AuthContext& context, std::string_view listener) const;

  std::shared_ptr<const tls::CertificateVerifier> verifier_;
  ControllerMetrics& metrics_;
  UnixClockMs clock_;
};

}  // namespace overline::controller
