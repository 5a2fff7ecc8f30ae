// SPDX-License-Identifier: MIT
// supervisor/core dispatcher: the request lifecycle with a fake worker host, fake clients
// and a fake clock. Each case plays the worker's side through WorkerEvents.
#include <doctest/doctest.h>

#include "dispatcher_rig.h"

using namespace buntime;
using namespace buntime::supervisor;
using namespace buntime::supervisor::test;
using proto::Kind;

TEST_CASE("a pooled request: spawn, ready, request head on the wire, response relayed, slot released") {
    Rig rig;
    auto c = rig.send("/hello/greet?x=1");
    REQUIRE(rig.host.spawns.size() == 1);
    const auto w = rig.host.spawns[0].id;
    CHECK(rig.host.spawns[0].key.starts_with("hello@"));
    CHECK_FALSE(rig.host.spawns[0].ephemeral);
    CHECK(rig.host.frames.empty());  // parked until the worker is ready
    CHECK(c->responses == 0);

    rig.ready(w);
    auto requests = rig.host.framesOf(Kind::Request);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0]->flags == 0);
    auto head = proto::decodeRequestHead(requests[0]->head);
    REQUIRE(head);
    CHECK(head->path == "/greet");
    CHECK(head->query == "x=1");
    CHECK(head->base == "/hello");
    CHECK(head->content_length == 0);
    CHECK(c->log_pid == 1000 + static_cast<int>(w));

    rig.respond(w, requests[0]->request_id, 200, "hi");
    CHECK(c->status == 200);
    CHECK(c->body == "hi");
    CHECK(c->ended);
    CHECK(rig.dispatcher.openCalls() == 0);
    CHECK(rig.pool.inFlight(w) == 0);
    CHECK(rig.pool.metrics(rig.clock.now).total_requests == 1);

    // The next request uses the same worker at once.
    auto c2 = rig.send("/hello/");
    CHECK(rig.host.spawns.size() == 1);
    CHECK(rig.host.framesOf(Kind::Request).size() == 2);
    rig.respond(w, rig.lastRequestTo(w), 204, "");
    CHECK(c2->status == 204);
}

TEST_CASE("504 on deadline: the worker is told to cancel, and its late answer is dropped") {
    Rig rig;
    auto c = rig.send("/hello/slow");
    const auto w = rig.host.spawns.at(0).id;
    rig.ready(w);
    const auto rid = rig.lastRequestTo(w);
    rig.advance(999ms);
    CHECK(c->responses == 0);
    rig.advance(1ms);  // the manifest's timeout: 1s
    CHECK(c->status == 504);
    CHECK(errorCode(*c) == "GATEWAY_TIMEOUT");
    auto cancels = rig.host.framesOf(Kind::Cancel);
    REQUIRE(cancels.size() == 1);
    CHECK(cancels[0]->request_id == rid);
    CHECK(rig.dispatcher.openCalls() == 0);
    CHECK(rig.pool.inFlight(w) == 0);

    rig.respond(w, rid, 200, "too late");
    CHECK(c->responses == 1);
    CHECK(c->status == 504);
}

TEST_CASE("504 while waiting for a worker that never becomes ready: nothing is sent, the wait is cancelled") {
    Rig rig;
    auto c = rig.send("/hello/");
    rig.advance(1000ms);
    CHECK(c->status == 504);
    CHECK(rig.host.framesOf(Kind::Cancel).empty());
    CHECK(rig.pool.waiting(rig.host.spawns.at(0).key) == 0);
    // The worker starting late finds no request to serve.
    rig.ready(rig.host.spawns.at(0).id);
    CHECK(rig.host.framesOf(Kind::Request).empty());
}

TEST_CASE("the client goes: the worker gets Cancel, the slot is free, a late answer is dropped") {
    Rig rig;
    auto c = rig.send("/hello/");
    const auto w = rig.host.spawns.at(0).id;
    rig.ready(w);
    const auto rid = rig.lastRequestTo(w);
    c->leave();
    auto cancels = rig.host.framesOf(Kind::Cancel);
    REQUIRE(cancels.size() == 1);
    CHECK(cancels[0]->request_id == rid);
    CHECK(rig.dispatcher.openCalls() == 0);
    CHECK(rig.pool.inFlight(w) == 0);
    rig.respond(w, rid, 200, "late");
    CHECK(c->responses == 0);
}

