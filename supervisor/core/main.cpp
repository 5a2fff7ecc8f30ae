// SPDX-License-Identifier: MIT
// `buntime`: the supervisor executable. Reads the environment once and runs until SIGTERM.
#include <sys/prctl.h>

#include <cerrno>
#include <cstdio>
#include <exception>

#include "build_info.h"
#include "buntime/admin/auth.h"
#include "buntime/base/error.h"
#include "buntime/base/log.h"
#include "buntime/base/process_title.h"
#include "buntime/supervisor/check.h"
#include "buntime/supervisor/config.h"
#include "buntime/supervisor/supervisor.h"

// Exit codes: 0 clean stop, 1 could not start (port in use, state dir locked ...), 2 usage
// or a variable that does not parse. `buntime check`: 0 clean, 1 errors, 2 warnings (--strict).
int main(int argc, char** argv) {
    using namespace buntime::supervisor;
    using buntime::base::logError;
    if (argc > 1) {
        std::string_view arg = argv[1];
        if (arg == "--version") {
            std::printf("buntime %s\n", BUNTIME_VERSION);
            return 0;
        }
        if (arg == "check" || arg == "--check") {
            const bool strict = argc == 3 && std::string_view(argv[2]) == "--strict";
            if (argc == 2 || strict) return runCheck(currentEnvironment(), strict, stdout);
        }
        std::fprintf(stderr,
                     "usage: buntime [--version | check [--strict] | --check [--strict]]\n"
                     "Configured by environment: PORT, RUNTIME_WORKER_DIRS, RUNTIME_POOL_SIZE, ... (see README)\n");
        return arg == "--help" || arg == "-h" ? 0 : 2;
    }
    // Non-dumpable: a process of the same uid (a worker, any app) can neither ptrace us nor
    // read /proc/<pid>/environ or /mem, which hold the admin token and every secret.
    const int dumpable_errno = ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : errno;
    try {
        auto environment = currentEnvironment();
        std::vector<std::string> warnings, errors;
        auto config = configFromEnv(environment, warnings, &errors);
        for (const auto& e : errors) logError("config", e + "; not starting (buntime check lists every problem)");
        if (!errors.empty()) return 2;
        buntime::base::setLogLevel(config.log_level);
        for (const auto& w : warnings) buntime::base::logWarn("config", w);
        if (!config.api_keys_file.empty()) {  // a bad keys file is a usage error: exit 2, one line
            if (auto keys = buntime::admin::loadApiKeys(config.api_keys_file); !keys) {
                logError("config", keys.error());
                return 2;
            }
        }
        if (dumpable_errno != 0)
            buntime::base::logWarn(
                "supervisor", "cannot mark the supervisor non-dumpable: " + buntime::base::errnoText(dumpable_errno));
        buntime::base::setProcessTitle(argc, argv, "buntime: supervisor");
        Supervisor supervisor(std::move(config), std::move(environment));
        if (auto started = supervisor.start(true); !started) {
            logError("supervisor", "cannot start: " + started.error());
            return 1;
        }
        supervisor.run();
        return 0;
    } catch (const std::exception& e) {
        logError("supervisor", std::string("fatal: ") + e.what());
        return 1;
    }
}
