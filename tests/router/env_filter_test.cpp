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

TEST_CASE("wider default patterns: database clients, DSNs, credentials, connection URLs") {
    for (const char* name : {"PGPASSWORD", "MYSQL_PWD", "REDIS_URL", "SENTRY_DSN", "GOOGLE_APPLICATION_CREDENTIALS",
                             "AZURE_CREDENTIALS", "MONGODB_URI", "AMQP_URL", "SMTP_PASS", "SSH_PASSPHRASE",
                             "AWS_SECRET_ACCESS_KEY", "MINIO_ACCESS_KEY", "pgpassword", "app_dsn"}) {
        CHECK_MESSAGE(isSensitiveEnvName(name), name);
    }
    // Harmless look-alikes stay: AWS settings without keys, names that merely contain the words.
    for (const char* name : {"AWS_CA_BUNDLE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "PGHOST", "PGPORT",
                             "REDIS_HOST", "BYPASS", "PUBLIC_URL", "DSNAME", "CREDENTIALS_HELP_URL"}) {
        CHECK_FALSE_MESSAGE(isSensitiveEnvName(name), name);
    }
}

TEST_CASE("a value that is a URL with a password is sensitive, whatever its name") {
    for (const char* value : {"postgres://app:s3cret@db:5432/app", "redis://:hunter2@cache:6379/0",
                              "amqps://u:p@mq/vhost", "see mysql://root:pw@localhost", "x+y.z-1://a:b@h?q=1"}) {
        CHECK_MESSAGE(isSensitiveEnvValue(value), value);
    }
    for (const char* value :
         {"https://example.com/path", "postgres://app@db/app", "redis://cache:6379", "http://host/a:b@c",
          "user:pass@host", "://a:b@c", "mailto:a@b", "s3://bucket/key:x@y", "https://u:@host/", ""}) {
        CHECK_FALSE_MESSAGE(isSensitiveEnvValue(value), value);
    }
    auto w = buildWorkerEnv(std::vector<std::string>{"PATH=/bin", "CACHE=redis://:pw@cache:6379", "HOME=/root"}, {});
    CHECK(w.env == std::vector<std::string>{"PATH=/bin", "HOME=/root"});
    CHECK(w.dropped == std::vector<std::string>{"CACHE"});
    auto m = buildWorkerEnv(std::vector<std::string>{}, {{"UPSTREAM", "https://u:p@api.example.com"}});
    CHECK(m.env == std::vector<std::string>{"UPSTREAM=https://u:p@api.example.com"});  // asked for: passed
    CHECK(m.sensitive_kept == std::vector<std::string>{"UPSTREAM"});
}

TEST_CASE("RUNTIME_WORKER_ENV: deny (default), deny with extra names, allow-list") {
    REQUIRE(EnvPolicy::parse(""));
    CHECK(EnvPolicy::parse("")->mode == EnvPolicy::Mode::Deny);
    CHECK(EnvPolicy::parse("deny")->names.empty());
    auto deny = EnvPolicy::parse("deny:INTERNAL_*, legacy_key");
    REQUIRE(deny);
    CHECK(deny->names == std::vector<std::string>{"INTERNAL_*", "LEGACY_KEY"});
    auto allow = EnvPolicy::parse("allow:PATH,LANG,LC_*,,");
    REQUIRE(allow);
    CHECK(allow->mode == EnvPolicy::Mode::Allow);
    CHECK(allow->names == std::vector<std::string>{"PATH", "LANG", "LC_*"});
    CHECK(allow->describe() == "allow: PATH, LANG, LC_*");
    CHECK(EnvPolicy::parse("allow")->names.empty());
    for (const char* bad : {"permit:PATH", "allow:PA TH", "allow:*", "allow:A-B", ":PATH", "allow:PATH=1"}) {
        CHECK_FALSE_MESSAGE(EnvPolicy::parse(bad), bad);
    }

    const std::vector<std::string> env = {"PATH=/bin",      "LANG=C.UTF-8",    "LC_ALL=C",     "HOME=/root",
                                          "GITHUB_TOKEN=x", "INTERNAL_HOST=h", "LEGACY_KEY=k", "DB_URL=pg://x"};
    auto d = buildWorkerEnv(env, {}, *deny);
    CHECK(d.env == std::vector<std::string>{"PATH=/bin", "LANG=C.UTF-8", "LC_ALL=C", "HOME=/root"});
    CHECK(d.dropped == std::vector<std::string>{"GITHUB_TOKEN", "INTERNAL_HOST", "LEGACY_KEY", "DB_URL"});

    auto a = buildWorkerEnv(env, {{"MODE", "prod"}}, *allow);
    CHECK(a.env == std::vector<std::string>{"PATH=/bin", "LANG=C.UTF-8", "LC_ALL=C", "MODE=prod"});
    // Only the sensitive-looking ones among the withheld are named (for the warning).
    CHECK(a.dropped == std::vector<std::string>{"GITHUB_TOKEN", "DB_URL"});

    // A name the operator allows is passed even when it looks sensitive.
    auto explicit_allow = buildWorkerEnv(env, {}, *EnvPolicy::parse("allow:PATH,GITHUB_TOKEN"));
    CHECK(explicit_allow.env == std::vector<std::string>{"PATH=/bin", "GITHUB_TOKEN=x"});
    CHECK(buildWorkerEnv(env, {}, *EnvPolicy::parse("allow")).env.empty());
}
