#pragma once
// The controller's unit tests keep their RocksDB stores in a TempDir
// (tests/temp_dir.h).

#include "tests/temp_dir.h"

namespace overline::controller::testing {

using TempDir = overline::test::TempDir;

}  // namespace overline::controller::testing
