// SPDX-License-Identifier: MIT
// Worker environment: sensitive inherited names dropped, manifest env passed with warnings.
#include <doctest/doctest.h>

#include <algorithm>

#include "buntime/router/env_filter.h"

using namespace buntime::router;

namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("sensitive name patterns") {
    for (const char* name :
         {"DATABASE_URL", "DB_HOST", "AWS_ACCESS_KEY_ID", "GITHUB_TOKEN", "OPENAI_KEY", "ANTHROPIC_API_KEY",
          "STRIPE_KEY", "NPM_TOKEN", "JWT_SECRET", "SMTP_PASSWORD", "MY_API_KEY", "SERVICE_AUTH_KEY",
          "DJANGO_SECRET_KEY", "SSH_PRIVATE_KEY", "RUNTIME_ADMIN_TOKEN", "API_KEY", "db_password", "Github_Anything"}) {
        CHECK_MESSAGE(isSensitiveEnvName(name), name);
    }
    for (const char* name : {"PATH", "HOME", "LANG", "PORT", "NODE_ENV", "RUNTIME_LOG_LEVEL", "TOKENIZER", "SECRETARY",
                             "PASSWORD_HINT_URL", "KEYBOARD", "DBX", "AWS"}) {
        CHECK_FALSE_MESSAGE(isSensitiveEnvName(name), name);
    }
}

TEST_CASE("inherited secrets are dropped and named") {
    std::vector<std::string> env = {"PATH=/usr/bin",   "GITHUB_TOKEN=ghp_x",    "HOME=/root",
                                    "DB_PASSWORD=x",   "RUNTIME_ADMIN_TOKEN=t", "LANG=C",
                                    "GITHUB_TOKEN=dup"};
    auto w = buildWorkerEnv(env, {});
    CHECK(w.env == std::vector<std::string>{"PATH=/usr/bin", "HOME=/root", "LANG=C"});
    CHECK(w.dropped == std::vector<std::string>{"GITHUB_TOKEN", "DB_PASSWORD", "RUNTIME_ADMIN_TOKEN"});
    CHECK(w.sensitive_kept.empty());
}

TEST_CASE("manifest env is passed, overrides, and sensitive names are flagged") {
    std::vector<std::string> env = {"PATH=/usr/bin", "MODE=prod", "OPENAI_KEY=inherited"};
    std::map<std::string, std::string> manifest = {
        {"MODE", "dev"}, {"OPENAI_KEY", "from-manifest"}, {"GREETING", "hi"}};
    auto w = buildWorkerEnv(env, manifest);
    CHECK(w.env == std::vector<std::string>{"PATH=/usr/bin", "GREETING=hi", "MODE=dev", "OPENAI_KEY=from-manifest"});
    CHECK(w.dropped.empty());  // the manifest asked for OPENAI_KEY: not a silent drop
    CHECK(w.sensitive_kept == std::vector<std::string>{"OPENAI_KEY"});
    CHECK_FALSE(has(w.env, "MODE=prod"));
}

TEST_CASE("malformed inherited entries are skipped") {
    auto w = buildWorkerEnv(std::vector<std::string>{"NOEQUALS", "=value", "A=", "B=x=y", "A=second"}, {});
    CHECK(w.env == std::vector<std::string>{"A=", "B=x=y"});
}

TEST_CASE("envp overload") {
    const char* envp[] = {"PATH=/bin", "STRIPE_SECRET=s", nullptr};
    auto w = buildWorkerEnv(envp, {{"X", "1"}});
    CHECK(w.env == std::vector<std::string>{"PATH=/bin", "X=1"});
    CHECK(w.dropped == std::vector<std::string>{"STRIPE_SECRET"});
    CHECK(buildWorkerEnv(static_cast<const char* const*>(nullptr), {}).env.empty());
}
