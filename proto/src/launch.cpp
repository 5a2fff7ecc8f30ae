// SPDX-License-Identifier: MIT
// The worker's argv and environment contract.
#include "buntime/proto/launch.h"

#include <charconv>

namespace buntime::proto {
namespace {

template <typename T>
bool parseNumber(std::string_view text, T& out, T min, T max) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) return false;
    out = value;
    return true;
}

}  // namespace

const char* usage() noexcept {
    return "usage: buntime-worker --app-dir DIR --name NAME --version VER [--entrypoint E] [--threads N] "
           "[--concurrency N] [--max-body BYTES] [--inject-base] [--listen unix|tcp] [--command-arg ARG]...";
}

std::vector<std::string> toArgv(const WorkerLaunch& l, std::string_view executable) {
    std::vector<std::string> argv{std::string(executable),
                                  "--app-dir=" + l.app_dir,
                                  "--name=" + l.name,
                                  "--version=" + l.version,
                                  "--threads=" + std::to_string(l.threads),
                                  "--concurrency=" + std::to_string(l.concurrency),
                                  "--max-body=" + std::to_string(l.max_body)};
    if (!l.entrypoint.empty()) argv.push_back("--entrypoint=" + l.entrypoint);
    if (l.inject_base) argv.emplace_back("--inject-base");
    if (!l.command.empty()) argv.push_back("--listen=" + l.listen);
    for (const auto& arg : l.command) argv.push_back("--command-arg=" + arg);
    return argv;
}

base::Expected<WorkerLaunch, std::string> parseArgv(int argc, const char* const* argv) {
    WorkerLaunch l;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        std::string_view key = arg;
        std::string_view value;
        bool inline_value = false;
        if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            key = arg.substr(0, eq);
            value = arg.substr(eq + 1);
            inline_value = true;
        }
        if (key == "--inject-base") {
            l.inject_base = true;
            continue;
        }
        if (key != "--app-dir" && key != "--name" && key != "--version" && key != "--entrypoint" &&
            key != "--threads" && key != "--concurrency" && key != "--max-body" && key != "--listen" &&
            key != "--command-arg")
            return "unknown argument '" + std::string(arg) + "'";
        if (!inline_value) {
            if (i + 1 >= argc) return "missing value for " + std::string(key);
            value = argv[++i];
        }
        if (key == "--app-dir") {
            l.app_dir = value;
        } else if (key == "--name") {
            l.name = value;
        } else if (key == "--version") {
            l.version = value;
        } else if (key == "--entrypoint") {
            l.entrypoint = value;
        } else if (key == "--listen") {
            if (value != "unix" && value != "tcp") return std::string("--listen must be unix or tcp");
            l.listen = value;
        } else if (key == "--command-arg") {
            l.command.emplace_back(value);
        } else if (key == "--threads") {
            if (!parseNumber<std::uint32_t>(value, l.threads, 1, 1024)) return std::string("--threads must be 1..1024");
        } else if (key == "--concurrency") {
            if (!parseNumber<std::uint32_t>(value, l.concurrency, 1, 1000000))
                return std::string("--concurrency must be 1..1000000");
        } else if (!parseNumber<std::uint64_t>(value, l.max_body, 0, std::uint64_t(1) << 40)) {
            return std::string("--max-body must be a byte count");
        }
    }
    if (l.app_dir.empty() || l.name.empty() || l.version.empty())
        return std::string("--app-dir, --name and --version are required");
    return l;
}

std::string_view toString(EntrypointKind kind) noexcept {
    switch (kind) {
    case EntrypointKind::None: return "none";
    case EntrypointKind::Static: return "static";
    case EntrypointKind::SharedObject: return "so";
    case EntrypointKind::Executable: return "exec";
    case EntrypointKind::Js: return "js";
    case EntrypointKind::Command: return "command";
    }
    return "none";
}

EntrypointKind entrypointKindOf(std::string_view entrypoint) noexcept {
    if (entrypoint.empty()) return EntrypointKind::None;
    if (entrypoint.ends_with(".html") || entrypoint.ends_with(".htm")) return EntrypointKind::Static;
    if (entrypoint.ends_with(".so")) return EntrypointKind::SharedObject;
    for (std::string_view ext : {".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs"})
        if (entrypoint.ends_with(ext)) return EntrypointKind::Js;
    return EntrypointKind::Executable;
}

std::string defaultEntrypoint(const std::filesystem::path& app_dir) {
    for (const char* name : kDefaultEntrypoints) {
        std::error_code ec;
        if (std::filesystem::symlink_status(app_dir / name, ec).type() != std::filesystem::file_type::not_found && !ec)
            return name;
    }
    return {};
}

std::string channelEnvEntry(const shm::ChannelFds& fds) { return std::string(kChannelEnv) + "=" + fds.toString(); }

bool isSupervisorOnly(std::string_view e) noexcept {
    return e.starts_with("LISTEN_") || e.starts_with("NOTIFY_SOCKET=") || e.starts_with("WATCHDOG_") ||
           (e.starts_with(kChannelEnv) && e.size() > std::string_view(kChannelEnv).size() &&
            e[std::string_view(kChannelEnv).size()] == '=') ||
           e.starts_with("BUNTIME_ZYGOTE=");
}

}  // namespace buntime::proto
