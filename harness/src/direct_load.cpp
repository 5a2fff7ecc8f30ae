// SPDX-License-Identifier: MIT
// Direct-mode driver: N loops re-issue Runtime::direct from the completion callback.
#include "buntime/harness/direct_load.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace buntime::harness {

using Clock = std::chrono::steady_clock;

supervisor::DirectRequest directRequestFor(const Scenario& s) {
    supervisor::DirectRequest r;
    r.method = s.method;
    r.target = s.target;
    r.headers.emplace_back("host", "127.0.0.1");
    r.headers.emplace_back("user-agent", "buntime-perf");
    if (!s.content_type.empty()) r.headers.emplace_back("content-type", s.content_type);
    if (!s.body.empty() || s.method == "POST") r.headers.emplace_back("content-length", std::to_string(s.body.size()));
    r.body = s.body;
    return r;
}

namespace {

enum class Phase { Warmup, Measure, Done };

// Shared with completion callbacks, which may outlive runDirectLoad (late answers).
struct DirectState {
    struct Loop {
        std::uint64_t gen = 0;
        Clock::time_point start{};
        bool in_flight = false;
        bool measured = false;
    };
    std::mutex mu;
    std::condition_variable cv;
    Phase phase = Phase::Warmup;
    Clock::time_point end{};
    std::vector<Loop> loops;
    ScenarioResult result;
    supervisor::DirectRequest request;
    DirectSubmit submit;  // called only while phase != Done
};

void issue(const std::shared_ptr<DirectState>& st, std::size_t i) {
    supervisor::DirectRequest req;
    std::uint64_t gen = 0;
    {
        std::lock_guard lock(st->mu);
        if (st->phase == Phase::Done || Clock::now() >= st->end) {
            st->loops[i].in_flight = false;
            st->cv.notify_all();
            return;
        }
        auto& loop = st->loops[i];
        gen = ++loop.gen;
        loop.start = Clock::now();
        loop.in_flight = true;
        loop.measured = st->phase == Phase::Measure;
        req = st->request;
    }
    st->submit(std::move(req), [st, i, gen](supervisor::DirectResponse resp) {
        const auto now = Clock::now();
        {
            std::lock_guard lock(st->mu);
            auto& loop = st->loops[i];
            if (loop.gen != gen || !loop.in_flight) return;  // timed out earlier
            loop.in_flight = false;
            if (st->phase == Phase::Done) {
                st->cv.notify_all();
                return;
            }
            if (loop.measured && st->phase == Phase::Measure && now <= st->end) {
                auto& r = st->result;
                ++r.requests;
                ++r.status_counts[resp.status];
                if (resp.status >= 400 || resp.status < 100) {
                    ++r.errors;
                    ++r.http_errors;
                }
                r.latency.record(static_cast<std::uint64_t>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(now - loop.start).count()));
            }
        }
        issue(st, i);
    });
}

}  // namespace

ScenarioResult runDirectLoad(const DirectSubmit& submit, const Scenario& scenario, const LoadParams& params) {
    auto st = std::make_shared<DirectState>();
    st->submit = submit;
    st->request = directRequestFor(scenario);
    st->loops.resize(params.concurrency);
    st->result.scenario = scenario.name;
    st->result.method = scenario.method;
    st->result.target = scenario.target;
    st->result.concurrency = params.concurrency;

    const auto t0 = Clock::now();
    const auto warmEnd = t0 + std::chrono::milliseconds(params.warmup_ms);
    st->end = warmEnd + std::chrono::milliseconds(params.duration_ms);
    const auto timeout = std::chrono::milliseconds(params.timeout_ms);
    const auto step = std::clamp<std::chrono::milliseconds>(timeout / 20, std::chrono::milliseconds(1),
                                                            std::chrono::milliseconds(50));
    Clock::time_point measureStart = t0;
    auto beginMeasure = [&] {
        if (params.onMeasuredStart) params.onMeasuredStart();
        std::lock_guard lock(st->mu);
        st->phase = Phase::Measure;
        measureStart = Clock::now();
    };
    if (params.warmup_ms == 0) beginMeasure();
    for (std::size_t i = 0; i < st->loops.size(); ++i) issue(st, i);

    bool warm = params.warmup_ms > 0;
    for (;;) {
        std::this_thread::sleep_for(step);
        const auto now = Clock::now();
        if (warm && now >= warmEnd) {
            warm = false;
            beginMeasure();
        }
        if (now >= st->end) break;
        std::vector<std::size_t> expired;
        {
            std::lock_guard lock(st->mu);
            for (std::size_t i = 0; i < st->loops.size(); ++i) {
                auto& loop = st->loops[i];
                if (loop.in_flight && now - loop.start > timeout) {
                    loop.in_flight = false;
                    ++loop.gen;
                    if (loop.measured && st->phase == Phase::Measure) {
                        ++st->result.requests;
                        ++st->result.errors;
                        ++st->result.timeouts;
                    }
                    expired.push_back(i);
                }
            }
        }
        for (auto i : expired) issue(st, i);
    }
    {
        std::lock_guard lock(st->mu);
        st->phase = Phase::Done;
        st->result.duration_sec = std::chrono::duration<double>(Clock::now() - measureStart).count();
    }
    if (params.onMeasuredEnd) params.onMeasuredEnd();
    // Let in-flight answers drain (bounded) so the next scenario starts from a quiet runtime.
    {
        std::unique_lock lock(st->mu);
        st->cv.wait_for(lock, std::min<std::chrono::milliseconds>(timeout, std::chrono::milliseconds(2000)), [&] {
            for (const auto& l : st->loops)
                if (l.in_flight) return false;
            return true;
        });
        return st->result;
    }
}

}  // namespace buntime::harness
