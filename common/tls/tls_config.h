#pragma once
// The TLS identity keys of a config section: the controller's `tls:` and a
// relay's `controller.tls:` both name `ca_file`, `cert_file` and `key_file`.

#include <cstdint>
#include <optional>

#include "common/config/yaml_reader.h"
#include "common/tls/tls_files.h"

namespace overline::tls {

// Reads the three required keys of `section` (whose allowed keys are the
// caller's), loads and cross-checks the files at `now_unix_s`
// (loadIdentity) and latches a load error on the key of the file it is
// about, e.g. "tls.key_file: /x/relay-1.key: does not match the certificate
// /x/relay-7.pem". nullopt when anything failed, earlier errors included
// (the files are then not read).
std::optional<IdentityFiles> readIdentityKeys(config::MapReader& section, config::ErrorLatch& errors,
                                              std::int64_t now_unix_s);

}  // namespace overline::tls
