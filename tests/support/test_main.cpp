// The main of every test binary: libraries first, as in the server, then the tests.
#include "process/library_init.hpp"

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  sky::process::init_libraries();
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
