// SPDX-License-Identifier: MIT
// The sample apps in build/examples/apps, each served by a real buntime-worker.
#include <doctest/doctest.h>

#include "worker_client.h"

using namespace buntime::test;

namespace {

WorkerOptions example(const char* name, std::vector<std::string> args = {}) {
    WorkerOptions o;
    o.app_dir = std::string(EXAMPLES_APPS_DIR) + "/" + name;
    o.name = name;
    o.args = std::move(args);
    return o;
}

}  // namespace

TEST_CASE("hello answers inline (async .so)") {
    WorkerClient w(example("hello"));
    auto s = w.startup();
    REQUIRE(s.ready);
    CHECK(s.info.entrypoint_kind == "so");
    Reply r = w.get("/");
    CHECK(r.head.status == 200);
    CHECK(r.body == "Hello from Buntime");
    CHECK(r.header("content-type") == "text/plain; charset=utf-8");
    CHECK(r.head.content_length == 18);
    CHECK(r.head.request_received_ns > 0);
    CHECK(r.head.sent_ns >= r.head.request_received_ns);
}

TEST_CASE("echo reports method and body length as JSON") {
    WorkerClient w(example("echo"));
    REQUIRE(w.startup().ready);
    CHECK(w.request("POST", "/", std::string(1024, 'x')).body == "{\"method\":\"POST\",\"length\":1024}");
    Reply get = w.get("/anything");
    CHECK(get.body == "{\"method\":\"GET\",\"length\":0}");
    CHECK(get.header("content-type") == "application/json");
}

TEST_CASE("slow waits ?ms= on the timer") {
    WorkerClient w(example("slow"));
    REQUIRE(w.startup().ready);
    CHECK(w.get("/", "ms=20").body == "waited 20 ms\n");
    CHECK(w.get("/").body == "waited 50 ms\n");
    CHECK(w.get("/", "ms=bogus").body == "waited 50 ms\n");
}

TEST_CASE("spa serves the shell for client routes with <base href>") {
    WorkerClient w(example("spa", {"--inject-base"}));
    auto s = w.startup();
    REQUIRE(s.ready);
    CHECK(s.info.entrypoint_kind == "static");
    Reply index = w.get("/");
    CHECK(index.body.find("<base href=\"/fixture/\">") != std::string::npos);
    CHECK(w.get("/users/42").body == index.body);
    CHECK(w.get("/assets/app.js").header("content-type") == "text/javascript; charset=utf-8");
    CHECK(w.get("/favicon.svg").header("content-type") == "image/svg+xml");
    CHECK(w.get("/assets/nope.js").head.status == 404);
}

TEST_CASE("counter keeps state in an exec'd app") {
    WorkerClient w(example("counter"));
    auto s = w.startup();
    REQUIRE(s.ready);
    CHECK(s.info.entrypoint_kind == "exec");
    CHECK(w.get("/").body == "{\"count\":1}");
    CHECK(w.get("/").body == "{\"count\":2}");
}
