#include "common/tls/grpc_tls.h"

#include <grpc/grpc_security_constants.h>

#include <string_view>
#include <utility>

namespace overline::tls {
namespace {

std::shared_ptr<grpc::ServerCredentials> serverCredentials(const IdentityFiles& files,
                                                           grpc_ssl_client_certificate_request_type request) {
  grpc::SslServerCredentialsOptions options(request);
  if (request != GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE) options.pem_root_certs = files.ca_pem;
  options.pem_key_cert_pairs.push_back({files.key_pem, files.cert_pem});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::Channel> channel(const std::string& address, grpc::SslCredentialsOptions options,
                                       const std::string& server_name, grpc::ChannelArguments arguments) {
  arguments.SetSslTargetNameOverride(server_name);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(options), arguments);
}

}  // namespace

std::shared_ptr<grpc::ServerCredentials> mutualTlsServer(const IdentityFiles& files) {
  // The handshake only makes the client prove it holds its certificate's
  // key; callerIdentity() decides whether the certificate is acceptable.
  return serverCredentials(files, GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
}

std::shared_ptr<grpc::ServerCredentials> serverOnlyTls(const IdentityFiles& files) {
  return serverCredentials(files, GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
}

std::shared_ptr<grpc::Channel> mutualTlsChannel(const std::string& address, const IdentityFiles& files,
                                                const std::string& server_name, grpc::ChannelArguments arguments) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = files.ca_pem;
  options.pem_private_key = files.key_pem;
  options.pem_cert_chain = files.cert_pem;
  return channel(address, std::move(options), server_name, std::move(arguments));
}

std::shared_ptr<grpc::Channel> serverVerifiedChannel(const std::string& address, const TrustFiles& trust,
                                                     const std::string& server_name,
                                                     grpc::ChannelArguments arguments) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = trust.ca_pem;
  return channel(address, std::move(options), server_name, std::move(arguments));
}

Result<PeerIdentity, CertificateRefusal> callerIdentity(const grpc::AuthContext& context,
                                                        const CertificateVerifier& verifier,
                                                        std::int64_t now_unix_s) {
  const std::vector<grpc::string_ref> values = context.FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (values.empty() || values.front().empty()) {
    return Err(CertificateRefusal{CertificateProblem::kMissing, "no client certificate presented"});
  }
  const grpc::string_ref& pem = values.front();
  return verifier.verify(std::string_view(pem.data(), pem.size()), now_unix_s);
}

}  // namespace overline::tls
