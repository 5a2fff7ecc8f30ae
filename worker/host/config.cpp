// SPDX-License-Identifier: MIT
// Parses the worker's command line.
#include "buntime/worker/config.h"

#include <charconv>
#include <string_view>

namespace buntime::worker {
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
           "[--concurrency N] [--max-body BYTES] [--inject-base]";
}

ParsedArgs parseArgs(int argc, const char* const* argv) {
    WorkerConfig c;
    ParsedArgs result;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        std::string_view value;
        std::string_view key = arg;
        bool inline_value = false;
        if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            key = arg.substr(0, eq);
            value = arg.substr(eq + 1);
            inline_value = true;
        }
        if (key == "--inject-base") {
            c.inject_base = true;
            continue;
        }
        if (key != "--app-dir" && key != "--name" && key != "--version" && key != "--entrypoint" &&
            key != "--threads" && key != "--concurrency" && key != "--max-body") {
            result.error = "unknown argument '" + std::string(arg) + "'";
            return result;
        }
        if (!inline_value) {
            if (i + 1 >= argc) {
                result.error = "missing value for " + std::string(key);
                return result;
            }
            value = argv[++i];
        }
        if (key == "--app-dir")
            c.app_dir = value;
        else if (key == "--name")
            c.name = value;
        else if (key == "--version")
            c.version = value;
        else if (key == "--entrypoint")
            c.entrypoint = value;
        else if (key == "--threads") {
            if (!parseNumber<std::uint32_t>(value, c.threads, 1, 1024)) {
                result.error = "--threads must be 1..1024";
                return result;
            }
        } else if (key == "--concurrency") {
            if (!parseNumber<std::uint32_t>(value, c.concurrency, 1, 1000000)) {
                result.error = "--concurrency must be 1..1000000";
                return result;
            }
        } else if (key == "--max-body") {
            if (!parseNumber<std::size_t>(value, c.max_body, 0, std::size_t(1) << 40)) {
                result.error = "--max-body must be a byte count";
                return result;
            }
        }
    }
    if (c.app_dir.empty() || c.name.empty() || c.version.empty()) {
        result.error = "--app-dir, --name and --version are required";
        return result;
    }
    result.config = std::move(c);
    return result;
}

}  // namespace buntime::worker
