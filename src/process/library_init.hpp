// Process-wide initialisation of the libraries that keep global state. Called once, first thing,
// by every entry point (the binary's main, the test mains, the fuzzers, the benchmarks), before
// any thread exists.
#pragma once

namespace sky::process {

// Idempotent and cheap after the first call. Must run before the first thread is started: some
// of these libraries initialise lazily and not thread-safely (see the .cpp for each finding).
void init_libraries();

// Test only: whether init_libraries() ran in this process.
bool libraries_initialised();

} // namespace sky::process
