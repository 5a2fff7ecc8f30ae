// SPDX-License-Identifier: MIT
// Worker environment: the supervisor's environment minus secrets, plus the manifest's env.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace buntime::router {

// Sensitive names (case-insensitive): prefixes DATABASE_ DB_ AWS_ GITHUB_ OPENAI_
// ANTHROPIC_ STRIPE_; suffixes _TOKEN _SECRET _PASSWORD; containing API_KEY AUTH_KEY
// SECRET_KEY PRIVATE_KEY; and RUNTIME_ADMIN_TOKEN.
bool isSensitiveEnvName(std::string_view name) noexcept;

struct WorkerEnv {
    std::vector<std::string> env;             // "K=V", ready for execve
    std::vector<std::string> dropped;         // inherited names removed as sensitive
    std::vector<std::string> sensitive_kept;  // manifest names that look sensitive (warn)
};

// Inherited variables keep their order, minus sensitive ones and malformed entries (no '='
// or empty name; for a repeated name the first wins). Manifest variables are always
// passed — the app author asked for them — after the inherited ones, in name order, and
// replace an inherited variable of the same name; those matching a sensitive pattern are
// listed in `sensitive_kept` so the caller can warn. Pure function, thread-safe.
WorkerEnv buildWorkerEnv(const std::vector<std::string>& inherited,
                         const std::map<std::string, std::string>& manifest_env);

// Convenience over a NULL-terminated envp (e.g. `environ`).
WorkerEnv buildWorkerEnv(const char* const* envp, const std::map<std::string, std::string>& manifest_env);

}  // namespace buntime::router
