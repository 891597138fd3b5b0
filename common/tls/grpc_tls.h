#pragma once
// gRPC credentials from loaded TLS files (tls_files.h), and the identity of
// the caller of a server call.
//
// Servers: mutualTlsServer() asks every client for a certificate but leaves
// checking it to callerIdentity() (certificate_verifier.h says why);
// serverOnlyTls() is for the Edge listener, whose clients are SDKs without
// certificates. Clients verify the server's certificate against the CA and
// the name `server_name` (not the dialled address: see pki.h).

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "common/tls/certificate_verifier.h"
#include "common/tls/tls_files.h"

namespace overline::tls {

std::shared_ptr<grpc::ServerCredentials> mutualTlsServer(const IdentityFiles& files);
std::shared_ptr<grpc::ServerCredentials> serverOnlyTls(const IdentityFiles& files);

// A channel that presents `files`' certificate (relays, overlinectl).
std::shared_ptr<grpc::Channel> mutualTlsChannel(const std::string& address, const IdentityFiles& files,
                                                const std::string& server_name,
                                                grpc::ChannelArguments arguments = {});
// A channel that only verifies the server (SDK clients).
std::shared_ptr<grpc::Channel> serverVerifiedChannel(const std::string& address, const TrustFiles& trust,
                                                     const std::string& server_name,
                                                     grpc::ChannelArguments arguments = {});

// The verified identity of a call's client (its leaf certificate from the
// call's AuthContext), at `now_unix_s`.
Result<PeerIdentity, CertificateRefusal> callerIdentity(const grpc::AuthContext& context,
                                                        const CertificateVerifier& verifier,
                                                        std::int64_t now_unix_s);

}  // namespace overline::tls
