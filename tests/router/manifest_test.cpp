// SPDX-License-Identifier: MIT
// manifest.yaml parsing: defaults, every key, validation errors naming file and key.
#include <doctest/doctest.h>

#include "buntime/router/json.h"
#include "buntime/router/manifest.h"
#include "temp_dir.h"

using namespace buntime::router;
using buntime::test::TempDir;
using std::chrono::milliseconds;

namespace {

Manifest ok(const char* yaml) {
    auto r = parseManifest(yaml, "app/manifest.yaml");
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
    return *r;
}

Error err(const char* yaml) {
    auto r = parseManifest(yaml, "examples/apps/x/manifest.yaml");
    REQUIRE_FALSE(r.has_value());
    return r.error();
}

}  // namespace

TEST_CASE("empty manifest gives the seed defaults") {
    for (const char* text : {"", "# only a comment\n", "~\n"}) {
        auto m = ok(text);
        const WorkerConfig& c = m.config;
        CHECK_FALSE(c.entrypoint.has_value());
        CHECK(c.env.empty());
        CHECK(c.timeout == milliseconds(30'000));
        CHECK(c.ttl == milliseconds(0));
        CHECK(c.ephemeral());
        CHECK(c.idle_timeout == milliseconds(60'000));
        CHECK(c.max_requests == 1000);
        CHECK(c.max_body_size == 10ull * 1024 * 1024);
        CHECK_FALSE(c.low_memory);
        CHECK_FALSE(c.inject_base);
        CHECK(c.public_routes.empty());
        CHECK(c.concurrency == 100);
        CHECK(c.threads == 4);
        CHECK(c.env_prefix == std::vector<std::string>{"PUBLIC_", "VITE_"});
        CHECK(c.visibility == "public");
        CHECK_FALSE(c.auto_install);
        CHECK(m.warnings.empty());
    }
}

TEST_CASE("every key is read") {
    auto m = ok(R"(
name: hello
version: 1.2.3-beta.1
entrypoint: dist/app.so
env:
  GREETING: hi
  COUNT: 3
  EMPTY:
timeout: 5s
ttl: 10m
idleTimeout: 90
maxRequests: 50
maxBodySize: 1mb
lowMemory: true
injectBase: yes
publicRoutes:
  - /health
  - /static/*
concurrency: 8
threads: 2
envPrefix: [NEXT_PUBLIC_]
visibility: internal
autoInstall: true
)");
    const WorkerConfig& c = m.config;
    CHECK(c.name == "hello");
    CHECK(c.version == "1.2.3-beta.1");
    CHECK(c.entrypoint == "dist/app.so");
    CHECK(c.env.at("GREETING") == "hi");
    CHECK(c.env.at("COUNT") == "3");
    CHECK(c.env.at("EMPTY").empty());
    CHECK(c.timeout == milliseconds(5'000));
    CHECK(c.ttl == milliseconds(600'000));
    CHECK_FALSE(c.ephemeral());
    CHECK(c.idle_timeout == milliseconds(90'000));
    CHECK(c.max_requests == 50);
    CHECK(c.max_body_size == 1024 * 1024);
    CHECK(c.low_memory);
    CHECK(c.inject_base);
    REQUIRE(c.public_routes.size() == 2);
    CHECK(c.public_routes[0] == PublicRoute{"", "/health"});
    CHECK(c.public_routes[1] == PublicRoute{"", "/static/*"});
    CHECK(c.concurrency == 8);
    CHECK(c.threads == 2);
    CHECK(c.env_prefix == std::vector<std::string>{"NEXT_PUBLIC_"});
    CHECK(c.visibility == "internal");
    CHECK(c.auto_install);
    // Only `injectBase: yes`: read as true, with a warning (the Bun-based runtime reads false).
    REQUIRE(m.warnings.size() == 1);
    CHECK(m.warnings[0].find("key 'injectBase'") != std::string::npos);
}

TEST_CASE("publicRoutes as a map of methods") {
    auto m = ok(R"(
publicRoutes:
  GET: [/a, /b]
  post: /c
  ALL: /d
)");
    const auto& r = m.config.public_routes;
    REQUIRE(r.size() == 4);
    CHECK(r[0] == PublicRoute{"GET", "/a"});
    CHECK(r[1] == PublicRoute{"GET", "/b"});
    CHECK(r[2] == PublicRoute{"POST", "/c"});
    CHECK(r[3] == PublicRoute{"", "/d"});
}

TEST_CASE("unknown keys are warnings, not errors") {
    auto m = ok("timeout: 1s\nfoo: 1\nmax_requests: 3\n");
    REQUIRE(m.warnings.size() == 2);
    CHECK(m.warnings[0] == "app/manifest.yaml: unknown key 'foo' (ignored)");
    CHECK(m.warnings[1].find("'max_requests'") != std::string::npos);
    CHECK(m.config.max_requests == 1000);
}

TEST_CASE("a key with no value keeps its default") {
    auto m = ok("timeout:\nttl: ~\n");
    CHECK(m.config.timeout == milliseconds(30'000));
    CHECK(m.config.ttl == milliseconds(0));
}

TEST_CASE("bad values name the file and the key") {
    CHECK(err("timeout: abc\n").message == "examples/apps/x/manifest.yaml: key 'timeout': invalid duration \"abc\"");
    CHECK(err("timeout: abc\n").code == ErrorCode::BadManifest);
    CHECK(err("timeout: abc\n").file == "examples/apps/x/manifest.yaml");
    CHECK(err("timeout: abc\n").key == "timeout");
    CHECK(err("maxBodySize: 1tb\n").key == "maxBodySize");
    CHECK(err("ttl: -5\n").message.find("key 'ttl'") != std::string::npos);
    CHECK(err("timeout: 0\n").message.find("key 'timeout'") != std::string::npos);
    CHECK(err("idleTimeout: [1]\n").message.find("key 'idleTimeout'") != std::string::npos);
    CHECK(err("maxRequests: 0\n").message.find("key 'maxRequests'") != std::string::npos);
    CHECK(err("maxRequests: 1.5\n").message.find("key 'maxRequests'") != std::string::npos);
    CHECK(err("maxRequests: -3\n").message.find("key 'maxRequests'") != std::string::npos);
    CHECK(err("maxBodySize: lots\n").message.find("key 'maxBodySize'") != std::string::npos);
    CHECK(err("lowMemory: maybe\n").message.find("key 'lowMemory'") != std::string::npos);
    CHECK(err("injectBase: {a: 1}\n").message.find("key 'injectBase'") != std::string::npos);
    CHECK(err("env: [A, B]\n").message.find("key 'env'") != std::string::npos);
    CHECK(err("env:\n  A: [1]\n").message.find("key 'env'") != std::string::npos);
    CHECK(err("env:\n  \"A=B\": 1\n").message.find("key 'env'") != std::string::npos);
    CHECK(err("publicRoutes: [[/a]]\n").message.find("key 'publicRoutes'") != std::string::npos);
    // Not semver: informational (the seed's rule), a warning, never an error.
    CHECK(ok("version: one\n").config.version.empty());
    CHECK(ok("version: one\n").warnings.at(0).find("key 'version'") != std::string::npos);
    CHECK(err("entrypoint: \"\"\n").message.find("key 'entrypoint'") != std::string::npos);
    CHECK(err("concurrency: 0\n").message.find("key 'concurrency'") != std::string::npos);
    CHECK(err("threads: 100000\n").message.find("key 'threads'") != std::string::npos);
    CHECK(err("visibility: secret\n").message.find("key 'visibility'") != std::string::npos);
    CHECK(err("envPrefix: {a: 1}\n").message.find("key 'envPrefix'") != std::string::npos);
}

TEST_CASE("maxBodySize ceiling is 100mb") {
    CHECK(ok("maxBodySize: 100mb\n").config.max_body_size == 100ull * 1024 * 1024);
    CHECK(ok("maxBodySize: 2048\n").config.max_body_size == 2048);
    auto e = err("maxBodySize: 101mb\n");
    CHECK(e.message.find("key 'maxBodySize'") != std::string::npos);
    CHECK(e.message.find("100mb") != std::string::npos);
    CHECK(err("maxBodySize: 1gb\n").code == ErrorCode::BadManifest);
}

TEST_CASE("YAML syntax errors name file and line") {
    auto e = err("timeout: 1s\nenv:\n  A: [unclosed\nttl: 1\n");
    CHECK(e.code == ErrorCode::Syntax);
    CHECK(e.message.starts_with("examples/apps/x/manifest.yaml:"));
    CHECK(e.message.find("YAML syntax error") != std::string::npos);
    auto e2 = err("a: 1\nb: : :\n  - x\n");
    CHECK(e2.code == ErrorCode::Syntax);
    CHECK(e2.message.starts_with("examples/apps/x/manifest.yaml:2:"));
}

TEST_CASE("top level must be a map") {
    CHECK(err("- a\n- b\n").code == ErrorCode::BadManifest);
    CHECK(err("just text\n").code == ErrorCode::BadManifest);
}

TEST_CASE("loadManifest reads files and reports missing ones") {
    TempDir tree;
    auto path = tree.write("app/manifest.yaml", "timeout: 2s\nmaxRequests: 7\n");
    auto m = loadManifest(path);
    REQUIRE(m);
    CHECK(m->config.timeout == milliseconds(2'000));
    CHECK(m->config.max_requests == 7);

    auto bad_path = tree.write("bad/manifest.yaml", "ttl: forever\n");
    auto bad = loadManifest(bad_path);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message == bad_path.string() + ": key 'ttl': invalid duration \"forever\"");

    auto missing = loadManifest(tree.root() / "nope/manifest.yaml");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == ErrorCode::Io);
    CHECK(missing.error().message.find("nope/manifest.yaml") != std::string::npos);
}

TEST_CASE("toJson exposes the config with camelCase keys") {
    auto m = ok("entrypoint: app.so\nttl: 1m\nenv: {A: b}\npublicRoutes: {GET: /h}\n");
    auto j = toJson(m.config);
    CHECK(j["entrypoint"] == "app.so");
    CHECK(j["ttlMs"] == 60'000);
    CHECK(j["timeoutMs"] == 30'000);
    CHECK(j["maxBodySize"] == 10 * 1024 * 1024);
    CHECK(j["env"]["A"] == "b");
    CHECK(j["publicRoutes"][0]["method"] == "GET");
    CHECK(j["ephemeral"] == false);
    CHECK(toJson(ok("").config)["entrypoint"].is_null());
}

TEST_CASE("command apps: a list, or a line split like a shell without one; listen and runtime") {
    CHECK(ok("command: [python3, app.py]\n").config.command == std::vector<std::string>{"python3", "app.py"});
    CHECK(ok("command: python3 -u 'my app.py' \"a \\\"b\\\"\" c\\ d\n").config.command ==
          std::vector<std::string>{"python3", "-u", "my app.py", "a \"b\"", "c d"});
    CHECK(ok("command: \"$HOME/x\"\n").config.command == std::vector<std::string>{"$HOME/x"});
    CHECK(ok("").config.command.empty());
    CHECK(ok("").config.listen == "unix");
    CHECK(ok("listen: tcp\n").config.listen == "tcp");
    CHECK(ok("").config.runtime == "bun");
    CHECK(ok("runtime: node\n").config.runtime == "node");
    CHECK(err("command: \"python3 'app.py\"\n").message.find("key 'command': unterminated quote") != std::string::npos);
    CHECK(err("command: []\n").key == "command");
    CHECK(err("command: {a: b}\n").key == "command");
    CHECK(err("listen: udp\n").message.find("expected unix or tcp") != std::string::npos);
    CHECK(err("runtime: deno\n").key == "runtime");
}

TEST_CASE("an unknown key names the closest known key, its line, also without a value") {
    auto m = ok("name: x\ntimout: 5s\nfoo: 1\nentrypiont:\nmax_requests: 3\n");
    REQUIRE(m.warnings.size() == 4);
    CHECK(m.warnings[0] == "app/manifest.yaml: unknown key 'timout' (ignored); did you mean 'timeout'?");
    CHECK(m.warnings[1] == "app/manifest.yaml: unknown key 'foo' (ignored)");
    CHECK(m.warnings[2] == "app/manifest.yaml: unknown key 'entrypiont' (ignored); did you mean 'entrypoint'?");
    REQUIRE(m.notes.size() == 4);
    CHECK(m.notes[0].line == 2);
    CHECK(m.notes[0].key == "timout");
    CHECK(m.notes[0].suggestion == "timeout");
    CHECK(m.notes[0].message == "unknown key (ignored); did you mean 'timeout'?");
    CHECK(m.notes[1].line == 3);
    CHECK(m.notes[1].suggestion.empty());
    CHECK(m.notes[2].line == 4);
    CHECK(m.notes[3].suggestion == "maxRequests");
    CHECK(m.config.timeout == std::chrono::seconds(30));  // the typo changed nothing
    CHECK(m.lines.at("name") == 1);
}

TEST_CASE("every known key is accepted without an unknown-key warning") {
    for (std::string_view key : kManifestKeys) {
        auto m = ok((std::string(key) + ":\n").c_str());
        CHECK_MESSAGE(m.warnings.empty(), key);
    }
}

TEST_CASE("errors carry the key's line and the bare reason") {
    auto e = err("name: x\n\nttl: soon\n");
    CHECK(e.key == "ttl");
    CHECK(e.line == 3);
    CHECK(e.reason.find("soon") != std::string::npos);
    CHECK(e.message.starts_with("examples/apps/x/manifest.yaml: key 'ttl': "));
    auto syntax = err("a: [\n");
    CHECK(syntax.line >= 1);
    CHECK(syntax.reason.starts_with("YAML syntax error"));
}

TEST_CASE("hosts: names and wildcards, lowercased; anything else is an error") {
    auto m = ok("hosts: [Tools.Example.com, '*.apps.example.com', tools.example.com., 10.0.0.1]\n");
    CHECK(m.config.hosts == std::vector<std::string>{"tools.example.com", "*.apps.example.com", "10.0.0.1"});
    CHECK(ok("hosts: one.example.com\n").config.hosts == std::vector<std::string>{"one.example.com"});
    CHECK(ok("").config.hosts.empty());
    for (const char* bad : {"hosts: ['a.com:8080']\n", "hosts: ['*']\n", "hosts: ['a.*.com']\n", "hosts: ['*a.com']\n",
                            "hosts: ['a..com']\n", "hosts: ['-a.com']\n", "hosts: ['a b.com']\n", "hosts: {a: b}\n"}) {
        auto e = err(bad);
        CHECK_MESSAGE(e.key == "hosts", bad);
        CHECK(e.line == 1);
    }
}