TEST_CASE("a crash fails the worker's in-flight requests with 502 and no other; a replacement starts") {
    Rig rig;
    auto a = rig.send("/hello/a");
    auto b = rig.send("/hello/b");
    auto other = rig.send("/small/");
    REQUIRE(rig.host.spawns.size() == 2);
    const auto hello = rig.host.spawns[0].id, small = rig.host.spawns[1].id;
    rig.ready(hello);
    rig.ready(small);
    CHECK(rig.host.framesOf(Kind::Request).size() == 3);

    rig.exit(hello, /*was_ready=*/true, /*expected=*/false);
    for (auto* c : {a.get(), b.get()}) {
        CHECK(c->status == 502);
        CHECK(errorCode(*c) == "WORKER_CRASHED");
        CHECK(c->body.find("killed by SIGSEGV") != std::string::npos);
    }
    CHECK(other->responses == 0);
    CHECK(rig.pool.metrics(rig.clock.now).total_workers_failed == 1);

    rig.respond(small, rig.lastRequestTo(small), 200, "fine");
    CHECK(other->status == 200);

    auto again = rig.send("/hello/");
    REQUIRE(rig.host.spawns.size() == 3);
    CHECK(rig.host.spawns[2].key == rig.host.spawns[0].key);
}

TEST_CASE("a worker that dies during start fails its waiting requests with 503 and the reason") {
    Rig rig;
    auto c = rig.send("/hello/");
    rig.exit(rig.host.spawns.at(0).id, /*was_ready=*/false, /*expected=*/false, "init threw: no database");
    CHECK(c->status == 503);
    CHECK(errorCode(*c) == "WORKER_INIT_FAILED");
    CHECK(c->body.find("init threw: no database") != std::string::npos);
    CHECK(rig.pool.metrics(rig.clock.now).total_workers_failed == 1);

    rig.advance(100ms);  // past the start backoff (tests/core/hardening_test.cpp)
    auto d = rig.send("/hello/");
    rig.exit(rig.host.spawns.at(1).id, false, false);
    CHECK(d->body.find("worker exited during start (killed by SIGSEGV)") != std::string::npos);
}

TEST_CASE("a spawn that fails at once answers 503 WORKER_SPAWN_FAILED") {
    Rig rig;
    rig.host.refuse_spawns = true;
    auto pooled = rig.send("/hello/");
    CHECK(pooled->status == 503);
    CHECK(errorCode(*pooled) == "WORKER_SPAWN_FAILED");
    auto eph = rig.send("/eph/");
    CHECK(eph->status == 503);
    CHECK(errorCode(*eph) == "WORKER_SPAWN_FAILED");
    CHECK(rig.pool.ephemeralGate().active() == 0);
}

TEST_CASE(
    "ephemeral: the gate runs `concurrency` at once, queues the rest, and answers 503 with Retry-After when full") {
    Rig rig({.ephemeral_concurrency = 1, .ephemeral_queue_limit = 1});
    auto first = rig.send("/eph/1");
    auto queued = rig.send("/eph/2");
    auto refused = rig.send("/eph/3");
    REQUIRE(rig.host.spawns.size() == 1);
    CHECK(rig.host.spawns[0].ephemeral);
    CHECK(refused->status == 503);
    CHECK(errorCode(*refused) == "EPHEMERAL_WORKER_QUEUE_SATURATED");
    CHECK(refused->header("retry-after") == "1");
    CHECK(refused->body.find("1/1 waiting, 1 running") != std::string::npos);
    CHECK(queued->responses == 0);

    const auto w1 = rig.host.spawns[0].id;
    rig.ready(w1);
    rig.respond(w1, rig.lastRequestTo(w1), 200, "one");
    CHECK(first->body == "one");
    CHECK(rig.host.terminated.at(w1) == 0ms);  // one process, one request
    REQUIRE(rig.host.spawns.size() == 2);      // the queued request got the slot
    const auto w2 = rig.host.spawns[1].id;
    rig.ready(w2);
    rig.respond(w2, rig.lastRequestTo(w2), 200, "two");
    CHECK(queued->body == "two");
    CHECK(rig.pool.ephemeralGate().active() == 0);
    CHECK(rig.pool.ephemeralGate().queueDepth() == 0);
}

