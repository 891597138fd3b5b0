#include "common/tls/openssl_util.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace overline::tls::detail {
namespace {

BioPtr memoryBio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string bioText(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::string errnoText() { return std::strerror(errno); }

}  // namespace

std::optional<std::vector<X509Ptr>> parseCertificates(std::string_view pem) {
  std::vector<X509Ptr> certificates;
  const BioPtr bio = memoryBio(pem);
  if (bio == nullptr) return std::nullopt;
  ERR_clear_error();
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certificates.emplace_back(cert);
  }
  // The loop ends at the end of the input ("no start line") or at a block
  // that does not parse.
  const unsigned long error = ERR_peek_last_error();
  const bool clean_end =
      error == 0 || (ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE);
  ERR_clear_error();
  if (!clean_end) return std::nullopt;
  return certificates;
}

KeyPtr parsePrivateKey(std::string_view pem) {
  const BioPtr bio = memoryBio(pem);
  if (bio == nullptr) return nullptr;
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return key;
}

std::string certificatePem(X509* cert) {
  const BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509(bio.get(), cert) != 1) return {};
  return bioText(bio.get());
}

std::string privateKeyPem(EVP_PKEY* key) {
  const BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return {};
  }
  return bioText(bio.get());
}

std::int64_t unixTime(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::int64_t notBefore(const X509* cert) { return unixTime(X509_get0_notBefore(cert)); }
std::int64_t notAfter(const X509* cert) { return unixTime(X509_get0_notAfter(cert)); }

std::optional<std::string> writeFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                                           bool replace) {
  std::string temp = path + ".tmp-XXXXXX";
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return path + ": cannot write file: " + errnoText();
  const auto fail = [&](const std::string& what) {
    const std::string reason = errnoText();
    ::close(fd);
    ::unlink(temp.c_str());
    return path + ": " + what + ": " + reason;
  };
  if (::fchmod(fd, mode) != 0) return fail("cannot write file");
  std::size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write file");
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot write file");
  if (::close(fd) != 0) {
    const std::string reason = errnoText();
    ::unlink(temp.c_str());
    return path + ": cannot write file: " + reason;
  }
  if (replace) {
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      const std::string reason = errnoText();
      ::unlink(temp.c_str());
      return path + ": cannot write file: " + reason;
    }
  } else {
    // link() fails with EEXIST instead of replacing: no check-then-write race.
    if (::link(temp.c_str(), path.c_str()) != 0) {
      const int error = errno;
      ::unlink(temp.c_str());
      if (error == EEXIST) return path + ": already exists";
      return path + ": cannot write file: " + std::strerror(error);
    }
    ::unlink(temp.c_str());
  }
  // Make the rename itself durable.
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return std::nullopt;
}

std::string joinPath(const std::string& dir, const std::string& file) {
  if (dir.empty()) return file;
  return dir.back() == '/' ? dir + file : dir + "/" + file;
}

}  // namespace overline::tls::detail
