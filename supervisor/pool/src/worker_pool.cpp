// SPDX-License-Identifier: MIT
// WorkerPool: the pool's decisions (hit, spawn, wait, retire, evict, kill) from caller-supplied time.
#include "buntime/pool/worker_pool.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace buntime::pool {

namespace {

std::int64_t msBetween(TimePoint from, TimePoint to) {
    if (to <= from) return 0;
    return std::chrono::duration_cast<Millis>(to - from).count();
}

double round2(double v) { return std::round(v * 100.0) / 100.0; }

double average(double total, std::uint64_t count) {
    return count == 0 ? 0.0 : round2(total / static_cast<double>(count));
}

}  // namespace

template <typename T>
T& WorkerPool::Bounded<T>::at(std::string_view key, std::size_t limit) {
    auto it = items.find(key);
    if (it != items.end()) return it->second;
    while (!order.empty() && items.size() >= std::max<std::size_t>(limit, 1)) {
        items.erase(order.front());
        order.pop_front();
    }
    order.emplace_back(key);
    return items.emplace(std::string(key), T{}).first->second;
}

WorkerPool::WorkerPool(PoolConfig config, TimePoint now)
    : config_(config),
      started_at_(now),
      gate_(config.ephemeral_concurrency, config.ephemeral_queue_limit),
      rate_(config.rps_window, now) {
    config_.capacity = std::max<std::size_t>(config_.capacity, 1);
    config_.max_consecutive_timeouts = std::max<std::uint32_t>(config_.max_consecutive_timeouts, 1);
}

WorkerPool::Worker* WorkerPool::find(WorkerId id) {
    auto it = workers_.find(id);
    return it == workers_.end() ? nullptr : &it->second;
}

const WorkerPool::Worker* WorkerPool::find(WorkerId id) const {
    auto it = workers_.find(id);
    return it == workers_.end() ? nullptr : &it->second;
}

WorkerPool::KeyState& WorkerPool::keyState(std::string_view key) {
    auto it = keys_.find(key);
    if (it == keys_.end()) it = keys_.emplace(std::string(key), KeyState{}).first;
    return it->second;
}

void WorkerPool::lruTouch(Worker& w) {
    if (w.in_lru) lru_.splice(lru_.begin(), lru_, w.lru_pos);
}

void WorkerPool::lruErase(Worker& w) {
    if (!w.in_lru) return;
    lru_.erase(w.lru_pos);
    w.in_lru = false;
}

std::optional<TimePoint> WorkerPool::dueTime(const Worker& w) const {
    switch (w.state) {
    case WorkerState::Starting: return w.next_check;  // the start deadline tick() enforces
    case WorkerState::Ready: return w.next_check;
    case WorkerState::Draining:
        if (w.terminate_sent_at && !w.kill_sent) return *w.terminate_sent_at + config_.terminate_grace;
        return std::nullopt;
    case WorkerState::Dead: return std::nullopt;
    }
    return std::nullopt;
}

void WorkerPool::unschedule(Worker& w) {
    if (w.due) due_.erase({*w.due, w.id});
    w.due.reset();
}

void WorkerPool::reschedule(Worker& w) {
    const auto due = dueTime(w);
    if (due == w.due) return;
    unschedule(w);
    if (due) due_.emplace(*due, w.id);
    w.due = due;
}

void WorkerPool::eraseWorker(Worker& w) {
    unschedule(w);
    workers_.erase(w.id);
}

Millis WorkerPool::checkInterval(const WorkerPolicy& policy) noexcept {
    Millis base{0};
    if (policy.ttl > Millis{0}) base = policy.ttl;
    if (policy.idle_timeout > Millis{0} && (base == Millis{0} || policy.idle_timeout < base))
        base = policy.idle_timeout;
    if (base == Millis{0}) base = Millis{2000};  // neither set: no seed cadence applies
    return std::max(base / 2, Millis{1});
}

