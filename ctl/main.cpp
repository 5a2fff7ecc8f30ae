// SPDX-License-Identifier: MIT
// buntimectl: the operator inspection CLI; everything but signal setup lives in ctl_dep.
#include "buntime/ctl/cli.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <string>
#include <variant>
#include <vector>

namespace {

std::atomic<bool> interrupted{false};

extern "C" void onInterrupt(int) { interrupted.store(true, std::memory_order_relaxed); }

}  // namespace

int main(int argc, char** argv) {
    static_assert(std::atomic<bool>::is_always_lock_free);
    const std::vector<std::string> args(argv + 1, argv + argc);
    const auto env = buntime::ctl::environmentFromProcess(STDOUT_FILENO);

    // Only `metrics --watch` turns Ctrl-C into a clean stop (exit 0); every other command
    // keeps the default action so an interrupted request ends at once.
    const auto parsed = buntime::ctl::parseArgs(args, env);
    const auto* options = std::get_if<buntime::ctl::Options>(&parsed);
    if (options != nullptr && options->command == buntime::ctl::Command::Metrics && options->watch_seconds &&
        !options->help && !options->version) {
        struct sigaction action {};
        action.sa_handler = onInterrupt;
        sigemptyset(&action.sa_mask);
        sigaction(SIGINT, &action, nullptr);
        sigaction(SIGTERM, &action, nullptr);
    }
    signal(SIGPIPE, SIG_IGN);
    try {
        return buntime::ctl::run(args, env, std::cout, std::cerr, &interrupted);
    } catch (const std::exception& error) {
        std::cerr << "buntimectl: " << error.what() << '\n';
        return buntime::ctl::exitServerError;
    }
}
