// SPDX-License-Identifier: MIT
// Worker environment: the supervisor's environment minus secrets (deny mode) or only the
// listed names (allow mode), plus the manifest's env.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace buntime::router {

// Sensitive names (case-insensitive): prefixes DATABASE_ DB_ AWS_ (but not the harmless
// AWS_REGION AWS_DEFAULT_REGION AWS_PROFILE AWS_CA_BUNDLE ...) GITHUB_ OPENAI_ ANTHROPIC_
// STRIPE_; suffixes _TOKEN _SECRET _PASSWORD _PWD _PASS _DSN _CREDENTIALS _URL-with-a-
// database-scheme name (REDIS_URL MONGO_URL ...); containing API_KEY AUTH_KEY SECRET_KEY
// PRIVATE_KEY ACCESS_KEY; and exactly PGPASSWORD MYSQL_PWD RUNTIME_ADMIN_TOKEN.
bool isSensitiveEnvName(std::string_view name) noexcept;

// True for a value that carries a password in a URL: scheme://user:password@host...
bool isSensitiveEnvValue(std::string_view value) noexcept;

// How inherited variables are chosen (RUNTIME_WORKER_ENV):
//   ""  or "deny"          the default patterns above (and URLs with passwords) are dropped
//   "deny:NAME,PREFIX_*"   the default patterns plus these names
//   "allow:PATH,LANG,LC_*" only these names are inherited (recommended); a trailing '*'
//                          matches a prefix. A listed name is passed even if it looks
//                          sensitive: the operator named it.
// Names compare case-insensitively. The manifest's env is always passed.
struct EnvPolicy {
    enum class Mode { Deny, Allow };
    Mode mode = Mode::Deny;
    std::vector<std::string> names;  // upper-cased; "X_*" is a prefix

    // nullopt for a malformed spec (unknown mode, an empty or non-[A-Za-z0-9_] name).
    static std::optional<EnvPolicy> parse(std::string_view spec);
    std::string describe() const;  // "deny (default patterns)", "allow: PATH, LANG"
};

struct WorkerEnv {
    std::vector<std::string> env;             // "K=V", ready for execve
    std::vector<std::string> dropped;         // inherited names removed as sensitive
    std::vector<std::string> sensitive_kept;  // manifest names that look sensitive (warn)
};

// Inherited variables keep their order, minus those the policy withholds and malformed
// entries (no '=' or empty name; for a repeated name the first wins). Withheld names that
// look sensitive (by name or value) are listed in `dropped`. Manifest variables
// are always passed — the app author asked for them — after the inherited ones, in name
// order, and replace an inherited variable of the same name; those matching a sensitive
// pattern are listed in `sensitive_kept` so the caller can warn. Pure function, thread-safe.
WorkerEnv buildWorkerEnv(const std::vector<std::string>& inherited,
                         const std::map<std::string, std::string>& manifest_env, const EnvPolicy& policy = {});

// Convenience over a NULL-terminated envp (e.g. `environ`).
WorkerEnv buildWorkerEnv(const char* const* envp, const std::map<std::string, std::string>& manifest_env,
                         const EnvPolicy& policy = {});

}  // namespace buntime::router
