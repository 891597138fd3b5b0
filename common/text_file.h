#pragma once
// Reading a whole file, for config loaders and TLS files alike.

#include <string>

#include "common/result.h"

namespace overline {

// Reads a whole file; the error is "cannot read file: <strerror>" (callers
// name the file).
Result<std::string, std::string> readTextFile(const std::string& file_path);

}  // namespace overline
