// SPDX-License-Identifier: MIT
// buntimectl's entry point as a library call: parse, talk to the supervisor, render, exit code.
#pragma once

#include "buntime/ctl/options.h"

#include <atomic>
#include <ostream>
#include <span>
#include <string>

namespace buntime::ctl {

// Documented process exit codes.
enum ExitCode : int {
    exitOk = 0,
    exitServerError = 1,  // the supervisor answered with an error
    exitUsage = 2,
    exitUnreachable = 3,
};

// Runs one buntimectl invocation. args excludes argv[0]. `stop` (may be null) ends
// `metrics --watch` cleanly with exit 0 when it becomes true (main sets it from SIGINT).
// Writes results to out and diagnostics to err. Thread-safe as long as the streams are
// not shared; blocks for the duration of the HTTP calls (and the whole --watch loop).
int run(std::span<const std::string> args, const Environment& env, std::ostream& out, std::ostream& err,
        const std::atomic<bool>* stop = nullptr);

// Width used for human output: --width, else the terminal, else $COLUMNS, else 100.
std::size_t outputWidth(const Options& options, const Environment& env);

// Reads PORT, RUNTIME_ADMIN_TOKEN, COLUMNS and the TIOCGWINSZ size of fd (for main).
Environment environmentFromProcess(int fd);

}  // namespace buntime::ctl
