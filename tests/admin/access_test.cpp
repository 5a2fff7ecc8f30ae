// SPDX-License-Identifier: MIT
// Who may read the admin API (issue 11): loopback and the admin socket without a token, the
// token over the network; health probes stay open; /_/api/apps shows env names, not values.
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
    std::vector<WorkerRow> workers() override { return golden::json("workers").get<WorkersReply>().workers; }
    std::vector<AppRow> apps() override {
        auto rows = golden::json("apps").get<AppsReply>().apps;
        (*rows.at(0).config)["env"] = {{"DATABASE_URL", "postgres://app:s3cret@db/app"}, {"GREETING", "hi"}};
        return rows;
    }
    bool draining() const override { return false; }
    void reload() override { ++reloads; }
    bool retire(std::string_view) override { return false; }
    int reloads = 0;
};

constexpr const char* kReads[] = {"/_/api/metrics", "/_/api/workers", "/_/api/apps", "/_/metrics"};
constexpr const char* kProbes[] = {"/_/api/health", "/_/health", "/_/api/health/live", "/_/api/health/ready"};

Reply get(AdminApi& api, std::string_view path, std::string_view remote, const std::string* auth = nullptr,
          bool admin_socket = false) {
    return api.handle({"GET", path, auth, admin_socket, remote});
}

}  // namespace

TEST_CASE("isLoopbackRemote") {
    for (const char* r : {"127.0.0.1:5000", "127.1.2.3:1", "[::1]:80", "[::ffff:127.0.0.1]:9", ""})
        CHECK_MESSAGE(AdminApi::isLoopbackRemote(r), r);
    for (const char* r : {"10.0.0.1:5000", "[::2]:80", "unix", "unknown", "[::ffff:10.0.0.1]:1", "1270.0.0.1:1"})
        CHECK_FALSE_MESSAGE(AdminApi::isLoopbackRemote(r), r);
}

TEST_CASE("no token: reads only from loopback or the admin socket; a remote peer gets 403 with the reason") {
    View view;
    AdminApi api(view, "");
    for (const char* path : kReads) {
        CAPTURE(path);
        CHECK(get(api, path, "127.0.0.1:40000").status == 200);
        CHECK(get(api, path, "[::1]:40000").status == 200);
        CHECK(get(api, path, "unix", nullptr, /*admin_socket=*/true).status == 200);
        for (const char* remote : {"10.1.2.3:40000", "[2001:db8::1]:1", "unix"}) {
            CAPTURE(remote);
            const Reply r = get(api, path, remote);
            CHECK(r.status == 403);
            CHECK(r.body.find("answers only on loopback and the admin socket") != std::string::npos);
            CHECK(r.body.find("DATABASE_URL") == std::string::npos);
        }
    }
    // Probes stay open to every peer (a kubelet probes from the node's address).
    for (const char* path : kProbes) CHECK_MESSAGE(get(api, path, "10.1.2.3:1").status == 200, path);
    // Writes from a remote peer stay refused as before.
    CHECK(api.handle({"POST", "/_/api/reload", nullptr, false, "10.1.2.3:1"}).status == 403);
    CHECK(view.reloads == 0);
}

TEST_CASE("with a token, reads over TCP need it too, from any peer; the admin socket does not") {
    View view;
    AdminApi api(view, "s3cret");
    const std::string right = "Bearer s3cret", wrong = "Bearer nope";
    for (const char* path : kReads) {
        CAPTURE(path);
        for (const char* remote : {"127.0.0.1:1", "10.1.2.3:1"}) {
            CAPTURE(remote);
            CHECK(get(api, path, remote).status == 401);
            CHECK(get(api, path, remote, &wrong).status == 401);
            CHECK(get(api, path, remote, &right).status == 200);
        }
        CHECK(get(api, path, "unix", nullptr, true).status == 200);
    }
    for (const char* path : kProbes) CHECK_MESSAGE(get(api, path, "10.1.2.3:1").status == 200, path);
}

TEST_CASE("/_/api/apps names env variables but never returns their values") {
    View view;
    AdminApi api(view, "");
    const Reply r = get(api, "/_/api/apps", "127.0.0.1:1");
    REQUIRE(r.status == 200);
    CHECK(r.body.find("s3cret") == std::string::npos);
    CHECK(r.body.find("\"hi\"") == std::string::npos);
    const auto env = nlohmann::json::parse(r.body)["apps"][0]["config"]["env"];
    CHECK(env == nlohmann::json{{"DATABASE_URL", "(hidden)"}, {"GREETING", "(hidden)"}});
    // The rest of the row is untouched (the README promises the directory).
    CHECK(nlohmann::json::parse(r.body)["apps"][0]["dir"] == "/x/hello@1.0.0");
}
