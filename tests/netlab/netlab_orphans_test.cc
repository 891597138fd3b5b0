// A test process killed by its CTest timeout cannot remove its lab. Labs made
// by ScopedNetLab record their owner, and removeOrphanedLabs() removes those
// whose owner is gone, never a lab whose owner still runs. CTest runs this
// after the other netlab tests (FIXTURES_CLEANUP), so it also sweeps what
// they may have left.

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "tests/netlab/netlab_test_support.h"

namespace nl = overline::netlab;

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("labs of killed owners are removed, labs of live owners are kept") {
  nl::test::skipWithoutLab();
  auto live = nl::test::startLab(1, 1);

  // A child builds a lab and dies by SIGKILL, as under a CTest timeout.
  const std::string orphan = nl::randomPrefix();
  auto layout = nl::LabLayout::make(orphan, 2, 1);
  REQUIRE(layout.ok());
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto lab = nl::ScopedNetLab::create(layout.value());
    if (!lab) _exit(1);
    raise(SIGKILL);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(nl::labNamespaces(orphan).size() == 3);

  const auto removed = nl::removeOrphanedLabs();
  CHECK(contains(removed, orphan));
  CHECK_FALSE(contains(removed, live->layout().prefix()));
  CHECK(nl::labNamespaces(orphan).empty());
  CHECK(nl::labNamespaces(live->layout().prefix()).size() == 2);
}
