#include "common/tls/tls_config.h"

namespace overline::tls {

std::optional<IdentityFiles> readIdentityKeys(config::MapReader& section, config::ErrorLatch& errors,
                                              std::int64_t now_unix_s) {
  const auto ca_file = section.requiredString("ca_file");
  const auto cert_file = section.requiredString("cert_file");
  const auto key_file = section.requiredString("key_file");
  if (!ca_file || !cert_file || !key_file || errors.failed()) return std::nullopt;
  auto loaded = loadIdentity(*ca_file, *cert_file, *key_file, now_unix_s);
  if (!loaded) {
    const TlsFileError& error = loaded.error();
    const char* key = error.file == TlsFile::kCa ? "ca_file" : error.file == TlsFile::kKey ? "key_file" : "cert_file";
    errors.fail(section.pathOf(key), error.message);
    return std::nullopt;
  }
  return std::move(loaded.value());
}

}  // namespace overline::tls