AcquireResult WorkerPool::acquire(std::string_view key, const WorkerPolicy& policy, Ticket ticket, TimePoint now) {
    AcquireResult r;
    KeyState& ks = keyState(key);
    ks.policy = policy;
    ks.policy.concurrency = std::max<std::uint32_t>(policy.concurrency, 1);

    if (Worker* w = find(ks.live)) {
        // The tick may run late (seed cadence): a worker past its TTL is never handed out.
        if (w->state == WorkerState::Ready && w->in_flight == 0 && ks.waiters.empty() &&
            now - w->last_used >= w->policy.ttl) {
            retire(*w, RetireReason::TtlExpired, now, r.effects);
        } else if (w->state == WorkerState::Ready && w->in_flight < w->policy.concurrency && ks.waiters.empty()) {
            ++hits_;
            startRequest(*w, now, r.effects);
            r.kind = AcquireKind::Use;
            r.worker = w->id;
            return r;
        } else {
            if (ks.waiters.size() >= config_.max_waiters_per_key) {
                r.kind = AcquireKind::Rejected;
                r.worker = w->id;
                return r;
            }
            ++hits_;
            ks.waiters.push_back(ticket);
            ticket_keys_[ticket] = std::string(key);
            r.kind = AcquireKind::Wait;
            r.worker = w->id;
            return r;
        }
    }

    ++misses_;
    ks.waiters.push_back(ticket);
    ticket_keys_[ticket] = std::string(key);
    r.worker = spawnFor(std::string(key), ks, now, r.effects);
    r.kind = AcquireKind::Spawn;
    return r;
}

bool WorkerPool::cancelWait(Ticket ticket) {
    auto tk = ticket_keys_.find(ticket);
    if (tk == ticket_keys_.end()) return false;
    auto ks = keys_.find(tk->second);
    if (ks != keys_.end()) {
        auto& q = ks->second.waiters;
        q.erase(std::remove(q.begin(), q.end(), ticket), q.end());
    }
    ticket_keys_.erase(tk);
    return true;
}

void WorkerPool::startRequest(Worker& w, TimePoint now, Effects& fx) {
    ++w.in_flight;
    ++w.request_count;
    w.last_used = now;
    w.idle_notified = false;
    ++total_requests_;
    rate_.record(now);
    lruTouch(w);
    if (w.request_count >= w.policy.max_requests) retire(w, RetireReason::MaxRequests, now, fx);
}

void WorkerPool::grantWaiters(Worker& w, TimePoint now, Effects& fx) {
    KeyState& ks = keyState(w.key);
    while (!ks.waiters.empty() && w.state == WorkerState::Ready && w.in_flight < w.policy.concurrency) {
        const Ticket t = ks.waiters.front();
        ks.waiters.pop_front();
        ticket_keys_.erase(t);
        fx.grants.push_back(Grant{t, w.id});
        startRequest(w, now, fx);  // may retire w and spawn a replacement for the rest
    }
}

WorkerId WorkerPool::spawnFor(const std::string& key, KeyState& ks, TimePoint now, Effects& fx) {
    makeRoom(config_.capacity - 1, now, fx);
    const WorkerId id = next_id_++;
    Worker& w = workers_[id];
    w.id = id;
    w.key = key;
    w.policy = ks.policy;
    w.state = WorkerState::Starting;
    w.created_at = now;
    w.last_used = now;
    w.next_check = now + std::max(config_.start_timeout, w.policy.start_timeout);
    lru_.push_front(id);
    w.lru_pos = lru_.begin();
    w.in_lru = true;
    ks.live = id;
    reschedule(w);
    ++workers_created_;
    fx.actions.push_back(Action{ActionKind::Spawn, id, key, RetireReason::Shutdown});
    return id;
}

WorkerPool::Worker* WorkerPool::pickVictim() {
    // Least recently used first; idle workers before busy ones; never a Starting worker
    // or a key with parked requests (they would need a respawn right away).
    Worker* busy = nullptr;
    for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {
        Worker* w = find(*it);
        if (w == nullptr || w->state != WorkerState::Ready) continue;
        auto ks = keys_.find(w->key);
        if (ks != keys_.end() && !ks->second.waiters.empty()) continue;
        if (w->in_flight == 0) return w;
        if (busy == nullptr) busy = w;
    }
    return busy;
}

void WorkerPool::makeRoom(std::size_t target, TimePoint now, Effects& fx) {
    // Soft limit: when every worker is Starting or has waiters, the pool overshoots
    // and tick() trims it later.
    while (lru_.size() > target) {
        Worker* victim = pickVictim();
        if (victim == nullptr) break;
        retire(*victim, RetireReason::Evicted, now, fx);
    }
}

void WorkerPool::retire(Worker& w, RetireReason reason, TimePoint now, Effects& fx) {
    if (w.state == WorkerState::Draining || w.state == WorkerState::Dead) return;
    lruErase(w);
    w.state = WorkerState::Draining;
    w.reason = reason;
    ++workers_retired_;
    if (reason == RetireReason::Evicted) ++evictions_;

    History& h = history_.at(w.key, config_.history_limit);
    h.request_count += w.request_count;
    h.completed += w.completed;
    h.error_count += w.error_count;
    h.total_response_ms += w.total_response_ms;

    KeyState& ks = keyState(w.key);
    if (ks.live == w.id) ks.live = 0;
    if (w.in_flight == 0) sendTerminate(w, now, fx);
    reschedule(w);
    if (!ks.waiters.empty() && reason != RetireReason::Shutdown) spawnFor(w.key, ks, now, fx);
}