TEST_CASE("ephemeral: a queued request whose client leaves gives up its place; a timed-out one is killed") {
    Rig rig({.ephemeral_concurrency = 1, .ephemeral_queue_limit = 10});
    auto running = rig.send("/eph/");
    auto waiting = rig.send("/eph/");
    waiting->leave();
    CHECK(rig.pool.ephemeralGate().queueDepth() == 0);
    rig.advance(1000ms);  // the running one passes its timeout while its worker starts
    CHECK(running->status == 504);
    CHECK(rig.host.killed.contains(rig.host.spawns.at(0).id));
    CHECK(rig.host.spawns.size() == 1);  // nobody was waiting any more
    CHECK(rig.pool.ephemeralGate().active() == 0);
}

TEST_CASE("backpressure, request side: a worker that reads slowly stops the client's body being read") {
    Rig rig;
    const std::uint64_t size = 3 * Dispatcher::kSingleFrameBody;
    auto c = rig.send("/hello/upload", "POST", size);
    const auto w = rig.host.spawns.at(0).id;
    rig.ready(w);
    auto requests = rig.host.framesOf(Kind::Request);
    REQUIRE(requests.size() == 1);
    CHECK((requests[0]->flags & proto::kFlagMore) != 0);  // a large body streams behind the head
    CHECK(requests[0]->body.empty());

    rig.host.pending_bytes = Dispatcher::kPendingSendLimit + 1;
    const int reads = c->read_calls;
    c->push(std::string(Dispatcher::kSingleFrameBody, 'a'));
    CHECK(rig.host.framesOf(proto::kContinuationKind).size() == 1);
    CHECK(c->read_calls == reads);  // not read again while the worker's queue is over the limit
    REQUIRE(rig.host.drained_callbacks.size() == 1);
    rig.host.drain();
    CHECK(c->read_calls == reads + 1);
    c->push(std::string(2 * Dispatcher::kSingleFrameBody, 'b'));
    c->endBody();
    auto body = rig.host.framesOf(proto::kContinuationKind);
    REQUIRE(body.size() == 3);
    CHECK(body.back()->flags == 0);  // the empty last frame ends the body
    CHECK(body.back()->body.empty());
}

TEST_CASE("backpressure, response side: a slow client pauses the worker's ring, and catching up resumes it") {
    Rig rig;
    auto c = rig.send("/hello/big");
    const auto w = rig.host.spawns.at(0).id;
    rig.ready(w);
    const auto rid = rig.lastRequestTo(w);
    c->holdWrites(true);
    rig.respond(w, rid, 200, "", /*more=*/true);
    CHECK(c->status == 200);
    CHECK_FALSE(c->declared_length.has_value());
    const std::string chunk(256 * 1024, 'x');
    for (int i = 0; i < 4; ++i) rig.bodyFrame(w, rid, chunk, true);
    CHECK(rig.host.paused[w] == 0);  // exactly the limit: not over it yet
    rig.bodyFrame(w, rid, chunk, true);
    CHECK(rig.host.paused[w] == 1);
    c->releaseWrites(2 * chunk.size());  // 768 KiB still queued: above half the limit
    CHECK(rig.host.paused[w] == 1);
    c->releaseWrites(chunk.size());  // 512 KiB: half the limit
    CHECK(rig.host.paused[w] == 0);
    rig.bodyFrame(w, rid, "end", false);
    CHECK(c->ended);
    CHECK(c->body.size() == 5 * chunk.size() + 3);
    CHECK(rig.dispatcher.openCalls() == 0);
}

