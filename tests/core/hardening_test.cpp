// SPDX-License-Identifier: MIT
// supervisor/core dispatcher under hostile apps and clients: liveness pings, start
// timeouts, start backoff, and small bodies read before a request takes a worker.
#include <doctest/doctest.h>

#include "buntime/supervisor/config.h"
#include "dispatcher_rig.h"

using namespace buntime;
using namespace buntime::supervisor;
using namespace buntime::supervisor::test;
using proto::Kind;

namespace {

// The token of the last Ping sent to `worker` (0 if none).
std::uint64_t lastPing(const Rig& rig, pool::WorkerId worker) {
    std::uint64_t token = 0;
    for (const auto* f : rig.host.framesOf(Kind::Ping)) {
        if (f->worker != worker) continue;
        CHECK(f->request_id == 0);
        CHECK(f->body.empty());
        auto t = proto::decodeToken(f->head);
        REQUIRE(t);
        token = *t;
    }
    return token;
}

void pong(Rig& rig, pool::WorkerId worker, std::uint64_t token) {
    const auto head = proto::encodeToken(token);
    rig.frame(worker, proto::toWire(Kind::Pong), 0, 0, head, {});
}

}  // namespace

TEST_CASE("Ping and Pong: kinds 9 and 10, an 8-byte little-endian token") {
    CHECK(proto::toWire(Kind::Ping) == 9);
    CHECK(proto::toWire(Kind::Pong) == 10);
    CHECK(proto::toString(Kind::Pong) == "Pong");
    const auto bytes = proto::encodeToken(0x0102030405060708ull);
    REQUIRE(bytes.size() == 8);
    CHECK(bytes[0] == std::byte{0x08});
    CHECK(bytes[7] == std::byte{0x01});
    CHECK(proto::decodeToken(bytes) == 0x0102030405060708ull);
    CHECK_FALSE(proto::decodeToken(std::span(bytes).first(7)));
}

TEST_CASE("liveness: a worker with a request in flight is pinged; a silent one is killed, its requests get 502") {
    Rig rig;
    rig.apps.write("slow/manifest.yaml", "ttl: 5m\ntimeout: 30s\nconcurrency: 10\n");
    auto c = rig.send("/slow/work");
    const auto w = rig.host.spawns.at(0).id;
    rig.ready(w);
    rig.advance(50ms);
    CHECK(rig.host.framesOf(Kind::Ping).empty());  // heard from it (Ready) less than 1 s ago
    rig.advance(950ms);
    const auto first = lastPing(rig, w);
    REQUIRE(first != 0);
    rig.advance(900ms);
    pong(rig, w, first);  // it answers: alive
    rig.advance(900ms);
    CHECK(rig.host.killed.empty());
    CHECK(rig.host.framesOf(Kind::Ping).size() == 1);  // the next one is 1 s after the Pong
    rig.advance(100ms);
    const auto second = lastPing(rig, w);
    CHECK(second != first);
    rig.advance(950ms);
    CHECK(rig.host.killed.empty());
    rig.advance(50ms);  // 1 s without a frame after the Ping: SIGSTOP, a wedged reader...
    CHECK(rig.host.killed.contains(w));
    CHECK(c->responses == 0);  // answered when the killed process is reaped
    rig.exit(w, true, false);
    CHECK(c->status == 502);
    CHECK(errorCode(*c) == "WORKER_UNRESPONSIVE");
    CHECK(c->body.find("liveness ping") != std::string::npos);

    // The next request gets a new worker.
    auto next = rig.send("/slow/again");
    REQUIRE(rig.host.spawns.size() == 2);
    rig.ready(rig.host.spawns[1].id);
    rig.respond(rig.host.spawns[1].id, rig.lastRequestTo(rig.host.spawns[1].id), 200, "ok");
    CHECK(next->status == 200);
}