void WorkerPool::sendTerminate(Worker& w, TimePoint now, Effects& fx) {
    if (w.terminate_sent_at) return;
    w.terminate_sent_at = now;
    reschedule(w);
    fx.actions.push_back(Action{ActionKind::Terminate, w.id, w.key, w.reason});
}

void WorkerPool::failWaiters(KeyState& ks, Effects& fx) {
    for (Ticket t : ks.waiters) {
        ticket_keys_.erase(t);
        fx.failed.push_back(t);
    }
    ks.waiters.clear();
}

void WorkerPool::failStart(Worker& w, bool kill, Effects& fx) {
    ++workers_failed_;
    KeyState& ks = keyState(w.key);
    if (ks.live == w.id) {
        ks.live = 0;
        failWaiters(ks, fx);
    }
    lruErase(w);
    if (kill) fx.actions.push_back(Action{ActionKind::Kill, w.id, w.key, RetireReason::Unhealthy});
    eraseWorker(w);  // w is gone from here on
}

Effects WorkerPool::onReady(WorkerId id, TimePoint now) {
    Effects fx;
    Worker* w = find(id);
    if (w == nullptr || w->state != WorkerState::Starting) return fx;
    w->state = WorkerState::Ready;
    w->last_used = now;
    w->next_check = now + checkInterval(w->policy);
    reschedule(*w);
    grantWaiters(*w, now, fx);
    return fx;
}

Effects WorkerPool::onSpawnFailed(WorkerId id, TimePoint /*now*/) {
    Effects fx;
    Worker* w = find(id);
    if (w == nullptr || w->state != WorkerState::Starting) return fx;
    failStart(*w, false, fx);
    return fx;
}

void WorkerPool::recordDuration(double durationMs) { recent_.add(std::max(durationMs, 0.0)); }

Effects WorkerPool::onRequestEnd(WorkerId id, TimePoint now, double durationMs, Outcome outcome) {
    Effects fx;
    Worker* w = find(id);
    if (w == nullptr || w->in_flight == 0) return fx;
    --w->in_flight;
    w->last_used = now;
    ++w->completed;
    durationMs = std::max(durationMs, 0.0);
    w->total_response_ms += durationMs;
    recordDuration(durationMs);
    const bool error = outcome != Outcome::Ok;
    if (error) ++w->error_count;
    if (outcome == Outcome::Timeout) {
        ++w->consecutive_timeouts;
    } else if (outcome != Outcome::Crash) {
        w->consecutive_timeouts = 0;
    }

    if (w->state == WorkerState::Draining) {
        // Its counters were folded into the key's history at retirement; add this request's.
        History& h = history_.at(w->key, config_.history_limit);
        ++h.completed;
        h.total_response_ms += durationMs;
        if (error) ++h.error_count;
        if (w->in_flight == 0) sendTerminate(*w, now, fx);
        return fx;
    }
    if (w->state != WorkerState::Ready) return fx;
    if (outcome == Outcome::Crash) {
        retire(*w, RetireReason::Unhealthy, now, fx);
    } else if (outcome == Outcome::Timeout && w->consecutive_timeouts >= config_.max_consecutive_timeouts) {
        retire(*w, RetireReason::Timeouts, now, fx);
    } else {
        grantWaiters(*w, now, fx);
    }
    return fx;
}

Effects WorkerPool::markUnhealthy(WorkerId id, TimePoint now) {
    Effects fx;
    Worker* w = find(id);
    if (w == nullptr) return fx;
    if (w->state == WorkerState::Starting) {
        failStart(*w, true, fx);
    } else if (w->state == WorkerState::Ready) {
        ++w->error_count;
        retire(*w, RetireReason::Unhealthy, now, fx);
    }
    return fx;
}

WorkerPool::ExitResult WorkerPool::onWorkerExited(WorkerId id, TimePoint now, bool crashed) {
    ExitResult r;
    Worker* w = find(id);
    if (w == nullptr) return r;
    r.known = true;
    r.lostInFlight = w->in_flight;
    switch (w->state) {
    case WorkerState::Starting: failStart(*w, false, r.effects); return r;
    case WorkerState::Ready: {
        // Not asked to exit: fold its stats into history like a retirement, minus the count.
        lruErase(*w);
        if (crashed) {
            ++workers_failed_;
            ++w->error_count;
        }
        History& h = history_.at(w->key, config_.history_limit);
        h.request_count += w->request_count;
        h.completed += w->completed;
        h.error_count += w->error_count;
        h.total_response_ms += w->total_response_ms;
        KeyState& ks = keyState(w->key);
        if (ks.live == w->id) ks.live = 0;
        const std::string key = w->key;
        eraseWorker(*w);
        if (!ks.waiters.empty()) spawnFor(key, ks, now, r.effects);
        return r;
    }
    case WorkerState::Draining:
    case WorkerState::Dead:
        if (crashed && !w->kill_sent && w->in_flight > 0) {
            ++history_.at(w->key, config_.history_limit).error_count;
        }
        eraseWorker(*w);
        return r;
    }
    return r;
}

