// SPDX-License-Identifier: MIT
// Template (zygote) processes of .so apps: one per app version, started on the first
// spawn, asked to fork a worker for each later one (proto/zygote.h). The core decides fork
// vs exec here: fork when the app is a .so without `spawn: exec`, its template said Hello
// and still matches the launch plan (argv, environment, directory, cgroup); exec otherwise
// (while a template starts, after it refused or died, during its restart backoff).
//
// Thread-safety: core loop only (the io_context given at construction).
#pragma once

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "buntime/base/clock.h"
#include "buntime/base/unique_fd.h"
#include "buntime/proc/exit_watcher.h"
#include "buntime/proc/process.h"
#include "buntime/proto/zygote.h"
#include "buntime/shm/channel.h"
#include "buntime/supervisor/config.h"
#include "worker_launch.h"

namespace buntime::supervisor {

inline constexpr std::chrono::milliseconds kZygoteFirstBackoff{200};
inline constexpr std::chrono::milliseconds kZygoteMaxBackoff{30'000};
// A template that lived this long before dying restarts without backoff.
inline constexpr std::chrono::milliseconds kZygoteStableAfter{10'000};
// How long the loop waits for a template to answer Fork (it answers in about a millisecond).
inline constexpr std::chrono::milliseconds kZygoteForkTimeout{2'000};
// A replaced .so is picked up by a new template once the file has not changed for this long
// (a `cp` in progress keeps the current template serving).
inline constexpr std::chrono::milliseconds kZygoteSoSettle{1'000};

class Zygotes {
public:
    explicit Zygotes(boost::asio::io_context& io) : io_(io) {}
    ~Zygotes();
    Zygotes(const Zygotes&) = delete;
    Zygotes& operator=(const Zygotes&) = delete;

    // Whether `plan` may be forked at all: a .so app whose manifest does not say `spawn: exec`.
    static bool eligible(const LaunchPlan& plan, const router::WorkerConfig& config);

    // A worker forked by the app's template with `channel` (and optional stdout/stderr),
    // or nullopt: then the caller execs (the template is starting, refused, dead or
    // stale; this call starts or restarts it as needed). `park`: how many children the
    // template keeps forked ahead of demand (ephemeral apps; 0 for pooled ones, whose
    // spawns are rare): a call then starts a parked child over its own socket, with no
    // fork and no round trip to the template, and asks the template for a replacement.
    std::optional<proc::Process> fork(const std::string& key, const LaunchPlan& plan, const shm::ChannelFds& channel,
                                      int stdout_fd = -1, int stderr_fd = -1, int park = 0);

    // Kills every template (shutdown).
    void stopAll();
    // Pid of the app's template when it is ready (tests, admin), else 0.
    int templatePid(const std::string& key) const;

private:
    enum class State { Starting, Ready };
    // A child the template forked ahead of demand: ours to watch and reap (CLONE_PARENT);
    // it waits for a Fork on `socket` and exits when the socket closes.
    struct Parked {
        int pid = 0;
        proc::Process process;
        base::UniqueFd socket;
        proc::ExitWatcher watcher;  // last: destroyed first
    };
    struct Template {
        std::string key;
        std::vector<std::string> identity;  // what the plan must still match
        std::string so_stamp;               // size and mtime of the .so it loaded
        State state = State::Starting;
        base::TimePoint started{};
        std::uint32_t seq = 0;
        proc::Process process;
        proc::ExitWatcher watcher;
        base::UniqueFd control;
        std::unique_ptr<boost::asio::posix::stream_descriptor> waiter;  // a dup of control: Hello, Parked
        std::vector<std::unique_ptr<Parked>> parked;                    // oldest first
        int parks_pending = 0;                                          // Park asked, Parked not yet seen
    };
    struct App {
        std::unique_ptr<Template> current;
        std::vector<std::string> refused_identity;  // the plan a template refused (exec until it changes)
        std::string refused_stamp;                  // ... or until the .so changes
        unsigned failures = 0;
        base::TimePoint retry_at{};
    };

    void start(App& app, const std::string& key, const LaunchPlan& plan, std::vector<std::string> identity,
               std::string so_stamp);
    void onReadable(const std::string& key, Template* t);
    void arm(const std::string& key, Template* t);
    void onParked(Template& t, const proto::ZygoteMessage& m, std::vector<base::UniqueFd> fds);
    std::optional<proc::Process> startParked(Template& t, const proto::ZygoteMessage& fork, std::span<const int> fds);
    void replenish(Template& t, int park);
    void onExit(const std::string& key, Template* t, proc::ExitStatus status);
    void retire(App& app, const std::string& why);

    boost::asio::io_context& io_;
    std::unordered_map<std::string, App> apps_;
    std::vector<std::unique_ptr<Template>> retired_;  // exited templates, destroyed off their callbacks
};

// The plan's identity for a template: argv, environment without the per-worker entries
// (BUNTIME_CHANNEL, WORKER_ID, RUNTIME_LOG_LEVEL), working directory, cgroup, rlimits.
std::vector<std::string> templateIdentity(const LaunchPlan& plan);

// Children an ephemeral app's template keeps forked ahead of demand: one per request the
// gate lets run at once, at most 2 (each holds about 50 KiB of private memory while parked).
inline int parkedPerEphemeralApp(const SupervisorConfig& config) {
    return static_cast<int>(std::min(config.ephemeral_concurrency, 2u));
}

}  // namespace buntime::supervisor
