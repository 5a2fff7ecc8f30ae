// SPDX-License-Identifier: MIT
// worker/entrypoint: the default order, the kind of each entrypoint, and the refusal of
// paths that escape the app directory, dangle or name something that cannot run.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "buntime/worker/entrypoint.h"
#include "temp_dir.h"

using namespace buntime;
using buntime::proto::EntrypointKind;
using buntime::test::TempDir;
using buntime::worker::resolveEntrypoint;

namespace {

// The reason resolution failed, or a marker that cannot match any reason when it did not.
std::string failure(const base::Expected<worker::Entrypoint, std::string>& r) {
    return r ? std::string("<resolved to ") + r->path + ">" : r.error();
}

}  // namespace

TEST_CASE("resolveEntrypoint checks index.html, app.so, app in that order") {
    TempDir dir;
    auto r = resolveEntrypoint(dir.path(), "");
    CHECK_FALSE(r);
    CHECK(failure(r).find("no entrypoint") != std::string::npos);
    CHECK(failure(r).find("looked for index.html, app.so, app") != std::string::npos);

    dir.write("app", "#!/bin/sh\n");
    std::filesystem::permissions(dir / "app", std::filesystem::perms::owner_all);
    r = resolveEntrypoint(dir.path(), "");
    REQUIRE(r);
    CHECK(r->kind == EntrypointKind::Executable);

    dir.write("app.so", "not really");
    r = resolveEntrypoint(dir.path(), "");
    REQUIRE(r);
    CHECK(r->kind == EntrypointKind::SharedObject);

    dir.write("index.html", "<html></html>");
    r = resolveEntrypoint(dir.path(), "");
    REQUIRE(r);
    CHECK(r->kind == EntrypointKind::Static);
    CHECK(r->index_name == "index.html");
    CHECK(proto::toString(r->kind) == "static");

    r = resolveEntrypoint(dir.path(), "app.so");
    REQUIRE(r);
    CHECK(r->kind == EntrypointKind::SharedObject);

    dir.write("dist/page.html", "<html></html>");
    r = resolveEntrypoint(dir.path(), "dist/page.html");
    REQUIRE(r);
    CHECK(r->static_root == r->app_dir + "/dist");
    CHECK(r->index_name == "page.html");
}

TEST_CASE("resolveEntrypoint refuses paths that escape the app directory") {
    TempDir outside;
    outside.write("evil.so", "x");
    TempDir dir;
    CHECK(failure(resolveEntrypoint(dir.path(), "../evil.so")).find("escapes") != std::string::npos);
    CHECK(failure(resolveEntrypoint(dir.path(), "sub/../../evil.so")).find("escapes") != std::string::npos);
    CHECK(failure(resolveEntrypoint(dir.path(), outside / "evil.so")).find("escapes") != std::string::npos);
    std::filesystem::create_symlink(outside / "evil.so", dir / "app.so");
    CHECK(failure(resolveEntrypoint(dir.path(), "app.so")).find("escapes") != std::string::npos);
    CHECK(failure(resolveEntrypoint(dir.path(), "")).find("escapes") != std::string::npos);
    CHECK(failure(resolveEntrypoint(dir.path(), "missing.so")).find("not found") != std::string::npos);
    CHECK(failure(resolveEntrypoint(dir / "nope", "")).find("not found") != std::string::npos);
    dir.write("data.txt", "x");
    CHECK(failure(resolveEntrypoint(dir.path(), "data.txt")).find("not an .html") != std::string::npos);
}

TEST_CASE("resolveEntrypoint refuses a dangling link and a directory named like an entrypoint") {
    TempDir dir;
    std::filesystem::create_symlink(dir / "gone.so", dir / "app.so");
    CHECK(failure(resolveEntrypoint(dir.path(), "app.so")).find("dangling link") != std::string::npos);
    std::filesystem::create_directory(dir / "index.html");
    CHECK(failure(resolveEntrypoint(dir.path(), "")).find("not a regular file") != std::string::npos);
}