Effects WorkerPool::tick(TimePoint now) {
    Effects fx;
    std::vector<WorkerId> ids;
    ids.reserve(workers_.size());
    for (const auto& [id, w] : workers_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());  // deterministic action order

    for (WorkerId id : ids) {
        Worker* w = find(id);
        if (w == nullptr) continue;
        switch (w->state) {
        case WorkerState::Starting:
            if (now - w->created_at >= std::max(config_.start_timeout, w->policy.start_timeout))
                failStart(*w, true, fx);
            break;
        case WorkerState::Ready: {
            w->next_check = now + checkInterval(w->policy);
            reschedule(*w);
            if (w->in_flight != 0) break;
            const auto idle = now - w->last_used;
            if (idle >= w->policy.ttl) {
                retire(*w, RetireReason::TtlExpired, now, fx);
            } else if (w->policy.idle_timeout > Millis{0} && !w->idle_notified && idle >= w->policy.idle_timeout) {
                w->idle_notified = true;
                fx.actions.push_back(Action{ActionKind::NotifyIdle, w->id, w->key, RetireReason::Shutdown});
            }
            break;
        }
        case WorkerState::Draining:
            if (w->terminate_sent_at && !w->kill_sent && now - *w->terminate_sent_at >= config_.terminate_grace) {
                w->kill_sent = true;
                reschedule(*w);
                fx.actions.push_back(Action{ActionKind::Kill, w->id, w->key, w->reason});
            }
            break;
        case WorkerState::Dead: break;
        }
    }
    makeRoom(config_.capacity, now, fx);
    for (auto it = keys_.begin(); it != keys_.end();) {  // forget keys with nothing left
        it = (it->second.live == 0 && it->second.waiters.empty()) ? keys_.erase(it) : std::next(it);
    }
    return fx;
}

std::optional<TimePoint> WorkerPool::nextCheckAt() const {
    if (due_.empty()) return std::nullopt;
    return due_.begin()->first;
}

Effects WorkerPool::shutdown(TimePoint now) {
    Effects fx;
    for (auto& [key, ks] : keys_) failWaiters(ks, fx);
    std::vector<WorkerId> ids(lru_.begin(), lru_.end());
    std::sort(ids.begin(), ids.end());
    for (WorkerId id : ids) {
        if (Worker* w = find(id)) retire(*w, RetireReason::Shutdown, now, fx);
    }
    return fx;
}

WorkerId WorkerPool::onEphemeralStart(std::string_view key, TimePoint now) {
    const WorkerId id = next_id_++;
    ++misses_;
    ++workers_created_;
    ++total_requests_;
    rate_.record(now);
    EphemeralHistory& e = ephemeral_.at(key, config_.history_limit);
    ++e.request_count;
    ++e.running;
    ephemeral_running_.emplace(id, std::string(key));
    return id;
}

void WorkerPool::onEphemeralEnd(WorkerId id, TimePoint /*now*/, double durationMs, Outcome outcome) {
    auto it = ephemeral_running_.find(id);
    if (it == ephemeral_running_.end()) return;
    durationMs = std::max(durationMs, 0.0);
    EphemeralHistory& e = ephemeral_.at(it->second, config_.history_limit);
    if (e.running > 0) --e.running;
    ++e.completed;
    e.total_response_ms += durationMs;
    e.last_response_ms = durationMs;
    if (outcome != Outcome::Ok) ++e.error_count;
    if (outcome == Outcome::Crash) ++workers_failed_;
    recordDuration(durationMs);
    ephemeral_running_.erase(it);
}

