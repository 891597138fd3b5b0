#pragma once
// The shipped relay configs (deploy/relay.example.yaml, deploy/mesh-3region)
// read their mesh secret from /etc/overline/mesh-1.key. Tests that load them
// point that path at a key file of their own and parse the text.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace overline::test {

// The text of `config_path` with /etc/overline/mesh-1.key replaced by a
// test key file (written once per process).
inline std::string withTestMeshKey(const std::string& config_path) {
  static const std::string key_path = [] {
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("overline-test-mesh-" + std::to_string(::getpid()) + ".key"))
                                 .string();
    std::ofstream(path) << "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
    return path;
  }();
  std::ifstream in(config_path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string shipped = "/etc/overline/mesh-1.key";
  for (auto at = text.find(shipped); at != std::string::npos; at = text.find(shipped, at)) {
    text.replace(at, shipped.size(), key_path);
  }
  return text;
}

}  // namespace overline::test
