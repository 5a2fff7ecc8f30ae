// SPDX-License-Identifier: MIT
// WorkerConfig: an app's manifest.yaml parsed with yaml-cpp, validated, defaults applied.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/router/result.h"

namespace buntime::router {

inline constexpr std::uint64_t kDefaultMaxBodySize = 10ull * 1024 * 1024;
inline constexpr std::uint64_t kMaxBodySizeCeiling = 100ull * 1024 * 1024;
inline constexpr std::uint64_t kMinMaxMemory = 16ull * 1024 * 1024;  // smaller caps cannot start a worker
inline constexpr std::uint32_t kDefaultCpuWeight = 100;              // cgroup v2 cpu.weight: 1..10000

// Limits on one manifest.yaml (errors name the file, the line and the top-level key):
// its size, its nodes with every alias expanded, and its aliases.
inline constexpr std::size_t kMaxManifestBytes = 1024 * 1024;
inline constexpr std::uint64_t kMaxManifestNodes = 20'000;
inline constexpr std::uint64_t kMaxManifestAliases = 100;

// One public route: method "" means every method. From a list form (`- /health`) the
// method is empty; from a map form (`GET: [/a, /b]` or `GET: /a`) it is the key, uppercased
// ("ALL" and "*" become "").
struct PublicRoute {
    std::string method;
    std::string path;
    bool operator==(const PublicRoute&) const = default;
};

// The validated configuration of one app version. Plain value type; copy freely.
struct WorkerConfig {
    std::string name;                       // `name` key (informational; routing uses the dir)
    std::string version;                    // `version` key when valid semver, else empty (a warning)
    std::optional<std::string> entrypoint;  // relative to the app dir; worker picks a default
    std::map<std::string, std::string> env;
    std::chrono::milliseconds timeout{30'000};          // per request, > 0
    std::chrono::milliseconds start_timeout{10'000};    // `startTimeout`: Ready within this, > 0
    std::chrono::milliseconds ttl{0};                   // 0 = ephemeral; sliding
    std::chrono::milliseconds idle_timeout{60'000};     // idle notification only; 0 = never
    std::uint64_t max_requests = 1000;                  // >= 1
    std::uint64_t max_body_size = kDefaultMaxBodySize;  // 1 .. kMaxBodySizeCeiling bytes
    bool low_memory = false;
    std::optional<std::uint64_t> max_memory;       // bytes; 0 = no cap; unset: RUNTIME_WORKER_MAX_MEMORY
    std::uint32_t cpu_weight = kDefaultCpuWeight;  // 1..10000, applied with cgroup v2
    bool inject_base = false;
    std::vector<PublicRoute> public_routes;
    std::uint32_t concurrency = 100;  // native edition: max requests in flight per worker
    std::uint32_t threads = 4;        // native edition: handler threads per worker
    // Seed keys kept so seed manifests load without warnings:
    std::vector<std::string> env_prefix{"PUBLIC_", "VITE_"};  // env exposed to HTML clients
    std::string visibility = "public";                        // public | protected | internal (deployments UI)
    bool auto_install = false;  // JS apps: `bun install --frozen-lockfile --ignore-scripts` before the first start
    // Command apps: the program and its arguments (`command: [python3, app.py]`, or a string
    // split like a shell would, without a shell); empty for every other kind.
    std::vector<std::string> command;
    std::string listen = "unix";  // command apps: unix (BUNTIME_SOCKET) or tcp (PORT)
    std::string runtime = "bun";  // JS apps: bun or node
    // .so apps: fork workers from a template process (the default) or exec each one.
    std::string spawn = "fork";
    // Virtual hosts (`hosts`): lowercase names ("tools.example.com") and wildcards
    // ("*.apps.example.com": any depth of subdomain, not the bare suffix); see HostIndex.
    std::vector<std::string> hosts;

    bool ephemeral() const noexcept { return ttl.count() == 0; }
};

// Every top-level key the parser knows, in the README's order (suggestions for unknown ones).
inline constexpr std::string_view kManifestKeys[] = {
    "name",         "version",     "entrypoint",  "env",       "timeout",    "startTimeout", "ttl",
    "idleTimeout",  "maxRequests", "maxBodySize", "lowMemory", "maxMemory",  "cpuWeight",    "injectBase",
    "publicRoutes", "concurrency", "threads",     "envPrefix", "visibility", "autoInstall",  "runtime",
    "command",      "listen",      "hosts",       "spawn",
};

// One warning with its place: the top-level key it is about and that key's line (1-based).
struct ManifestNote {
    int line = 0;
    std::string key;
    std::string message;     // without the file: "unknown key (ignored)", "\"yes\" read as true ..."
    std::string suggestion;  // unknown keys: the closest known key, or ""
};

struct Manifest {
    WorkerConfig config;
    std::vector<std::string> warnings;  // e.g. "<path>: unknown key 'foo' (ignored)"
    std::vector<ManifestNote> notes;    // the same warnings with key and line (config check)
    std::map<std::string, int> lines;   // each top-level key → its 1-based line
};

// Parses YAML text. `source` names the file in messages ("<source>: key 'timeout': invalid
// duration \"abc\"", "<source>:3:5: YAML syntax error: ..."); Error::line is the line of the
// key (or of the syntax error) and Error::reason the message without file and key. An
// unknown key is a warning naming the closest known key ("did you mean 'timeout'?"), also
// when it has no value. An empty document gives the defaults. Error codes: Syntax (YAML), BadManifest (a key's value,
// or a limit above). Never throws.
Result<Manifest> parseManifest(std::string_view yaml, std::string_view source);

// Reads and parses a file; Io error when it cannot be read, BadManifest when it is larger
// than kMaxManifestBytes (no more than that is read). `path` is used as the source.
Result<Manifest> loadManifest(const std::filesystem::path& path);

// Manifest file names inside an app directory, in the order the seed tries them.
inline constexpr std::string_view kManifestFile = "manifest.yaml";
inline constexpr std::string_view kManifestFileYml = "manifest.yml";

// dir/manifest.yaml if it is a file, else dir/manifest.yml if it is, else std::nullopt.
std::optional<std::filesystem::path> findManifest(const std::filesystem::path& dir);

// The manifest of an app directory: findManifest(dir) loaded, or the defaults when the
// directory has none (as the seed serves a versioned directory without a manifest).
Result<Manifest> loadAppManifest(const std::filesystem::path& dir);

}  // namespace buntime::router
