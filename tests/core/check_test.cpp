// SPDX-License-Identifier: MIT
// `buntime check`: the findings on a tree with typos, bad values, a missing entrypoint,
// collisions and a missing directory, exactly; the exit codes; the environment's errors.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <algorithm>

#include "buntime/supervisor/check.h"
#include "temp_dir.h"

using namespace buntime::supervisor;
using buntime::test::TempDir;

namespace {

std::vector<std::string> lines(const CheckReport& report) {
    std::vector<std::string> out;
    for (const auto& f : report.findings) out.push_back(formatFinding(f));
    return out;
}

// Line by line, so a failure shows both strings.
void checkLines(const std::vector<std::string>& got, const std::vector<std::string>& expected) {
    for (std::size_t i = 0; i < std::max(got.size(), expected.size()); ++i) {
        CAPTURE(i);
        CHECK((i < got.size() ? got[i] : "(none)") == (i < expected.size() ? expected[i] : "(none)"));
    }
}

}  // namespace

TEST_CASE("formatFinding leaves out an unknown line and an empty key") {
    CHECK(formatFinding({Severity::Error, "env", 0, "PORT", "\"abc\" is invalid"}) ==
          "error: env: PORT: \"abc\" is invalid");
    CHECK(formatFinding({Severity::Warning, "a/manifest.yaml", 3, "timout", "unknown"}) ==
          "warning: a/manifest.yaml:3: timout: unknown");
    CHECK(formatFinding({Severity::Error, "/d", 0, "", "collision"}) == "error: /d: collision");
}

TEST_CASE("a tree with typos: every finding, in order, and exit code 1") {
    TempDir t;
    const std::string r = (t.root() / "apps").string();
    t.write("apps/typo@1.0.0/manifest.yaml", "name: typo\ntimout: 5s\n");
    t.write("apps/typo@1.0.0/app.so", "x");
    t.write("apps/badval@1.0.0/manifest.yaml", "ttl: 1m\nmaxBodySize: 1tb\n");
    t.write("apps/badval@1.0.0/app.so", "x");
    t.write("apps/noentry@1.0.0/manifest.yaml", "entrypoint: missing.so\n");
    t.write("apps/escape@1.0.0/manifest.yaml", "entrypoint: ../typo@1.0.0/app.so\n");
    t.write("apps/dup@1.0.0/app.so", "x");
    t.write("apps/dup/1.0.0/app.so", "x");
    t.write("apps/h1@1.0.0/manifest.yaml", "hosts: [a.example.com]\n");
    t.write("apps/h1@1.0.0/app.so", "x");
    t.write("apps/h2@1.0.0/manifest.yaml", "entrypoint: app.so\nhosts: [b.example.com, a.example.com]\n");
    t.write("apps/h2@1.0.0/app.so", "x");
    t.write("apps/empty@1.0.0/README", "no entrypoint here");
    t.write("apps/bin@1.0.0/manifest.yaml", "entrypoint: server\n");
    t.write("apps/bin@1.0.0/server", "#!/bin/sh\n");                          // not executable
    t.write("apps/cmd@1.0.0/manifest.yaml", "command: [python3, app.py]\n");  // no entrypoint needed
    t.write("apps/vers@one/app.so", "x");
    const std::string missing = (t.root() / "nope").string();
    auto report = checkConfiguration({"RUNTIME_WORKER_DIRS=" + r + ":" + missing});
    const std::vector<std::string> expected = {
        "error: " + missing + ": RUNTIME_WORKER_DIRS: worker directory does not exist",
        "error: " + r + "/badval@1.0.0/manifest.yaml:2: maxBodySize: \"1tb\" exceeds the 100mb ceiling",
        "error: " + r +
            "/bin@1.0.0/manifest.yaml:1: entrypoint: \"server\" is not executable (chmod +x, or name a .so, "
            ".html or JS file)",
        "error: " + r + "/dup/1.0.0: version collision: dup@1.0.0 is in " + r + "/dup/1.0.0 and " + r +
            "/dup@1.0.0 (requests for it answer 500 APP_CONFIG_ERROR)",
        "error: " + r +
            "/empty@1.0.0: entrypoint: no entrypoint: none of index.html, app.so, app, index.ts, "
            "index.tsx, index.js, index.mjs is in " +
            r + "/empty@1.0.0 (set `entrypoint` or `command`)",
        "error: " + r +
            "/escape@1.0.0/manifest.yaml:1: entrypoint: \"../typo@1.0.0/app.so\" must stay inside the app "
            "directory (no '..')",
        "error: " + r + "/noentry@1.0.0/manifest.yaml:1: entrypoint: \"missing.so\" does not exist in " + r +
            "/noentry@1.0.0",
        "warning: " + r + "/typo@1.0.0/manifest.yaml:2: timout: unknown key (ignored); did you mean 'timeout'?",
        "error: " + r + "/vers@one: invalid version \"one\"",
        "error: " + r +
            "/h2@1.0.0/manifest.yaml:2: hosts: host 'a.example.com' is also claimed by app h1, which "
            "serves it (the name that sorts first)",
    };
    checkLines(lines(report), expected);
    CHECK(report.errors() == 9);
    CHECK(report.warnings() == 1);
    CHECK(report.worker_dirs == 2);
    CHECK(checkExitCode(report, false) == 1);
    CHECK(checkExitCode(report, true) == 1);
}

