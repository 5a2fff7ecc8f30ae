// SPDX-License-Identifier: MIT
// Bytes that are not UTF-8 in what apps and clients send never break a JSON error body:
// errorBody replaces them, and every dispatcher reply that echoes one stays valid JSON.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "dispatcher_rig.h"
#include "replies.h"

using namespace buntime::supervisor;
using namespace buntime::supervisor::test;
using buntime::proto::Kind;
namespace proto = buntime::proto;

namespace {

bool isJson(const std::string& s) { return nlohmann::json::accept(s); }

}  // namespace

TEST_CASE("errorBody replaces invalid UTF-8 and keeps valid UTF-8") {
    std::string body;
    REQUIRE_NOTHROW(body = errorBody("APP_ERROR", "bad user \xff\xfe, caf\xe9, ok: caf\xc3\xa9"));
    REQUIRE(isJson(body));
    const auto j = nlohmann::json::parse(body);
    CHECK(j["error"] == "APP_ERROR");
    CHECK(j["message"] == "bad user \xef\xbf\xbd\xef\xbf\xbd, caf\xef\xbf\xbd, ok: caf\xc3\xa9");
}

TEST_CASE("an Error frame whose reason holds 0xff answers 500 with valid JSON; the next request is served") {
    Rig rig;
    auto c = rig.send("/hello/");
    const auto w = rig.host.spawns.at(0).id;
    rig.ready(w);
    rig.frame(w, proto::toWire(Kind::Error), 0, rig.lastRequestTo(w), proto::bytesOf("user \xff not found"), {});
    CHECK(c->status == 500);
    CHECK(errorCode(*c) == "APP_ERROR");
    CHECK(isJson(c->body));

    auto d = rig.send("/hello/");
    rig.respond(w, rig.lastRequestTo(w), 200, "ok");
    CHECK(d->status == 200);
}

TEST_CASE("an init failure in Latin-1 answers 503 with valid JSON") {
    Rig rig;
    auto c = rig.send("/hello/");
    const auto w = rig.host.spawns.at(0).id;
    rig.exit(w, false, false, "init threw: caf\xe9 \xff");
    CHECK(c->status == 503);
    CHECK(errorCode(*c) == "WORKER_INIT_FAILED");
    CHECK(isJson(c->body));
}

TEST_CASE("targets and manifests with raw bytes answer 4xx/5xx with valid JSON") {
    Rig rig;
    auto bad_name = rig.send("/\xff\xfe/");
    CHECK(bad_name->status == 400);
    CHECK(isJson(bad_name->body));
    auto missing = rig.send("/caf\xc3\xa9/");  // valid UTF-8, no such app
    CHECK(missing->status >= 400);
    CHECK(isJson(missing->body));
    rig.apps.write("latin/manifest.yaml", "ttl: 5m\ntimeout: \"\xe9t\xe9\"\n");
    auto latin = rig.send("/latin/");
    CHECK(latin->status == 500);
    CHECK(errorCode(*latin) == "APP_CONFIG_ERROR");
    CHECK(isJson(latin->body));
}
