// SPDX-License-Identifier: MIT
// worker/launch: buntime-worker's command line as serve() reads it (proto::parseArgv): every
// flag, the defaults a worker applies, and bad input refused with a reason. The contract
// itself (toArgv round trips, exact messages) is tests/proto/launch_test.cpp.
#include <doctest/doctest.h>

#include <string>

#include "buntime/proto/launch.h"

using namespace buntime::proto;

TEST_CASE("parseArgv reads every flag and applies defaults") {
    const char* argv[] = {"buntime-worker", "--app-dir", "/srv/a", "--name", "a", "--version", "1.2.3"};
    auto p = parseArgv(7, argv);
    REQUIRE(p);
    CHECK(p->app_dir == "/srv/a");
    CHECK(p->threads == kDefaultThreads);
    CHECK(p->concurrency == kDefaultConcurrency);
    CHECK(p->max_body == kDefaultMaxBody);
    CHECK_FALSE(p->inject_base);

    const char* full[] = {"w",
                          "--app-dir=/x",
                          "--name",
                          "n",
                          "--version",
                          "v",
                          "--entrypoint",
                          "app.so",
                          "--threads",
                          "8",
                          "--concurrency",
                          "7",
                          "--max-body",
                          "123",
                          "--inject-base"};
    p = parseArgv(15, full);
    REQUIRE(p);
    CHECK(p->app_dir == "/x");
    CHECK(p->entrypoint == "app.so");
    CHECK(p->threads == 8);
    CHECK(p->concurrency == 7);
    CHECK(p->max_body == 123);
    CHECK(p->inject_base);
}

TEST_CASE("parseArgv rejects bad input with a reason") {
    auto error = [](int argc, const char* const* argv) {
        auto p = parseArgv(argc, argv);
        return p ? std::string("<accepted>") : p.error();
    };
    const char* missing[] = {"w", "--app-dir", "/x", "--name", "n"};
    CHECK(error(5, missing).find("required") != std::string::npos);
    const char* unknown[] = {"w", "--bogus"};
    CHECK(error(2, unknown).find("--bogus") != std::string::npos);
    const char* zero[] = {"w", "--app-dir", "/x", "--name", "n", "--version", "v", "--threads", "0"};
    CHECK(error(9, zero).find("--threads") != std::string::npos);
    const char* junk[] = {"w", "--app-dir", "/x", "--name", "n", "--version", "v", "--max-body", "10mb"};
    CHECK_FALSE(parseArgv(9, junk));
    const char* novalue[] = {"w", "--app-dir"};
    CHECK(error(2, novalue).find("missing value") != std::string::npos);
}
