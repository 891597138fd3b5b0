#include "common/text_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace overline {

Result<std::string, std::string> readTextFile(const std::string& file_path) {
  std::FILE* file = std::fopen(file_path.c_str(), "rb");
  if (file == nullptr) return Err(std::string("cannot read file: ") + std::strerror(errno));
  std::string text;
  char chunk[4096];
  std::size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof(chunk), file)) > 0) text.append(chunk, n);
  const bool failed = std::ferror(file) != 0;
  const int read_errno = errno;  // fclose may overwrite it
  std::fclose(file);
  if (failed) return Err(std::string("cannot read file: ") + std::strerror(read_errno));
  return text;
}

}  // namespace overline
