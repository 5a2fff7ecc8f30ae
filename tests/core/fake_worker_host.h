// SPDX-License-Identifier: MIT
// A WorkerHost without processes: it records what the dispatcher asks for (spawns, frames,
// pauses, terminations) and lets a test play the worker through WorkerEvents.
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "buntime/proto/stream.h"
#include "worker_host.h"

namespace buntime::supervisor::test {

struct SentFrame {
    pool::WorkerId worker = 0;
    std::uint16_t kind = 0;
    std::uint16_t flags = 0;
    std::uint64_t request_id = 0;
    std::vector<std::byte> head;
    std::vector<std::byte> body;
};

class FakeWorkerHost final : public WorkerHost {
public:
    struct Spawn {
        pool::WorkerId id;
        std::string key;
        bool ephemeral;
    };

    bool spawn(pool::WorkerId id, const router::ResolvedApp& app, const std::shared_ptr<const router::Manifest>&,
               bool ephemeral) override {
        if (refuse_spawns) return false;
        spawns.push_back({id, app.key, ephemeral});
        alive.insert(id);
        return true;
    }
    bool send(pool::WorkerId id, const shm::Outgoing& f) override {
        if (!alive.contains(id)) return false;
        frames.push_back(
            {id, f.kind, f.flags, f.request_id, {f.head.begin(), f.head.end()}, {f.body.begin(), f.body.end()}});
        return true;
    }
    std::size_t pendingBytes(pool::WorkerId) const override { return pending_bytes; }
    void whenDrained(pool::WorkerId, std::function<void()> callback) override {
        drained_callbacks.push_back(std::move(callback));
    }
    void pauseReading(pool::WorkerId id) override { ++paused[id]; }
    void resumeReading(pool::WorkerId id) override { --paused[id]; }
    void terminate(pool::WorkerId id, std::chrono::milliseconds grace) override {
        if (alive.contains(id)) terminated[id] = grace;
    }
    void kill(pool::WorkerId id) override { killed.insert(id); }
    int pid(pool::WorkerId id) const override { return alive.contains(id) ? 1000 + static_cast<int>(id) : 0; }

    // Runs (and forgets) the whenDrained callbacks, as the real link does once its queue empties.
    void drain() {
        pending_bytes = 0;
        auto callbacks = std::move(drained_callbacks);
        drained_callbacks.clear();
        for (auto& cb : callbacks) cb();
    }

    std::vector<const SentFrame*> framesOf(std::uint16_t kind) const {
        std::vector<const SentFrame*> out;
        for (const auto& f : frames)
            if (f.kind == kind) out.push_back(&f);
        return out;
    }
    std::vector<const SentFrame*> framesOf(proto::Kind kind) const { return framesOf(proto::toWire(kind)); }

    bool refuse_spawns = false;
    std::size_t pending_bytes = 0;
    std::vector<Spawn> spawns;
    std::vector<SentFrame> frames;
    std::set<pool::WorkerId> alive;
    std::map<pool::WorkerId, int> paused;
    std::map<pool::WorkerId, std::chrono::milliseconds> terminated;
    std::set<pool::WorkerId> killed;
    std::vector<std::function<void()>> drained_callbacks;
};

}  // namespace buntime::supervisor::test