TEST_CASE("a finished call keeps no reference to its client, also when its last writes complete late") {
    Rig rig;
    auto c = rig.send("/hello/stream");
    const auto w = rig.host.spawns.at(0).id;
    rig.ready(w);
    auto rid = rig.lastRequestTo(w);
    rig.respond(w, rid, 200, "", /*more=*/true);
    rig.bodyFrame(w, rid, "part", true);
    rig.bodyFrame(w, rid, "end", false);
    REQUIRE(c->ended);
    CHECK(rig.dispatcher.openCalls() == 0);
    CHECK(c.use_count() == 1);  // only this test holds it: the call and its relay let go

    auto d = rig.send("/hello/slow");
    rid = rig.lastRequestTo(w);
    d->holdWrites(true);
    rig.respond(w, rid, 200, "", /*more=*/true);
    rig.bodyFrame(w, rid, "end", false);
    REQUIRE(d->ended);
    CHECK(d->heldWrites() == 1);
    CHECK(rig.dispatcher.openCalls() == 0);
    d->releaseWrites();
    CHECK(d.use_count() == 1);  // the completion released the call, and the call its client
}

TEST_CASE("a malformed response head is 502 and retires the worker; an Error frame is 500 with its reason") {
    Rig rig;
    auto c = rig.send("/hello/");
    const auto w = rig.host.spawns.at(0).id;
    rig.ready(w);
    const std::byte junk[3] = {std::byte{1}, std::byte{2}, std::byte{3}};
    rig.frame(w, proto::toWire(Kind::Response), 0, rig.lastRequestTo(w), junk, {});
    CHECK(c->status == 502);
    CHECK(errorCode(*c) == "BAD_WORKER_RESPONSE");
    CHECK(rig.host.terminated.contains(w));

    auto d = rig.send("/hello/");
    const auto w2 = rig.host.spawns.back().id;
    CHECK(w2 != w);
    rig.ready(w2);
    rig.frame(w2, proto::toWire(Kind::Error), 0, rig.lastRequestTo(w2), proto::bytesOf("db down"), {});
    CHECK(d->status == 500);
    CHECK(errorCode(*d) == "APP_ERROR");
    CHECK(d->body.find("db down") != std::string::npos);
}

TEST_CASE("routing answers without a worker: reserved, bad target, no app, unknown app, broken manifest, 413") {
    Rig rig;
    CHECK(rig.send("/_/api/health")->status == 200);
    CHECK(rig.admin_requests == 1);
    auto reserved = rig.send("/.well-known/x");
    CHECK(reserved->status == 404);
    CHECK(errorCode(*reserved) == "NOT_FOUND");
    auto bad = rig.send("/hello/../etc/passwd");
    CHECK(bad->status == 400);
    CHECK(errorCode(*bad) == "BAD_REQUEST");
    auto root = rig.send("/");
    CHECK(root->status == 404);
    CHECK(errorCode(*root) == "NOT_FOUND");
    CHECK(root->body.find("use /<app>/") != std::string::npos);
    auto unknown = rig.send("/nope/");
    CHECK(unknown->status == 404);
    CHECK(errorCode(*unknown) == "APP_NOT_FOUND");
    auto broken = rig.send("/broken/");
    CHECK(broken->status == 500);
    CHECK(errorCode(*broken) == "APP_CONFIG_ERROR");
    CHECK(broken->body.find("ttl") != std::string::npos);
    auto big = rig.send("/small/", "POST", 2048);
    CHECK(big->status == 413);
    CHECK(big->body_limit == 1024);
    CHECK(rig.host.spawns.empty());
    CHECK(rig.dispatcher.openCalls() == 0);
}

TEST_CASE("draining: new app requests get 503 with Retry-After, queued ephemeral ones fail, failAll ends the rest") {
    Rig rig({.ephemeral_concurrency = 1, .ephemeral_queue_limit = 5});
    auto running = rig.send("/hello/");
    auto eph = rig.send("/eph/");
    auto queued = rig.send("/eph/");
    rig.dispatcher.beginDrain(rig.clock.now);
    CHECK(queued->status == 503);
    CHECK(errorCode(*queued) == "SHUTTING_DOWN");
    auto late = rig.send("/hello/");
    CHECK(late->status == 503);
    CHECK(late->header("retry-after") == "1");
    CHECK(rig.send("/_/api/health")->status == 200);  // admin still answers

    rig.dispatcher.failAll(rig.clock.now);
    CHECK(running->status == 503);
    CHECK(eph->status == 503);
    CHECK(rig.dispatcher.openCalls() == 0);
}
