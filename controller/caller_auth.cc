#include "controller/caller_auth.h"

#include <spdlog/spdlog.h>

#include "common/process/log_fields.h"
#include "common/tls/grpc_tls.h"

namespace overline::controller {

Result<tls::PeerIdentity, grpc::Status> CallerAuth::identify(const grpc::AuthContext& context,
                                                             std::string_view listener) const {
  auto identity = tls::callerIdentity(context, *verifier_, clock_() / 1000);
  if (identity) return identity.value();
  const tls::CertificateRefusal& refusal = identity.error();
  metrics_.countRefusedCall(listener, tls::toString(refusal.problem));
  logEvent(spdlog::level::warn, "call refused: client certificate",
           {{"listener", listener}, {"reason", tls::toString(refusal.problem)}, {"detail", refusal.detail}});
  return Err(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "client certificate: " + refusal.detail));
}

Result<NodeId, grpc::Status> CallerAuth::relay(const grpc::AuthContext& context) const {
  auto identity = identify(context, "relays");
  if (!identity) return Err(identity.error());
  if (identity->role != tls::PeerRole::kRelay) {
    metrics_.countRefusedCall("relays", "wrong_role");
    return Err(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                            "relay sessions need a relay certificate, not " + tls::describe(identity.value())));
  }
  return identity->node;
}

grpc::Status CallerAuth::admin(const grpc::AuthContext& context, Access access) const {
  auto identity = identify(context, "admin");
  if (!identity) return identity.error();
  const tls::PeerRole role = identity->role;
  if (role != tls::PeerRole::kOperatorWrite && role != tls::PeerRole::kOperatorRead) {
    metrics_.countRefusedCall("admin", "wrong_role");
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "Admin needs an operator certificate, not " + tls::describe(identity.value()));
  }
  if (access == Access::kWrite && role != tls::PeerRole::kOperatorWrite) {
    metrics_.countRefusedCall("admin", "read_only");
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        tls::describe(identity.value()) + " may not change anything");
  }
  return grpc::Status::OK;
}

}  // namespace overline::controller
