// SPDX-License-Identifier: MIT
// buntime-perf: the perf harness executable (configuration from PERF_* environment variables).
#include "buntime/harness/config.h"
#include "buntime/harness/runner.h"

#include <cstring>
#include <exception>
#include <iostream>

namespace {

void usage(std::ostream& o) {
    o << "usage: buntime-perf                 run the scenarios (configured by PERF_* env vars)\n"
         "       buntime-perf --fixtures-only DIR   write the fixture apps into DIR and exit\n"
         "env: PERF_MODE=http|direct PERF_TARGET=http://host:port PERF_DURATION_MS PERF_WARMUP_MS\n"
         "     PERF_CONCURRENCY PERF_POOL_SIZE PERF_CLIENT_TIMEOUT_MS PERF_PORT PERF_SCENARIOS\n"
         "     PERF_JSON=1 PERF_OUTPUT_FILE PERF_GATE_FILE PERF_KEEP_FIXTURES=1 PERF_APPS_DIR\n";
}

}  // namespace

int main(int argc, char** argv) try {
    using namespace buntime::harness;
    const ConfigResult cfg = parseConfigFromEnvironment();
    if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
        usage(std::cout);
        return 0;
    }
    if (argc >= 2 && std::strcmp(argv[1], "--fixtures-only") == 0) {
        if (argc != 3) {
            usage(std::cerr);
            return 2;
        }
        return writeFixturesOnly(argv[2], cfg.config.apps_dir, std::cerr);
    }
    if (argc >= 2) {
        usage(std::cerr);
        return 2;
    }
    for (const auto& w : cfg.warnings) std::cerr << "buntime-perf: warning: " << w << "\n";
    if (!cfg.error.empty()) {
        std::cerr << "buntime-perf: " << cfg.error << "\n";
        return 1;
    }
    return runPerf(cfg.config, std::cout, std::cerr);
} catch (const std::exception& e) {
    std::cerr << "buntime-perf: fatal: " << e.what() << "\n";
    return 1;
}