TEST_CASE("liveness: any frame counts; idle workers and workers paused by a slow client are not pinged") {
    Rig rig;
    rig.apps.write("slow/manifest.yaml", "ttl: 5m\ntimeout: 30s\nconcurrency: 10\n");
    auto c = rig.send("/slow/stream");
    const auto w = rig.host.spawns.at(0).id;
    rig.ready(w);
    const auto rid = rig.lastRequestTo(w);
    rig.respond(w, rid, 200, "", /*more=*/true);
    for (int i = 0; i < 10; ++i) {  // streaming for 5 s: frames keep coming, no Ping needed
        rig.advance(500ms);
        rig.bodyFrame(w, rid, "chunk", true);
    }
    CHECK(rig.host.framesOf(Kind::Ping).empty());

    // A slow client pauses the worker's ring: its Pong could not be read, so no kill.
    c->holdWrites(true);
    const std::string big(1536 * 1024, 'x');
    rig.bodyFrame(w, rid, big, true);
    REQUIRE(rig.host.paused[w] == 1);
    for (int i = 0; i < 60; ++i) rig.advance(100ms);
    CHECK(rig.host.killed.empty());
    c->releaseWrites();
    CHECK(rig.host.paused[w] == 0);
    rig.bodyFrame(w, rid, "end", false);
    CHECK(c->ended);

    // No request in flight: no Ping, however long it is quiet.
    const auto pings = rig.host.framesOf(Kind::Ping).size();
    for (int i = 0; i < 50; ++i) rig.advance(100ms);
    CHECK(rig.host.framesOf(Kind::Ping).size() == pings);
    CHECK(rig.host.killed.empty());
}

TEST_CASE("startTimeout: a worker not ready in time is killed and its requests get 503 with the reason") {
    Rig rig;
    rig.apps.write("hang/manifest.yaml", "ttl: 5m\ntimeout: 30s\nstartTimeout: 2s\n");
    rig.apps.write("hangeph/manifest.yaml", "ttl: 0\ntimeout: 30s\nstartTimeout: 500ms\n");
    auto c = rig.send("/hang/");
    const auto w = rig.host.spawns.at(0).id;
    rig.advance(1950ms);
    CHECK(c->responses == 0);
    rig.advance(50ms);
    CHECK(rig.host.killed.contains(w));
    CHECK(c->status == 503);
    CHECK(errorCode(*c) == "WORKER_START_TIMEOUT");
    CHECK(c->body.find("startTimeout of 2000 ms") != std::string::npos);
    CHECK(rig.dispatcher.openCalls() == 0);
    rig.exit(w, false, false);  // the kill lands: nothing more to answer
    CHECK(c->responses == 1);

    auto e = rig.send("/hangeph/");
    const auto we = rig.host.spawns.at(1).id;
    CHECK(rig.host.spawns[1].ephemeral);
    rig.advance(500ms);
    CHECK(rig.host.killed.contains(we));
    CHECK(errorCode(*e) == "WORKER_START_TIMEOUT");
    CHECK(rig.pool.ephemeralGate().active() == 0);
}

TEST_CASE("the default startTimeout is 10 s, apart from the request timeout") {
    Rig rig;
    rig.apps.write("slowstart/manifest.yaml", "ttl: 5m\ntimeout: 1m\n");
    auto c = rig.send("/slowstart/");
    const auto w = rig.host.spawns.at(0).id;
    rig.advance(9950ms);
    CHECK(c->responses == 0);
    rig.advance(50ms);
    CHECK(rig.host.killed.contains(w));
    CHECK(errorCode(*c) == "WORKER_START_TIMEOUT");
}

