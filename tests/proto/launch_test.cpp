// SPDX-License-Identifier: MIT
// proto/launch: the worker's argv round-trips, bad argv is refused with a reason, and the
// supervisor's own variables are recognised.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "buntime/proto/launch.h"
#include "temp_dir.h"

using namespace buntime;

namespace {
base::Expected<proto::WorkerLaunch, std::string> parse(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    return proto::parseArgv(static_cast<int>(argv.size()), argv.data());
}
}  // namespace

TEST_CASE("toArgv and parseArgv round-trip every field") {
    proto::WorkerLaunch l;
    l.app_dir = "/srv/apps/hello/1.0.0";
    l.name = "hello";
    l.version = "1.0.0";
    l.entrypoint = "app.so";
    l.threads = 8;
    l.concurrency = 50;
    l.max_body = 1234567;
    l.inject_base = true;
    auto argv = proto::toArgv(l, "/usr/libexec/buntime-worker");
    CHECK(argv.front() == "/usr/libexec/buntime-worker");
    auto back = parse(argv);
    REQUIRE(back);
    CHECK(*back == l);

    l.command = {"python3", "app.py", "--flag=x y"};
    l.listen = "tcp";
    auto command_back = parse(proto::toArgv(l, "w"));
    REQUIRE(command_back);
    CHECK(*command_back == l);

    const proto::WorkerLaunch defaults = parse({"w", "--app-dir=/a", "--name=n", "--version=1"}).value();
    CHECK(defaults.threads == proto::kDefaultThreads);
    CHECK(defaults.concurrency == proto::kDefaultConcurrency);
    CHECK(defaults.max_body == proto::kDefaultMaxBody);
    CHECK(defaults.listen == "unix");
    auto plain = proto::toArgv(defaults, "w");
    CHECK(plain.size() == 7);  // no --entrypoint, --inject-base, --listen or --command-arg
    CHECK(parse(plain).value() == defaults);
}

TEST_CASE("parseArgv accepts --key value and names what is wrong") {
    auto spaced = parse({"w", "--app-dir", "/a", "--name", "n", "--version", "1", "--threads", "2"});
    REQUIRE(spaced);
    CHECK(spaced->threads == 2);
    CHECK(parse({"w", "--app-dir=/a", "--name=n"}).error() == "--app-dir, --name and --version are required");
    CHECK(parse({"w", "--bogus"}).error() == "unknown argument '--bogus'");
    CHECK(parse({"w", "--app-dir"}).error() == "missing value for --app-dir");
    CHECK(parse({"w", "--app-dir=/a", "--name=n", "--version=1", "--threads=0"}).error() ==
          "--threads must be 1..1024");
    CHECK(parse({"w", "--app-dir=/a", "--name=n", "--version=1", "--concurrency=x"}).error() ==
          "--concurrency must be 1..1000000");
    CHECK(parse({"w", "--app-dir=/a", "--name=n", "--version=1", "--max-body=-1"}).error() ==
          "--max-body must be a byte count");
}

TEST_CASE("the channel variable and the supervisor's own variables") {
    CHECK(proto::channelEnvEntry({3, 4, 5, 6, 7}) == "BUNTIME_CHANNEL=3,4,5,6,7");
    for (const char* own :
         {"LISTEN_FDS=1", "LISTEN_PID=5", "NOTIFY_SOCKET=/run/x", "WATCHDOG_USEC=1", "BUNTIME_CHANNEL=1"})
        CHECK(proto::isSupervisorOnly(own));
    for (const char* app : {"PATH=/bin", "BUNTIME_CHANNELS=1", "NOTIFY_SOCKETS=1", "MY_LISTEN_FDS=1"})
        CHECK_FALSE(proto::isSupervisorOnly(app));
}

TEST_CASE("entrypoint kinds by name, and the default entrypoint of an app directory") {
    using proto::EntrypointKind;
    CHECK(proto::entrypointKindOf("index.html") == EntrypointKind::Static);
    CHECK(proto::entrypointKindOf("docs/page.htm") == EntrypointKind::Static);
    CHECK(proto::entrypointKindOf("app.so") == EntrypointKind::SharedObject);
    CHECK(proto::entrypointKindOf("bin/server") == EntrypointKind::Executable);
    CHECK(proto::entrypointKindOf("") == EntrypointKind::None);
    for (const char* js : {"index.ts", "src/app.tsx", "server.js", "a.jsx", "main.mjs", "old.cjs"})
        CHECK(proto::entrypointKindOf(js) == EntrypointKind::Js);
    CHECK(proto::kindOf("app.so", true) == EntrypointKind::Command);
    CHECK(proto::toString(EntrypointKind::Js) == "js");
    CHECK(proto::toString(EntrypointKind::Command) == "command");
    CHECK(proto::toString(EntrypointKind::SharedObject) == "so");

    test::TempDir dir;
    CHECK(proto::defaultEntrypoint(dir.root()).empty());
    dir.write("app", "#!/bin/sh\n");
    CHECK(proto::defaultEntrypoint(dir.root()) == "app");
    dir.write("app.so", "");
    CHECK(proto::defaultEntrypoint(dir.root()) == "app.so");
    dir.write("index.html", "<html>");
    CHECK(proto::defaultEntrypoint(dir.root()) == "index.html");
}
