// SPDX-License-Identifier: MIT
// `buntime check` (also `--check`), like `nginx -t`: validates the environment and every
// app under RUNTIME_WORKER_DIRS without starting anything.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace buntime::supervisor {

enum class Severity { Error, Warning };

// One finding. `file` is "env" for a variable, else a worker directory, an app directory or
// a manifest; `line` is 0 when unknown; `key` a variable or a manifest key, or "".
struct Finding {
    Severity severity = Severity::Error;
    std::string file;
    int line = 0;
    std::string key;
    std::string message;
    bool operator==(const Finding&) const = default;
};

// "error: <file>:<line>: <key>: <message>" (":<line>" left out when 0, "<key>: " when empty).
std::string formatFinding(const Finding& f);

struct CheckReport {
    std::vector<Finding> findings;  // environment first, then worker directories, then apps by name
    std::size_t worker_dirs = 0;    // configured (after dropping duplicates)
    std::size_t apps = 0;
    std::size_t versions = 0;
    std::size_t errors() const;
    std::size_t warnings() const;
};

// Checks, with the parsers the supervisor uses:
//  - every variable of configFromEnv (errors: what the start refuses; warnings: what it
//    tolerates) and RUNTIME_WORKER_DIRS set;
//  - each worker directory: missing, not a directory or unreadable is an error;
//  - each app version: its manifest (a bad value or YAML error: error with line and key;
//    unknown keys, with the closest known key, and other manifest warnings: warning), its
//    entrypoint (missing, outside the app directory, not a regular file, unreadable, an
//    executable without the x bit: error; command apps have none to check), directory
//    names that are not versions (error);
//  - collisions (error): one name@version from two directories, whatever their layout
//    (flat app@1.0.0/, nested app/1.0.0/, or simple app/ whose manifest says 1.0.0), in one
//    worker directory or two; and a `hosts` name claimed by the latest versions of two apps.
CheckReport checkConfiguration(const std::vector<std::string>& environment);

// 0: no error (and, with `strict`, no warning); 1: errors; 2: warnings only, with `strict`.
int checkExitCode(const CheckReport& report, bool strict);

// checkConfiguration + one line per finding and a summary line on `out`; the exit code.
int runCheck(const std::vector<std::string>& environment, bool strict, std::FILE* out);

}  // namespace buntime::supervisor
