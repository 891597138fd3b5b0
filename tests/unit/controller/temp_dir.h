#pragma once
// A fresh directory under the system temp dir, removed with everything in it
// on destruction. The controller's unit tests keep their RocksDB stores there.

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace overline::controller::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "overline-ctl-unit-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace overline::controller::testing