TEST_CASE("start backoff: after a failed start, 503 with Retry-After and the reason; doubling; reset on success") {
    Rig rig;
    rig.apps.write("doomed/manifest.yaml", "ttl: 5m\ntimeout: 1m\n");
    auto first = rig.send("/doomed/");
    rig.exit(rig.host.spawns.at(0).id, false, false, "constructor threw: no database");
    CHECK(errorCode(*first) == "WORKER_INIT_FAILED");

    auto refused = rig.send("/doomed/");
    CHECK(rig.host.spawns.size() == 1);  // no new process while backing off
    CHECK(refused->status == 503);
    CHECK(errorCode(*refused) == "WORKER_START_BACKOFF");
    CHECK(refused->header("retry-after") == "1");
    CHECK(refused->body.find("no database") != std::string::npos);

    rig.advance(100ms);  // 100 ms after the first failure: one more try
    rig.send("/doomed/");
    REQUIRE(rig.host.spawns.size() == 2);
    rig.exit(rig.host.spawns[1].id, false, false, "constructor threw again");
    rig.advance(150ms);
    CHECK(errorCode(*rig.send("/doomed/")) == "WORKER_START_BACKOFF");  // 200 ms now
    rig.advance(50ms);
    rig.send("/doomed/");
    REQUIRE(rig.host.spawns.size() == 3);

    // The delay doubles up to 30 s.
    for (int i = 0; i < 12; ++i) {
        rig.exit(rig.host.spawns.back().id, false, false, "still broken");
        auto r = rig.send("/doomed/");
        CHECK(errorCode(*r) == "WORKER_START_BACKOFF");
        CHECK(std::stoi(r->header("retry-after")) <= 30);
        rig.advance(30s);
        rig.send("/doomed/");
    }
    auto capped = rig.host.spawns.size();
    rig.exit(rig.host.spawns.back().id, false, false, "still broken");
    rig.advance(29s);
    CHECK(errorCode(*rig.send("/doomed/")) == "WORKER_START_BACKOFF");
    rig.advance(1s);
    auto ok = rig.send("/doomed/");
    REQUIRE(rig.host.spawns.size() == capped + 1);
    const auto good = rig.host.spawns.back().id;
    rig.ready(good);  // it starts: the backoff is gone
    rig.respond(good, rig.lastRequestTo(good), 200, "up");
    CHECK(ok->status == 200);
    rig.exit(good, true, false);  // crashes later; the replacement fails once...
    rig.send("/doomed/");
    rig.exit(rig.host.spawns.back().id, false, false, "broken once more");
    rig.advance(100ms);  // ...and waits 100 ms again, not 30 s
    rig.send("/doomed/");
    CHECK(rig.host.spawns.size() == capped + 3);
}

TEST_CASE("start backoff, ephemeral: ten requests to an app that cannot start spawn only the admitted ones") {
    Rig rig({.ephemeral_concurrency = 2, .ephemeral_queue_limit = 100});
    rig.apps.write("crashfn/manifest.yaml", "ttl: 0\ntimeout: 1m\n");
    std::vector<std::shared_ptr<FakeClient>> clients;
    for (int i = 0; i < 10; ++i) clients.push_back(rig.send("/crashfn/"));
    REQUIRE(rig.host.spawns.size() == 2);
    rig.exit(rig.host.spawns[0].id, false, false, "boom");
    rig.exit(rig.host.spawns[1].id, false, false, "boom");
    CHECK(rig.host.spawns.size() == 2);
    int backoff = 0;
    for (const auto& c : clients) {
        CHECK(c->status == 503);
        if (errorCode(*c) == "WORKER_START_BACKOFF") {
            ++backoff;
            CHECK(!c->header("retry-after").empty());
        }
    }
    CHECK(backoff == 8);
    CHECK(rig.pool.ephemeralGate().active() == 0);
    CHECK(rig.pool.ephemeralGate().queueDepth() == 0);
}

TEST_CASE("a spawn that fails at once also backs off") {
    Rig rig;
    rig.host.refuse_spawns = true;
    CHECK(errorCode(*rig.send("/hello/")) == "WORKER_SPAWN_FAILED");
    rig.host.refuse_spawns = false;
    CHECK(errorCode(*rig.send("/hello/")) == "WORKER_START_BACKOFF");
    rig.advance(100ms);
    rig.send("/hello/");
    CHECK(rig.host.spawns.size() == 1);
}

