// SPDX-License-Identifier: MIT
// Sanitizer runs: the build-sanitize/ test setup sets BUNTIME_SANITIZE, and every supervisor a
// test starts then runs with its worker memory cap off (an ASan worker reserves terabytes of
// shadow address space, which RLIMIT_DATA refuses).
#pragma once

#include <cstdlib>
#include <map>
#include <string>

namespace buntime::test {

// True in a `scripts/test --sanitize` run (meson's default test setup of a sanitized build).
inline bool sanitizeRun() {
    const char* v = std::getenv("BUNTIME_SANITIZE");
    return v && *v;
}

// Why a test of the memory cap itself does not run there (doctest::skip(sanitizeRun())).
inline constexpr const char* kCapOffUnderSanitizers =
    "skipped under sanitizers: the worker memory cap is off (RUNTIME_WORKER_MAX_MEMORY=0)";

// The supervisor's environment gets RUNTIME_WORKER_MAX_MEMORY=0 in a sanitizer run, unless
// the test set it itself.
inline void addSanitizeEnv(std::map<std::string, std::string>& env) {
    if (sanitizeRun()) env.try_emplace("RUNTIME_WORKER_MAX_MEMORY", 1, '0');  // keeps a value the test set
}

}  // namespace buntime::test
