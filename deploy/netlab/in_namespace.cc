#include "deploy/netlab/in_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace overline::netlab {

std::string joinNamespace(const std::string& ns) {
  const std::string path = "/run/netns/" + ns;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "open " + path + ": " + std::strerror(errno);
  const int rc = setns(fd, CLONE_NEWNET);
  const int saved_errno = errno;
  close(fd);
  if (rc != 0) return "setns " + path + ": " + std::strerror(saved_errno);
  return "";
}

}  // namespace overline::netlab
