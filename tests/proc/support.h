// SPDX-License-Identifier: MIT
// Shared helpers of the proc suites: run a child and capture its stdout, temp dirs, self path.
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

// A fresh directory under $TMPDIR (or /tmp), removed recursively on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Reads a whole file; empty string when it cannot be opened.
std::string readFile(const std::string& path);

}  // namespace buntime::proc::test
