// SPDX-License-Identifier: MIT
// The worker's command line, parsed once into an immutable struct.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace buntime::worker {

inline constexpr std::uint32_t kDefaultThreads = 4;
inline constexpr std::uint32_t kDefaultConcurrency = 100;
inline constexpr std::size_t kDefaultMaxBody = 10u * 1024 * 1024;

// buntime-worker --app-dir DIR --name NAME --version VER [--entrypoint E] [--threads N]
//                [--concurrency N] [--max-body BYTES] [--inject-base]
struct WorkerConfig {
    std::string app_dir;
    std::string name;
    std::string version;
    std::string entrypoint;  // empty: index.html, app.so, app (first found)
    std::uint32_t threads = kDefaultThreads;
    std::uint32_t concurrency = kDefaultConcurrency;
    std::size_t max_body = kDefaultMaxBody;
    bool inject_base = false;
};

struct ParsedArgs {
    std::optional<WorkerConfig> config;  // set on success
    std::string error;                   // set on failure
};

ParsedArgs parseArgs(int argc, const char* const* argv);
const char* usage() noexcept;

}  // namespace buntime::worker