PoolMetrics WorkerPool::metrics(TimePoint now) const {
    PoolMetrics m;
    m.active_workers = workers_.size();
    m.avg_response_time_ms = round2(recent_.mean());
    m.evictions = evictions_;
    m.ephemeral_concurrency = gate_.concurrency();
    m.ephemeral_queue_depth = gate_.queueDepth();
    m.ephemeral_queue_limit = gate_.queueLimit();
    const std::uint64_t lookups = hits_ + misses_;
    m.hit_rate = lookups == 0 ? 0.0 : round2(100.0 * static_cast<double>(hits_) / static_cast<double>(lookups));
    m.hits = hits_;
    m.misses = misses_;
    m.memory_usage_mb = round2(memory_usage_mb_);
    m.requests_per_second = round2(rate_.perSecond(now));
    m.total_requests = total_requests_;
    m.total_workers_created = workers_created_;
    m.total_workers_failed = workers_failed_;
    m.total_workers_retired = workers_retired_;
    m.uptime_ms = msBetween(started_at_, now);
    return m;
}

WorkerStats WorkerPool::liveStats(const Worker& w, TimePoint now) const {
    WorkerStats s;
    s.key = w.key;
    s.id = w.id;
    s.state = w.state;
    s.age_ms = msBetween(w.created_at, now);
    s.idle_ms = w.in_flight > 0 ? 0 : msBetween(w.last_used, now);
    s.in_flight = w.in_flight;
    s.request_count = w.request_count;
    s.error_count = w.error_count;
    s.total_response_time_ms = round2(w.total_response_ms);
    s.avg_response_time_ms = average(w.total_response_ms, w.completed);
    const bool idle = w.state != WorkerState::Starting && w.in_flight == 0 && w.policy.idle_timeout > Millis{0} &&
                      now - w.last_used >= w.policy.idle_timeout;
    s.status = idle ? WorkerStatus::Idle : WorkerStatus::Active;
    return s;
}

PoolSnapshot WorkerPool::snapshot(TimePoint now) const {
    PoolSnapshot snap;
    snap.metrics = metrics(now);

    // One row per key: the live worker, else the ephemeral record, else offline history;
    // counts are cumulative over the key's past workers (as the seed merges them).
    std::map<std::string_view, WorkerStats> rows;
    for (const auto& [key, h] : history_.items) {
        WorkerStats s;
        s.key = key;
        s.status = WorkerStatus::Offline;
        s.state = WorkerState::Dead;
        s.request_count = h.request_count;
        s.error_count = h.error_count;
        s.total_response_time_ms = round2(h.total_response_ms);
        s.avg_response_time_ms = average(h.total_response_ms, h.completed);
        rows[key] = s;
    }
    auto merge = [this](WorkerStats& s, std::uint64_t completed, double total) {
        auto h = history_.items.find(s.key);
        if (h != history_.items.end()) {
            s.request_count += h->second.request_count;
            s.error_count += h->second.error_count;
            completed += h->second.completed;
            total += h->second.total_response_ms;
        }
        s.total_response_time_ms = round2(total);
        s.avg_response_time_ms = average(total, completed);
    };
    for (const auto& [key, e] : ephemeral_.items) {
        WorkerStats s;
        s.key = key;
        s.status = WorkerStatus::Ephemeral;
        s.state = e.running > 0 ? WorkerState::Ready : WorkerState::Dead;
        s.age_ms = static_cast<std::int64_t>(std::llround(e.last_response_ms));
        s.in_flight = e.running;
        s.request_count = e.request_count;
        s.error_count = e.error_count;
        merge(s, e.completed, e.total_response_ms);
        rows[key] = s;
    }
    for (WorkerId id : lru_) {
        const Worker* w = find(id);
        if (w == nullptr) continue;
        WorkerStats s = liveStats(*w, now);
        merge(s, w->completed, w->total_response_ms);
        rows[w->key] = s;
    }
    snap.workers.reserve(rows.size());
    for (auto& [key, s] : rows) snap.workers.push_back(std::move(s));

    for (const auto& [id, w] : workers_) {
        if (w.state == WorkerState::Draining) snap.draining.push_back(liveStats(w, now));
    }
    std::sort(snap.draining.begin(), snap.draining.end(),
              [](const WorkerStats& a, const WorkerStats& b) { return a.id < b.id; });
    return snap;
}

std::optional<WorkerState> WorkerPool::workerState(WorkerId id) const {
    if (const Worker* w = find(id)) return w->state;
    if (id != 0 && id < next_id_ && ephemeral_running_.count(id) == 0) return WorkerState::Dead;
    if (ephemeral_running_.count(id) != 0) return WorkerState::Ready;
    return std::nullopt;
}

std::uint32_t WorkerPool::inFlight(WorkerId id) const {
    const Worker* w = find(id);
    return w == nullptr ? 0 : w->in_flight;
}

std::size_t WorkerPool::waiting(std::string_view key) const {
    auto it = keys_.find(key);
    return it == keys_.end() ? 0 : it->second.waiters.size();
}

}  // namespace buntime::pool
