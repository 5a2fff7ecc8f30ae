// SPDX-License-Identifier: MIT
// Keys with roles on every route kind: reads (viewer), deploy and remove (deployer), reload,
// app reload and retire (admin); 401 without or with an unknown key, 403 below the role.
#include <doctest/doctest.h>

#include "buntime/admin/routes.h"
#include "golden.h"

using namespace buntime::admin;
namespace golden = buntime::test::golden;

namespace {

class View final : public SupervisorView {
public:
    HealthView health() override { return golden::json("health").get<HealthView>(); }
    MetricsView metrics() override { return golden::json("metrics").get<MetricsView>(); }
    std::vector<WorkerRow> workers() override { return {}; }
    std::vector<AppRow> apps() override { return {}; }
    bool draining() const override { return false; }
    void reload() override { ++reloads; }
    bool retire(std::string_view) override { return true; }
    RemoveOutcome removeApp(std::string_view name, std::string_view version, bool force) override {
        removed.push_back(std::string(name) + "|" + std::string(version) + (force ? "|force" : ""));
        if (name != "hello") return {404, "NOT_FOUND", "no app " + std::string(name), {}};
        return {200, {}, {}, RemovedReply{true, std::string(name), {"1.0.0"}, 1, 0}};
    }
    std::optional<std::size_t> reloadApp(std::string_view name) override {
        app_reloads.emplace_back(name);
        if (name != "hello") return std::nullopt;
        return 2;
    }

    int reloads = 0;
    std::vector<std::string> removed;
    std::vector<std::string> app_reloads;
};

AdminApi makeApi(View& view) {
    return AdminApi(view, "", AdminOptions{},
                    {{"dash", sha256("v-key"), Role::Viewer},
                     {"ci", sha256("d-key"), Role::Deployer},
                     {"ops", sha256("a-key"), Role::Admin}});
}

unsigned status(AdminApi& api, std::string_view method, std::string_view path, const char* key,
                std::string_view query = {}) {
    const std::string header = key ? std::string("Bearer ") + key : std::string();
    return api.handle({method, path, key ? &header : nullptr, false, "10.0.0.9:5000", query}).status;
}

}  // namespace

TEST_CASE("reads need a viewer key; no key or an unknown one is 401") {
    View view;
    auto api = makeApi(view);
    CHECK(status(api, "GET", "/_/api/metrics", nullptr) == 401);
    CHECK(status(api, "GET", "/_/api/metrics", "nope") == 401);
    for (const char* key : {"v-key", "d-key", "a-key"}) CHECK(status(api, "GET", "/_/api/metrics", key) == 200);
    CHECK(status(api, "GET", "/_/api/health/live", nullptr) == 200);  // probes stay open
}

TEST_CASE("remove needs a deployer key: a viewer gets 403, a deployer and an admin 200") {
    View view;
    auto api = makeApi(view);
    CHECK(status(api, "DELETE", "/_/api/apps/hello", "v-key") == 403);
    CHECK(status(api, "DELETE", "/_/api/apps/hello", nullptr) == 401);
    CHECK(view.removed.empty());
    CHECK(status(api, "DELETE", "/_/api/apps/hello/1.0.0", "d-key") == 200);
    CHECK(status(api, "DELETE", "/_/api/apps/hello", "a-key", "force=1") == 200);
    CHECK(status(api, "DELETE", "/_/api/apps/other", "a-key") == 404);
    CHECK(status(api, "DELETE", "/_/api/apps/a/b/c", "a-key") == 400);
    CHECK(view.removed == std::vector<std::string>{"hello|1.0.0", "hello||force", "other|"});
}

TEST_CASE("an upload needs a deployer key; without a deploy service it is 501") {
    View view;
    auto api = makeApi(view);
    const std::string viewer = "Bearer v-key", deployer = "Bearer d-key";
    Request upload{"POST", "/_/api/apps", &viewer, false, "10.0.0.9:5000", {}};
    CHECK(api.isUpload(upload));
    auto refused = api.authorize(upload, Role::Deployer);
    REQUIRE(refused.has_value());
    CHECK(refused->status == 403);
    CHECK(nlohmann::json::parse(refused->body)["message"] == "key 'dash' has role viewer; this call needs deployer");
    upload.authorization = &deployer;
    std::string who;
    CHECK_FALSE(api.authorize(upload, Role::Deployer, &who).has_value());
    CHECK(who == "key 'ci'");
    CHECK(api.handle(upload).status == 501);
}

TEST_CASE("reload, app reload and retire need an admin key") {
    View view;
    auto api = makeApi(view);
    for (const char* key : {"v-key", "d-key"}) {
        CHECK(status(api, "POST", "/_/api/reload", key) == 403);
        CHECK(status(api, "POST", "/_/api/apps/hello/reload", key) == 403);
        CHECK(status(api, "POST", "/_/api/workers/hello@1.0.0/retire", key) == 403);
    }
    CHECK(view.reloads == 0);
    CHECK(view.app_reloads.empty());
    CHECK(status(api, "POST", "/_/api/reload", "a-key") == 200);
    CHECK(status(api, "POST", "/_/api/apps/hello/reload", "a-key") == 200);
    CHECK(status(api, "POST", "/_/api/apps/missing/reload", "a-key") == 404);
    CHECK(status(api, "GET", "/_/api/apps/hello/reload", "a-key") == 405);
    CHECK(status(api, "POST", "/_/api/workers/hello@1.0.0/retire", "a-key") == 200);
    CHECK(view.reloads == 1);
    CHECK(view.app_reloads == std::vector<std::string>{"hello", "missing"});
}

TEST_CASE("the admin token is one admin key beside the keys file; the admin socket is admin") {
    View view;
    AdminApi api(view, "tok", AdminOptions{}, {{"dash", sha256("v-key"), Role::Viewer}});
    CHECK(status(api, "POST", "/_/api/apps/hello/reload", "tok") == 200);
    CHECK(status(api, "POST", "/_/api/apps/hello/reload", "v-key") == 403);
    CHECK(api.handle({"POST", "/_/api/apps/hello/reload", nullptr, true, "unix", {}}).status == 200);
}

TEST_CASE("without any key, mutating calls over TCP are refused with 403, the deploy API too") {
    View view;
    AdminApi api(view, "");
    CHECK(status(api, "DELETE", "/_/api/apps/hello", nullptr) == 403);
    CHECK(status(api, "POST", "/_/api/apps/hello/reload", nullptr) == 403);
    CHECK(view.removed.empty());
}