TEST_CASE("warnings only: exit 0, or 2 with --strict; a clean tree exits 0 either way") {
    TempDir t;
    t.write("apps/a@1.0.0/manifest.yaml", "idle_timeout: 5s\n");
    t.write("apps/a@1.0.0/app.so", "x");
    const std::string env = "RUNTIME_WORKER_DIRS=" + (t.root() / "apps").string();
    auto report = checkConfiguration({env});
    REQUIRE(report.findings.size() == 1);
    CHECK(formatFinding(report.findings[0])
              .ends_with("a@1.0.0/manifest.yaml:1: idle_timeout: unknown key (ignored); did you mean 'idleTimeout'?"));
    CHECK(checkExitCode(report, false) == 0);
    CHECK(checkExitCode(report, true) == 2);
    t.write("apps/a@1.0.0/manifest.yaml", "idleTimeout: 5s\n");
    auto clean = checkConfiguration({env});
    CHECK(clean.findings.empty());
    CHECK(clean.apps == 1);
    CHECK(clean.versions == 1);
    CHECK(checkExitCode(clean, true) == 0);
}

TEST_CASE("the environment: what the start refuses is an error, what it tolerates a warning") {
    TempDir t;
    t.write("apps/a@1.0.0/app.so", "x");
    auto report = checkConfiguration({"PORT=abc", "RUNTIME_POOL_SIZE=0", "RUNTIME_LOG_LEVEL=loud", "NODE_ENV=qa",
                                      "RUNTIME_TRUSTED_PROXIES=10.0.0.0/40", "RUNTIME_WORKER_MAX_MEMORY=1kb",
                                      "RUNTIME_WORKER_ENV=maybe", "RUNTIME_BIND=localhost",
                                      "RUNTIME_WORKER_DIRS=" + (t.root() / "apps").string()});
    const auto got = lines(report);
    const std::vector<std::string> expected = {
        "error: env: PORT: \"abc\" is invalid (expected an integer in [0, 65535])",
        "error: env: RUNTIME_POOL_SIZE: \"0\" is invalid (expected an integer in [1, 100000])",
        "error: env: RUNTIME_LOG_LEVEL: \"loud\" is invalid (debug|info|warn|error|off)",
        "error: env: RUNTIME_TRUSTED_PROXIES: \"10.0.0.0/40\" is invalid (\"10.0.0.0/40\": the prefix length must be "
        "0..32)",
        "error: env: RUNTIME_BIND: \"localhost\" is invalid (an IPv4 or IPv6 address)",
        "error: env: RUNTIME_WORKER_ENV: \"maybe\" is invalid (deny, deny:NAMES or allow:NAMES, names [A-Za-z0-9_], a "
        "trailing * for a prefix)",
        "error: env: RUNTIME_WORKER_MAX_MEMORY: \"1kb\" is invalid (a size such as 512mb, at least 16mb, or 0 for no "
        "cap)",
        "warning: env: NODE_ENV: \"qa\" is not one of development, production, staging, test; pool size default 100",
    };
    checkLines(got, expected);
    CHECK(checkExitCode(report, false) == 1);

    auto none = checkConfiguration({});
    REQUIRE(none.findings.size() == 1);
    CHECK(formatFinding(none.findings[0]) ==
          "error: env: RUNTIME_WORKER_DIRS: is required: a ':'-separated list of app directories");
}
