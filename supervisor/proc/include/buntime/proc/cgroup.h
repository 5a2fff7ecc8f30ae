// SPDX-License-Identifier: MIT
// Worker cgroups (v2): one group per app under the supervisor's own cgroup, with the memory
// and cpu controllers, so that each app gets memory.max and cpu.weight.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "buntime/base/expected.h"

namespace buntime::proc {

// Where to look; tests point these at a directory tree that imitates cgroupfs.
struct CgroupSources {
    std::string proc_self_cgroup = "/proc/self/cgroup";  // the "0::<path>" line
    std::string mountinfo = "/proc/self/mountinfo";      // the cgroup2 mount point
};

// Why cgroups cannot be used (or an app group could not be made): one sentence.
struct CgroupError {
    std::string message;
};

// The layout it builds, when the supervisor's cgroup <own> is writable (delegated):
//   <own>/supervisor/          the supervisor itself, moved here when <own> held it, since a
//                              cgroup with controllers enabled for children holds no process
//   <own>/buntime-workers/<app>/  memory.max, memory.swap.max = 0, cpu.weight; workers join
//                              it from the child before execve (SpawnOptions::cgroup_procs)
// Thread-safety: none; set up once at start, then used from the core loop.
class WorkerCgroups {
public:
    // Finds <own>, checks that it has the memory and cpu controllers and is writable, and
    // prepares the layout. The error is one sentence saying why not (for the start log).
    static base::Expected<WorkerCgroups, CgroupError> setUp(const CgroupSources& sources = {});

    // Creates or updates the group of `app` (name sanitised to [A-Za-z0-9._@-]) with
    // memory.max = max_memory (0: "max") and cpu.weight (1..10000) and returns the path of
    // its cgroup.procs.
    base::Expected<std::string, CgroupError> appGroup(std::string_view app, std::uint64_t max_memory,
                                                      unsigned cpu_weight) const;

    const std::string& workersDir() const noexcept { return workers_dir_; }  // <own>/buntime-workers
    bool movedSupervisor() const noexcept { return moved_supervisor_; }

private:
    std::string workers_dir_;
    bool moved_supervisor_ = false;
};

// "name@1.0.0" stays; anything outside [A-Za-z0-9._@-] becomes '_', a leading '.' too.
std::string cgroupName(std::string_view app);

}  // namespace buntime::proc
