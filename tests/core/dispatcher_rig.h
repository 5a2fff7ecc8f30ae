// SPDX-License-Identifier: MIT
// A dispatcher over real router and pool, a fake worker host, fake clients and a fake
// clock: the request lifecycle in milliseconds, with no process and no socket.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "buntime/pool/worker_pool.h"
#include "buntime/proto/control.h"
#include "buntime/proto/messages.h"
#include "buntime/proto/stream.h"
#include "buntime/router/router.h"
#include "dispatcher.h"
#include "fake_client.h"
#include "fake_clock.h"
#include "fake_worker_host.h"
#include "temp_dir.h"

namespace buntime::supervisor::test {

using namespace std::chrono_literals;

struct RigOptions {
    std::size_t ephemeral_concurrency = 2;
    std::size_t ephemeral_queue_limit = 100;
    std::size_t pool_size = 100;
};

// Apps: hello (pooled, timeout 1s, concurrency 10), eph (ttl 0, timeout 1s), small
// (maxBodySize 1kb), broken (a manifest key with a bad value).
struct Rig {
    explicit Rig(RigOptions o = {})
        : apps("buntime-core"),
          router(routerOptions(apps)),
          pool(poolConfig(o), clock.now),
          dispatcher(router, pool, host, stats, options()) {
        apps.write("hello/manifest.yaml", "ttl: 5m\ntimeout: 1s\nconcurrency: 10\n");
        apps.write("eph/manifest.yaml", "ttl: 0\ntimeout: 1s\n");
        apps.write("small/manifest.yaml", "ttl: 5m\nmaxBodySize: 1kb\n");
        apps.write("broken/manifest.yaml", "ttl: forever\n");
    }
    // A test may end with client writes held: close them while the dispatcher still lives.
    ~Rig() {
        for (const auto& weak : clients_)
            if (auto c = weak.lock()) c->closeWrites();
    }
    Rig(const Rig&) = delete;
    Rig& operator=(const Rig&) = delete;

    static router::RouterOptions routerOptions(const buntime::test::TempDir& dir) {
        router::RouterOptions o;
        o.roots = {dir.root()};
        o.config_cache_ttl = 0ms;
        o.resolver_cache_ttl = 0ms;
        return o;
    }
    static pool::PoolConfig poolConfig(const RigOptions& o) {
        pool::PoolConfig p;
        p.capacity = o.pool_size;
        p.ephemeral_concurrency = o.ephemeral_concurrency;
        p.ephemeral_queue_limit = o.ephemeral_queue_limit;
        return p;
    }
    DispatcherOptions options() {
        DispatcherOptions d;
        d.terminate_grace = 5000ms;
        d.clock = [this] { return clock.now; };
        d.admin = [this](const std::shared_ptr<Client>& c) {
            ++admin_requests;
            c->respond(200, {}, "admin");
        };
        return d;
    }

    std::shared_ptr<FakeClient> send(std::string target, std::string method = "GET",
                                     std::optional<std::uint64_t> content_length = {}) {
        auto client = std::make_shared<FakeClient>(std::move(method), std::move(target), content_length);
        clients_.push_back(client);
        dispatcher.accept(client, clock.now);
        return client;
    }

    // The worker side: Ready, then frames.
    void ready(pool::WorkerId id) { dispatcher.onWorkerReady(id, clock.now); }
    void frame(pool::WorkerId id, std::uint16_t kind, std::uint16_t flags, std::uint64_t request_id,
               std::span<const std::byte> head, std::span<const std::byte> body) {
        shm::FrameView v;
        v.header.kind = kind;
        v.header.flags = flags;
        v.header.request_id = request_id;
        v.header.head_len = static_cast<std::uint32_t>(head.size());
        v.header.body_len = static_cast<std::uint32_t>(body.size());
        v.head = head;
        v.body = body;
        dispatcher.onWorkerFrame(id, v, clock.now);
    }
    void respond(pool::WorkerId id, std::uint64_t request_id, std::uint16_t status, std::string_view body,
                 bool more = false) {
        proto::ResponseHead h;
        h.status = status;
        h.headers = {{"content-type", "text/plain"}};
        h.content_length = more ? -1 : static_cast<std::int64_t>(body.size());
        const auto head = proto::encode(h);
        frame(id, proto::toWire(proto::Kind::Response), more ? proto::kFlagMore : 0, request_id, head,
              proto::bytesOf(body));
    }
    void bodyFrame(pool::WorkerId id, std::uint64_t request_id, std::string_view body, bool more) {
        frame(id, proto::kContinuationKind, more ? proto::kFlagMore : 0, request_id, {}, proto::bytesOf(body));
    }
    void exit(pool::WorkerId id, bool was_ready, bool expected, std::string failure = {}) {
        host.alive.erase(id);
        WorkerExit e;
        e.pid = 1000 + static_cast<int>(id);
        e.how = expected ? "exited with status 0" : "killed by SIGSEGV";
        e.was_ready = was_ready;
        e.expected = expected;
        e.failure = std::move(failure);
        dispatcher.onWorkerExit(id, e, clock.now);
    }
    // The request id of the last Request frame sent to `worker`.
    std::uint64_t lastRequestTo(pool::WorkerId worker) const {
        std::uint64_t id = 0;
        for (const auto& f : host.frames)
            if (f.worker == worker && f.kind == proto::toWire(proto::Kind::Request)) id = f.request_id;
        return id;
    }
    void advance(std::chrono::milliseconds d) {
        clock.advance(d);
        dispatcher.tick(clock.now);
    }

    buntime::test::TempDir apps;
    buntime::test::FakeClock clock;
    router::Router router;
    pool::WorkerPool pool;
    FakeWorkerHost host;
    IpcStats stats;
    int admin_requests = 0;
    Dispatcher dispatcher;
    std::vector<std::weak_ptr<FakeClient>> clients_;
};

inline std::string errorCode(const FakeClient& c) {
    auto at = c.body.find("\"error\":\"");
    if (at == std::string::npos) return {};
    at += 9;
    return c.body.substr(at, c.body.find('"', at) - at);
}

}  // namespace buntime::supervisor::test
