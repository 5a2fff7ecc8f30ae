// SPDX-License-Identifier: MIT
// Shared helpers of the proc suites: run a child and capture its stdout, self path.
#pragma once

#include <string>

#include "buntime/proc/process.h"

namespace buntime::proc::test {

// Path of the running test binary (re-executed as a child with a --mode argument).
std::string selfExe();

struct Captured {
    bool spawned = false;
    std::string error;  // spawn error message when !spawned
    std::string out;    // everything the child wrote to stdout
    ExitStatus status;
};

// Spawns `options` with stdout on a pipe, reads it to EOF and reaps the child.
Captured runCapture(SpawnOptions options);

}  // namespace buntime::proc::test