TEST_CASE("a small body is read whole before the request takes a worker slot or starts a worker") {
    Rig rig;
    auto slow = rig.send("/hello/upload", "POST", 10);
    slow->push("12345");
    CHECK(rig.host.spawns.empty());           // half a body: no worker, no slot
    slow->failBody(http::BodyStatus::Error);  // 408 from the HTTP layer, or the client left
    CHECK(rig.host.spawns.empty());
    CHECK(rig.dispatcher.openCalls() == 0);

    auto whole = rig.send("/hello/upload", "POST", 10);
    whole->push("12345");
    whole->push("67890");
    CHECK(rig.host.spawns.empty());
    whole->endBody();
    REQUIRE(rig.host.spawns.size() == 1);
    const auto w = rig.host.spawns[0].id;
    rig.ready(w);
    auto requests = rig.host.framesOf(Kind::Request);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0]->flags == 0);  // head and body in one frame
    CHECK(std::string(reinterpret_cast<const char*>(requests[0]->body.data()), requests[0]->body.size()) ==
          "1234567890");
    rig.respond(w, requests[0]->request_id, 201, "");
    CHECK(whole->status == 201);
}

TEST_CASE("an ephemeral request whose client leaves before its body arrives starts no worker") {
    Rig rig;
    for (int i = 0; i < 5; ++i) {
        auto c = rig.send("/eph/", "POST", 100);
        c->push("partial");
        c->leave();
    }
    CHECK(rig.host.spawns.empty());
    CHECK(rig.pool.ephemeralGate().active() == 0);
    CHECK(rig.dispatcher.openCalls() == 0);
}

TEST_CASE("a body that does not arrive within the request timeout is 504, with no worker involved") {
    Rig rig;
    auto c = rig.send("/hello/upload", "POST", 10);
    rig.advance(1000ms);
    CHECK(c->status == 504);
    CHECK(rig.host.spawns.empty());
}

TEST_CASE("a worker the supervisor stopped during its start (its client left) does not start a backoff") {
    Rig rig;
    auto gone = rig.send("/eph/");
    const auto w = rig.host.spawns.at(0).id;
    gone->leave();
    CHECK(rig.host.killed.contains(w));
    rig.exit(w, false, /*expected=*/true);
    auto next = rig.send("/eph/");
    CHECK(rig.host.spawns.size() == 2);
    CHECK(next->responses == 0);
}

TEST_CASE("configuration: body timeout, minimum rate, per-address cap and ping interval; manifest startTimeout") {
    std::vector<std::string> warnings;
    const auto d = configFromEnv({}, warnings);
    CHECK(d.max_connections_per_ip == 1000);
    CHECK(d.body_timeout == 60000ms);
    CHECK(d.body_min_rate == 1024);
    CHECK(d.worker_ping == 1000ms);
    const auto c = configFromEnv({"RUNTIME_MAX_CONNECTIONS_PER_IP=0", "RUNTIME_BODY_TIMEOUT_MS=500",
                                  "RUNTIME_BODY_MIN_RATE=0", "RUNTIME_WORKER_PING_MS=250"},
                                 warnings);
    CHECK(warnings.empty());
    CHECK(c.max_connections_per_ip == 0);
    CHECK(c.body_timeout == 500ms);
    CHECK(c.body_min_rate == 0);
    CHECK(c.worker_ping == 250ms);
    configFromEnv({"RUNTIME_WORKER_PING_MS=soon"}, warnings);
    CHECK(warnings.size() == 1);

    CHECK(router::parseManifest("ttl: 1m\n", "m")->config.start_timeout == 10000ms);
    CHECK(router::parseManifest("startTimeout: 2s\n", "m")->config.start_timeout == 2000ms);
    auto zero = router::parseManifest("startTimeout: 0\n", "m");
    REQUIRE_FALSE(zero);
    CHECK(zero.error().message.find("startTimeout") != std::string::npos);
}
