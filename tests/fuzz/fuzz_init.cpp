// Every fuzz target starts as the server does: libraries initialised before anything else runs.
#include "process/library_init.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sky::process::init_libraries();
  return 0;
}
