// SPDX-License-Identifier: MIT
// The wire contract, part 4: how a worker process is started.
//
// ARGV. buntime-worker --app-dir=DIR --name=NAME --version=VER --threads=N
//                      --concurrency=N --max-body=BYTES [--entrypoint=E] [--inject-base]
//                      [--listen=unix|tcp] [--command-arg=ARG]...
// ("--key value" is accepted as well as "--key=value"). Each --command-arg appends one
// argument of a command app's program, in order (the manifest's `command`); a JavaScript
// worker is started as `<bun|node> <js worker script> <the same arguments>`.
//
// ENVIRONMENT. The supervisor's filtered environment and the manifest's env, plus
//   BUNTIME_CHANNEL=<segment>,<to_worker_data>,<to_worker_space>,<to_supervisor_data>,<to_supervisor_space>
// the five inherited descriptors of the channel (decimal): the memfd segment and four
// eventfd doorbells (shm/channel.h says which side rings which). Variables the supervisor
// keeps for itself (socket activation, systemd notify, its own channel) never reach a
// worker. RUNTIME_LOG_LEVEL sets the worker's log level.
//
// The working directory is the app directory. The worker must die with its parent
// (PR_SET_PDEATHSIG) and treats the supervisor's exit as the end of service.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/base/expected.h"
#include "buntime/shm/channel.h"

namespace buntime::proto {

inline constexpr std::uint32_t kDefaultThreads = 4;
inline constexpr std::uint32_t kDefaultConcurrency = 100;
inline constexpr std::uint64_t kDefaultMaxBody = 10u * 1024 * 1024;

struct WorkerLaunch {
    std::string app_dir;
    std::string name;
    std::string version;
    std::string entrypoint;                           // empty: index.html, app.so, app (the first found)
    std::uint32_t threads = kDefaultThreads;          // 1..1024
    std::uint32_t concurrency = kDefaultConcurrency;  // 1..1000000
    std::uint64_t max_body = kDefaultMaxBody;         // bytes
    bool inject_base = false;
    std::vector<std::string> command;  // a command app's program and arguments; empty otherwise
    std::string listen = "unix";       // command apps: "unix" (BUNTIME_SOCKET) or "tcp" (PORT)

    bool operator==(const WorkerLaunch&) const = default;
};

// The argv for `executable` (argv[0] is `executable`).
std::vector<std::string> toArgv(const WorkerLaunch& launch, std::string_view executable);
// Parses what toArgv produced; the error says which argument is wrong.
base::Expected<WorkerLaunch, std::string> parseArgv(int argc, const char* const* argv);
const char* usage() noexcept;

// ENTRYPOINT. The manifest's `entrypoint`, or else the first of kDefaultEntrypoints that
// exists in the app directory. Its name decides the kind of worker: .html/.htm is a static
// site, .so a shared object loaded with dlopen, .ts/.tsx/.js/.jsx/.mjs/.cjs a JavaScript
// module run by Bun or Node, anything else an executable. A manifest `command` makes the
// worker a command app whatever the entrypoint (kindOf).
enum class EntrypointKind { None, Static, SharedObject, Executable, Js, Command };
inline constexpr std::array<const char*, 7> kDefaultEntrypoints{"index.html", "app.so",   "app",      "index.ts",
                                                                "index.tsx",  "index.js", "index.mjs"};

// "none", "static", "so", "exec", "js", "command": the kind shown by the admin API and metrics.
std::string_view toString(EntrypointKind kind) noexcept;
EntrypointKind entrypointKindOf(std::string_view entrypoint) noexcept;
// The kind of a worker: Command when the manifest has a command, else by the entrypoint.
inline EntrypointKind kindOf(std::string_view entrypoint, bool has_command) noexcept {
    return has_command ? EntrypointKind::Command : entrypointKindOf(entrypoint);
}
// The first default entrypoint present in `app_dir` (a file or a link), or "" when none is.
std::string defaultEntrypoint(const std::filesystem::path& app_dir);

inline constexpr const char* kChannelEnv = "BUNTIME_CHANNEL";
// "BUNTIME_CHANNEL=3,4,5,6,7"
std::string channelEnvEntry(const shm::ChannelFds& fds);
// An environment entry ("NAME=value") that belongs to the supervisor and is never passed
// to a worker: LISTEN_*, NOTIFY_SOCKET, WATCHDOG_*, BUNTIME_CHANNEL.
bool isSupervisorOnly(std::string_view entry) noexcept;

}  // namespace buntime::proto
