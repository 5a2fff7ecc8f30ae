// SPDX-License-Identifier: MIT
// The real WorkerHost: the table of worker processes, each a proc::Process with its exit
// watcher and an ipc::WorkerLink over its shm channel. It handles the process-level frames
// itself (Ready, InitFailed, a broken ring) and hands request frames to WorkerEvents.
//
// Thread-safety: core loop only (the io_context given at construction).
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "app_logs.h"
#include "buntime/ipc/worker_link.h"
#include "buntime/proc/exit_watcher.h"
#include "buntime/proc/process.h"
#include "buntime/supervisor/config.h"
#include "ipc_stats.h"
#include "spawn_metrics.h"
#include "worker_host.h"
#include "worker_launch.h"
#include "zygotes.h"

namespace buntime::supervisor {

class AsioWorkerHost final : public WorkerHost {
public:
    // `environment`: what workers inherit, before the secret filter.
    AsioWorkerHost(boost::asio::io_context& io, const SupervisorConfig& config, LaunchSettings launch,
                   std::vector<std::string> environment, IpcStats& stats);
    ~AsioWorkerHost() override;

    void setEvents(WorkerEvents& events) noexcept { events_ = &events; }
    // Where workers' stdout and stderr go (null: workers inherit the supervisor's).
    void setAppLogs(AppLogs* logs) noexcept { app_logs_ = logs; }

    // WorkerHost
    bool spawn(pool::WorkerId id, const router::ResolvedApp& app,
               const std::shared_ptr<const router::Manifest>& manifest, bool ephemeral) override;
    std::string spawnFailure() const override { return spawn_failure_; }
    bool send(pool::WorkerId id, const shm::Outgoing& frame) override;
    std::size_t pendingBytes(pool::WorkerId id) const override;
    void whenDrained(pool::WorkerId id, std::function<void()> callback) override;
    void pauseReading(pool::WorkerId id) override;
    void resumeReading(pool::WorkerId id) override;
    void terminate(pool::WorkerId id, std::chrono::milliseconds grace) override;
    void kill(pool::WorkerId id) override;
    int pid(pool::WorkerId id) const override;
    bool overMemory(pool::WorkerId id) override;

    // A worker process that has not exited (draining ones included).
    struct LiveWorker {
        pool::WorkerId id = 0;
        std::string key;
        bool ephemeral = false;
        int pid = 0;
        std::size_t ring_capacity = 0;
        std::size_t to_worker_used = 0;
        std::size_t to_supervisor_used = 0;
        shm::RingStats to_worker;
        shm::RingStats to_supervisor;
        std::string kind;        // so, exec, static, js, command
        std::string spawn_path;  // fork or exec
    };
    std::optional<LiveWorker> live(pool::WorkerId id) const;
    std::vector<pool::WorkerId> livePooledWorkers() const;
    std::optional<pool::WorkerId> livePooledWorker(std::string_view key) const;
    // Ring counters of every worker not yet exited.
    void liveRingTotals(shm::RingStats& to_worker, shm::RingStats& to_supervisor) const;
    std::vector<int> livePids() const;
    // Spawn-to-ready of every worker so far (a fork path records into it too).
    const SpawnMetrics& spawnMetrics() const noexcept { return spawn_metrics_; }

    // Shutdown: Terminate to every worker; then, after the grace, kill and reap the rest.
    void terminateAll(std::chrono::milliseconds grace);
    bool allExited() const;
    void killRemaining();

private:
    struct Worker {
        pool::WorkerId id = 0;
        std::string key;
        bool ephemeral = false;
        bool ready = false;
        bool exited = false;
        bool terminate_sent = false;
        std::uint32_t generation = 0;
        std::string failure;  // InitFailed reason or protocol error
        std::string kind;     // the launch plan's: so, exec, static, js, command
        base::TimePoint spawned;
        base::TimePoint spawn_decided;           // entry of spawn(): spawn-to-ready counts from here
        SpawnPath spawn_path = SpawnPath::Exec;  // the label its Ready is observed under
        std::uint64_t recycle_rss = 0;           // bytes; 0: never recycled for memory
        base::TimePoint rss_checked{};
        proc::Process process;
        proc::ExitWatcher watcher;
        std::unique_ptr<ipc::WorkerLink> link;
    };

    Worker* find(pool::WorkerId id) const;
    Worker* findServing(pool::WorkerId id) const;  // known and not exited
    void onFrame(pool::WorkerId id, const shm::FrameView& frame);
    void onBroken(pool::WorkerId id, std::string reason);
    void onExit(pool::WorkerId id, proc::ExitStatus status);
    void warnAboutEnv(const std::string& key, const LaunchPlan& plan);

    boost::asio::io_context& io_;
    const SupervisorConfig& config_;
    LaunchSettings launch_;
    std::vector<std::string> environment_;
    IpcStats& stats_;
    WorkerEvents* events_ = nullptr;
    AppLogs* app_logs_ = nullptr;
    std::unordered_map<pool::WorkerId, std::unique_ptr<Worker>> workers_;
    std::unordered_set<std::string> warned_env_keys_;
    std::string spawn_failure_;  // why the last spawn() failed
    std::uint32_t next_generation_ = 1;
    SpawnMetrics spawn_metrics_;
    Zygotes zygotes_;  // after workers_: templates go first on destruction
};

}  // namespace buntime::supervisor
